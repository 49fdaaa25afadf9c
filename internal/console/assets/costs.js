import { api, session, showError, ready, addDecimals, today, dayStart, when } from "./api.js";
import { lineChart, fromTimeseries } from "./chart.js";

// The query lives in the URL, so a view can be shared.
function params() {
  const q = new URLSearchParams(location.search);
  return { from: q.get("from") || today().slice(0, 8) + "01", to: q.get("to") || today(), groupBy: q.get("groupBy") || "provider", tag: q.get("tag") || "" };
}

// chart draws the range over time, a line per group (the 8 costliest).
async function chart(from, to, group) {
  const box = document.getElementById("chart");
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), limit: "8",
    step: to - from > 3 * 864e5 ? "1d" : "1h" });
  if (group !== "day") q.set("groupBy", group);
  try {
    const ts = await api("GET", "/api/v1/costs/timeseries?" + q);
    const daily = q.get("step") === "1d";
    lineChart(box, { title: "Spend over time by " + group, series: fromTimeseries(ts), from, to,
      formatTime: (d) => when(d, daily ? { month: "short", day: "numeric" } : { month: "short", day: "numeric", hour: "2-digit" }) });
  } catch (err) {
    // The table still answers; the chart says why it did not.
    box.textContent = "The chart could not be drawn: " + err.message;
    box.dataset.state = "error";
  }
}

function csvField(v) {
  const s = String(v);
  return /[",\n]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
}

async function load() {
  await session();
  const p = params();
  const form = document.getElementById("query");
  form.elements.from.value = p.from;
  form.elements.to.value = p.to;
  form.elements.groupBy.value = p.groupBy;
  form.elements.tag.value = p.tag;
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({ from: form.elements.from.value, to: form.elements.to.value,
      groupBy: form.elements.groupBy.value });
    if (form.elements.tag.value) q.set("tag", form.elements.tag.value);
    location.search = q.toString();
  });
  // Days in the person's time zone.
  const from = dayStart(p.from);
  const to = dayStart(p.to, 1);
  const group = p.tag ? "tag." + p.tag : p.groupBy;
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), groupBy: group });
  const [rows] = await Promise.all([api("GET", "/api/v1/costs/summary?" + q), chart(from, to, group)]);
  document.getElementById("group-h").textContent = group;
  document.getElementById("costs-caption").textContent = "Spend " + p.from + " to " + p.to + " by " + group;
  document.getElementById("total").textContent = "$" + addDecimals(rows.map((r) => r.cost));
  document.querySelector("#costs tbody").replaceChildren(...rows.map((r) => {
    const tr = document.createElement("tr");
    for (const [v, num] of [[r.group || "(none)", false], [r.cost, true], [r.calls, true], [r.errors, true], [r.unpriced, true], [r.tokens, true]]) {
      const td = document.createElement("td");
      td.textContent = String(v);
      if (num) td.className = "num";
      tr.append(td);
    }
    return tr;
  }));
  const csv = [[group, "cost_usd", "calls", "errors", "unpriced", "tokens"], ...rows.map((r) =>
    [r.group, r.cost, r.calls, r.errors, r.unpriced, r.tokens])].map((l) => l.map(csvField).join(",")).join("\n") + "\n";
  const link = document.getElementById("csv");
  link.href = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
  link.dataset.csv = csv;
  ready();
}

load().catch(showError);
