import { api, session, showError, addDecimals } from "./api.js";

// The query lives in the URL, so a view can be shared.
function params() {
  const q = new URLSearchParams(location.search);
  const today = new Date();
  const first = new Date(today.getFullYear(), today.getMonth(), 1);
  const iso = (d) => d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  return { from: q.get("from") || iso(first), to: q.get("to") || iso(today), groupBy: q.get("groupBy") || "provider", tag: q.get("tag") || "" };
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
  // Days in the person's time zone, as the browser keeps it.
  const from = new Date(p.from + "T00:00:00");
  const to = new Date(p.to + "T00:00:00");
  to.setDate(to.getDate() + 1);
  const group = p.tag ? "tag." + p.tag : p.groupBy;
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), groupBy: group });
  const rows = await api("GET", "/api/v1/costs/summary?" + q);
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
}

load().catch(showError);
