// chart.js helpers: themed line charts over epochs, and mean ± std bands. chart.js is loaded as a
// classic script (window.Chart) from node_modules by the API; nothing here needs a build step.
const Chart = window.Chart;

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

/**
 * A line chart with epoch on x. options: yTitle, yFormat(v) for ticks/tooltips, yMin, yMax,
 * logY (log scale, e.g. learning rates).
 */
export function lineChart(canvas, options = {}) {
  const text = cssVar('--muted');
  const grid = cssVar('--grid');
  const format = options.yFormat ?? ((v) => v);
  const reduced = matchMedia('(prefers-reduced-motion: reduce)').matches;
  return new Chart(canvas, {
    type: 'line',
    data: { datasets: [] },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduced ? false : { duration: 250 },
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      elements: { line: { tension: 0.25, borderWidth: 2 }, point: { radius: 2.5, hoverRadius: 5 } },
      scales: {
        x: {
          type: 'linear',
          title: { display: true, text: 'epoch', color: text },
          ticks: { color: text, precision: 0, stepSize: 1 },
          grid: { color: grid },
          min: 1,
        },
        y: {
          type: options.logY ? 'logarithmic' : 'linear',
          title: { display: Boolean(options.yTitle), text: options.yTitle ?? '', color: text },
          // Log axes get a label per power of ten only; the minor ticks would overlap.
          ticks: { color: text, callback: (v) => (options.logY && Math.abs(Math.log10(v) - Math.round(Math.log10(v))) > 1e-9 ? '' : format(v)) },
          grid: { color: grid },
          ...(options.yMin !== undefined ? { suggestedMin: options.yMin } : {}),
          ...(options.yMax !== undefined ? { suggestedMax: options.yMax } : {}),
        },
      },
      plugins: {
        legend: {
          labels: { color: cssVar('--text'), usePointStyle: true, pointStyle: 'circle', boxWidth: 7, boxHeight: 7, padding: 14, filter: (item, data) => !data.datasets[item.datasetIndex].band && !data.datasets[item.datasetIndex].hideLegend },
        },
        tooltip: {
          filter: (item) => !item.dataset.band,
          callbacks: { label: (ctx) => `${ctx.dataset.label}: ${format(ctx.parsed.y)}` },
        },
      },
    },
  });
}

/** Keeps the x axis at least this long (e.g. the configured epochs of a running experiment). */
export function setMinEpochs(chart, epochs) {
  chart.$xMax = epochs;
}

/** Replaces a chart's datasets without re-animating everything (live updates). */
export function setDatasets(chart, datasets) {
  const maxEpoch = Math.max(1, chart.$xMax ?? 0, ...datasets.flatMap((d) => d.data.map((p) => p.x)));
  chart.options.scales.x.max = Math.max(2, maxEpoch);
  chart.data.datasets = datasets;
  chart.update(chart.$drawn ? 'none' : undefined);
  chart.$drawn = true;
}

export function points(xs, ys) {
  const out = [];
  for (let i = 0; i < xs.length; i++) if (ys[i] !== null && ys[i] !== undefined && Number.isFinite(ys[i])) out.push({ x: xs[i], y: ys[i] });
  return out;
}

/** A mean line with a shaded ± std band: three datasets (upper edge, lower edge filled to it, mean). */
export function meanWithBand(label, color, xs, mean, std, { min = -Infinity, max = Infinity } = {}) {
  const clamp = (v) => Math.min(max, Math.max(min, v));
  const upper = points(xs, mean.map((m, i) => clamp(m + (std[i] ?? 0))));
  const lower = points(xs, mean.map((m, i) => clamp(m - (std[i] ?? 0))));
  const edge = { borderWidth: 0, pointRadius: 0, pointHoverRadius: 0, band: true, label: `${label} band` };
  return [
    { ...edge, data: upper, fill: false, borderColor: 'transparent', backgroundColor: 'transparent' },
    { ...edge, data: lower, fill: '-1', borderColor: 'transparent', backgroundColor: alpha(color, 0.16) },
    { label, data: points(xs, mean), borderColor: color, backgroundColor: color, borderWidth: 2.5, pointRadius: 3 },
  ];
}

/** A thin line for one run (drawn under the means). */
export function runLine(label, color, xs, ys, { dashed = false } = {}) {
  return { label, data: points(xs, ys), borderColor: alpha(color, 0.45), backgroundColor: alpha(color, 0.45), borderWidth: 1.2, pointRadius: 0, borderDash: dashed ? [4, 3] : [], hideLegend: true, order: 10 };
}

export function series(label, color, xs, ys, extra = {}) {
  return { label, data: points(xs, ys), borderColor: color, backgroundColor: color, ...extra };
}
