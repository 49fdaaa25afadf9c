import { api, session, showError, ready, fieldErrors, addDecimals, when } from "./api.js";

// How the credential fields the API names read; the account SID
// identifies, it is no secret.
const FIELD_LABELS = { admin_key: "Admin key", management_key: "Management key", service_key: "Service key",
  account_sid: "Account SID", auth_token: "Auth token", api_key: "Master API key" };
const PLAIN_FIELDS = new Set(["account_sid"]);

const BALANCE_LABELS = { balance_usd: "Balance", credits_total_usd: "Credits bought", credits_used_usd: "Credits used",
  limit_usd: "Spending limit", remaining_usd: "Left of the limit" };

let role = "viewer";
const cards = new Map(); // provider name → the parts of its card that change
const creds = new Map(); // provider name → CredentialInfo, null (none stored) or an Error
let listed = [];

const canTest = () => role === "editor" || role === "admin";
const canStore = () => role === "admin";

function el(tag, props, ...children) {
  const { role, ...rest } = props || {};
  const e = Object.assign(document.createElement(tag), rest);
  if (role) e.setAttribute("role", role);
  e.append(...children);
  return e;
}

function money(v) { return v.startsWith("-") ? "-$" + v.slice(1) : "$" + v; }

function ms(v) { return v.toLocaleString(undefined, { maximumFractionDigits: 1 }) + " ms"; }

// tone is how a check reads at a glance: answering but refusing (rate
// limited, say) is neither up nor down.
function tone(up, cls) { return !up ? "down" : cls === "ok" ? "up" : "warn"; }

function checkLine(up, cls, status, latency, at) {
  return (up ? "Up" : "Down") + " — " + cls + ", " + (status == null ? "no HTTP answer" : "HTTP " + status) +
    ", " + ms(latency) + ", " + when(at);
}

function healthParts(h, configured) {
  if (!h) {
    return [el("p", { className: "hint", textContent: configured
      ? "No key check yet: the apiusage receiver checks at each poll, or test the connection."
      : "No key check yet." })];
  }
  const p = el("p", { className: tone(h.up, h.class) },
    el("strong", { textContent: h.up ? "Up" : "Down" }),
    " — " + h.class + ", " + (h.httpStatus == null ? "no HTTP answer" : "HTTP " + h.httpStatus) + ", " + ms(h.latencyMs));
  const out = [p, el("p", { className: "hint", textContent: "Last checked " + when(h.lastCheck) })];
  if (h.message) out.push(el("p", { className: "message", textContent: "“" + h.message + "”" }));
  return out;
}

function limitItem(name, r, i) {
  const id = "rl-" + name + "-" + i;
  const what = r.scope + (r.endpoint ? " — " + r.endpoint : "");
  const text = el("span", { className: "limit-text" });
  const li = el("li");
  if (r.limit != null && r.remaining != null) {
    // Floor, so that only a full window reads 100 %.
    const pct = Math.floor((r.headroom ?? r.remaining / r.limit) * 1000) / 10;
    const m = el("meter", { id, min: 0, max: r.limit, value: r.remaining, low: r.limit * 0.1, high: r.limit * 0.5,
      optimum: r.limit, textContent: pct + "%" });
    text.textContent = r.remaining + " of " + r.limit + " left (" + pct + "%), " + when(r.at);
    li.append(el("label", { htmlFor: id, textContent: what }), m, text);
  } else {
    li.append(el("span", { className: "limit-name", textContent: what }));
    text.textContent = (r.limit != null ? "limit " + r.limit + ", remaining not reported"
      : r.remaining + " left, limit not reported") + ", " + when(r.at);
    li.append(text);
  }
  return li;
}

function term(list, dt, dd) { list.append(el("dt", { textContent: dt }), el("dd", { textContent: dd })); }

function credText(c, configured) {
  if (c instanceof Error) return "The stored credential could not be read: " + c.message;
  if (!c) return "None stored for this tenant" + (configured ? ": the installation's config is used." : ".");
  return "Stored for this tenant: " + c.fingerprint + ", set by " + c.setBy + " on " + when(c.updatedAt) +
    ". Checks and polls use it instead of the config's.";
}

function credForm(name, card, keys) {
  const fields = (keys || []).map((key) => ({ key, label: FIELD_LABELS[key] || key, plain: PLAIN_FIELDS.has(key) }));
  if (!fields.length) return el("p", { className: "hint", textContent: "No credential can be stored for " + name + "." });
  const form = el("form", { id: "c-" + name, className: "cred-form", noValidate: true });
  for (const f of fields) {
    const id = "c-" + name + "-" + f.key;
    form.append(el("p", {},
      el("label", { htmlFor: id, textContent: f.label }),
      el("input", { id, name: f.key, type: f.plain ? "text" : "password", autocomplete: "off", spellcheck: false, required: true }),
      el("span", { className: "field-error", id: id + "-error" })));
  }
  const submit = el("button", { type: "submit" });
  form.append(el("p", {}, submit));
  card.submit = submit;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const f of fields) body[f.key] = form.elements[f.key].value;
    fieldErrors(form, "c-" + name + "-", []);
    card.status.className = "form-status";
    card.status.textContent = "Storing…";
    try {
      const info = await api("PUT", "/api/v1/providers/" + name + "/credentials", body);
      form.reset();
      creds.set(name, info);
      card.status.textContent = "Stored: " + info.fingerprint + ". The value is not shown again.";
      update(listed.find((p) => p.name === name));
    } catch (err) {
      card.status.className = "form-status error";
      if (err.details && err.details.length) {
        card.status.textContent = "Not stored: " + err.message + ".";
        fieldErrors(form, "c-" + name + "-", err.details);
      } else if (err.status === 503 && (err.code === "CREDENTIALS_UNAVAILABLE" || /key-encryption key/.test(err.message))) {
        // No key to seal with: the operator's to set, said where it was tried.
        card.status.textContent = "Credentials cannot be stored on this installation: " + err.message + ".";
      } else {
        card.status.textContent = "Not stored: " + err.message;
      }
    }
  });
  return form;
}

function buildCard(p) {
  const name = p.name;
  const card = {
    state: el("p", { className: "state" }),
    health: el("div", { className: "health" }),
    limits: el("ul", { className: "limits" }),
    balances: el("dl", { className: "figures" }),
    spend: el("dl", { className: "figures" }),
    testHint: el("p", { className: "hint" }),
    result: el("p", { id: "t-" + name + "-result", className: "result", role: "status" }),
    cred: el("p", { id: "cred-" + name }),
    status: el("p", { id: "c-" + name + "-status", className: "form-status", role: "status" }),
  };
  card.balancesBox = el("div", {}, el("h4", { textContent: "Balances and credits" }), card.balances);
  const li = el("li", { className: "card", id: "p-" + name },
    el("h3", { textContent: name }), card.state,
    el("h4", { textContent: "Health" }), card.health,
    el("h4", { textContent: "Rate-limit headroom" }), card.limits,
    card.balancesBox,
    el("h4", { textContent: "Spend" }), card.spend);
  li.dataset.provider = name;
  if (canTest()) {
    card.test = el("button", { type: "button", id: "t-" + name, textContent: "Test connection" });
    card.test.setAttribute("aria-label", "Test connection to " + name);
    card.test.setAttribute("aria-describedby", card.result.id);
    card.test.addEventListener("click", () => testConnection(name, card));
    li.append(el("div", { className: "actions" }, card.test, card.testHint), card.result);
  }
  li.append(el("h4", { textContent: "Tenant credential" }), card.cred);
  if (canStore()) {
    card.remove = el("button", { type: "button", id: "rm-" + name, className: "secondary", textContent: "Remove credential" });
    card.remove.setAttribute("aria-label", "Remove credential for " + name);
    card.remove.addEventListener("click", () => removeCredential(name, card));
    li.append(card.remove, credForm(name, card, p.credentialFields), card.status);
  }
  cards.set(name, card);
  return li;
}

async function testConnection(name, card) {
  // The button stays enabled (and focused) while the check runs: a second
  // press is ignored instead.
  if (card.test.getAttribute("aria-disabled") === "true") return;
  card.test.setAttribute("aria-disabled", "true");
  card.result.dataset.state = "running";
  card.result.className = "result";
  card.result.textContent = "Checking " + name + "…";
  try {
    const r = await api("POST", "/api/v1/providers/" + name + "/test");
    card.result.className = "result " + tone(r.up, r.class);
    card.result.textContent = checkLine(r.up, r.class, r.httpStatus, r.latencyMs, r.checkedAt) + (r.message ? ": " + r.message : "");
    await refresh();
  } catch (err) {
    card.result.className = "result down";
    card.result.textContent = "The check could not run: " + err.message;
  } finally {
    card.test.removeAttribute("aria-disabled");
    card.result.dataset.state = "done";
  }
}

async function removeCredential(name, card) {
  if (!confirm("Remove this tenant's " + name + " credential? Checks and polls go back to the installation's config.")) return;
  card.status.className = "form-status";
  try {
    await api("DELETE", "/api/v1/providers/" + name + "/credentials");
    creds.set(name, null);
    card.status.textContent = "Removed.";
    update(listed.find((p) => p.name === name));
  } catch (err) {
    card.status.className = "form-status error";
    card.status.textContent = "Not removed: " + err.message;
  }
}

function update(p) {
  const card = cards.get(p.name);
  const c = creds.get(p.name);
  const stored = !!c && !(c instanceof Error);
  card.state.textContent = p.configured ? "Configured in the installation's config" + (stored ? "; this tenant's own credential is stored" : "")
    : stored ? "This tenant's own credential is stored" : "Not configured";
  card.health.replaceChildren(...healthParts(p.health, p.configured || stored));
  card.limits.replaceChildren(...(p.rateLimits.length ? p.rateLimits.map((r, i) => limitItem(p.name, r, i))
    : [el("li", { className: "hint", textContent: "None reported yet." })]));
  card.balances.replaceChildren();
  for (const b of p.balances) {
    const what = [BALANCE_LABELS[b.name] || b.name, b.window, b.account && "account " + b.account].filter(Boolean).join(", ");
    term(card.balances, what, money(b.value) + " (" + when(b.at) + ")");
  }
  card.balancesBox.hidden = p.balances.length === 0;
  const s = p.spend;
  card.spend.replaceChildren();
  const unpriced = (n) => (n ? " + " + n + " unpriced call" + (n === 1 ? "" : "s") : "");
  term(card.spend, "Computed today", money(s.todayUsd) + unpriced(s.unpricedCallsToday));
  term(card.spend, "Computed this month", money(s.monthToDateUsd) + unpriced(s.unpricedCallsMonthToDate));
  term(card.spend, "Billed this month", s.billedMonthToDateUsd == null ? "not reported" : money(s.billedMonthToDateUsd));
  if (card.test) {
    // The server answers 409 for a provider with nothing to test with.
    const testable = p.configured || stored;
    card.test.hidden = !testable;
    card.testHint.hidden = testable;
    card.testHint.textContent = "Nothing to test: no credentials are configured or stored.";
  }
  card.cred.textContent = credText(c, p.configured);
  card.cred.dataset.state = c instanceof Error ? "error" : stored ? "stored" : "none";
  if (card.remove) card.remove.hidden = !stored;
  if (card.submit) {
    card.submit.textContent = stored ? "Replace credential" : "Store credential";
    card.submit.setAttribute("aria-label", card.submit.textContent + " for " + p.name);
  }
}

async function loadCredential(name) {
  try {
    creds.set(name, await api("GET", "/api/v1/providers/" + name + "/credentials"));
  } catch (err) {
    creds.set(name, err.status === 404 ? null : err);
  }
}

async function refresh() {
  listed = await api("GET", "/api/v1/providers");
  const fresh = listed.filter((p) => !cards.has(p.name));
  await Promise.all(fresh.map((p) => loadCredential(p.name)));
  const list = document.getElementById("providers");
  for (const p of fresh) list.append(buildCard(p));
  for (const p of listed) update(p);
  const stored = [...creds.values()].some((c) => c && !(c instanceof Error));
  document.getElementById("no-providers").hidden = listed.some((p) => p.configured) || stored;
  list.setAttribute("aria-busy", "false");
  list.dataset.state = "ready";
}

// reconcile sums the month's UTC days per provider, exactly.
async function reconcile() {
  const now = new Date();
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  document.getElementById("recon-month").textContent = from.toLocaleString(undefined, { month: "long", year: "numeric", timeZone: "UTC" });
  const table = document.getElementById("reconciliation");
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), limit: "1000" });
  let rows;
  try {
    rows = await api("GET", "/api/v1/costs/reconciliation?" + q);
  } catch (err) {
    const none = document.getElementById("recon-none");
    none.className = "error";
    none.textContent = "The reconciliation could not be read: " + err.message;
    none.hidden = false;
    table.hidden = true;
    return;
  }
  const by = new Map();
  for (const r of rows) {
    if (!by.has(r.provider)) by.set(r.provider, []);
    by.get(r.provider).push(r);
  }
  table.tBodies[0].replaceChildren(...[...by].map(([provider, rs]) => {
    const tr = el("tr", {}, el("th", { scope: "row", textContent: provider }));
    tr.dataset.provider = provider;
    const sum = (k) => money(addDecimals(rs.map((r) => r[k])));
    for (const v of [String(rs.length), sum("billed"), sum("computed"), sum("difference"),
      String(rs.reduce((n, r) => n + r.calls, 0)), String(rs.reduce((n, r) => n + r.unpricedCalls, 0))]) {
      tr.append(el("td", { className: "num", textContent: v }));
    }
    return tr;
  }));
  table.hidden = rows.length === 0;
  document.getElementById("recon-none").hidden = rows.length > 0;
  table.dataset.state = "ready";
}

async function load() {
  const s = await session();
  role = s.role;
  document.getElementById("no-providers-admin").hidden = !canStore();
  await Promise.all([refresh().catch(showError), reconcile()]);
  ready();
}

load().catch(showError);
