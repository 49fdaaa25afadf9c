import { api, session, showError, addDecimals, when } from "./api.js";

// evidence shows what a recommendation rests on, as the API gives it:
// the keys differ per kind, so they are listed rather than laid out.
function evidence(ev) {
  const dl = document.createElement("dl");
  dl.className = "evidence";
  for (const [k, v] of Object.entries(ev || {})) {
    const dt = document.createElement("dt");
    dt.textContent = k.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
    const dd = document.createElement("dd");
    dd.textContent = typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
    dl.append(dt, dd);
  }
  return dl;
}

async function recommendations() {
  const r = await api("GET", "/api/v1/insights/recommendations?limit=50");
  document.getElementById("recs-window").textContent = "From the calls of " + when(r.from, { dateStyle: "medium" }) + " to " +
    when(r.to, { dateStyle: "medium" }) + ", priced with catalog " + r.catalogVersion + ".";
  const total = document.getElementById("savings");
  total.textContent = "About $" + addDecimals(r.recommendations.map((x) => x.monthlySavingUsd)) + " a month to save";
  total.dataset.state = "ready";
  document.getElementById("recs").replaceChildren(...r.recommendations.map((x) => {
    const li = document.createElement("li");
    li.className = "card";
    li.dataset.kind = x.kind;
    const h = document.createElement("h3");
    h.textContent = x.title;
    const save = document.createElement("p");
    save.className = "saving";
    save.textContent = "$" + x.monthlySavingUsd + " a month ($" + x.windowSavingUsd + " over the window) · confidence " + x.confidence;
    const act = document.createElement("p");
    act.textContent = x.action;
    const note = document.createElement("p");
    note.className = "hint";
    note.textContent = x.confidenceNote;
    const more = document.createElement("details");
    const sum = document.createElement("summary");
    sum.textContent = "Evidence";
    more.append(sum, evidence(x.evidence));
    li.append(h, save, act, note, more);
    return li;
  }));
  document.getElementById("no-recs").hidden = r.recommendations.length > 0;
}

// change reads a trend metric: the relative change, "new" without a
// baseline, or nothing where it is undefined.
function change(m) {
  if (m.new) return "new";
  if (m.change === null) return "—";
  return (m.change.startsWith("-") ? "" : "+") + m.change + "%";
}

async function trends(period, sort) {
  const t = await api("GET", "/api/v1/insights/trends?" + new URLSearchParams({ period, sort, limit: "100" }));
  document.getElementById("trends-caption").textContent = when(t.current.from, { dateStyle: "medium" }) + " – " +
    when(t.current.to, { dateStyle: "medium" }) + " against " + when(t.previous.from, { dateStyle: "medium" }) + " – " +
    when(t.previous.to, { dateStyle: "medium" });
  document.querySelector("#trends tbody").replaceChildren(...t.rows.map((r) => {
    const tr = document.createElement("tr");
    const cells = [[r.provider], [r.model || "—"], [r.spendUsd.current ?? "0", true], [change(r.spendUsd), true],
      [(r.calls.current ?? "0") + " (" + change(r.calls) + ")", true],
      [r.errorRatePct.current === null ? "—" : r.errorRatePct.current + "%", true],
      [r.p95LatencyMs.current === null ? "—" : r.p95LatencyMs.current, true]];
    for (const [v, num] of cells) {
      const td = document.createElement("td");
      td.textContent = v;
      if (num) td.className = "num";
      tr.append(td);
    }
    return tr;
  }));
  document.getElementById("no-trends").hidden = t.rows.length > 0;
}

async function load() {
  await session();
  const q = new URLSearchParams(location.search);
  const form = document.getElementById("trend-query");
  form.elements.period.value = q.get("period") === "day" ? "day" : "week";
  form.elements.sort.value = ["calls", "errorRate", "p95"].includes(q.get("sort")) ? q.get("sort") : "spend";
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.search = new URLSearchParams({ period: form.elements.period.value, sort: form.elements.sort.value }).toString();
  });
  await Promise.all([recommendations().catch(showError), trends(form.elements.period.value, form.elements.sort.value).catch(showError)]);
}

load().catch(showError);
