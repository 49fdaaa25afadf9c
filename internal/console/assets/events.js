import { api, when } from "./api.js";

// recentEvents are the alert events of the last days, newest first.
export function recentEvents(days) {
  const now = new Date();
  const q = new URLSearchParams({ limit: "200", from: new Date(now - days * 864e5).toISOString(),
    to: new Date(+now + 36e5).toISOString() });
  return api("GET", "/api/v1/alerts/events?" + q);
}

// firingNow keeps the rule instances whose latest event fires.
export function firingNow(events) {
  const latest = new Map();
  for (const e of events) {
    const k = e.ruleId + "\u0000" + e.instance;
    if (!latest.has(k) || latest.get(k).at < e.at) latest.set(k, e);
  }
  return [...latest.values()].filter((e) => e.state === "firing");
}

// eventCard shows a firing event; onAck, when the person may acknowledge,
// is called by its button.
export function eventCard(e, onAck) {
  const li = document.createElement("li");
  li.className = "card sev-" + e.severity;
  li.dataset.event = e.id;
  const h = document.createElement("h3");
  h.textContent = e.ruleName + (e.instance ? " — " + e.instance : "");
  const p = document.createElement("p");
  p.textContent = e.message + " (since " + when(e.startedAt) + ")";
  li.append(h, p);
  if (e.ackedAt) {
    const a = document.createElement("p");
    a.className = "acked";
    a.textContent = "Acknowledged by " + e.ackedBy + " at " + when(e.ackedAt);
    li.append(a);
  } else if (onAck) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = "Acknowledge";
    b.setAttribute("aria-label", "Acknowledge " + e.ruleName);
    b.addEventListener("click", () => onAck(e));
    li.append(b);
  }
  return li;
}
