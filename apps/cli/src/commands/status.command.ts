// `finetune status [ID]`: without an id, the recent sweeps and experiments; with one, the details of
// that experiment (config, where it ran, its epochs) or sweep (counts and one row per run).
// Also home of the small text-table helpers the other API commands print with.
import type { Command } from 'commander';
import { TRAIN_DEFAULTS } from '@fleet/training/contracts.js';
import { searchText } from './sweep-search.text.js';
import { clientFromOptions, withApiOptions, type ExperimentDetail, type SweepDetail, type SweepRun, type SweepSummary } from '../api-client.js';

/** Renders rows as an aligned text table; columns whose header starts with '>' are right-aligned. */
export function formatTable(headers: string[], rows: (string | number)[][]): string {
  const right = headers.map((h) => h.startsWith('>'));
  const names = headers.map((h) => (h.startsWith('>') ? h.slice(1) : h));
  const cells = rows.map((r) => r.map(String));
  const widths = names.map((h, i) => Math.max(visibleLength(h), ...cells.map((r) => visibleLength(r[i] ?? ''))));
  const line = (r: string[]): string =>
    r
      .map((c, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i]! - visibleLength(c)));
        return right[i] ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(names), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

export function pct(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(digits)}%`;
}

export function num(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m < 60 ? `${m}m${String(s).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function gridLabel(grid: Record<string, unknown> | null | undefined): string {
  if (!grid) return '';
  return Object.entries(grid)
    .filter(([k]) => k !== 'strategy')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

/** Configured epochs of a sweep run: its grid value, else the sweep's base, else the default. */
export function runEpochs(sweep: SweepSummary, run: SweepRun): number {
  const v = run.gridValues.epochs ?? sweep.base.epochs;
  return typeof v === 'number' ? v : TRAIN_DEFAULTS.epochs;
}

function countsLabel(counts: Partial<Record<string, number>> | undefined): string {
  if (!counts) return '';
  return Object.entries(counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
}

/** " from resnet18.pth", " from run ID (best)" for a chained run, or "" (scratch). */
function startingWeights(exp: ExperimentDetail): string {
  if (exp.parent) return ` from run ${exp.parent.experimentId ?? '(deleted)'} (${exp.parent.epoch} model)`;
  return typeof exp.config.weights === 'string' ? ` from ${exp.config.weights}` : '';
}

function experimentText(exp: ExperimentDetail): string {
  const epochs = exp.epochs;
  const c = exp.config;
  const total = c.epochs;
  const lines = [
    `experiment ${exp.id}${exp.name ? ` (${exp.name})` : ''}`,
    `  status      ${exp.status}${exp.error ? `: ${exp.error}` : ''}`,
    `  strategy    ${exp.strategy} on ${exp.dataset}${startingWeights(exp)}`,
    `  config      epochs=${total} batchSize=${c.batchSize} lr=${c.lr} lrFactor=${c.lrFactor} momentum=${c.momentum} weightDecay=${c.weightDecay} stepSize=${c.stepSize} gamma=${c.gamma} imageSize=${c.imageSize} seed=${c.seed}`,
    `  ran on      ${exp.workerId ?? '-'}${exp.backend ? ` (${exp.backend}${exp.backendInfo ? `: ${exp.backendInfo}` : ''})` : ''}`,
    `  progress    ${exp.epochsDone}/${total} epochs in ${duration(exp.seconds)}; best val acc ${pct(exp.bestValAcc)}${exp.bestEpoch ? ` at epoch ${exp.bestEpoch}` : ''}; final ${pct(exp.finalValAcc)}`,
  ];
  if (exp.sweepId) lines.push(`  sweep       ${exp.sweepId}`);
  if (epochs.length > 0) {
    lines.push(
      '',
      formatTable(
        ['>epoch', '>train loss', '>train acc', '>val loss', '>val acc', 'lr', '>seconds', '>img/s', '>drift'],
        epochs.map((e) => [e.epoch, num(e.trainLoss, 4), pct(e.trainAcc), num(e.valLoss, 4), pct(e.valAcc), e.lrs.map((l) => l.toPrecision(2)).join('/'), num(e.seconds, 1), num(e.imagesPerSec, 1), num(e.backboneDrift, 4)]),
      ),
    );
  }
  return lines.join('\n');
}

export function sweepText(sweep: SweepDetail): string {
  const lines = [`sweep ${sweep.id}${sweep.name ? ` (${sweep.name})` : ''}: ${countsLabel(sweep.counts) || 'no runs'}`, ''];
  if (sweep.search) lines.push(searchText(sweep.search), '');
  lines.push(
    formatTable(
      ['id', 'strategy', 'grid', 'status', '>epochs', '>best val acc', '>best ep', '>final', '>time'],
      sweep.runs.map((r) => [shortId(r.id), r.strategy, gridLabel(r.gridValues), r.status, `${r.epochsDone}/${runEpochs(sweep, r)}`, pct(r.bestValAcc), r.bestEpoch ?? '-', pct(r.finalValAcc), duration(r.seconds)]),
    ),
  );
  return lines.join('\n');
}

export function registerStatusCommand(program: Command): void {
  withApiOptions(
    program
      .command('status')
      .description('show recent sweeps and experiments, or one experiment or sweep in detail')
      .argument('[id]', 'experiment or sweep id')
      .option('-n, --limit <n>', 'how many recent experiments to list', '15')
      .option('--json', 'print the API response as JSON'),
  ).action(async (id: string | undefined, opts: { api?: string; apiKey?: string; limit: string; json?: boolean }) => {
    const client = clientFromOptions(opts);
    if (id) {
      const found = await client.resolve(id);
      const value = found.kind === 'experiment' ? found.experiment : found.sweep;
      process.stdout.write(`${opts.json ? JSON.stringify(value, null, 2) : found.kind === 'experiment' ? experimentText(found.experiment) : sweepText(found.sweep)}\n`);
      return;
    }
    const limit = Math.max(1, Math.min(200, Number.parseInt(opts.limit, 10) || 15));
    const [sweeps, experiments] = await Promise.all([client.listSweeps(), client.listExperiments({ limit })]);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ sweeps: sweeps.items, experiments: experiments.items }, null, 2)}\n`);
      return;
    }
    const recentSweeps = sweeps.items.slice(0, 10);
    const out: string[] = [];
    if (recentSweeps.length > 0) {
      out.push('Sweeps', formatTable(['id', 'name', 'created', 'runs'], recentSweeps.map((s) => [s.id, s.name ?? '', new Date(s.createdAt).toLocaleString(), countsLabel(s.counts)])), '');
    }
    out.push(
      'Experiments',
      experiments.items.length === 0
        ? '(none yet: submit one with `finetune submit --dataset DIR --strategy finetune`)'
        : formatTable(
            ['id', 'strategy', 'dataset', 'status', '>epochs', '>best val acc', 'worker'],
            experiments.items.map((e) => [e.id, e.strategy, e.dataset, e.status, `${e.epochsDone}/${e.config.epochs}`, pct(e.bestValAcc), e.workerId ?? '-']),
          ),
    );
    process.stdout.write(`${out.join('\n')}\n`);
  });
}
