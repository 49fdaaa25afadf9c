// A small SVG line chart: enough for spend over time by a dimension,
// without a charting library to pin, check and carry. Geometry may use
// floats; every figure a person reads is the API's exact string.

const NS = "http://www.w3.org/2000/svg";
// Okabe–Ito: told apart with the common colour-vision deficiencies.
const COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"];
const W = 800, H = 240, PAD = { l: 64, r: 12, t: 12, b: 28 };

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// niceMax rounds up to 1, 2 or 5 times a power of ten, so the axis reads well.
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

// lineChart draws series ([{name, points: [{t: Date, v: number}]}]) into
// container, with a title for assistive technology and a legend; the
// page shows the exact figures in a table beside it.
export function lineChart(container, { title, series, from, to, unit = "$", dayTicks = true, formatTime }) {
  const t0 = +from, t1 = +to;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.v))));
  const x = (t) => PAD.l + ((+t - t0) / Math.max(1, t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart", "aria-labelledby": container.id + "-title" });
  svg.append(el("title", { id: container.id + "-title" }, title));
  for (const f of [0, 0.5, 1]) {
    const v = max * f;
    svg.append(el("line", { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v), stroke: "#d0d5dd", "stroke-width": 1 }));
    svg.append(el("text", { x: PAD.l - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, unit + (+v.toPrecision(3))));
  }
  const fmt = formatTime || ((d) => d.toLocaleDateString(undefined, dayTicks ? { month: "short", day: "numeric" } : { hour: "2-digit" }));
  svg.append(el("text", { x: PAD.l, y: H - 8, class: "tick" }, fmt(new Date(t0))));
  svg.append(el("text", { x: W - PAD.r, y: H - 8, "text-anchor": "end", class: "tick" }, fmt(new Date(t1))));
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const pts = s.points.map((p) => x(p.t).toFixed(1) + "," + y(p.v).toFixed(1)).join(" ");
    if (s.points.length === 1) {
      svg.append(el("circle", { cx: x(s.points[0].t), cy: y(s.points[0].v), r: 3, fill: colour }));
    } else {
      svg.append(el("polyline", { points: pts, fill: "none", stroke: colour, "stroke-width": 2, "data-series": s.name }));
    }
  });
  const legend = document.createElement("ul");
  legend.className = "legend";
  series.forEach((s, i) => {
    const li = document.createElement("li");
    const sw = el("svg", { width: 12, height: 12, "aria-hidden": "true" });
    sw.append(el("rect", { width: 12, height: 12, fill: COLOURS[i % COLOURS.length] }));
    li.append(sw, document.createTextNode(" " + (s.name || "(none)")));
    legend.append(li);
  });
  container.replaceChildren(svg, legend);
  container.dataset.state = "ready";
}

// fromTimeseries turns the API's series into the chart's, cost per bucket.
export function fromTimeseries(ts) {
  return ts.series.map((s) => ({ name: s.group, points: s.points.map((p) => ({ t: new Date(p.ts), v: Number(p.cost) })) }));
}
