// How a budget's status reads, on the Budgets page and the Overview.

// budgetMeter shows what is spent of the amount.
export function budgetMeter(status) {
  const m = document.createElement("meter");
  m.min = 0; m.max = 100; m.low = 80; m.high = 100; m.optimum = 0;
  m.value = Math.min(status.percentUsed, 100);
  m.textContent = status.percentUsed + "%";
  return m;
}

// budgetLine says it in words, with the forecast, money exactly as given.
export function budgetLine(b, s) {
  const p = document.createElement("p");
  p.className = "spent";
  p.textContent = "$" + s.spent + " of $" + b.amountUsd + " this " + b.period.replace("ly", "").replace("dai", "day") +
    " (" + s.percentUsed + "%), forecast $" + s.forecast + (s.forecastExceedsAmount ? " — over the amount" : "");
  return p;
}

// scopeDims are a scope's dimensions in the order a person reads them:
// who spends first, then where the calls go.
export const scopeDims = ["customer", "user", "team", "feature", "provider", "model", "service", "environment"];

// scopeWords says which calls a budget counts: "customer acme, provider
// openai", or "everything".
export function scopeWords(scope) {
  const s = scope || {};
  const parts = scopeDims.filter((d) => s[d]).map((d) => d + " " + s[d]);
  if (s.tag) parts.push("tag " + s.tag.key + "=" + s.tag.value);
  return parts.join(", ") || "everything";
}
