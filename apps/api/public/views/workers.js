// Workers: who is alive (heartbeat in the last minute), on which backend, running what.
import { api } from '../api.js';
import { ago, esc, short } from '../format.js';

export async function render(root, _params, signal) {
  root.innerHTML = `<div class="page-head"><div><h1>Workers</h1><div class="sub">Processes that take training jobs; a worker is online while its heartbeat is recent</div></div></div>
    <section class="panel"><div class="table-wrap" id="workers"></div></section>`;
  const update = async () => {
    const { items } = await api('/api/workers', { signal });
    if (signal.aborted) return;
    root.querySelector('#workers').innerHTML = items.length
      ? `<table><thead><tr><th>Worker</th><th>Host</th><th class="num">PID</th><th>Backend</th><th>Running</th><th>Started</th><th>Last seen</th></tr></thead><tbody>${items
          .map((w) => {
            const online = Date.now() - new Date(w.lastSeenAt).getTime() < 60_000;
            return `<tr data-testid="worker-row"><td><span class="pill ${online ? 's-succeeded' : 's-queued'}">${online ? 'online' : 'offline'}</span> <span class="mono">${esc(w.id)}</span></td>
              <td>${esc(w.host)}</td><td class="num">${w.pid}</td>
              <td>${esc(w.backend)}${w.gpu !== null && w.gpu !== undefined ? ` · GPU ${w.gpu}` : ''}${w.backendInfo ? `<div class="muted small">${esc(w.backendInfo)}</div>` : ''}</td>
              <td>${w.currentExperimentId ? `<a href="/experiments/${esc(w.currentExperimentId)}" data-link class="mono">${esc(short(w.currentExperimentId))}</a>` : '<span class="muted">idle</span>'}</td>
              <td class="muted">${esc(ago(w.startedAt))}</td><td class="muted">${esc(ago(w.lastSeenAt))}</td></tr>`;
          })
          .join('')}</tbody></table>`
      : `<div class="empty">No workers have registered yet. Start one:<br><code>npm run start:worker</code></div>`;
  };
  await update();
  const timer = setInterval(() => void update().catch(() => {}), 3000);
  signal.addEventListener('abort', () => clearInterval(timer));
}
