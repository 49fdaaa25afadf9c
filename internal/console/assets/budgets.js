import { api, apiEnvelope, session, showError, fieldErrors, when, button } from "./api.js";
import { budgetMeter, budgetLine, scopeDims, scopeWords } from "./budgetview.js";

// The Budgets page: listed for everyone, created, edited and deleted by
// editors in one form, with the API's refusals shown at the fields.

let canEdit = false;
let editing = null;

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

// fill puts budget b in the form to edit it, or empties the form for a
// new one (b null).
function fill(form, b) {
  const f = form.elements;
  form.reset();
  if (b) {
    f.name.value = b.name;
    f.amountUsd.value = b.amountUsd;
    f.period.value = b.period;
    f.action.value = b.action;
    f.thresholds.value = b.thresholds.join(", ");
    for (const d of scopeDims) f[d].value = (b.scope && b.scope[d]) || "";
    f.tagKey.value = b.scope && b.scope.tag ? b.scope.tag.key : "";
    f.tagValue.value = b.scope && b.scope.tag ? b.scope.tag.value : "";
  }
  editing = b;
  document.getElementById("new-h").textContent = b ? "Edit budget " + b.name : "New budget";
  document.getElementById("b-save").textContent = b ? "Save" : "Create budget";
  document.getElementById("b-cancel").hidden = !b;
  fieldErrors(form, "b-", []);
}

// body is what the form says. An edit replaces the whole budget (PUT), so
// it carries the budget's time zone, which the form does not show.
function body(form) {
  const f = form.elements;
  const b = { name: f.name.value, amountUsd: f.amountUsd.value, period: f.period.value, action: f.action.value,
    thresholds: f.thresholds.value.split(",").map((v) => Number(v.trim())).filter((v) => v > 0), scope: {} };
  for (const d of scopeDims) if (f[d].value) b.scope[d] = f[d].value;
  // A value without a key is sent, for the API to refuse at the tag.
  if (f.tagKey.value || f.tagValue.value) b.scope.tag = { key: f.tagKey.value, value: f.tagValue.value };
  if (editing) b.timezone = editing.timezone;
  return b;
}

async function render() {
  const list = document.getElementById("budgets");
  const form = document.getElementById("new-budget");
  const budgets = await api("GET", "/api/v1/budgets?limit=100");
  const statuses = await Promise.all(budgets.map((b) => api("GET", "/api/v1/budgets/" + b.id + "/status")));
  list.replaceChildren(...budgets.map((b, i) => {
    const s = statuses[i];
    const li = document.createElement("li");
    li.className = "card";
    li.dataset.budget = b.id;
    const h = document.createElement("h3");
    h.textContent = b.name;
    const scope = document.createElement("p");
    scope.className = "scope";
    scope.textContent = "Scope: " + scopeWords(b.scope);
    const t = document.createElement("p");
    t.className = "hint";
    t.textContent = "Alerts at " + b.thresholds.join("%, ") + "%" +
      (s.thresholdsCrossed.length ? "; crossed: " + s.thresholdsCrossed.join("%, ") + "%" : "") +
      ({ warn: "; proxied calls are told what is left", block: "; the proxy refuses calls past the amount" }[b.action] || "");
    li.append(h, budgetMeter(s), budgetLine(b, s), scope, t);
    if (b.action === "block" || b.action === "warn") li.append(eventsOf(b));
    if (canEdit) {
      const box = document.createElement("div");
      box.className = "row-actions";
      box.append(button("Edit", "Edit budget " + b.name, () => { fill(form, b); form.elements.name.focus(); }),
        button("Delete", "Delete budget " + b.name, async () => {
          if (!confirm("Delete budget " + b.name + "?")) return;
          try {
            await api("DELETE", "/api/v1/budgets/" + b.id);
            if (editing && editing.id === b.id) fill(form, null);
            await render();
          } catch (err) { showError(err); }
        }, "secondary"));
      li.append(box);
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
  document.getElementById("b-cancel").addEventListener("click", () => { fill(form, null); form.elements.name.focus(); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    fieldErrors(form, "b-", []);
    try {
      const env = editing ? await apiEnvelope("PUT", "/api/v1/budgets/" + editing.id, body(form))
        : await apiEnvelope("POST", "/api/v1/budgets", body(form));
      fill(form, null);
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
