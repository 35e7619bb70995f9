// `finetune watch ID`: live progress of an experiment or of every run of a sweep, until all are final.
// Status comes from polling the API (the database is the truth, and polling survives anything);
// batch progress and epochs come from each running experiment's SSE stream, resumed with
// Last-Event-ID after a disconnection. Only running experiments hold a stream, so a sweep of
// hundreds of queued runs opens as many connections as there are busy workers.
import type { Command } from 'commander';
import type { BatchProgress, EpochMetrics } from '@fleet/training/contracts.js';
import type { ExperimentStatusName } from '@fleet/queue';
import type { SweepSearchView } from '@fleet/contracts';
import { CliError, ExitCode } from '../cli-error.js';
import { clientFromOptions, isFinal, toExperimentEvent, withApiOptions, type ApiClient, type ExperimentDetail, type SweepDetail, type SweepRun } from '../api-client.js';
import { gridLabel, pct, runEpochs, shortId } from './status.command.js';
import { bestLabel } from './sweep-search.text.js';

export interface WatchOptions {
  /** Where progress is written. Default process.stdout */
  out?: NodeJS.WritableStream & { isTTY?: boolean; rows?: number; columns?: number };
  /** How often the experiment/sweep is re-read from the API, in ms. Default 1000 */
  pollMs?: number;
  /** Stops watching early (the result then reports what was seen). */
  signal?: AbortSignal;
  /** Force plain line output (one line per change) even on a terminal. Default: plain unless out is a TTY. */
  plain?: boolean;
}

export interface WatchResult {
  kind: 'experiment' | 'sweep';
  total: number;
  counts: Record<ExperimentStatusName, number>;
  /** True when every experiment ended with status succeeded. */
  allSucceeded: boolean;
}

interface RunState {
  id: string;
  label: string;
  status: ExperimentStatusName;
  epochs: number | undefined;
  epochsDone: number;
  lastValAcc: number | undefined;
  bestValAcc: number | undefined;
  progress: BatchProgress | undefined;
  error: string | undefined;
  stream: AbortController | undefined;
}

const COLORS: Record<ExperimentStatusName, string> = { queued: '90', running: '36', succeeded: '32', failed: '31', cancelled: '33', stopped: '35' };

function colour(enabled: boolean, status: ExperimentStatusName, text: string): string {
  return enabled ? `\u001b[${COLORS[status]}m${text}\u001b[0m` : text;
}

function fraction(s: RunState): number {
  if (s.status === 'succeeded') return 1;
  if (!s.epochs) return 0;
  let within = 0;
  const p = s.progress;
  if (p && p.epoch === s.epochsDone + 1 && p.batches > 0) {
    const f = Math.min(1, p.batch / p.batches);
    within = p.phase === 'val' ? 0.8 + 0.2 * f : 0.8 * f;
  }
  return Math.min(1, (s.epochsDone + within) / s.epochs);
}

function bar(f: number, width: number): string {
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

function rowLine(s: RunState, labelWidth: number, color: boolean): string {
  const parts = [s.label.padEnd(labelWidth), bar(fraction(s), 20), `ep ${s.epochsDone}/${s.epochs ?? '?'}`.padEnd(9)];
  if (s.status === 'running' && s.progress) {
    parts.push(`${s.progress.phase} ${s.progress.batch}/${s.progress.batches} loss ${s.progress.loss.toFixed(3)}`.padEnd(26));
  } else {
    parts.push(''.padEnd(26));
  }
  parts.push(`val ${pct(s.lastValAcc)}`.padEnd(11), colour(color, s.status, s.status));
  if (s.error && s.status === 'failed') parts.push(`(${s.error.split('\n')[0]!.slice(0, 60)})`);
  return parts.join(' ');
}

function emptyCounts(): Record<ExperimentStatusName, number> {
  return { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, stopped: 0 };
}

/** Watches an experiment or a sweep until every experiment is final; resolves with the outcome. */
export async function watch(client: ApiClient, id: string, options: WatchOptions = {}): Promise<WatchResult> {
  const out = options.out ?? process.stdout;
  const tty = !options.plain && out.isTTY === true;
  const color = tty && !process.env.NO_COLOR;
  const pollMs = options.pollMs ?? 1000;
  const found = await client.resolve(id);
  const states = new Map<string, RunState>();
  let wake: (() => void) | undefined;
  const notify = (): void => wake?.();
  let rendered = 0;
  let lastRender = 0;

  const log = (line: string): void => {
    if (!tty) out.write(`${line}\n`);
  };

  const upsert = (id: string, label: string, patch: Partial<RunState>): RunState => {
    let s = states.get(id);
    if (!s) {
      s = { id, label, status: 'queued', epochs: undefined, epochsDone: 0, lastValAcc: undefined, bestValAcc: undefined, progress: undefined, error: undefined, stream: undefined };
      states.set(id, s);
    }
    const before = s.status;
    const beforeEpochs = s.epochsDone;
    Object.assign(s, Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)));
    if (s.status !== before) log(`${s.label}: ${s.status}${s.status === 'failed' && s.error ? ` (${s.error.split('\n')[0]})` : ''}`);
    if (s.epochsDone > beforeEpochs) log(`${s.label}: epoch ${s.epochsDone}/${s.epochs ?? '?'} val acc ${pct(s.lastValAcc)}`);
    return s;
  };

  const fromExperiment = (exp: ExperimentDetail): void => {
    const last = exp.epochs.at(-1);
    const label = exp.sweepId || found.kind === 'sweep' ? `${exp.strategy} ${gridLabel(exp.gridValues)}`.trim() : `${shortId(exp.id)} ${exp.strategy}`;
    upsert(exp.id, label, {
      status: exp.status,
      epochs: exp.config.epochs,
      epochsDone: Math.max(states.get(exp.id)?.epochsDone ?? 0, exp.epochsDone),
      lastValAcc: last?.valAcc ?? states.get(exp.id)?.lastValAcc,
      bestValAcc: exp.bestValAcc ?? undefined,
      error: exp.error ?? undefined,
    });
  };

  const fromRow = (sweep: SweepDetail, row: SweepRun): void => {
    const prev = states.get(row.id);
    upsert(row.id, `${row.strategy} ${gridLabel(row.gridValues)}`.trim(), {
      status: row.status,
      error: row.error ?? undefined,
      epochs: runEpochs(sweep, row),
      epochsDone: Math.max(prev?.epochsDone ?? 0, row.epochsDone),
      lastValAcc: row.finalValAcc ?? prev?.lastValAcc,
      bestValAcc: row.bestValAcc ?? undefined,
    });
  };

  const onEpoch = (s: RunState, m: EpochMetrics): void => {
    upsert(s.id, s.label, { epochsDone: Math.max(s.epochsDone, m.epoch), lastValAcc: m.valAcc });
  };

  const follow = (s: RunState): void => {
    const controller = new AbortController();
    s.stream = controller;
    const signal = options.signal ? AbortSignal.any([controller.signal, options.signal]) : controller.signal;
    void (async () => {
      try {
        for await (const message of client.followEvents(s.id, { signal })) {
          if (message.event === 'snapshot') {
            const snap = JSON.parse(message.data) as { status: ExperimentStatusName; error?: string | null; epochs?: EpochMetrics[] };
            const last = snap.epochs?.at(-1);
            upsert(s.id, s.label, { status: snap.status, error: snap.error ?? undefined, epochsDone: Math.max(s.epochsDone, last?.epoch ?? 0), lastValAcc: last?.valAcc });
          }
          const event = toExperimentEvent(message);
          if (!event) {
            if (isFinal(s.status)) break;
            continue;
          }
          switch (event.type) {
            case 'status':
              upsert(s.id, s.label, { status: event.status, error: event.error });
              break;
            case 'progress':
              s.progress = event;
              break;
            case 'epoch':
              onEpoch(s, event.metrics);
              break;
          }
          render();
          if (isFinal(s.status)) {
            notify();
            break;
          }
        }
      } catch {
        // The poll loop still tracks this experiment's status; losing its live stream only loses batch progress.
      } finally {
        s.stream = undefined;
        controller.abort();
      }
    })();
  };

  const render = (force = false): void => {
    if (!tty) return;
    const now = Date.now();
    if (!force && now - lastRender < 100) return;
    lastRender = now;
    const all = [...states.values()];
    const maxRows = Math.max(3, (out.rows ?? 40) - 3);
    let shown = all;
    let hidden = 0;
    if (all.length > maxRows) {
      const running = all.filter((s) => s.status === 'running');
      const rest = all.filter((s) => s.status !== 'running');
      shown = [...running, ...rest].slice(0, maxRows);
      hidden = all.length - shown.length;
    }
    const width = Math.min(40, Math.max(...shown.map((s) => s.label.length), 4));
    const lines = shown.map((s) => rowLine(s, width, color));
    const counts = countStates();
    lines.push(
      `${all.length} experiment${all.length === 1 ? '' : 's'}: ${Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}${hidden ? ` (${hidden} not shown)` : ''}`,
    );
    if (search) lines.push(bestLabel(search));
    const cols = out.columns ?? 200;
    const text = lines.map((l) => (l.length > cols + 20 ? l.slice(0, cols - 1) : l)).join('\n');
    out.write(`${rendered > 0 ? `\u001b[${rendered}F\u001b[J` : ''}${text}\n`);
    rendered = lines.length;
  };

  const countStates = (): Record<ExperimentStatusName, number> => {
    const counts = emptyCounts();
    for (const s of states.values()) counts[s.status] += 1;
    return counts;
  };

  // A searched sweep hands out runs as others end: it is done when its search says so, not when
  // the runs seen so far are final. Best-so-far is logged each time it changes.
  let search: SweepSearchView | null = null;
  let bestShown = '';
  const fromSweep = (sweep: SweepDetail): void => {
    for (const row of sweep.runs) fromRow(sweep, row);
    search = sweep.search;
    if (!search) return;
    const best = bestLabel(search);
    if (best !== bestShown && search.best) log(best);
    bestShown = best;
  };

  const refresh = async (): Promise<void> => {
    if (found.kind === 'experiment') fromExperiment(await client.getExperiment(id));
    else fromSweep(await client.getSweep(id));
  };

  if (found.kind === 'sweep') log(`sweep ${id}: ${found.sweep.search ? `${found.sweep.search.spec.method} search of up to ${found.sweep.search.spec.budget.maxTrials} trials` : `${found.sweep.total} experiments`}`);
  if (found.kind === 'experiment') fromExperiment(found.experiment);
  else fromSweep(found.sweep);

  try {
    while (!options.signal?.aborted) {
      for (const s of states.values()) {
        // A lone experiment is followed from the start so its first batches show; sweeps follow running runs only.
        const wanted = !isFinal(s.status) && (s.status === 'running' || found.kind === 'experiment');
        if (wanted && !s.stream) follow(s);
        if (!wanted && s.stream) s.stream.abort();
      }
      render(true);
      if ([...states.values()].every((s) => isFinal(s.status)) && (search as SweepSearchView | null)?.state !== 'running') break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done(): void {
          clearTimeout(timer);
          wake = undefined;
          options.signal?.removeEventListener('abort', done);
          resolve();
        }
        wake = done;
        options.signal?.addEventListener('abort', done, { once: true });
      });
      if (options.signal?.aborted) break;
      try {
        await refresh();
      } catch (err) {
        // A restarting API is not a reason to stop watching; a deleted sweep or a revoked key is.
        if (err instanceof CliError && err.exitCode !== ExitCode.Unreachable && err.exitCode !== ExitCode.Failure) throw err;
        log(`(waiting for the API: ${err instanceof Error ? err.message : String(err)})`);
      }
    }
  } finally {
    for (const s of states.values()) s.stream?.abort();
  }
  render(true);
  const counts = countStates();
  const total = states.size;
  if (!tty) {
    log(
      `${total} experiment${total === 1 ? '' : 's'}: ${Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}`,
    );
  }
  // Runs stopped by the search's early stopping ended as planned.
  return { kind: found.kind, total, counts, allSucceeded: total > 0 && counts.succeeded + counts.stopped === total };
}

export function registerWatchCommand(program: Command): void {
  withApiOptions(
    program
      .command('watch')
      .description('follow an experiment or a sweep live until every run ends (exit 0 if all succeeded, else 1)')
      .argument('<id>', 'experiment or sweep id')
      .option('--plain', 'one line per change instead of redrawn progress bars'),
  ).action(async (id: string, opts: { api?: string; apiKey?: string; plain?: boolean }) => {
    const result = await watch(clientFromOptions(opts), id, { plain: opts.plain });
    if (!result.allSucceeded) {
      const notOk = result.total - result.counts.succeeded;
      throw new CliError(`${notOk} of ${result.total} experiment${result.total === 1 ? '' : 's'} did not succeed`, ExitCode.Failure);
    }
  });
}
