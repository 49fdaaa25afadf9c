import { api, session, showError } from "./api.js";

let canAck = false;

function cell(tr, text) {
  const td = document.createElement("td");
  td.textContent = text;
  tr.append(td);
}

async function render() {
  const now = new Date();
  const q = new URLSearchParams({ limit: "200", from: new Date(now - 30 * 864e5).toISOString(),
    to: new Date(+now + 36e5).toISOString() });
  const events = await api("GET", "/api/v1/alerts/events?" + q);
  // The latest event of each rule instance says whether it still fires.
  const latest = new Map();
  for (const e of events) {
    const k = e.ruleId + "\u0000" + e.instance;
    if (!latest.has(k) || latest.get(k).at < e.at) latest.set(k, e);
  }
  const firing = [...latest.values()].filter((e) => e.state === "firing");
  document.getElementById("firing").replaceChildren(...firing.map((e) => {
    const li = document.createElement("li");
    li.className = "card sev-" + e.severity;
    li.dataset.event = e.id;
    const h = document.createElement("h3");
    h.textContent = e.ruleName + (e.instance ? " — " + e.instance : "");
    const p = document.createElement("p");
    p.textContent = e.message + " (since " + new Date(e.startedAt).toLocaleString() + ")";
    li.append(h, p);
    if (e.ackedAt) {
      const a = document.createElement("p");
      a.className = "acked";
      a.textContent = "Acknowledged by " + e.ackedBy + " at " + new Date(e.ackedAt).toLocaleString();
      li.append(a);
    } else if (canAck) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = "Acknowledge";
      b.setAttribute("aria-label", "Acknowledge " + e.ruleName);
      b.addEventListener("click", async () => {
        try { await api("POST", "/api/v1/alerts/events/" + e.id + "/ack"); await render(); } catch (err) { showError(err); }
      });
      li.append(b);
    }
    return li;
  }));
  document.getElementById("calm").hidden = firing.length > 0;
  document.querySelector("#history tbody").replaceChildren(...events.map((e) => {
    const tr = document.createElement("tr");
    cell(tr, new Date(e.at).toLocaleString());
    cell(tr, e.ruleName);
    cell(tr, e.state);
    cell(tr, e.severity);
    cell(tr, e.message);
    cell(tr, e.ackedAt ? e.ackedBy : "");
    return tr;
  }));
}

async function load() {
  const s = await session();
  canAck = s.role === "editor" || s.role === "admin";
  await render();
}

load().catch(showError);
