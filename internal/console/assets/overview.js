import { api, session, showError, addDecimals } from "./api.js";

// Money is shown exactly as the API gives it (a decimal string), never
// through a float.
function sum(groups, field) {
  return groups.reduce((n, g) => n + (g[field] || 0), 0);
}

function startOfDay(d) { return new Date(d.getFullYear(), d.getMonth(), d.getDate()); }
function startOfMonth(d) { return new Date(d.getFullYear(), d.getMonth(), 1); }

function summary(from, to, groupBy) {
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  if (groupBy) q.set("groupBy", groupBy);
  return api("GET", "/api/v1/costs/summary?" + q);
}

function set(id, text) {
  const el = document.getElementById(id);
  el.textContent = text;
  el.dataset.state = "ready";
}

async function load() {
  await session();
  const now = new Date();
  const [today, month] = await Promise.all([
    summary(startOfDay(now), now, "provider"),
    summary(startOfMonth(now), now, "provider"),
  ]);
  set("today", "$" + addDecimals(today.map((g) => g.cost)));
  set("month", "$" + addDecimals(month.map((g) => g.cost)));
  set("calls", String(sum(today, "calls")));
  const body = document.querySelector("#by-provider tbody");
  body.replaceChildren(...month.map((g) => {
    const tr = document.createElement("tr");
    for (const [v, num] of [[g.group, false], [g.cost, true], [String(g.calls), true], [String(g.errors || 0), true]]) {
      const td = document.createElement("td");
      td.textContent = v;
      if (num) td.className = "num";
      tr.append(td);
    }
    return tr;
  }));
  document.getElementById("empty").hidden = month.length > 0;
  live();
}

// live shows each call as it arrives, from the stream (the session's
// cookie authenticates it; EventSource reconnects by itself).
function live() {
  const list = document.getElementById("live");
  const src = new EventSource("/api/v1/stream?kinds=call");
  // Tells whoever watches (a person's assistive technology, a test) that
  // the ticker is live.
  src.addEventListener("open", () => { list.dataset.state = "open"; });
  src.addEventListener("error", () => { list.dataset.state = "reconnecting"; });
  src.addEventListener("call", (ev) => {
    const c = JSON.parse(ev.data);
    const li = document.createElement("li");
    const when = new Date(c.timestamp).toLocaleTimeString();
    li.textContent = when + " " + c.provider + (c.model ? " " + c.model : "") + " — " +
      (c.costUsd === null ? c.costStatus : "$" + c.costUsd);
    li.dataset.provider = c.provider;
    list.prepend(li);
    while (list.children.length > 20) list.lastElementChild.remove();
  });
}

load().catch(showError);
