import * as lib from "./api.js";

const { api, session, showError, fieldErrors } = lib;
// Times in the person's time zone; the default tenant has no creation
// time (year 1).
const at = (iso) => (!iso || iso.startsWith("0001-") ? "—" : lib.when(iso));
// ready marks the page shown for tests and the benchmark, where api.js has it.
const ready = () => { if (lib.ready) lib.ready(); };
const $ = (id) => document.getElementById(id);

let me = null;
let here = "";
let installation = false;
// Who is behind an id, for the audit trail and the keys' owners.
let people = new Map();
let keyNames = new Map();
// The audit page's query, kept so that "Older" continues the same filters.
let auditQuery = null;
let cursor = "";

function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function row(cells) {
  const tr = el("tr");
  for (const c of cells) {
    const td = el("td");
    td.append(...(Array.isArray(c) ? c : [c]).filter((x) => x !== null));
    tr.append(td);
  }
  return tr;
}

function button(text, label, onClick, cls) {
  const b = el("button", text, { type: "button", "aria-label": label });
  if (cls) b.className = cls;
  b.addEventListener("click", onClick);
  return b;
}

function refusal(err) {
  // A write refused field by field, where there is no field to show it at.
  if (err.details && err.details.length) return new Error(err.message + ": " + err.details.map((d) => d.field + " " + d.message).join("; "));
  return err;
}

// write runs a change, then shows its effect and its audit entry.
async function write(change, ...then) {
  $("error").hidden = true;
  try {
    await change();
    await Promise.all([...then.map((f) => f()), renderAudit(true)]);
  } catch (err) { showError(refusal(err)); }
}

const rolesText = (u) => [u.installationAdmin ? "installation admin" : null,
  ...Object.keys(u.roles).sort().map((t) => t + ": " + u.roles[t])].filter(Boolean).join(", ") || "none";

function roleCell(u) {
  if (!u.active || u.installationAdmin || u.id === me.user.id) {
    return u.installationAdmin ? "admin (installation admin)" : (u.roles[here] || "none");
  }
  const sel = el("select", null, { "aria-label": "Role of " + u.email + " in " + here });
  for (const r of ["", "viewer", "editor", "admin"]) sel.append(new Option(r || "none", r, false, (u.roles[here] || "") === r));
  const save = button("Change", "Change the role of " + u.email, () => {
    if (!sel.value && !confirm("Remove " + u.email + " from tenant " + here + "?")) return;
    let roles = { [here]: sel.value };
    if (installation) {
      // An installation admin's roles replace the person's whole map.
      roles = { ...u.roles, [here]: sel.value };
      if (!sel.value) delete roles[here];
    }
    write(() => api("PATCH", "/api/v1/users/" + u.id, { roles }), renderUsers);
  }, "small");
  return [sel, save];
}

async function renderUsers() {
  const list = await api("GET", "/api/v1/users");
  people = new Map(list.map((u) => [u.id, u]));
  if (!people.has(me.user.id)) people.set(me.user.id, me.user);
  $("users-caption").textContent = installation ? "Everyone in the installation, oldest first" : "The people of tenant " + here + ", oldest first";
  $("users").querySelector("tbody").replaceChildren(...list.map((u) => {
    const signIn = [u.hasPassword ? "password" : null, u.sso ? "single sign-on" : null].filter(Boolean).join(", ") || "not yet set";
    const tr = row([u.email, u.name, rolesText(u), u.active ? "yes" : "no (deactivated)", signIn, roleCell(u),
      u.active && u.id !== me.user.id && !u.installationAdmin ? button("Deactivate", "Deactivate " + u.email, () => {
        if (!confirm("Deactivate " + u.email + "? They are signed out now, cannot sign in again, and their keys stop working.")) return;
        write(() => api("POST", "/api/v1/users/" + u.id + "/deactivate"), renderUsers);
      }, "danger small") : null]);
    tr.dataset.user = u.email;
    return tr;
  }));
  $("users").dataset.state = "ready";
  const actor = $("a-actor");
  const chosen = actor.value;
  actor.replaceChildren(new Option("anyone", ""), ...[...people.values()].map((u) => new Option(u.email, u.id, false, u.id === chosen)));
}

function keyStatus(k) {
  const used = k.lastUsedAt ? "; last used " + at(k.lastUsedAt) : "";
  if (k.revokedAt) return "revoked " + at(k.revokedAt);
  if (k.expiresAt && new Date(k.expiresAt) <= new Date()) return "expired" + used;
  return "active" + used;
}

async function renderKeys() {
  const keys = await api("GET", "/api/v1/keys?limit=1000");
  keyNames = new Map(keys.map((k) => [k.id, k.name]));
  $("keys").querySelector("tbody").replaceChildren(...keys.map((k) => {
    const owner = k.ownerUser ? (people.has(k.ownerUser) ? people.get(k.ownerUser).email : k.ownerUser) : "service account";
    const tr = row([k.name, el("code", k.prefix), k.role + (k.installationAdmin ? " (installation admin)" : ""), owner, at(k.createdAt),
      k.expiresAt ? at(k.expiresAt) : "never", keyStatus(k),
      k.revokedAt ? null : button("Revoke", "Revoke key " + k.name, () => {
        if (!confirm("Revoke key " + k.name + "? Whatever uses it is refused from now on.")) return;
        write(() => api("DELETE", "/api/v1/keys/" + k.id), renderKeys);
      }, "danger small")]);
    tr.dataset.key = k.name;
    return tr;
  }));
  $("no-keys").hidden = keys.length > 0;
  $("keys").dataset.state = "ready";
}

function showSecret(k) {
  $("key-secret-name").textContent = k.name;
  $("key-secret-value").value = k.key;
  $("key-secret").hidden = false;
  $("key-secret-value").focus();
  $("key-secret-value").select();
}

async function renderTenants() {
  const ts = await api("GET", "/api/v1/tenants?limit=1000");
  $("tenants").querySelector("tbody").replaceChildren(...ts.map((t) => {
    const name = el("input", null, { "aria-label": "Name of tenant " + t.id, autocomplete: "off" });
    name.value = t.name;
    const rename = button("Rename", "Rename tenant " + t.id, () =>
      write(() => api("PATCH", "/api/v1/tenants/" + t.id, { name: name.value }), renderTenants), "small");
    // Not the default tenant (the API refuses), nor the one this page is about.
    const del = t.id === "default" || t.id === here ? null : button("Delete", "Delete tenant " + t.id, () => {
      if (!confirm("Delete tenant " + t.id + "? Its keys are revoked now and its id can never be used again.")) return;
      write(() => api("DELETE", "/api/v1/tenants/" + t.id), renderTenants);
    }, "danger small");
    const tr = row([el("code", t.id), name, at(t.createdAt), [rename, del]]);
    tr.dataset.tenant = t.id;
    return tr;
  }));
  $("tenants").dataset.state = "ready";
  const scope = $("a-scope");
  const chosen = scope.value;
  scope.replaceChildren(new Option("every tenant's and the installation's", ""), new Option("the installation's own", "installation"),
    ...ts.map((t) => new Option(t.id + " (" + t.name + ")", t.id, false, t.id === chosen)));
  scope.value = chosen;
}

function who(e) {
  if (e.actor_type === "user") return people.has(e.actor_id) ? people.get(e.actor_id).email : e.actor_id;
  if (e.actor_type === "key") return "key " + (keyNames.get(e.actor_id) || e.actor_id);
  return e.actor_type || "unknown";
}

function target(e) {
  const id = e.resource_id;
  const named = people.has(id) ? people.get(id).email : keyNames.get(id);
  return [e.resource_type, id, named ? "(" + named + ")" : ""].filter(Boolean).join(" ");
}

async function renderAudit(fresh) {
  if (fresh || !auditQuery) {
    auditQuery = new URLSearchParams({ limit: "50" });
    for (const [k, v] of new FormData($("audit-filters"))) if (v) auditQuery.set(k, v);
    cursor = "";
  }
  const q = new URLSearchParams(auditQuery);
  if (cursor) q.set("cursor", cursor);
  const page = await api("GET", "/api/v1/audit?" + q);
  const rows = page.entries.map((e) => {
    const outcome = el("span", e.outcome + (e.detail ? ": " + e.detail : ""), { class: "outcome-" + e.outcome });
    const whoCell = [el("span", who(e)), e.via ? el("span", " via " + e.via, { class: "hint" }) : null];
    const tr = row([at(e.at), whoCell, el("code", e.action), target(e), outcome, e.tenant || "installation"]);
    tr.dataset.action = e.action;
    tr.dataset.seq = (e.tenant || "installation") + "/" + e.seq;
    return tr;
  });
  const body = $("audit").querySelector("tbody");
  if (cursor) body.append(...rows); else body.replaceChildren(...rows);
  cursor = page.nextCursor || "";
  $("older").hidden = !cursor;
  $("no-audit").hidden = body.children.length > 0;
  $("audit").dataset.state = "ready";
}

async function verify() {
  const out = $("verify-result");
  out.textContent = "Verifying…";
  delete out.dataset.state;
  const scope = installation ? $("a-scope").value : "";
  try {
    const vs = await api("GET", "/api/v1/audit/verify" + (scope ? "?tenant=" + encodeURIComponent(scope) : ""));
    const trail = (v) => (v.tenant || "installation") + " (" + v.entries + " entries)";
    const broken = vs.filter((v) => !v.ok);
    out.textContent = broken.length
      ? "Chain broken: " + broken.map((v) => trail(v) + " at entry " + v.broken_seq + ": " + v.reason).join("; ")
      : "Chain intact: " + (vs.map(trail).join(", ") || "no entries yet");
    out.dataset.state = broken.length ? "broken" : "intact";
  } catch (err) {
    out.textContent = "";
    showError(err);
  }
}

// submit wires a creation form: its body, the API's refusal at its fields.
function submit(form, prefix, send) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("error").hidden = true;
    fieldErrors(form, prefix, []);
    try {
      await send(form.elements);
      form.reset();
    } catch (err) {
      if (err.details && err.details.length) fieldErrors(form, prefix, err.details);
      else if (err.status === 409 && form.elements.email) fieldErrors(form, prefix, [{ field: "email", message: err.message }]);
      else if (err.status === 409 && form.elements.id) fieldErrors(form, prefix, [{ field: "id", message: err.message }]);
      else showError(err);
    }
  });
}

function wire() {
  // The role given is the tenant shown's: the API names it roles.<tenant>.
  $("u-role-error").id = "u-roles." + here + "-error";
  $("u-role-label").textContent = "Role in " + here;
  submit($("new-user"), "u-", async (f) => {
    const body = { email: f.email.value.trim(), name: f.name.value, roles: { [here]: f.role.value } };
    if (f.password.value) body.password = f.password.value;
    await api("POST", "/api/v1/users", body);
    await Promise.all([renderUsers(), renderAudit(true)]);
  });
  submit($("new-key"), "k-", async (f) => {
    const body = { name: f.name.value, role: f.role.value };
    // The end of the chosen day where the person is.
    if (f.expires.value) body.expiresAt = new Date(f.expires.value + "T23:59:59").toISOString();
    if (f.serviceAccount.checked) body.serviceAccount = true;
    const k = await api("POST", "/api/v1/keys", body);
    showSecret(k);
    await Promise.all([renderKeys(), renderAudit(true)]);
  });
  submit($("new-tenant"), "t-", async (f) => {
    await api("POST", "/api/v1/tenants", { id: f.id.value.trim(), name: f.name.value });
    await Promise.all([renderTenants(), renderAudit(true)]);
  });
  $("key-secret-copy").addEventListener("click", async () => {
    try { await navigator.clipboard.writeText($("key-secret-value").value); $("key-secret-copy").textContent = "Copied"; } catch (err) { showError(err); }
  });
  $("key-secret-done").addEventListener("click", () => {
    // Gone from the page too: it is never shown again.
    $("key-secret-value").value = "";
    $("key-secret").hidden = true;
    $("key-secret-copy").textContent = "Copy";
  });
  $("audit-filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    renderAudit(true).catch(showError);
  });
  $("older").addEventListener("click", () => renderAudit(false).catch(showError));
  $("verify").addEventListener("click", verify);
}

async function load() {
  me = await session();
  here = lib.tenant();
  installation = !!me.user.installationAdmin;
  if (me.role !== "admin") {
    const need = $("need-admin");
    need.textContent = "You are " + (me.role || "without a role") + " in tenant " + here + ". Managing people, API keys and the audit trail " +
      "needs the admin role in this tenant: ask one of its admins.";
    need.hidden = false;
    need.dataset.state = "ready";
    ready();
    return;
  }
  $("admin").hidden = false;
  $("tenants-section").hidden = !installation;
  $("jump-tenants").hidden = !installation;
  $("a-scope-p").hidden = !installation;
  wire();
  // People and keys first: the audit trail names its actors with them.
  await Promise.all([renderUsers(), installation ? renderTenants() : null]);
  await renderKeys();
  await renderAudit(true);
  ready();
}

load().catch((err) => { showError(err); ready(); });
