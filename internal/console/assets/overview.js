import { api, session, showError, ready, addDecimals, monthStart, today, dayStart, when, streamURL } from "./api.js";
import { recentEvents, firingNow, eventCard } from "./events.js";
import { budgetMeter, budgetLine } from "./budgetview.js";
import { lineChart, fromTimeseries } from "./chart.js";

// Each part loads on its own: one that fails says so where it is, and
// the others still show.
async function part(id, fn) {
  try {
    await fn();
  } catch (err) {
    const box = document.getElementById(id);
    const p = box && box.querySelector(".error");
    if (p) { p.textContent = err.message; p.hidden = false; } else showError(err);
  }
}

function set(id, text) {
  const el = document.getElementById(id);
  el.textContent = text;
  el.dataset.state = "ready";
}

function range(from, to, extra) {
  return new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), ...(extra || {}) });
}

function td(tr, text, num) {
  const c = document.createElement("td");
  c.textContent = text;
  if (num) c.className = "num";
  tr.append(c);
}

async function spend(now) {
  const [day, month, stats] = await Promise.all([
    api("GET", "/api/v1/costs/summary?" + range(dayStart(today(now)), now, { groupBy: "provider" })),
    api("GET", "/api/v1/costs/summary?" + range(monthStart(now), now, { groupBy: "provider" })),
    api("GET", "/api/v1/calls/stats?" + range(new Date(now - 864e5), now, { groupBy: "provider" })),
  ]);
  set("today", "$" + addDecimals(day.map((g) => g.cost)));
  set("month", "$" + addDecimals(month.map((g) => g.cost)));
  set("calls", String(day.reduce((n, g) => n + g.calls, 0)));
  const health = new Map(stats.groups.map((g) => [g.group, g]));
  const names = [...new Set([...month.map((g) => g.group), ...health.keys()])];
  const cost = new Map(month.map((g) => [g.group, g]));
  document.querySelector("#by-provider tbody").replaceChildren(...names.map((name) => {
    const tr = document.createElement("tr");
    const m = cost.get(name), h = health.get(name);
    td(tr, name);
    td(tr, m ? m.cost : "0", true);
    td(tr, m ? String(m.calls) : "0", true);
    td(tr, h ? (h.errorRate * 100).toFixed(1) + "%" : "—", true);
    td(tr, h && h.latencyMs.p95 !== null ? Math.round(h.latencyMs.p95) + " ms" : "—", true);
    tr.dataset.provider = name;
    return tr;
  }));
  document.getElementById("empty").hidden = names.length > 0;
}

async function forecast() {
  const f = await api("GET", "/api/v1/costs/forecast");
  set("forecast", "$" + f.projectedTotal);
  document.getElementById("forecast-how").textContent = f.complete ? "the month is over" :
    "$" + f.monthToDate + " so far + $" + f.projectedRemaining + " projected (" + f.method + ")";
}

async function budgets() {
  const list = await api("GET", "/api/v1/budgets?limit=5");
  const statuses = await Promise.all(list.map((b) => api("GET", "/api/v1/budgets/" + b.id + "/status")));
  document.getElementById("budgets").replaceChildren(...list.map((b, i) => {
    const li = document.createElement("li");
    const h = document.createElement("h3");
    h.textContent = b.name;
    li.append(h, budgetMeter(statuses[i]), budgetLine(b, statuses[i]));
    return li;
  }));
  document.getElementById("no-budgets").hidden = list.length > 0;
}

async function alerts() {
  const firing = firingNow(await recentEvents(7));
  document.getElementById("firing").replaceChildren(...firing.slice(0, 5).map((e) => eventCard(e)));
  document.getElementById("calm").hidden = firing.length > 0;
}

async function trend(now) {
  const from = dayStart(today(now), -29);
  const ts = await api("GET", "/api/v1/costs/timeseries?" + range(from, now, { groupBy: "provider", step: "1d", limit: "8" }));
  lineChart(document.getElementById("trend"), { title: "Spend per day by provider, last 30 days", series: fromTimeseries(ts),
    from, to: now, formatTime: (d) => when(d, { month: "short", day: "numeric" }) });
}

async function recommendations() {
  const r = await api("GET", "/api/v1/insights/recommendations?limit=3");
  document.getElementById("recs").replaceChildren(...r.recommendations.map((x) => {
    const li = document.createElement("li");
    li.className = "card";
    const h = document.createElement("h3");
    h.textContent = x.title;
    const p = document.createElement("p");
    p.textContent = "Save about $" + x.monthlySavingUsd + " a month: " + x.action;
    li.append(h, p);
    return li;
  }));
  document.getElementById("no-recs").hidden = r.recommendations.length > 0;
}

// live shows each call as it arrives, from the stream (the session's
// cookie authenticates it; EventSource reconnects by itself).
function live() {
  const list = document.getElementById("live");
  const src = new EventSource(streamURL({ kinds: "call" }));
  // Tells whoever watches (a person's assistive technology, a test) that
  // the ticker is live.
  src.addEventListener("open", () => { list.dataset.state = "open"; });
  src.addEventListener("error", () => { list.dataset.state = "reconnecting"; });
  src.addEventListener("call", (ev) => {
    const c = JSON.parse(ev.data);
    const li = document.createElement("li");
    li.textContent = when(c.timestamp, { hour: "2-digit", minute: "2-digit", second: "2-digit" }) + " " + c.provider +
      (c.model ? " " + c.model : "") + " — " + (c.costUsd === null ? c.costStatus : "$" + c.costUsd);
    li.dataset.provider = c.provider;
    list.prepend(li);
    while (list.children.length > 20) list.lastElementChild.remove();
  });
}

async function load() {
  await session();
  live();
  const now = new Date();
  await Promise.all([
    part("by-provider-s", () => spend(now)),
    part("by-provider-s", forecast),
    part("budgets-s", budgets),
    part("firing-s", alerts),
    part("trend-s", () => trend(now)),
    part("recs-s", recommendations),
  ]);
  ready();
}

load().catch(showError);
