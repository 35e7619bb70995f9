// A sweep: the ranked comparison (mean ± std of best val acc per group, Welch p-value vs the best),
// val-acc and train-loss curves per group (mean with a shaded ± std band over seeds, optionally
// every run underneath), and every run with a live progress bar while it trains.
import { api, followEvents } from '../api.js';
import { lineChart, meanWithBand, runLine, setDatasets, setMinEpochs } from '../charts.js';
import { ago, colorFor, countBar, countsText, duration, esc, gridLabel, pct, progressBar, progressLabel, pValue, runFraction, short, statusPill, strategyChip } from '../format.js';
import { rungLines, searchPanel, searchPanelHtml, stopLabel } from './sweep-search.js';

const MAX_RUN_CURVES = 60;
const MAX_STREAMS = 8;
const FINAL = ['succeeded', 'failed', 'cancelled', 'stopped'];

export async function render(root, [id], signal) {
  const sweep = await api(`/api/sweeps/${encodeURIComponent(id)}`, { signal });
  const varying = Object.entries(sweep.grid ?? {}).filter(([, v]) => Array.isArray(v) && v.length > 1).map(([k]) => k);
  // A searched sweep ranks its trials first, then groups by any categorical parameter.
  const searched = sweep.search ? ['trial', ...Object.entries(sweep.search.spec.parameters).filter(([, d]) => Array.isArray(d.values)).map(([k]) => k)] : [];
  const groupKeys = searched.length ? searched : varying.length ? varying : ['strategy'];
  let groupBy = groupKeys.includes('strategy') ? 'strategy' : groupKeys[0];

  root.innerHTML = `
    <div class="crumbs"><a href="/" data-link>Overview</a> / sweep</div>
    <div class="page-head">
      <div><h1>${esc(sweep.name ?? `Sweep ${short(sweep.id)}`)}</h1>
        <div class="sub"><span class="mono">${esc(sweep.id)}</span> · created ${esc(ago(sweep.createdAt))} · <span id="counts"></span></div></div>
      <div class="controls">
        <label class="check">group by <select id="groupby">${groupKeys.map((k) => `<option${k === groupBy ? ' selected' : ''}>${esc(k)}</option>`).join('')}</select></label>
        <button id="retry" hidden>Retry failed</button>
      </div>
    </div>
    <div id="countbar" style="margin-bottom:1.25rem"></div>
    ${sweep.search ? searchPanelHtml(sweep.search) : ''}
    <section class="panel"><h2>Ranking</h2><div class="table-wrap" id="ranking"></div><div id="note"></div></section>
    <div class="grid2" style="margin-bottom:1.25rem">
      <section class="panel"><div class="chart-head"><h2>Validation accuracy</h2><span class="legend-note">mean per group, band = ± std over runs</span></div><div class="chart-box"><canvas id="c-valacc" data-testid="chart-valacc"></canvas></div></section>
      <section class="panel"><div class="chart-head"><h2>Training loss</h2><span class="controls"><label class="check"><input type="checkbox" id="log-loss"> log scale</label><label class="check"><input type="checkbox" id="show-runs"> individual runs</label></span></div><div class="chart-box"><canvas id="c-loss" data-testid="chart-loss"></canvas></div></section>
    </div>
    <section class="panel"><h2>Runs</h2><div class="table-wrap" id="runs"></div></section>`;

  const accChart = lineChart(root.querySelector('#c-valacc'), { yTitle: 'val accuracy', yFormat: (v) => pct(v, 0) });
  const lossChart = lineChart(root.querySelector('#c-loss'), { yTitle: 'train loss', yFormat: (v) => Number(v).toFixed(2), yMin: 0 });
  // The x axis spans the configured epochs from the start, so curves grow into it while runs train.
  const gridEpochs = Array.isArray(sweep.grid?.epochs) ? sweep.grid.epochs : [];
  const plannedEpochs = Math.max(Number(sweep.base?.epochs) || 0, ...gridEpochs.map(Number).filter(Number.isFinite));
  setMinEpochs(accChart, plannedEpochs);
  setMinEpochs(lossChart, plannedEpochs);
  signal.addEventListener('abort', () => {
    accChart.destroy();
    lossChart.destroy();
  });

  const updateSearch = sweep.search ? searchPanel(root, signal) : null;
  const showRuns = root.querySelector('#show-runs');
  showRuns.checked = sweep.total <= 24;
  const details = new Map(); // run id -> detail (epochs), refreshed while not final
  const progress = new Map(); // run id -> latest batch progress from SSE
  const streams = new Map(); // run id -> AbortController
  let state = { sweep, compare: null };

  const renderRuns = () => {
    const s = state.sweep;
    const epochsOf = (r) => r.gridValues?.epochs ?? s.base?.epochs ?? 25;
    root.querySelector('#counts').textContent = countsText(s.counts);
    root.querySelector('#countbar').innerHTML = countBar(s.counts, s.total);
    root.querySelector('#retry').hidden = !(s.counts.failed + s.counts.cancelled > 0);
    const stops = new Map((s.search?.trials ?? []).flatMap((t) => t.cells.filter((c) => c.stopReason).map((c) => [c.id, c.stopReason])));
    root.querySelector('#runs').innerHTML = `<table><thead><tr><th>Run</th><th>Strategy</th><th>Grid</th><th>Status</th><th style="min-width:200px">Progress</th><th class="num">Best val acc</th><th class="num">Final</th><th class="num">Time</th></tr></thead><tbody>${s.runs
      .map((r) => {
        const p = progress.get(r.id);
        const total = epochsOf(r);
        const stop = stops.get(r.id);
        return `<tr class="clickable${r.status === 'stopped' ? ' stopped-row' : ''}" data-href="/experiments/${esc(r.id)}" data-testid="run-row" data-run="${esc(r.id)}"${stop ? ` title="${esc(stopLabel(stop))}"` : ''}>
          <td><a href="/experiments/${esc(r.id)}" data-link class="mono">${esc(short(r.id))}</a></td>
          <td>${strategyChip(r.strategy)}</td><td class="small">${esc(gridLabel(r.gridValues))}</td>
          <td>${statusPill(r.status)}${r.error ? `<div class="muted small" title="${esc(r.error)}">${esc(r.error.split('\n')[0].slice(0, 60))}</div>` : ''}${stop ? `<div class="muted small">${esc(stopLabel(stop))}</div>` : ''}</td>
          <td>${progressBar(runFraction(r.epochsDone, total, p, r.status), progressLabel(r.epochsDone, total, p, r.status), colorFor(r.strategy))}</td>
          <td class="num">${pct(r.bestValAcc)}${r.bestEpoch ? ` <span class="muted small">ep ${r.bestEpoch}</span>` : ''}</td>
          <td class="num">${pct(r.finalValAcc)}</td><td class="num">${duration(r.seconds)}</td></tr>`;
      })
      .join('')}</tbody></table>`;
  };

  const renderRanking = () => {
    const c = state.compare;
    if (!c) return;
    const top = Math.max(0.0001, ...c.groups.map((g) => g.meanBestValAcc ?? 0));
    const ranked = c.groups.some((g) => g.meanBestValAcc !== null);
    root.querySelector('#ranking').innerHTML = ranked
      ? `<table data-testid="compare-table"><thead><tr><th>#</th><th>${esc(c.groupBy)}</th><th class="num">Runs</th><th>Best val acc (mean ± std)</th><th>Best run</th><th class="num">s / epoch</th><th class="num">p vs best</th></tr></thead><tbody>${c.groups
          .map((g, i) => {
            const color = colorFor(String(g.value));
            const label = c.groupBy === 'strategy' ? strategyChip(String(g.value)) : `<span class="chip" style="--c:${color}"><i></i>${esc(g.value)}</span>`;
            const width = g.meanBestValAcc === null ? 0 : Math.max(4, (90 * g.meanBestValAcc) / top);
            const unranked = g.meanBestValAcc === null;
            return `<tr class="${i === 0 ? 'best' : ''}" data-testid="compare-row" data-group="${esc(g.value)}">
              <td class="rank">${unranked ? '–' : g.rank}</td><td>${label}</td>
              <td class="num">${g.n}${g.n !== g.runs.length ? `<span class="muted">/${g.runs.length}</span>` : ''}</td>
              <td style="white-space:nowrap"><span class="meanbar" style="--c:${color};width:${width}px"></span>${pct(g.meanBestValAcc)}${g.stdBestValAcc !== null ? ` <span class="muted">± ${pct(g.stdBestValAcc)}</span>` : ''}</td>
              <td>${g.bestRun ? `<a href="/experiments/${esc(g.bestRun.id)}" data-link>${pct(g.bestRun.bestValAcc)}</a> <span class="muted small">seed ${esc(g.bestRun.seed)} · ep ${esc(g.bestRun.bestEpoch ?? '–')}</span>` : '–'}</td>
              <td class="num">${duration(g.meanEpochSeconds)}</td>
              <td class="num">${unranked ? '–' : i === 0 ? '<span class="muted">best</span>' : `${pValue(g.pValue)}${g.pValue !== null && g.pValue < 0.05 ? ' <span class="muted small">*</span>' : ''}`}</td></tr>`;
          })
          .join('')}</tbody></table>`
      : `<div class="empty">The ranking appears as soon as runs finish.</div>`;
    root.querySelector('#note').innerHTML = c.note ? `<div class="note">${esc(c.note)}</div>` : '';
  };

  const renderCharts = () => {
    const c = state.compare;
    if (!c) return;
    const acc = [];
    const loss = [];
    if (showRuns.checked) {
      for (const g of c.groups) {
        const color = colorFor(String(g.value));
        for (const r of g.runs) {
          const d = details.get(r.id);
          if (!d?.epochs?.length) continue;
          const xs = d.epochs.map((e) => e.epoch);
          const name = `${g.value} · ${short(r.id)}`;
          acc.push(runLine(name, color, xs, d.epochs.map((e) => e.valAcc)));
          loss.push(runLine(name, color, xs, d.epochs.map((e) => e.trainLoss)));
        }
      }
    }
    for (const g of c.groups) {
      const color = colorFor(String(g.value));
      const cv = g.curves;
      if (!cv?.epochs?.length) continue;
      acc.push(...meanWithBand(String(g.value), color, cv.epochs, cv.valAccMean, cv.valAccStd, { min: 0, max: 1 }));
      loss.push(...meanWithBand(String(g.value), color, cv.epochs, cv.trainLossMean, cv.trainLossStd, { min: 0 }));
    }
    // ASHA's rungs: where runs were judged (and the greyed stopped ones end).
    acc.push(...rungLines(state.sweep.search, 0, 1));
    setDatasets(accChart, acc);
    setDatasets(lossChart, loss);
  };

  const loadDetails = async () => {
    if (!showRuns.checked) return;
    const wanted = state.sweep.runs.filter((r) => r.epochsDone > 0).slice(0, MAX_RUN_CURVES);
    await Promise.all(
      wanted
        .filter((r) => {
          const d = details.get(r.id);
          return !d || d.epochs.length < r.epochsDone || !FINAL.includes(d.status);
        })
        .map(async (r) => details.set(r.id, await api(`/api/experiments/${encodeURIComponent(r.id)}`, { signal }))),
    );
  };

  const syncStreams = () => {
    const running = new Set(state.sweep.runs.filter((r) => r.status === 'running').slice(0, MAX_STREAMS).map((r) => r.id));
    for (const [runId, ctl] of streams) {
      if (!running.has(runId)) {
        ctl.abort();
        streams.delete(runId);
        progress.delete(runId);
      }
    }
    for (const runId of running) {
      if (streams.has(runId)) continue;
      const ctl = new AbortController();
      streams.set(runId, ctl);
      signal.addEventListener('abort', () => ctl.abort(), { once: true });
      void followEvents(
        runId,
        (type, payload) => {
          if (type === 'progress') progress.set(runId, payload);
          if (type === 'epoch') {
            const run = state.sweep.runs.find((r) => r.id === runId);
            if (run) run.epochsDone = Math.max(run.epochsDone, payload.metrics.epoch);
          }
          if (type === 'progress' || type === 'epoch') renderRunRow(runId);
        },
        ctl.signal,
      );
    }
  };

  // Only the progress cell changes on a batch event: patch it rather than redraw the table.
  const renderRunRow = (runId) => {
    const row = root.querySelector(`tr[data-run="${CSS.escape(runId)}"]`);
    const r = state.sweep.runs.find((x) => x.id === runId);
    if (!row || !r) return;
    const total = r.gridValues?.epochs ?? state.sweep.base?.epochs ?? 25;
    const p = progress.get(runId);
    row.children[4].innerHTML = progressBar(runFraction(r.epochsDone, total, p, r.status), progressLabel(r.epochsDone, total, p, r.status), colorFor(r.strategy));
  };

  const refresh = async () => {
    const [s, c] = await Promise.all([api(`/api/sweeps/${encodeURIComponent(id)}`, { signal }), api(`/api/sweeps/${encodeURIComponent(id)}/compare?groupBy=${encodeURIComponent(groupBy)}`, { signal })]);
    if (signal.aborted) return;
    state = { sweep: s, compare: c };
    await loadDetails();
    if (signal.aborted) return;
    renderRuns();
    renderRanking();
    renderCharts();
    if (updateSearch && s.search) updateSearch(s.search);
    syncStreams();
  };

  root.querySelector('#groupby').addEventListener('change', (e) => {
    groupBy = e.target.value;
    void refresh();
  });
  showRuns.addEventListener('change', () => void loadDetails().then(renderCharts));
  // One strategy far off (e.g. a diverging run) flattens the others on a linear axis.
  root.querySelector('#log-loss').addEventListener('change', (e) => {
    lossChart.options.scales.y.type = e.target.checked ? 'logarithmic' : 'linear';
    lossChart.update();
  });
  root.querySelector('#retry').addEventListener('click', async () => {
    await api(`/api/sweeps/${encodeURIComponent(id)}/retry`, { method: 'POST', signal });
    await refresh();
  });

  state.sweep = sweep;
  renderRuns();
  await refresh();
  // Poll quickly while something is still going on, slowly once everything is final.
  const tick = async () => {
    if (signal.aborted) return;
    const busy = state.sweep.counts.queued + state.sweep.counts.running > 0 || state.sweep.search?.state === 'running';
    try {
      await refresh();
    } catch {
      // transient: the connection dot shows it; try again next tick
    }
    if (!signal.aborted) timer = setTimeout(() => void tick(), busy ? 2000 : 10000);
  };
  let timer = setTimeout(() => void tick(), 2000);
  signal.addEventListener('abort', () => clearTimeout(timer));
}
