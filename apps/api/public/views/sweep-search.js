// The searched part of a sweep page: summary (method, budget, best so far, epochs used vs a full
// run of every trial), the trials as a scatter of the metric against one parameter (stopped trials
// greyed), the ASHA rungs, and one row per trial with its stop reason. Also the rung lines drawn
// on the sweep's curves chart.
import { alpha } from '../charts.js';
import { esc, statusPill } from '../format.js';

const Chart = window.Chart;

function fmt(v, digits = 4) {
  if (v === null || v === undefined) return '–';
  if (typeof v !== 'number') return String(v);
  return Number.isInteger(v) ? String(v) : Math.abs(v) < 0.01 ? v.toExponential(2) : v.toFixed(digits);
}

function paramsLabel(params) {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${fmt(v, 3)}`)
    .join(' ');
}

export function stopLabel(r) {
  return r ? `stopped at epoch ${r.rung}: ${fmt(r.value)} vs cutoff ${fmt(r.cutoff)} (of ${r.compared})` : '';
}

/** Dashed vertical lines at the rung epochs, for a chart whose y axis spans [y0, y1]. */
export function rungLines(view, y0 = 0, y1 = 1) {
  const color = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#667085';
  return (view?.rungs ?? []).map((r) => ({
    label: `rung ${r.rung}`,
    data: [
      { x: r.rung, y: y0 },
      { x: r.rung, y: y1 },
    ],
    borderColor: alpha(color, 0.6),
    borderDash: [5, 4],
    borderWidth: 1.2,
    pointRadius: 0,
    hideLegend: true,
    rung: r,
  }));
}

/** The panel's HTML; fill it with {@link updateSearchPanel}. */
export function searchPanelHtml(view) {
  const params = Object.keys(view.spec.parameters);
  return `<section class="panel" data-testid="search-panel"><h2>Search</h2>
    <div id="search-summary"></div>
    <div class="grid2" style="margin-top:0.75rem">
      <div><div class="chart-head"><h3>${esc(view.spec.metric.name)} by trial</h3><label class="check">against <select id="search-param">${params.map((p) => `<option>${esc(p)}</option>`).join('')}</select></label></div>
        <div class="chart-box"><canvas id="c-search" data-testid="chart-search"></canvas></div></div>
      <div><h3>Rungs</h3><div class="table-wrap" id="search-rungs"></div></div>
    </div>
    <h3>Trials</h3><div class="table-wrap" id="search-trials"></div></section>`;
}

/** Creates the scatter chart; returns update(view). */
export function searchPanel(root, signal) {
  const select = root.querySelector('#search-param');
  const text = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim();
  const chart = new Chart(root.querySelector('#c-search'), {
    type: 'scatter',
    data: { datasets: [] },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: { x: { title: { display: true, color: text } }, y: { title: { display: true, color: text } } },
      plugins: { tooltip: { callbacks: { label: (ctx) => ctx.raw.label } }, legend: { labels: { usePointStyle: true, boxWidth: 7, boxHeight: 7 } } },
    },
  });
  signal.addEventListener('abort', () => chart.destroy());
  let last = null;
  const update = (view) => {
    last = view;
    const { spec } = view;
    const saved = view.gpuEpochs.full > 0 ? Math.round(100 * (1 - view.gpuEpochs.used / view.gpuEpochs.full)) : 0;
    const best = view.best;
    root.querySelector('#search-summary').innerHTML = `<div class="sub">${esc(spec.method)} search · ${view.trialsCreated}/${spec.budget.maxTrials} trials × ${spec.seeds.length} seed${spec.seeds.length === 1 ? '' : 's'} · ${spec.budget.maxConcurrent} at a time · ${esc(spec.metric.goal)} ${esc(spec.metric.name)} · ${esc(view.state)}</div>
      <div data-testid="search-best"><b>Best so far:</b> ${best ? `trial ${best.trial} (${esc(paramsLabel(best.params))}) ${esc(spec.metric.name)} ${fmt(best.value)}${best.epoch ? ` at epoch ${best.epoch}` : ''}${best.finished ? '' : ' <span class="muted">(still running)</span>'}` : '<span class="muted">none yet</span>'}</div>
      <div data-testid="search-epochs"><b>Epochs:</b> ${view.gpuEpochs.used} trained of ${view.gpuEpochs.full} for every trial to the end (${saved}% saved)</div>`;

    const param = select.value;
    const dist = spec.parameters[param];
    const categorical = Array.isArray(dist?.values);
    const colorOf = { succeeded: cssColor('--ok'), running: cssColor('--run'), queued: cssColor('--queued'), stopped: cssColor('--queued'), failed: cssColor('--bad'), cancelled: cssColor('--warn') };
    const byStatus = new Map();
    for (const t of view.trials) {
      if (t.value === null) continue;
      const raw = t.params[param];
      const x = categorical ? dist.values.indexOf(raw) : raw;
      const list = byStatus.get(t.status) ?? [];
      list.push({ x, y: t.value, label: `trial ${t.index}: ${paramsLabel(t.params)} → ${fmt(t.value)}${t.stopReason ? ` · ${stopLabel(t.stopReason)}` : ''}` });
      byStatus.set(t.status, list);
    }
    chart.data.datasets = [...byStatus.entries()].map(([status, data]) => ({
      label: status,
      data,
      pointRadius: status === 'stopped' ? 4 : 6,
      backgroundColor: alpha(colorOf[status] ?? '#888888', status === 'stopped' ? 0.35 : 0.85),
      borderColor: alpha(colorOf[status] ?? '#888888', 1),
    }));
    const x = chart.options.scales.x;
    x.type = dist?.distribution === 'log_uniform' ? 'logarithmic' : 'linear';
    x.title.text = param;
    x.ticks = categorical ? { stepSize: 1, callback: (v) => (Number.isInteger(v) ? String(dist.values[v] ?? '') : '') } : {};
    chart.options.scales.y.title.text = spec.metric.name;
    chart.update('none');

    root.querySelector('#search-rungs').innerHTML = spec.earlyStop
      ? `<table><thead><tr><th class="num">Epoch</th><th class="num">Judged</th><th class="num">Stopped</th><th class="num">Cutoff</th></tr></thead><tbody>${view.rungs
          .map((r) => `<tr data-testid="rung-row"><td class="num">${r.rung}</td><td class="num">${r.decided}</td><td class="num">${r.stopped}</td><td class="num">${fmt(r.cutoff)}</td></tr>`)
          .join('')}</tbody></table><div class="muted small">ASHA: minEpochs ${spec.earlyStop.minEpochs}, reduction factor ${spec.earlyStop.reductionFactor}, judged once ${spec.earlyStop.minRunsAtRung} trials reached a rung</div>`
      : '<div class="empty">No early stopping.</div>';

    const order = [...view.trials].sort((a, b) => (a.value === null) - (b.value === null) || (spec.metric.goal === 'maximize' ? (b.value ?? 0) - (a.value ?? 0) : (a.value ?? 0) - (b.value ?? 0)));
    root.querySelector('#search-trials').innerHTML = `<table data-testid="trials-table"><thead><tr><th class="num">Trial</th><th>Parameters</th><th>Status</th><th class="num">${esc(spec.metric.name)}</th><th>Epochs</th><th>Stopped</th></tr></thead><tbody>${order
      .map(
        (t) => `<tr data-testid="trial-row" data-status="${esc(t.status)}"${t.status === 'stopped' ? ' class="stopped-row"' : ''}${t.stopReason ? ` title="${esc(stopLabel(t.stopReason))}"` : ''}>
          <td class="num">${t.index}</td><td class="small mono">${esc(paramsLabel(t.params))}</td><td>${statusPill(t.status)}</td><td class="num">${fmt(t.value)}</td>
          <td class="small">${t.cells.map((c) => `${c.epochsDone}/${c.epochs}`).join(' ')}</td><td class="small muted">${esc(stopLabel(t.stopReason))}</td></tr>`,
      )
      .join('')}</tbody></table>`;
  };
  select.addEventListener('change', () => last && update(last));
  return update;
}

function cssColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888888';
}
