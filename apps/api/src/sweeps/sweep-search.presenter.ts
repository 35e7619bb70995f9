// The searched sweep's view: trial statuses, each trial's value, best-so-far, ASHA rungs and the
// epochs spent, computed from the stored trials, cells and rung decisions.
import { TRIAL_STATUSES, type BestSoFar, type RungView, type StopReason, type SweepSearchView, type TrialStatus, type TrialView } from '@fleet/contracts';
import type { SearchDetail, SearchTrial } from '@fleet/persistence';
import { ashaRungs } from '@fleet/search';

function trialStatus(trial: SearchTrial, stop: StopReason | null, seeds: number, open: boolean): TrialStatus {
  const statuses = trial.cells.map((c) => c.status);
  if (stop || statuses.includes('stopped')) return 'stopped';
  if (statuses.includes('running')) return 'running';
  if (statuses.includes('queued') || (open && trial.cells.length < seeds)) return 'queued';
  if (trial.cells.length === seeds && statuses.every((s) => s === 'succeeded')) return 'succeeded';
  return statuses.includes('failed') ? 'failed' : 'cancelled';
}

function mean(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

export function toSweepSearchView(d: SearchDetail): SweepSearchView {
  const { spec } = d;
  const open = d.cancelledAt === null && d.finishedAt === null;
  const better = (a: number, b: number) => (spec.metric.goal === 'maximize' ? a > b : a < b);
  const firstStop = new Map<number, StopReason>();
  for (const x of [...d.decisions].sort((a, b) => a.rung - b.rung)) {
    if (x.decision === 'stop' && x.cutoff !== null && !firstStop.has(x.trialIndex)) firstStop.set(x.trialIndex, { rung: x.rung, value: x.value, cutoff: x.cutoff, compared: x.compared });
  }
  const trials: TrialView[] = d.trials.map((t) => {
    const stop = firstStop.get(t.index) ?? t.cells.find((c) => c.stopReason)?.stopReason ?? null;
    const value = mean(t.cells.flatMap((c) => (c.best === null ? [] : [c.best])));
    return { index: t.index, params: t.params, status: trialStatus(t, stop, spec.seeds.length, open), value, stopReason: stop, cells: t.cells };
  });
  const trialCounts = Object.fromEntries(TRIAL_STATUSES.map((s) => [s, 0])) as Record<TrialStatus, number>;
  for (const t of trials) trialCounts[t.status] += 1;

  const pickBest = (pool: TrialView[], finished: boolean): BestSoFar | null => {
    let best: TrialView | undefined;
    for (const t of pool) if (t.value !== null && (!best || better(t.value, best.value!))) best = t;
    if (!best) return null;
    const cell = best.cells.reduce((a, c) => (c.best !== null && (a.best === null || better(c.best, a.best)) ? c : a));
    return { trial: best.index, params: best.params, value: best.value!, epoch: cell.bestEpoch, finished };
  };
  const best = pickBest(trials.filter((t) => t.status === 'succeeded'), true) ?? pickBest(trials, false);

  const epochs = Math.max(0, ...d.trials.flatMap((t) => t.cells.map((c) => c.epochs)));
  const rungs: RungView[] = spec.earlyStop
    ? ashaRungs(spec.earlyStop, epochs).map((rung) => {
        const at = d.decisions.filter((x) => x.rung === rung);
        const judged = at.filter((x) => x.cutoff !== null);
        return { rung, decided: at.length, stopped: at.filter((x) => x.decision === 'stop').length, cutoff: judged.at(-1)?.cutoff ?? null };
      })
    : [];
  const used = d.trials.reduce((n, t) => n + t.cells.reduce((m, c) => m + c.epochsDone, 0), 0);
  const full = d.trials.reduce((n, t) => n + spec.seeds.length * (t.cells[0]?.epochs ?? epochs), 0);
  const state = d.cancelledAt ? 'cancelled' : d.finishedAt ? 'finished' : 'running';
  return { spec, state, trialsCreated: d.trialsCreated, trialCounts, trials, rungs, best, gpuEpochs: { used, full } };
}
