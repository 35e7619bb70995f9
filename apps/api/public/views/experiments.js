// All experiments, filterable by status and strategy, newest first, with "load more" paging.
import { api } from '../api.js';
import { experimentsTable } from './home.js';

const STATUSES = ['', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];
const STRATEGIES = ['', 'scratch', 'finetune', 'freeze', 'zero-lr', 'group-lr', 'linear-probe'];

export async function render(root, _params, signal) {
  const params = new URLSearchParams(location.search);
  const opts = (list, sel) => list.map((v) => `<option value="${v}"${v === sel ? ' selected' : ''}>${v || 'all'}</option>`).join('');
  root.innerHTML = `
    <div class="page-head"><div><h1>Experiments</h1><div class="sub">Every run, newest first</div></div>
      <div class="controls">
        <label class="check">status <select id="f-status">${opts(STATUSES, params.get('status') ?? '')}</select></label>
        <label class="check">strategy <select id="f-strategy">${opts(STRATEGIES, params.get('strategy') ?? '')}</select></label>
      </div></div>
    <section class="panel"><div class="table-wrap" id="list"></div><div style="text-align:center;margin-top:.75rem"><button id="more" hidden>Load more</button></div></section>`;

  let items = [];
  let cursor = null;
  const load = async (append) => {
    const q = new URLSearchParams({ limit: '50' });
    for (const f of ['status', 'strategy']) {
      const v = root.querySelector(`#f-${f}`).value;
      if (v) q.set(f, v);
    }
    if (append && cursor) q.set('cursor', cursor);
    const page = await api(`/api/experiments?${q}`, { signal });
    items = append ? items.concat(page.items) : page.items;
    cursor = page.nextCursor;
    root.querySelector('#list').innerHTML = experimentsTable(items);
    root.querySelector('#more').hidden = !cursor;
  };
  for (const f of ['status', 'strategy']) {
    root.querySelector(`#f-${f}`).addEventListener('change', () => {
      const url = new URL(location.href);
      const v = root.querySelector(`#f-${f}`).value;
      if (v) url.searchParams.set(f, v);
      else url.searchParams.delete(f);
      history.replaceState(null, '', url);
      void load(false);
    });
  }
  root.querySelector('#more').addEventListener('click', () => void load(true));
  await load(false);
}
