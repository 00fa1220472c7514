// Metric charts drawn by uPlot (vendored in /static/vendor/, MIT): axes, a legend that shows the values under the
// cursor, drag to zoom (double-click resets), several runs overlaid. The server sends at most ~1000 points per series
// (it downsamples long runs keeping each bucket's min and max), so a chart stays fast whatever a run logged.
// `dashCharts` maps a chart's container id to { chart, meta } (what the page drew; the browser tests read it).
"use strict";

const PALETTE = ["#2779bd", "#e3342f", "#38c172", "#f6993f", "#9561e2", "#4dc0b5", "#f66d9b", "#8795a1",
                 "#1c3d5a", "#b8860b", "#6574cd", "#794acf"];
const dashCharts = new Map();
const chartResizer = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const found = dashCharts.get(entry.target.id);
    const width = Math.floor(entry.contentRect.width);
    if (found && width > 0 && Math.abs(found.chart.width - width) > 1) {
      found.chart.setSize({ width, height: found.chart.height });
    }
  }
});

function chartHeight() {
  return window.innerWidth < 640 ? 170 : 210;
}

// series: [{ label, x: [...], y: [...] }] (each x ascending); options: { xLabel, yLabel, points, onPick(xValue) }.
function drawChart(container, series, options) {
  const previous = dashCharts.get(container.id);
  if (previous) previous.chart.destroy();
  container.replaceChildren();
  const opts = options || {};
  const data = series.length === 1 ? [series[0].x, series[0].y] : uPlot.join(series.map((s) => [s.x, s.y]));
  const width = Math.max(200, Math.floor(container.clientWidth || container.parentElement.clientWidth || 300));
  const integerX = opts.integerX === true;
  const chart = new uPlot({
    width,
    height: chartHeight(),
    scales: { x: { time: false } },
    legend: { live: true },
    cursor: { drag: { x: true, y: false }, points: { size: 7 } },
    series: [
      { label: opts.xLabel || "step", value: (u, v) => (v == null ? "–" : fmtNum(v)) },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        width: 1.5,
        spanGaps: true,
        points: { show: opts.points === true || s.x.length < 2, size: 6, fill: PALETTE[i % PALETTE.length] },
        value: (u, v) => (v == null ? "–" : fmtNum(v)),
      })),
    ],
    axes: [
      { label: opts.xLabel || "step", size: 40, labelSize: 16,
        ...(integerX ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
                         values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : "")) } : {}) },
      { label: opts.yLabel || "", size: 56, labelSize: 16, values: (u, splits) => splits.map((v) => fmtNum(v)) },
    ],
  }, data, container);
  if (opts.onPick) {
    chart.over.style.cursor = "pointer";
    chart.over.addEventListener("click", () => {
      const idx = chart.cursor.idx;
      if (idx != null) opts.onPick(chart.data[0][idx]);
    });
  }
  const meta = { series: series.map((s) => ({ label: s.label, shown: s.x.length, count: s.count ?? s.x.length })) };
  dashCharts.set(container.id, { chart, meta });
  container.dataset.points = String(series.reduce((n, s) => n + s.x.length, 0));
  chartResizer.observe(container);
  return chart;
}

// A titled chart card: <figure> with a caption and the chart's container (drawn once the card is in the page).
function chartCard(id, title, note) {
  const holder = el("div", { id, class: "chart" });
  const figure = el("figure", { class: "chart-card", "data-chart": id },
    el("figcaption", {}, el("span", { class: "chart-title" }, title), el("span", { class: "muted small" }, note || "")),
    holder);
  return { figure, holder };
}
