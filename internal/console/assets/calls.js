import { api, session, showError, when } from "./api.js";

const fields = ["provider", "model", "service", "customer", "status"];

function detail(c) {
  const dl = document.getElementById("detail-list");
  const rows = [
    ["When", when(c.timestamp)], ["Provider", c.provider], ["Model", c.model + (c.requestModel && c.requestModel !== c.model ? " (asked " + c.requestModel + ")" : "")],
    ["Operation", c.operation], ["Service", c.service + (c.environment ? " / " + c.environment : "")],
    ["Status", c.status + (c.httpStatus ? " (HTTP " + c.httpStatus + ")" : "") + (c.errorClass ? " " + c.errorClass : "")],
    ["Duration", c.durationMs + " ms"],
    ["Tokens", "input " + c.tokens.input + " (cached " + c.tokens.cachedInput + ", cache write " + c.tokens.cacheWriteInput + "), output " +
      c.tokens.output + " (reasoning " + c.tokens.reasoning + ")"],
    ["Cost", c.costUsd === null ? "unpriced: " + (c.unpricedReason || c.costStatus) : "$" + c.costUsd + " (" + c.costStatus + ")"],
    ["Priced by", (c.costReason || "") + (c.pricingVersion ? " — catalog " + c.pricingVersion : "")],
    ["Anomaly score", String(c.anomalyScore) + (c.anomaly ? " (anomalous)" : "")],
    ["Trace / span", c.traceId + " / " + c.spanId],
  ];
  dl.replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    return [dt, dd];
  }));
  const sec = document.getElementById("detail");
  sec.hidden = false;
  sec.querySelector("h2").focus();
}

async function load() {
  await session();
  const url = new URLSearchParams(location.search);
  const form = document.getElementById("filters");
  for (const f of fields) form.elements[f].value = url.get(f) || "";
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const f of fields) if (form.elements[f].value) q.set(f, form.elements[f].value);
    location.search = q.toString();
  });
  const now = new Date();
  const q = new URLSearchParams({ from: new Date(now - 7 * 864e5).toISOString(), to: new Date(+now + 6e4).toISOString(), limit: "100" });
  for (const f of fields) if (url.get(f)) q.set(f, url.get(f));
  const calls = await api("GET", "/api/v1/calls?" + q);
  document.querySelector("#calls tbody").replaceChildren(...calls.map((c, i) => {
    const tr = document.createElement("tr");
    for (const [v, num] of [[when(c.timestamp), false], [c.provider, false], [c.model, false], [c.service, false],
      [c.status, false], [c.costUsd === null ? c.costStatus : c.costUsd, true]]) {
      const td = document.createElement("td");
      td.textContent = v;
      if (num) td.className = "num";
      tr.append(td);
    }
    const td = document.createElement("td");
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = "Show";
    b.setAttribute("aria-label", "Show call " + (i + 1) + " (" + c.provider + ")");
    b.addEventListener("click", () => detail(c));
    td.append(b);
    tr.append(td);
    return tr;
  }));
  document.getElementById("no-calls").hidden = calls.length > 0;
}

load().catch(showError);
