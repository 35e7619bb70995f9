// One experiment: status, configuration, where it ran, a live progress bar (SSE batch progress),
// and its curves: accuracy, loss, backbone drift (how far the pretrained weights moved) and the
// learning rate of each parameter group.
import { api, followEvents } from '../api.js';
import { lineChart, series, setDatasets, setMinEpochs } from '../charts.js';
import { renderPredictions } from './predictions.js';
import { ago, colorFor, duration, esc, gridLabel, num, pct, progressBar, progressLabel, runFraction, short, statusPill, strategyChip } from '../format.js';

const FINAL = ['succeeded', 'failed', 'cancelled'];
const C = { train: '#f28e2b', val: '#4e79a7', drift: '#e15759', bn: '#76b7b2', lr0: '#59a14f', lr1: '#b07aa1' };

export async function render(root, [id], signal) {
  let exp = await api(`/api/experiments/${encodeURIComponent(id)}`, { signal });
  let progress = null;

  root.innerHTML = `
    <div class="crumbs"><a href="/" data-link>Overview</a>${exp.sweepId ? ` / <a href="/sweeps/${esc(exp.sweepId)}" data-link>sweep</a>` : ''} / experiment</div>
    <div class="page-head">
      <div><h1 id="title"></h1><div class="sub" id="subtitle"></div></div>
      <div class="controls"><button id="cancel" class="danger" hidden>Cancel</button></div>
    </div>
    <section class="panel" id="live"></section>
    <div class="stats" id="stats"></div>
    <div class="grid2" style="margin-bottom:1.25rem">
      <section class="panel"><h2>Accuracy</h2><div class="chart-box short"><canvas id="c-acc" data-testid="chart-acc"></canvas></div></section>
      <section class="panel"><h2>Loss</h2><div class="chart-box short"><canvas id="c-loss" data-testid="chart-loss"></canvas></div></section>
      <section class="panel"><div class="chart-head"><h2>Backbone drift</h2><span class="legend-note">‖w − w₀‖ / ‖w₀‖ since the start</span></div><div class="chart-box short"><canvas id="c-drift" data-testid="chart-drift"></canvas></div></section>
      <section class="panel"><h2>Learning rate</h2><div class="chart-box short"><canvas id="c-lr" data-testid="chart-lr"></canvas></div></section>
    </div>
    <section class="panel" id="predictions" data-testid="predictions" hidden style="margin-bottom:1.25rem"></section>
    <div class="grid2" style="margin-bottom:1.25rem">
      <section class="panel"><h2>Configuration</h2><dl class="kv" id="config"></dl></section>
      <section class="panel"><h2>Execution</h2><dl class="kv" id="exec"></dl></section>
    </div>
    <section class="panel"><h2>Epochs</h2><div class="table-wrap" id="epochs"></div></section>`;

  const charts = {
    acc: lineChart(root.querySelector('#c-acc'), { yFormat: (v) => pct(v, 0), yMin: 0, yMax: 1 }),
    loss: lineChart(root.querySelector('#c-loss'), { yFormat: (v) => Number(v).toFixed(2), yMin: 0 }),
    drift: lineChart(root.querySelector('#c-drift'), { yFormat: (v) => Number(v).toPrecision(2), yMin: 0 }),
    lr: lineChart(root.querySelector('#c-lr'), { yFormat: (v) => Number(v).toExponential(0), logY: true }),
  };
  signal.addEventListener('abort', () => Object.values(charts).forEach((c) => c.destroy()));
  for (const c of Object.values(charts)) setMinEpochs(c, exp.config.epochs);

  const renderLive = () => {
    const total = exp.config.epochs;
    const color = colorFor(exp.strategy);
    const live = root.querySelector('#live');
    if (exp.status === 'running' || exp.status === 'queued') {
      live.hidden = false;
      live.innerHTML = `<div class="chart-head"><h2>${exp.status === 'queued' ? 'Waiting for a worker' : 'Training'}</h2><span class="muted small">${exp.workerId ? `on ${esc(exp.workerId)}` : ''}</span></div>
        <div data-testid="live-progress">${progressBar(runFraction(exp.epochsDone, total, progress, exp.status), progressLabel(exp.epochsDone, total, progress, exp.status), color)}</div>`;
    } else if (exp.status === 'failed' && exp.error) {
      live.hidden = false;
      live.innerHTML = `<h2>Failed</h2><div class="error-box">${esc(exp.error)}</div>`;
    } else {
      live.hidden = true;
    }
  };

  const renderAll = () => {
    const c = exp.config;
    root.querySelector('#title').innerHTML = `${strategyChip(exp.strategy)} <span style="margin:0 .4rem">${esc(exp.name && !exp.sweepId ? exp.name : `on ${exp.dataset}`)}</span> ${statusPill(exp.status)}`;
    root.querySelector('#subtitle').innerHTML = `<span class="mono">${esc(exp.id)}</span> · created ${esc(ago(exp.createdAt))}${exp.gridValues ? ` · ${esc(gridLabel(exp.gridValues, []))}` : ''}`;
    root.querySelector('#cancel').hidden = FINAL.includes(exp.status);
    const last = exp.epochs.at(-1);
    root.querySelector('#stats').innerHTML = [
      ['Best val acc', pct(exp.bestValAcc), exp.bestEpoch ? `epoch ${exp.bestEpoch}` : ''],
      ['Final val acc', pct(exp.finalValAcc), ''],
      ['Epochs', `${exp.epochsDone}/${c.epochs}`, ''],
      ['Time', duration(exp.seconds), last ? `${num(last.imagesPerSec, 1)} img/s` : ''],
      ['Trainable params', last ? Number(last.trainableParams).toLocaleString() : '–', ''],
    ]
      .map(([k, v, sub]) => `<div class="stat"><div class="k">${k}</div><div class="v">${v}</div>${sub ? `<div class="muted small">${esc(sub)}</div>` : ''}</div>`)
      .join('');
    // A chained run links to the run it started from (gone once that run was deleted).
    const parent = exp.parent
      ? exp.parent.experimentId
        ? `<a href="/experiments/${esc(exp.parent.experimentId)}" data-link class="mono" data-testid="parent-link">${esc(short(exp.parent.experimentId))}</a> (${esc(exp.parent.epoch)} model)`
        : `a deleted run (${esc(exp.parent.epoch)} model)`
      : undefined;
    root.querySelector('#config').innerHTML = [
      ['dataset', c.dataset],
      parent ? ['weights from run', parent] : ['weights', c.weights ?? '– (random init)'],
      ['epochs', c.epochs],
      ['batch size', c.batchSize],
      ['lr', c.lr],
      ['lr factor (group-lr)', c.lrFactor],
      ['momentum', c.momentum],
      ['weight decay', c.weightDecay],
      ['StepLR', `step ${c.stepSize}, gamma ${c.gamma}`],
      ['image size', `${c.imageSize} px`],
      ['seed', c.seed],
      ['priority', exp.priority],
    ]
      .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${k === 'weights from run' ? v : esc(v)}</dd>`)
      .join('');
    root.querySelector('#exec').innerHTML = [
      ['worker', exp.workerId ?? '–'],
      ['backend', exp.backend ?? '–'],
      ['device', exp.backendInfo ?? '–'],
      ['attempts', exp.attempts],
      ['started', exp.startedAt ? new Date(exp.startedAt).toLocaleString() : '–'],
      ['finished', exp.finishedAt ? new Date(exp.finishedAt).toLocaleString() : '–'],
      ...(exp.sweepId ? [['sweep', `<a href="/sweeps/${esc(exp.sweepId)}" data-link class="mono">${esc(short(exp.sweepId))}</a>`]] : []),
    ]
      .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${k === 'sweep' ? v : esc(v)}</dd>`)
      .join('');
    const ep = exp.epochs;
    const xs = ep.map((e) => e.epoch);
    setDatasets(charts.acc, [series('train', C.train, xs, ep.map((e) => e.trainAcc)), series('val', C.val, xs, ep.map((e) => e.valAcc))]);
    setDatasets(charts.loss, [series('train', C.train, xs, ep.map((e) => e.trainLoss)), series('val', C.val, xs, ep.map((e) => e.valLoss))]);
    setDatasets(charts.drift, [series('backbone weights', C.drift, xs, ep.map((e) => e.backboneDrift)), series('BatchNorm statistics', C.bn, xs, ep.map((e) => e.bnStatsDrift))]);
    const groups = Math.max(0, ...ep.map((e) => e.lrs.length));
    const names = groups === 2 ? ['backbone', 'fc'] : ['all parameters'];
    setDatasets(
      charts.lr,
      // StepLR holds the rate for a whole epoch and jumps between epochs: draw steps, not slopes
      // (stepped 'before': flat at epoch e's rate up to epoch e+1, then the jump).
      names.map((n, g) => series(n, g === 0 ? C.lr0 : C.lr1, xs, ep.map((e) => (e.lrs[g] > 0 ? e.lrs[g] : null)), { stepped: 'before' })),
    );
    root.querySelector('#epochs').innerHTML = ep.length
      ? `<table data-testid="epochs-table"><thead><tr><th class="num">Epoch</th><th class="num">Train loss</th><th class="num">Train acc</th><th class="num">Val loss</th><th class="num">Val acc</th><th class="num">lr</th><th class="num">Drift</th><th class="num">BN drift</th><th class="num">Seconds</th><th class="num">img/s</th></tr></thead><tbody>${ep
          .map(
            (e) => `<tr${e.epoch === exp.bestEpoch ? ' class="best"' : ''}><td class="num">${e.epoch}</td><td class="num">${num(e.trainLoss, 4)}</td><td class="num">${pct(e.trainAcc)}</td><td class="num">${num(e.valLoss, 4)}</td><td class="num">${pct(e.valAcc)}</td>
            <td class="num">${e.lrs.map((l) => Number(l).toExponential(1)).join(' / ')}</td><td class="num">${num(e.backboneDrift, 4)}</td><td class="num">${num(e.bnStatsDrift, 4)}</td><td class="num">${num(e.seconds, 1)}</td><td class="num">${num(e.imagesPerSec, 1)}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : `<div class="empty">No epoch finished yet.</div>`;
    renderLive();
  };

  root.querySelector('#cancel').addEventListener('click', async () => {
    if (!confirm('Cancel this experiment?')) return;
    exp = { ...exp, ...(await api(`/api/experiments/${encodeURIComponent(id)}/cancel`, { method: 'POST', signal })) };
    exp = await api(`/api/experiments/${encodeURIComponent(id)}`, { signal });
    renderAll();
  });

  renderAll();
  if (exp.status === 'succeeded') void renderPredictions(root.querySelector('#predictions'), id, signal);
  if (FINAL.includes(exp.status)) return;

  // Live: batch progress patches the bar; epochs and status changes re-read the experiment (the
  // database is the source of truth for metrics), at most every 500 ms.
  let reloading = null;
  const reload = () => {
    reloading ??= new Promise((r) => setTimeout(r, 500))
      .then(() => api(`/api/experiments/${encodeURIComponent(id)}`, { signal }))
      .then((fresh) => {
        exp = fresh;
        renderAll();
      })
      .catch(() => {})
      .finally(() => {
        reloading = null;
      });
  };
  void followEvents(
    id,
    (type, payload) => {
      if (type === 'progress') {
        progress = payload;
        if (exp.status !== 'running') exp = { ...exp, status: 'running' };
        renderLive();
      } else if (type === 'epoch' || type === 'status' || type === 'snapshot') {
        reload();
      }
    },
    signal,
  );
  // Polling as well: a status change is never missed even when the stream is down.
  const timer = setInterval(() => {
    if (FINAL.includes(exp.status)) clearInterval(timer);
    else reload();
  }, 5000);
  signal.addEventListener('abort', () => clearInterval(timer));
}
