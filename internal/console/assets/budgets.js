import { api, apiEnvelope, session, showError, fieldErrors, when } from "./api.js";
import { budgetMeter, budgetLine } from "./budgetview.js";

let canEdit = false;

// eventsOf shows what the proxy did about a budget in the last 24 hours:
// how many calls it refused or let pass under it, and the latest.
function eventsOf(b) {
  const box = document.createElement("details");
  box.className = "budget-events";
  const sum = document.createElement("summary");
  sum.textContent = b.action === "block" ? "Calls refused, last 24 h: …" : "Calls warned, last 24 h: …";
  const list = document.createElement("ul");
  box.append(sum, list);
  apiEnvelope("GET", "/api/v1/budgets/" + b.id + "/events?limit=10").then((env) => {
    const evs = env.data;
    sum.textContent = sum.textContent.replace("…", String(env.pagination ? env.pagination.total : evs.length));
    list.replaceChildren(...evs.map((e) => {
      const li = document.createElement("li");
      li.textContent = when(e.at) + " " + e.provider + (e.model ? " " + e.model : "") + (e.customer ? " for " + e.customer : "") +
        ": could cost $" + e.worstCaseUsd + ", $" + e.remainingUsd + " left";
      return li;
    }));
    box.dataset.state = "ready";
  }).catch((err) => { sum.textContent = "Events could not be read: " + err.message; });
  return box;
}

async function render() {
  const list = document.getElementById("budgets");
  const budgets = await api("GET", "/api/v1/budgets?limit=100");
  const statuses = await Promise.all(budgets.map((b) => api("GET", "/api/v1/budgets/" + b.id + "/status")));
  list.replaceChildren(...budgets.map((b, i) => {
    const s = statuses[i];
    const li = document.createElement("li");
    li.className = "card";
    li.dataset.budget = b.id;
    const h = document.createElement("h3");
    h.textContent = b.name;
    const t = document.createElement("p");
    t.className = "hint";
    t.textContent = "Alerts at " + b.thresholds.join("%, ") + "%" +
      (s.thresholdsCrossed.length ? "; crossed: " + s.thresholdsCrossed.join("%, ") + "%" : "") +
      ({ warn: "; proxied calls are told what is left", block: "; the proxy refuses calls past the amount" }[b.action] || "");
    li.append(h, budgetMeter(s), budgetLine(b, s), t);
    if (b.action === "block" || b.action === "warn") li.append(eventsOf(b));
    if (canEdit) {
      const del = document.createElement("button");
      del.type = "button";
      del.textContent = "Delete";
      del.setAttribute("aria-label", "Delete budget " + b.name);
      del.addEventListener("click", async () => {
        if (!confirm("Delete budget " + b.name + "?")) return;
        try { await api("DELETE", "/api/v1/budgets/" + b.id); await render(); } catch (err) { showError(err); }
      });
      li.append(del);
    }
    return li;
  }));
  document.getElementById("none").hidden = budgets.length > 0;
}

async function load() {
  const s = await session();
  canEdit = s.role === "editor" || s.role === "admin";
  document.getElementById("editor").hidden = !canEdit;
  const form = document.getElementById("new-budget");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    const body = { name: f.name.value, amountUsd: f.amountUsd.value, period: f.period.value, action: f.action.value,
      thresholds: f.thresholds.value.split(",").map((v) => Number(v.trim())).filter((v) => v > 0) };
    if (f.provider.value) body.scope = { provider: f.provider.value };
    fieldErrors(form, "b-", []);
    try {
      const env = await apiEnvelope("POST", "/api/v1/budgets", body);
      form.reset();
      const warn = document.getElementById("b-warning");
      warn.textContent = (env.meta.warnings || []).join(" ");
      warn.hidden = !warn.textContent;
      await render();
    } catch (err) {
      if (err.details && err.details.length) fieldErrors(form, "b-", err.details);
      else showError(err);
    }
  });
  await render();
}

load().catch(showError);
