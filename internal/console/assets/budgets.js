import { api, session, showError, fieldErrors } from "./api.js";

let canEdit = false;

function bar(status) {
  // A meter: what is spent of the amount, thresholds marked in the text.
  const m = document.createElement("meter");
  m.min = 0; m.max = 100; m.low = 80; m.high = 100; m.optimum = 0;
  m.value = Math.min(status.percentUsed, 100);
  m.textContent = status.percentUsed + "%";
  return m;
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
    const p = document.createElement("p");
    p.className = "spent";
    p.textContent = "$" + s.spent + " of $" + b.amountUsd + " this " + b.period.replace("ly", "").replace("dai", "day") +
      " (" + s.percentUsed + "%), forecast $" + s.forecast + (s.forecastExceedsAmount ? " — over the amount" : "");
    const t = document.createElement("p");
    t.className = "hint";
    t.textContent = "Alerts at " + b.thresholds.join("%, ") + "%" +
      (s.thresholdsCrossed.length ? "; crossed: " + s.thresholdsCrossed.join("%, ") + "%" : "");
    li.append(h, bar(s), p, t);
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
    const body = { name: f.name.value, amountUsd: f.amountUsd.value, period: f.period.value,
      thresholds: f.thresholds.value.split(",").map((v) => Number(v.trim())).filter((v) => v > 0) };
    if (f.provider.value) body.scope = { provider: f.provider.value };
    fieldErrors(form, "b-", []);
    try {
      await api("POST", "/api/v1/budgets", body);
      form.reset();
      await render();
    } catch (err) {
      if (err.details && err.details.length) fieldErrors(form, "b-", err.details);
      else showError(err);
    }
  });
  await render();
}

load().catch(showError);
