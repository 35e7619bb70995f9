// Formatting and small DOM helpers shared by the views, and the one colour per strategy that chips,
// tables and charts all use (readable on light and dark backgrounds).
export const STRATEGY_COLORS = {
  finetune: '#4e79a7',
  freeze: '#59a14f',
  'group-lr': '#f28e2b',
  'linear-probe': '#b07aa1',
  'zero-lr': '#9c755f',
  scratch: '#e15759',
};
const EXTRA = ['#76b7b2', '#edc948', '#ff9da7', '#bab0ac', '#17becf', '#bcbd22'];

export function colorFor(key) {
  if (STRATEGY_COLORS[key]) return STRATEGY_COLORS[key];
  let h = 0;
  for (const ch of String(key)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return EXTRA[h % EXTRA.length];
}

export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

export function pct(v, digits = 1) {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`;
}

export function num(v, digits = 3) {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : Number(v).toFixed(digits);
}

export function duration(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function ago(iso) {
  if (!iso) return '–';
  const s = (Date.now() - new Date(iso).getTime()) / 1000;
  if (s < 5) return 'just now';
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

export function short(id) {
  return String(id).slice(0, 8);
}

export function pValue(p) {
  if (p === null || p === undefined || !Number.isFinite(p)) return '–';
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

export function statusPill(status) {
  return `<span class="pill ${esc(status)} s-${esc(status)}" data-status="${esc(status)}">${esc(status)}</span>`;
}

export function strategyChip(strategy) {
  return `<span class="chip" style="--c:${colorFor(strategy)}"><i></i>${esc(strategy)}</span>`;
}

export function gridLabel(grid, skip = ['strategy']) {
  return Object.entries(grid ?? {})
    .filter(([k]) => !skip.includes(k))
    .map(([k, v]) => `${k}=${cellValue(v)}`)
    .join(' ');
}

/** A grid value; a parent run's model ({experiment, epoch}) as the CLI writes it, id shortened. */
function cellValue(v) {
  return v && typeof v === 'object' ? `${short(String(v.experiment))}:${v.epoch ?? 'best'}` : v;
}

export const STATUS_ORDER = ['succeeded', 'running', 'queued', 'stopped', 'failed', 'cancelled'];
const STATUS_VAR = { queued: '--queued', running: '--run', succeeded: '--ok', stopped: '--queued', failed: '--bad', cancelled: '--warn' };

export function countBar(counts, total) {
  const t = total || Object.values(counts ?? {}).reduce((a, b) => a + b, 0) || 1;
  return `<div class="countbar" title="${esc(
    STATUS_ORDER.filter((s) => counts?.[s])
      .map((s) => `${counts[s]} ${s}`)
      .join(', '),
  )}">${STATUS_ORDER.map((s) => (counts?.[s] ? `<span style="--c:var(${STATUS_VAR[s]});width:${(100 * counts[s]) / t}%"></span>` : '')).join('')}</div>`;
}

export function countsText(counts) {
  return STATUS_ORDER.filter((s) => counts?.[s])
    .map((s) => `${counts[s]} ${s}`)
    .join(' · ');
}

/** Progress of a run, 0..1: finished epochs plus the current phase's share of an epoch. */
export function runFraction(epochsDone, epochs, progress, status) {
  if (status === 'succeeded') return 1;
  if (!epochs) return 0;
  let within = 0;
  if (progress && progress.epoch === epochsDone + 1 && progress.batches > 0) {
    const f = Math.min(1, progress.batch / progress.batches);
    within = progress.phase === 'val' ? 0.8 + 0.2 * f : 0.8 * f;
  }
  return Math.min(1, (epochsDone + within) / epochs);
}

export function progressBar(fraction, label, color) {
  return `<div class="progress" role="progressbar" aria-valuenow="${Math.round(fraction * 100)}" aria-valuemin="0" aria-valuemax="100"${
    color ? ` style="--c:${color}"` : ''
  }><span style="width:${(fraction * 100).toFixed(1)}%"></span></div>${label ? `<div class="progress-label">${esc(label)}</div>` : ''}`;
}

export function progressLabel(epochsDone, epochs, progress, status) {
  if (status === 'running' && progress && progress.epoch === epochsDone + 1) {
    return `epoch ${progress.epoch}/${epochs} · ${progress.phase} ${progress.batch}/${progress.batches} · loss ${num(progress.loss, 3)}`;
  }
  return `${epochsDone}/${epochs} epochs`;
}
