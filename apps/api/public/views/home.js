// Overview: totals, sweeps with their status mix, and the latest experiments. Polls while open.
import { api } from '../api.js';
import { ago, countBar, countsText, esc, pct, short, statusPill, strategyChip, gridLabel } from '../format.js';

export async function render(root, _params, signal) {
  root.innerHTML = `
    <div class="page-head"><div><h1>Overview</h1><div class="sub">Sweeps and experiments across the fleet</div></div></div>
    <div class="stats" id="stats"></div>
    <section class="panel"><h2>Sweeps</h2><div class="table-wrap" id="sweeps"></div></section>
    <section class="panel"><div class="chart-head"><h2>Recent experiments</h2><a href="/experiments" data-link class="small">All experiments →</a></div><div class="table-wrap" id="experiments"></div></section>`;

  const update = async () => {
    const [sweeps, experiments, workers] = await Promise.all([
      api('/api/sweeps', { signal }),
      api('/api/experiments?limit=12', { signal }),
      api('/api/workers', { signal }).catch(() => ({ items: [] })),
    ]);
    if (signal.aborted) return;
    const totals = { running: 0, queued: 0, succeeded: 0, failed: 0 };
    for (const s of sweeps.items) for (const k of Object.keys(totals)) totals[k] += s.counts?.[k] ?? 0;
    const live = workers.items.filter((w) => Date.now() - new Date(w.lastSeenAt).getTime() < 60_000).length;
    root.querySelector('#stats').innerHTML = [
      ['Sweeps', sweeps.items.length],
      ['Running', totals.running],
      ['Queued', totals.queued],
      ['Succeeded', totals.succeeded],
      ['Workers online', live],
    ]
      .map(([k, v]) => `<div class="stat"><div class="k">${k}</div><div class="v">${v}</div></div>`)
      .join('');

    root.querySelector('#sweeps').innerHTML = sweeps.items.length
      ? `<table><thead><tr><th>Name</th><th>Grid</th><th>Runs</th><th>Status</th><th>Created</th></tr></thead><tbody>${sweeps.items
          .map(
            (s) => `<tr class="clickable" data-href="/sweeps/${esc(s.id)}" data-testid="sweep-row">
              <td><a href="/sweeps/${esc(s.id)}" data-link>${esc(s.name ?? short(s.id))}</a><div class="muted small mono">${esc(short(s.id))}</div></td>
              <td class="small">${Object.entries(s.grid ?? {})
                .map(([k, v]) => `${esc(k)} × ${Array.isArray(v) ? v.length : 1}`)
                .join(', ')}</td>
              <td class="num">${s.total}</td>
              <td style="min-width:180px">${countBar(s.counts, s.total)}<div class="progress-label">${esc(countsText(s.counts))}</div></td>
              <td class="muted">${esc(ago(s.createdAt))}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : `<div class="empty">No sweeps yet. Try the demo:<br><code>npm run demo</code></div>`;

    root.querySelector('#experiments').innerHTML = experimentsTable(experiments.items);
  };

  await update();
  const timer = setInterval(() => void update().catch(() => {}), 3000);
  signal.addEventListener('abort', () => clearInterval(timer));
}

export function experimentsTable(items) {
  if (!items.length) return `<div class="empty">No experiments yet. Submit one:<br><code>finetune submit --dataset demo --strategy finetune --weights resnet18.pth</code></div>`;
  return `<table><thead><tr><th>Experiment</th><th>Strategy</th><th>Dataset</th><th>Status</th><th class="num">Epochs</th><th class="num">Best val acc</th><th>Worker</th><th>Created</th></tr></thead><tbody>${items
    .map(
      (e) => `<tr class="clickable" data-href="/experiments/${esc(e.id)}" data-testid="experiment-row">
      <td><a href="/experiments/${esc(e.id)}" data-link class="mono">${esc(short(e.id))}</a>${e.name ? ` <span class="muted">${esc(e.name)}</span>` : ''}${
        e.gridValues ? `<div class="muted small">${esc(gridLabel(e.gridValues))}</div>` : ''
      }</td>
      <td>${strategyChip(e.strategy)}</td>
      <td>${esc(e.dataset)}</td>
      <td>${statusPill(e.status)}</td>
      <td class="num">${e.epochsDone}/${e.config?.epochs ?? '?'}</td>
      <td class="num">${pct(e.bestValAcc)}</td>
      <td class="muted small">${esc(e.workerId ?? '–')}</td>
      <td class="muted">${esc(ago(e.createdAt))}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}
