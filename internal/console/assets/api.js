// The console's one way to the API: same origin, the session cookie, the
// CSRF token on writes, and the tenant the person picked.
const state = { csrf: "", tenant: "" };

export async function api(method, path, body) {
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
  return env ? env.data : null;
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
  const s = await api("GET", "/api/v1/auth/session");
  state.csrf = s.csrfToken;
  state.tenant = sessionStorage.getItem("nexus.tenant") || s.tenant;
  const user = document.getElementById("user");
  if (user) user.textContent = s.user.name + " (" + s.role + ")";
  const sel = document.getElementById("tenant");
  if (sel) {
    const tenants = Object.keys(s.user.roles || {});
    if (!tenants.includes(state.tenant)) tenants.push(state.tenant);
    sel.replaceChildren(...tenants.sort().map((t) => new Option(t, t, false, t === state.tenant)));
    sel.addEventListener("change", () => {
      sessionStorage.setItem("nexus.tenant", sel.value);
      location.reload();
    });
  }
  const out = document.getElementById("sign-out");
  if (out) {
    out.addEventListener("click", async () => {
      try { await api("POST", "/api/v1/auth/sign-out"); } finally { location.assign("/sign-in"); }
    });
  }
  return s;
}

export function tenant() { return state.tenant; }

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
