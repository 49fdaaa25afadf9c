import { api, session, showError, when } from "./api.js";
import { recentEvents, firingNow, eventCard } from "./events.js";
import { renderRules, ruleEditor } from "./alertrules.js";

let canAck = false;

function cell(tr, text) {
  const td = document.createElement("td");
  td.textContent = text;
  tr.append(td);
}

async function ack(e) {
  try { await api("POST", "/api/v1/alerts/events/" + e.id + "/ack"); await render(); } catch (err) { showError(err); }
}

async function render() {
  const events = await recentEvents(30);
  const firing = firingNow(events);
  document.getElementById("firing").replaceChildren(...firing.map((e) => eventCard(e, canAck ? ack : undefined)));
  document.getElementById("calm").hidden = firing.length > 0;
  document.querySelector("#history tbody").replaceChildren(...events.map((e) => {
    const tr = document.createElement("tr");
    cell(tr, when(e.at));
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
  ruleEditor(canAck);
  await Promise.all([render(), renderRules(canAck)]);
}

load().catch(showError);
