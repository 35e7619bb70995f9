// The dashboard's entry: a tiny router over real URLs (the API answers index.html for each page),
// the API-key prompt, and the connection dot. Each view exports render(root, params, signal) and
// stops its polling and streams when the signal aborts (page change).
import { ApiError, onConnectivity, setApiKey, takeKeyFromUrl, apiKey } from './api.js';
import { esc } from './format.js';

const routes = [
  [/^\/$/, () => import('./views/home.js')],
  [/^\/sweeps\/?$/, () => import('./views/home.js')],
  [/^\/sweeps\/([^/]+)$/, () => import('./views/sweep.js')],
  [/^\/experiments\/?$/, () => import('./views/experiments.js')],
  [/^\/experiments\/([^/]+)$/, () => import('./views/experiment.js')],
  [/^\/workers\/?$/, () => import('./views/workers.js')],
];

const root = document.getElementById('view');
let current;

function keyForm(message) {
  root.innerHTML = `<form class="panel keyform" id="keyform">
    <h2>API key required</h2>
    <p class="muted">${esc(message)}</p>
    <input type="password" name="key" placeholder="API key" autocomplete="current-password" required>
    <button type="submit">Continue</button>
  </form>`;
  root.querySelector('#keyform').addEventListener('submit', (e) => {
    e.preventDefault();
    setApiKey(new FormData(e.target).get('key'));
    void show();
  });
}

function updateQueuesLink() {
  const link = document.getElementById('queues-link');
  const key = apiKey();
  link.href = key ? `/queues?key=${encodeURIComponent(key)}` : '/queues';
}

async function show() {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const path = location.pathname;
  document.querySelectorAll('[data-nav]').forEach((a) => {
    const nav = a.getAttribute('data-nav');
    a.classList.toggle('active', nav === '/' ? path === '/' || path.startsWith('/sweeps') : path.startsWith(nav));
  });
  updateQueuesLink();
  const route = routes.find(([re]) => re.test(path));
  if (!route) {
    root.innerHTML = `<div class="panel empty"><h2>Page not found</h2><a href="/" data-link>Back to the overview</a></div>`;
    return;
  }
  const params = path.match(route[0]).slice(1).map(decodeURIComponent);
  try {
    const view = await route[1]();
    await view.render(root, params, controller.signal);
  } catch (err) {
    if (controller.signal.aborted) return;
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      keyForm(apiKey() ? 'The API refused the stored key; enter the value of API_KEY.' : 'This server has API_KEY set; enter it to continue (kept in this browser).');
      return;
    }
    if (err instanceof ApiError && err.status === 404) {
      root.innerHTML = `<div class="panel empty"><h2>Not found</h2><p>${esc(err.message)}</p><a href="/" data-link>Back to the overview</a></div>`;
      return;
    }
    root.innerHTML = `<div class="panel"><h2>Could not load this page</h2><div class="error-box">${esc(err.message ?? err)}</div></div>`;
  }
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-link]');
  if (a && !e.metaKey && !e.ctrlKey && !e.shiftKey && e.button === 0) {
    e.preventDefault();
    if (a.getAttribute('href') !== location.pathname + location.search) history.pushState(null, '', a.getAttribute('href'));
    void show();
    return;
  }
  const row = e.target.closest('tr[data-href]');
  if (row && !e.target.closest('a, button, input, select')) {
    history.pushState(null, '', row.dataset.href);
    void show();
  }
});
window.addEventListener('popstate', () => void show());
// Charts read colours from CSS at creation: redraw when the system switches light/dark.
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => void show());

onConnectivity((up) => {
  const dot = document.getElementById('conn');
  dot.className = `conn ${up ? 'up' : 'down'}`;
  dot.title = up ? 'API reachable' : 'API unreachable (retrying)';
});

takeKeyFromUrl();
void show();
