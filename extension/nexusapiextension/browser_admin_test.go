package nexusapiextension

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nexus-otel/nexus/internal/audit"
	"github.com/nexus-otel/nexus/internal/browsertest"
)

// admTab is one signed-in browser tab of a test.
type admTab struct {
	t   *testing.T
	ctx context.Context
}

func openAdmin(t *testing.T, base, email, password string) admTab {
	t.Helper()
	ctx := browserContext(t)
	signInBrowser(t, ctx, base, email, password)
	return admTab{t, ctx}
}

// do runs steps, failing the test with what they were for.
func (b admTab) do(what string, steps ...admStep) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// admEval is the value of the JavaScript expr in b (a promise awaited).
func admEval[T any](b admTab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// wait waits until the JavaScript expr is true.
func (b admTab) wait(what, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		b.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// rows is the text of each cell of the rows sel matches.
func (b admTab) rows(sel string) [][]string {
	b.t.Helper()
	return admEval[[][]string](b, `[...document.querySelectorAll(`+admJS(sel)+`)].map((r) => [...r.cells].map((c) => c.textContent.trim()))`)
}

// text is what sel shows.
func (b admTab) text(sel string) string {
	b.t.Helper()
	return admEval[string](b, `document.querySelector(`+admJS(sel)+`).innerText`)
}

// clear empties an input, as a person selecting its text would.
func (b admTab) clear(sel string) {
	b.t.Helper()
	admEval[bool](b, `(() => { document.querySelector(`+admJS(sel)+`).value = ""; return true })()`)
}

func admJS(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

// admStep is one step in a tab, by CSS selector.
type admStep = chromedp.Action[chromedp.Void]

func admSee(sel string) admStep      { return chromedp.WaitVisible(chromedp.CSS(sel)) }
func admClick(sel string) admStep    { return chromedp.Click(chromedp.CSS(sel)) }
func admType(sel, v string) admStep  { return chromedp.SendKeys(chromedp.CSS(sel), v) }
func admPick(sel, v string) admStep  { return chromedp.SetValue(chromedp.CSS(sel), v) }
func admNavigate(url string) admStep { return chromedp.Navigate(url) }

// The first admin manages people and keys on the admin page: a refused
// email is shown at its field, a good person is listed with their role,
// changed and deactivated; a key's secret is shown once and never again;
// the audit trail names the admin for each write, pages back with its
// cursor and verifies intact; an editor sees no form and is refused.
func TestConsoleAdmin(t *testing.T) {
	ta := startAPI(t, freshDB("console_admin"), nil)
	ta.person("ed@example.com", "default", roleEditor)
	b := openAdmin(t, ta.base, "admin@localhost", testAdminPassword)
	b.do("open /admin", admNavigate(ta.base+"/admin"), admSee(`#users[data-state="ready"]`), admSee(`#audit[data-state="ready"]`),
		admSee(`#tenants[data-state="ready"]`))
	if ed := b.rows(`#users tr[data-user="ed@example.com"]`); len(ed) != 1 || strings.Join(ed[0][2:5], "|") != "default: editor|yes|password" {
		t.Fatalf("editor listed as %q", ed)
	}
	browsertest.CheckAccessibility(t, b.ctx, "/admin")

	// A person: first a refused email, shown at its field.
	b.do("refused person", admType("#u-email", "ada at example"), admType("#u-name", "Ada Lovelace"),
		admType("#u-password", "analytical engine 1843"), admPick("#u-role", roleEditor),
		admClick("#new-user button[type=submit]"), admSee(`#u-email[aria-invalid="true"]`))
	if msg := b.text("#u-email-error"); !strings.Contains(msg, "an email address") {
		t.Fatalf("email refusal at its field: %q", msg)
	}
	browsertest.CheckAccessibility(t, b.ctx, "/admin (refused email)")
	b.clear("#u-email")
	b.do("good person", admType("#u-email", "ada@example.com"), admClick("#new-user button[type=submit]"),
		admSee(`#users tr[data-user="ada@example.com"]`))
	if ada := b.rows(`#users tr[data-user="ada@example.com"]`); len(ada) != 1 || strings.Join(ada[0][1:5], "|") != "Ada Lovelace|default: editor|yes|password" {
		t.Fatalf("new person listed as %q", ada)
	}
	if n := admEval[int](b, `document.querySelectorAll("#new-user [aria-invalid]").length`); n != 0 {
		t.Fatalf("%d fields still marked invalid", n)
	}
	var people []userView
	ta.do("GET", "/api/v1/users", ta.admin, nil).decode(t, &people)
	adaID := ""
	for _, u := range people {
		if u.Email == "ada@example.com" && u.Roles["default"] == roleEditor {
			adaID = u.ID
		}
	}
	if adaID == "" {
		t.Fatalf("stored people: %+v", people)
	}

	// A key: its secret once, working; then listed without it.
	b.do("new key", admType("#k-name", "grafana"), admPick("#k-role", roleViewer), admClick("#new-key button[type=submit]"),
		admSee("#key-secret"), admSee(`#keys tr[data-key="grafana"]`))
	secret := admEval[string](b, `document.getElementById("key-secret-value").value`)
	if !strings.HasPrefix(secret, "nxs_") || len(secret) < 30 || !strings.Contains(b.text("#key-secret"), "It will not be shown again") {
		t.Fatalf("secret %q shown with %q", secret, b.text("#key-secret"))
	}
	var me userView
	if e := ta.do("GET", "/api/v1/users/me", secret, nil); e.status != 200 {
		t.Fatalf("the shown secret authenticates: %d", e.status)
	} else if e.decode(t, &me); me.Email != "admin@localhost" {
		t.Fatalf("the key acts for %q", me.Email)
	}
	key := b.rows(`#keys tr[data-key="grafana"]`)
	if len(key) != 1 || key[0][2] != roleViewer || key[0][3] != "admin@localhost" || key[0][5] != "never" || key[0][6] != "active" ||
		!strings.HasPrefix(secret, key[0][1]) || strings.Contains(b.text("#keys"), secret) {
		t.Fatalf("key listed as %q", key)
	}
	browsertest.CheckAccessibility(t, b.ctx, "/admin (new key's secret)")
	noSecret := `(() => { const s = ` + admJS(secret) + `; return !document.documentElement.outerHTML.includes(s) &&
		![...document.querySelectorAll("input")].some((i) => i.value.includes(s)) })()`
	b.do("put the secret away", admClick("#key-secret-done"), chromedp.WaitNotVisible(chromedp.CSS("#key-secret")))
	if !admEval[bool](b, noSecret) {
		t.Fatal("the secret is still in the page")
	}
	b.do("reload", admNavigate(ta.base+"/admin"), admSee(`#keys tr[data-key="grafana"]`), admSee(`#audit tr[data-action="keys.create"]`))
	if !admEval[bool](b, noSecret) {
		t.Fatal("the secret is shown again")
	}

	// The trail: newest first, each write by the admin's email.
	rows := b.rows("#audit tbody tr")
	idx := func(action, outcome string) int {
		for i, r := range rows {
			if r[2] == action && strings.HasPrefix(r[4], outcome) && strings.HasPrefix(r[1], "admin@localhost") {
				return i
			}
		}
		t.Fatalf("no %s %s by admin@localhost in %q", action, outcome, rows)
		return -1
	}
	keyAt, adaAt, refusedAt := idx("keys.create", "success"), idx("users.create", "success"), idx("users.create", "failure")
	if keyAt >= adaAt || adaAt >= refusedAt || !strings.Contains(rows[adaAt][3], "ada@example.com") || !strings.Contains(rows[keyAt][3], "grafana") ||
		rows[keyAt][5] != "default" || rows[adaAt][5] != "installation" {
		t.Fatalf("trail order or targets: %q", rows)
	}

	// Verify: what the API says, chain by chain.
	var vs []audit.Verification
	ta.do("GET", "/api/v1/audit/verify", ta.admin, nil).decode(t, &vs)
	var want []string
	for _, v := range vs {
		want = append(want, fmt.Sprintf("%s (%d entries)", admTrail(v.Tenant), v.Entries))
	}
	b.do("verify", admClick("#verify"), admSee(`#verify-result[data-state="intact"]`))
	if got := b.text("#verify-result"); len(vs) < 2 || got != "Chain intact: "+strings.Join(want, ", ") {
		t.Fatalf("verify shows %q, the API %+v", got, vs)
	}
	browsertest.CheckAccessibility(t, b.ctx, "/admin (verified)")

	// Change Ada's role, then deactivate her (the confirmations accepted).
	admEval[bool](b, `(() => { window.confirm = () => true; return true })()`)
	adaRow := `#users tr[data-user="ada@example.com"]`
	b.do("change role", admPick(adaRow+" select", roleAdmin), admClick(adaRow+` button[aria-label^="Change"]`))
	b.wait("the new role", `document.querySelector(`+admJS(adaRow)+`).cells[2].textContent === "default: admin"`)
	b.do("deactivate", admClick(adaRow+` button[aria-label^="Deactivate"]`))
	b.wait("deactivation", `document.querySelector(`+admJS(adaRow)+`).cells[3].textContent === "no (deactivated)"`)
	var stored userView
	ta.do("GET", "/api/v1/users/"+adaID, ta.admin, nil).decode(t, &stored)
	if stored.Active || stored.Roles["default"] != roleAdmin {
		t.Fatalf("stored Ada: %+v", stored)
	}
	if e := ta.do("POST", "/api/v1/auth/sign-in", "", map[string]string{"email": "ada@example.com", "password": "analytical engine 1843"}); e.status != 401 {
		t.Fatalf("a deactivated person signs in: %d", e.status)
	}

	// Revoke the key: listed as revoked, refused by the API.
	b.do("revoke", admClick(`#keys tr[data-key="grafana"] button`))
	b.wait("revocation", `document.querySelector('#keys tr[data-key="grafana"]').cells[6].textContent.startsWith("revoked ")`)
	if e := ta.do("GET", "/api/v1/users/me", secret, nil); e.status != 401 {
		t.Fatalf("a revoked key: %d", e.status)
	}

	// Filters: the creations of people (Ada twice, the editor by key).
	b.do("filter", admPick("#a-action", "users.create"), admClick("#audit-filters button[type=submit]"))
	b.wait("filtered trail", `[...document.querySelectorAll("#audit tbody tr")].map((r) => r.dataset.action + " " + r.cells[4].textContent)
		.join(", ") === "users.create success, users.create failure: Bad Request, users.create success"`)

	// Paging: more entries than a page; "Older" continues to the oldest.
	for i := range 60 {
		if e := ta.do("POST", "/api/v1/budgets", ta.admin, map[string]any{"name": fmt.Sprintf("budget %d", i), "period": "monthly",
			"amountUsd": "1"}); e.status != 201 {
			t.Fatalf("budget %d: %d %+v", i, e.status, e.Error)
		}
	}
	var all auditPage
	ta.do("GET", "/api/v1/audit?limit=1000", ta.admin, nil).decode(t, &all)
	if len(all.Entries) <= 60 || len(all.Entries) > 100 {
		t.Fatalf("%d entries in the trail", len(all.Entries))
	}
	b.clear("#a-action")
	b.do("unfiltered", admClick("#audit-filters button[type=submit]"))
	b.wait("a first page", `document.querySelectorAll("#audit tbody tr").length === 50 && !document.getElementById("older").hidden &&
		document.querySelector("#audit tbody tr").dataset.action === "budgets.create"`)
	b.do("older", admClick("#older"))
	b.wait("the last page", fmt.Sprintf(`document.querySelectorAll("#audit tbody tr").length === %d && document.getElementById("older").hidden`, len(all.Entries)))
	seqs := admEval[[]string](b, `[...document.querySelectorAll("#audit tbody tr")].map((r) => r.dataset.seq)`)
	for i, e := range all.Entries {
		if want := fmt.Sprintf("%s/%d", admTrail(e.Tenant), e.Seq); seqs[i] != want {
			t.Fatalf("row %d is %s, the API's %s", i, seqs[i], want)
		}
	}

	// An editor: told they need the admin role, nothing to act on, and
	// the server refuses what the page does not offer.
	ed := openAdmin(t, ta.base, "ed@example.com", consolePassword)
	ed.do("editor opens /admin", admNavigate(ta.base+"/admin"), admSee(`#need-admin[data-state="ready"]`))
	if msg := ed.text("#need-admin"); !strings.Contains(msg, "You are editor in tenant default") || !strings.Contains(msg, "needs the admin role") {
		t.Fatalf("editor told %q", msg)
	}
	if n := admEval[int](ed, `[...document.querySelectorAll("main form, main input, main select, main button, main table")]
		.filter((e) => e.getClientRects().length > 0).length`); n != 0 {
		t.Fatalf("the editor sees %d controls or tables", n)
	}
	browsertest.CheckAccessibility(t, ed.ctx, "/admin (editor)")
	status := admEval[[]float64](ed, `(async () => {
		const s = await (await fetch("/api/v1/auth/session")).json();
		const post = await fetch("/api/v1/users", {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": s.data.csrfToken},
			body: JSON.stringify({email: "sneaky@example.com", name: "Sneaky", roles: {default: "admin"}})});
		return [post.status, (await fetch("/api/v1/users")).status];
	})()`)
	if len(status) != 2 || status[0] != 403 || status[1] != 403 {
		t.Fatalf("editor's POST and GET /api/v1/users: %v", status)
	}
}

// admTrail names a trail as the page does.
func admTrail(tenant string) string {
	if tenant == "" {
		return "installation"
	}
	return tenant
}

// Tenants are an installation admin's: created (a refused id at its
// field), renamed, in the installation's trail. A tenant's own admin sees
// no tenants, only their tenant's people, and gives roles there; the page
// fits a phone's width.
func TestConsoleAdminTenants(t *testing.T) {
	ta := startAPI(t, freshDB("console_admin_tenants"), nil)
	b := openAdmin(t, ta.base, "admin@localhost", testAdminPassword)
	b.do("refused tenant", admNavigate(ta.base+"/admin"), admSee(`#tenants[data-state="ready"]`),
		admType("#t-id", "Acme Corp"), admType("#t-name", "Acme Corp"),
		admClick("#new-tenant button[type=submit]"), admSee(`#t-id[aria-invalid="true"]`))
	if msg := b.text("#t-id-error"); !strings.Contains(msg, "lower-case") {
		t.Fatalf("id refusal at its field: %q", msg)
	}
	b.clear("#t-id")
	b.do("good tenant", admType("#t-id", "acme"), admClick("#new-tenant button[type=submit]"), admSee(`#tenants tr[data-tenant="acme"]`))
	if ids := admEval[[]string](b, `[...document.querySelectorAll("#tenants tbody tr")].map((r) => r.dataset.tenant)`); strings.Join(ids, ",") != "default,acme" {
		t.Fatalf("tenants listed: %v", ids)
	}
	acmeName := `#tenants tr[data-tenant="acme"] input`
	b.clear(acmeName)
	b.do("rename", admType(acmeName, "Acme Inc"), admClick(`#tenants tr[data-tenant="acme"] button[aria-label^="Rename"]`),
		admSee(`#audit tr[data-action="tenants.update"]`))
	var acme struct{ Name string }
	if ta.do("GET", "/api/v1/tenants/acme", ta.admin, nil).decode(t, &acme); acme.Name != "Acme Inc" {
		t.Fatalf("stored name %q", acme.Name)
	}
	if r := b.rows(`#audit tr[data-action="tenants.create"]`); len(r) != 2 || r[0][3] != "tenants acme" || r[0][4] != "success" ||
		r[1][4] != "failure: Bad Request" || r[0][5] != "installation" || !strings.HasPrefix(r[0][1], "admin@localhost") {
		t.Fatalf("tenant's creation in the trail: %q", r)
	}
	browsertest.CheckAccessibility(t, b.ctx, "/admin (tenants)")

	ta.person("boss@acme.test", "acme", roleAdmin)
	ta.person("ed@example.com", "default", roleEditor)
	ta.person("both@example.com", "acme", roleViewer, "default", roleViewer)
	boss := openAdmin(t, ta.base, "boss@acme.test", consolePassword)
	boss.do("tenant admin opens /admin", admNavigate(ta.base+"/admin"), admSee(`#users[data-state="ready"]`),
		admSee(`#audit[data-state="ready"]`), chromedp.WaitNotVisible(chromedp.CSS("#tenants-section")))
	// Created in a map's order: compare as a set.
	emails := admEval[[]string](boss, `[...document.querySelectorAll("#users tbody tr")].map((r) => r.dataset.user).sort()`)
	if strings.Join(emails, ",") != "boss@acme.test,both@example.com" {
		t.Fatalf("the tenant admin sees %v", emails)
	}
	if n := admEval[int](boss, `document.querySelectorAll('#users tr[data-user="boss@acme.test"] :is(select, button)').length`); n != 0 {
		t.Fatalf("the tenant admin may change their own role (%d controls)", n)
	}
	boss.do("tenant admin adds a person", admType("#u-email", "new@acme.test"), admType("#u-name", "New"),
		admType("#u-password", consolePassword), admClick("#new-user button[type=submit]"), admSee(`#users tr[data-user="new@acme.test"]`))
	if r := boss.rows(`#users tr[data-user="new@acme.test"]`); len(r) != 1 || r[0][2] != "acme: viewer" || boss.text("#u-role-label") != "Role in acme" {
		t.Fatalf("new person listed as %q", r)
	}
	browsertest.CheckAccessibility(t, boss.ctx, "/admin (tenant admin)")
	if s := admEval[float64](boss, `(async () => (await fetch("/api/v1/tenants")).status)()`); s != 403 {
		t.Fatalf("a tenant admin lists tenants: %v", s)
	}

	// On a phone: the page's own content scrolls inside its tables, never
	// past the screen. (The header is the layout's: not checked here.)
	b.do("phone", chromedp.EmulateViewport(390, 900), admNavigate(ta.base+"/admin"), admSee(`#audit[data-state="ready"]`))
	if wide := admEval[[]string](b, `[...document.querySelectorAll("main > *, #admin > section > *")]
		.filter((e) => e.getBoundingClientRect().right > 390).map((e) => e.id || e.tagName)`); len(wide) != 0 {
		t.Fatalf("wider than a phone: %v", wide)
	}
}
