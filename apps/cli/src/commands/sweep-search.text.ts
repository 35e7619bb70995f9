// Text of a searched sweep for `status` and `watch`: the state, trials by status, best-so-far, the
// ASHA rungs with their cutoffs, epochs used against a full run of every trial, one row per trial.
import type { BestSoFar, StopReason, SweepSearchView } from '@fleet/contracts';
import { formatTable, num } from './status.command.js';

function paramsLabel(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(3) : String(v)}`)
    .join(' ');
}

function stopLabel(r: StopReason | null): string {
  return r ? `rung ${r.rung}: ${num(r.value, 4)} vs cutoff ${num(r.cutoff, 4)} (of ${r.compared})` : '';
}

/** One line: "best so far: trial 3 lr=0.0123 valLoss 0.4321 at epoch 7 (finished)". */
export function bestLabel(view: SweepSearchView, best: BestSoFar | null = view.best): string {
  if (!best) return 'best so far: none yet';
  return `best so far: trial ${best.trial} ${paramsLabel(best.params)} ${view.spec.metric.name} ${num(best.value, 4)}${best.epoch ? ` at epoch ${best.epoch}` : ''}${best.finished ? '' : ' (still running)'}`;
}

export function searchText(view: SweepSearchView): string {
  const { spec } = view;
  const counts = Object.entries(view.trialCounts)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  const saved = view.gpuEpochs.full > 0 ? ` (${((1 - view.gpuEpochs.used / view.gpuEpochs.full) * 100).toFixed(0)}% saved)` : '';
  const lines = [
    `search      ${spec.method}, ${view.trialsCreated}/${spec.budget.maxTrials} trials x ${spec.seeds.length} seed${spec.seeds.length === 1 ? '' : 's'}, ${spec.budget.maxConcurrent} at a time, ${spec.metric.goal} ${spec.metric.name}; ${view.state}`,
    `trials      ${counts || 'none yet'}`,
    `            ${bestLabel(view)}`,
    `epochs      ${view.gpuEpochs.used} trained of ${view.gpuEpochs.full} for every trial to the end${saved}`,
  ];
  if (spec.earlyStop) {
    lines.push(`rungs       ${view.rungs.map((r) => `epoch ${r.rung}: ${r.stopped}/${r.decided} stopped${r.cutoff === null ? '' : `, cutoff ${num(r.cutoff, 4)}`}`).join('; ') || 'none below the last epoch'}`);
  }
  lines.push(
    '',
    formatTable(
      ['>trial', 'params', 'status', `>${spec.metric.name}`, '>epochs', 'stopped at'],
      view.trials.map((t) => [t.index, paramsLabel(t.params), t.status, num(t.value, 4), t.cells.map((c) => `${c.epochsDone}/${c.epochs}`).join(' '), stopLabel(t.stopReason)]),
    ),
  );
  return lines.join('\n');
}
