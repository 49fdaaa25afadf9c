import { api, showError, fieldErrors, button } from "./api.js";

// The rules of the Alerts page: listed for everyone, created and edited by
// editors, with the API's refusals shown at the fields. Rules from the
// configuration file are read-only here, as the API says.

let editing = null;

function scopeText(s) {
  const parts = Object.entries(s || {}).filter(([, v]) => v && typeof v === "string").map(([k, v]) => k + "=" + v);
  if (s && s.tag) parts.push("tag." + s.tag.key + "=" + s.tag.value);
  return parts.join(", ") || "everything";
}

function fill(form, r) {
  const f = form.elements;
  f.name.value = r ? r.name : "";
  f.kind.value = r ? r.kind : "error_rate";
  f.provider.value = r && r.scope ? r.scope.provider || "" : "";
  f.model.value = r && r.scope ? r.scope.model || "" : "";
  f.threshold.value = r && r.threshold !== null ? r.threshold : "";
  f.window.value = r && r.window ? r.window : "";
  f.for.value = r ? r.for : "";
  f.minCalls.value = r && r.minCalls ? r.minCalls : "";
  f.severity.value = r ? r.severity : "warning";
  f.channels.value = r ? r.channels.join(", ") : "inapp";
  f.enabled.checked = r ? r.enabled : true;
  editing = r;
  document.getElementById("rule-form-h").textContent = r ? "Edit rule " + r.name : "New rule";
  document.getElementById("rule-save").textContent = r ? "Save rule" : "Create rule";
  document.getElementById("rule-cancel").hidden = !r;
  fieldErrors(form, "r-", []);
}

// body is what the form says; empty optional fields are left out so that
// the kind's defaults apply.
function body(form) {
  const f = form.elements;
  const b = { name: f.name.value, kind: f.kind.value, severity: f.severity.value, enabled: f.enabled.checked,
    channels: f.channels.value.split(",").map((c) => c.trim()).filter(Boolean) };
  const scope = {};
  if (f.provider.value) scope.provider = f.provider.value;
  if (f.model.value) scope.model = f.model.value;
  b.scope = scope;
  if (f.threshold.value) b.threshold = f.threshold.value;
  if (f.window.value) b.window = f.window.value;
  if (f.for.value) b.for = f.for.value;
  if (f.minCalls.value) b.minCalls = /^[0-9]+$/.test(f.minCalls.value) ? Number(f.minCalls.value) : f.minCalls.value;
  return b;
}

export async function renderRules(canEdit) {
  const rules = await api("GET", "/api/v1/alerts/rules?limit=200");
  const form = document.getElementById("rule-form");
  document.querySelector("#rules tbody").replaceChildren(...rules.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.rule = r.id;
    const cells = [r.name, r.kind, scopeText(r.scope), r.threshold === null ? "—" : r.threshold,
      (r.window || "—") + " / " + r.for, r.severity, r.channels.join(", "), r.enabled ? "yes" : "no"];
    for (const v of cells) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    }
    const act = document.createElement("td");
    if (canEdit && r.origin === "api") {
      const box = document.createElement("div");
      box.className = "row-actions";
      box.append(button("Edit", "Edit rule " + r.name, () => { fill(form, r); form.elements.name.focus(); }),
        button("Delete", "Delete rule " + r.name, async () => {
          if (!confirm("Delete rule " + r.name + "?")) return;
          try { await api("DELETE", "/api/v1/alerts/rules/" + r.id); await renderRules(canEdit); } catch (err) { showError(err); }
        }, "secondary"));
      act.append(box);
    } else if (r.origin === "config") {
      act.textContent = "from the configuration";
      act.className = "hint";
    }
    tr.append(act);
    return tr;
  }));
  document.getElementById("no-rules").hidden = rules.length > 0;
}

export function ruleEditor(canEdit) {
  document.getElementById("rule-editor").hidden = !canEdit;
  if (!canEdit) return;
  const form = document.getElementById("rule-form");
  document.getElementById("rule-cancel").addEventListener("click", () => fill(form, null));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    fieldErrors(form, "r-", []);
    try {
      if (editing) await api("PATCH", "/api/v1/alerts/rules/" + editing.id, body(form));
      else await api("POST", "/api/v1/alerts/rules", body(form));
      fill(form, null);
      await renderRules(canEdit);
    } catch (err) {
      if (err.details && err.details.length) fieldErrors(form, "r-", err.details);
      else showError(err);
    }
  });
}
