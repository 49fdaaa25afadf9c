// The console's one way to the API: same origin, the session cookie, the
// CSRF token on writes, and the tenant the person picked.
const state = { csrf: "", tenant: "", tz: undefined };

export async function api(method, path, body) {
  return (await apiEnvelope(method, path, body)).data;
}

// apiEnvelope is api's answer whole: data and meta (an accepted write's
// warnings).
export async function apiEnvelope(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (state.tenant) headers["X-Nexus-Tenant"] = state.tenant;
  if (method !== "GET") {
    headers["X-CSRF-Token"] = state.csrf;
    headers["Content-Type"] = "application/json";
  }
  const resp = await fetch(path, { method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await resp.text();
  let env = null;
  try { env = JSON.parse(text); } catch { /* not an envelope */ }
  if (resp.status === 401 && !location.pathname.startsWith("/sign-in")) {
    location.assign("/sign-in?next=" + encodeURIComponent(location.pathname + location.search));
    throw new Error("not signed in");
  }
  if (!resp.ok) {
    const msg = env && env.error ? env.error.message : resp.statusText;
    const err = new Error(msg);
    err.status = resp.status;
    err.details = env && env.error ? env.error.details || [] : [];
    throw err;
  }
  return env ? env : { data: null, meta: {} };
}

export function showError(err) {
  const el = document.getElementById("error");
  if (!el) return;
  el.textContent = err.message;
  el.hidden = false;
}

// session loads who is signed in, fills the header, and remembers the
// CSRF token; pages call it first.
export async function session() {
  // The tenant picked in this tab, if any, so that the role the page
  // offers edits by is the role there; one the person lost is forgotten.
  state.tenant = sessionStorage.getItem("nexus.tenant") || "";
  let s;
  try {
    s = await api("GET", "/api/v1/auth/session");
  } catch (err) {
    if (err.status !== 403 || !state.tenant) throw err;
    sessionStorage.removeItem("nexus.tenant");
    state.tenant = "";
    s = await api("GET", "/api/v1/auth/session");
  }
  state.csrf = s.csrfToken;
  state.tenant = s.tenant;
  const user = document.getElementById("user");
  if (user) user.textContent = s.user.name + " (" + s.role + ")";
  const sel = document.getElementById("tenant");
  if (sel) {
    const tenants = Object.keys(s.user.roles || {});
    if (s.user.installationAdmin) {
      // Admin in every tenant: every tenant is theirs to pick.
      try {
        for (const t of await api("GET", "/api/v1/tenants?limit=500")) if (!tenants.includes(t.id)) tenants.push(t.id);
      } catch (err) { showError(err); }
    }
    if (!tenants.includes(state.tenant)) tenants.push(state.tenant);
    sel.replaceChildren(...tenants.sort().map((t) => new Option(t, t, false, t === state.tenant)));
    sel.addEventListener("change", () => {
      sessionStorage.setItem("nexus.tenant", sel.value);
      location.reload();
    });
  }
  // Times in the person's time zone: their preference, else the browser's.
  state.tz = validZone(s.user.preferences && s.user.preferences.time_zone);
  zonePicker(s.user);
  const out = document.getElementById("sign-out");
  if (out) {
    out.addEventListener("click", async () => {
      try { await api("POST", "/api/v1/auth/sign-out"); } finally { location.assign("/sign-in"); }
    });
  }
  return s;
}

export function tenant() { return state.tenant; }

// ready says the page's data is all shown (or says why not): tests wait
// for it, and the benchmark reads the mark's time since navigation.
export function ready() {
  document.getElementById("main").dataset.state = "ready";
  performance.mark("nexus-ready");
}

// streamURL is the live stream for the tenant shown: an EventSource sends
// no headers, so the tenant goes in the query.
export function streamURL(query) {
  const q = new URLSearchParams(query);
  if (state.tenant) q.set("tenant", state.tenant);
  return "/api/v1/stream?" + q;
}

function validZone(z) {
  if (!z) return undefined;
  try { new Intl.DateTimeFormat(undefined, { timeZone: z }); return z; } catch { return undefined; }
}

// when formats an instant in the person's time zone.
export function when(iso, opts) {
  return new Date(iso).toLocaleString(undefined, { timeZone: state.tz, ...(opts || {}) });
}

// Calendar days in the person's time zone, whatever the browser's is.
function parts(t) {
  const f = new Intl.DateTimeFormat("en-US", { timeZone: zoneName(), hourCycle: "h23",
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const o = {};
  for (const p of f.formatToParts(t)) o[p.type] = Number(p.value);
  return o;
}

// zoned is the instant of y-m-d h:00 in the person's time zone.
function zoned(y, m, d) {
  const guess = Date.UTC(y, m - 1, d);
  let t = guess;
  // Two rounds settle an offset that changes at a transition.
  for (let i = 0; i < 2; i++) {
    const p = parts(new Date(t));
    t = guess - (Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - t);
  }
  return new Date(t);
}

// today is the person's calendar date now, as YYYY-MM-DD.
export function today(at) {
  const p = parts(at || new Date());
  return p.year + "-" + String(p.month).padStart(2, "0") + "-" + String(p.day).padStart(2, "0");
}

// dayStart is the instant a YYYY-MM-DD day begins; days may be added.
export function dayStart(ymd, addDays) {
  const [y, m, d] = ymd.split("-").map(Number);
  return zoned(y, m, d + (addDays || 0));
}

// monthStart is the instant the person's current month began.
export function monthStart(at) {
  const p = parts(at || new Date());
  return zoned(p.year, p.month, 1);
}

// zoneName is the time zone times are shown in.
export function zoneName() {
  return state.tz || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

// zonePicker lets a person keep their time zone in their preferences.
function zonePicker(user) {
  const sel = document.getElementById("tz");
  if (!sel) return;
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
  const current = zoneName();
  if (!zones.includes(current)) zones.unshift(current);
  sel.replaceChildren(...zones.map((z) => new Option(z, z, false, z === current)));
  sel.addEventListener("change", async () => {
    try {
      await api("PATCH", "/api/v1/users/" + user.id, { preferences: { ...(user.preferences || {}), time_zone: sel.value } });
      location.reload();
    } catch (err) { showError(err); }
  });
}

// fieldErrors shows the API's refusal at the fields it names (an element
// with id prefix + field + "-error"), marks them invalid for assistive
// technology, and focuses the first; details [] clears them.
export function fieldErrors(form, prefix, details) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  let first = null;
  for (const d of details) {
    const msg = document.getElementById(prefix + d.field + "-error");
    if (!msg) { showError(new Error(d.field + ": " + d.message)); continue; }
    msg.textContent = d.message;
    const input = msg.parentElement.querySelector("input, select");
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", msg.id);
      first = first || input;
    }
  }
  if (first) first.focus();
}

// addDecimals sums decimal strings exactly (up to 12 fraction digits, the
// API's precision): money never goes through a float.
export function addDecimals(values) {
  const scale = 12;
  let total = 0n;
  for (const v of values) {
    const neg = v.startsWith("-");
    const [i, f = ""] = (neg ? v.slice(1) : v).split(".");
    const n = BigInt(i + f.padEnd(scale, "0").slice(0, scale));
    total += neg ? -n : n;
  }
  const neg = total < 0n;
  const s = (neg ? -total : total).toString().padStart(scale + 1, "0");
  const out = (s.slice(0, -scale) + "." + s.slice(-scale)).replace(/0+$/, "").replace(/\.$/, "");
  return (neg ? "-" : "") + out;
}

// button is a button that does onClick, labelled for assistive technology
// (label says what it acts on: "Delete budget Acme").
export function button(text, label, onClick, cls) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  if (cls) b.className = cls;
  b.addEventListener("click", onClick);
  return b;
}
