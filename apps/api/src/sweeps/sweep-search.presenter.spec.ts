import type { SweepSearchSpec } from '@fleet/contracts';
import type { SearchCell, SearchDetail } from '@fleet/persistence';
import { toSweepSearchView } from './sweep-search.presenter.js';

const spec: SweepSearchSpec = {
  method: 'random',
  parameters: { lr: { distribution: 'log_uniform', min: 1e-4, max: 0.1 } },
  seeds: [0, 1],
  metric: { name: 'valLoss', goal: 'minimize' },
  earlyStop: { type: 'asha', minEpochs: 1, reductionFactor: 3, minRunsAtRung: 2 },
  budget: { maxTrials: 5, maxConcurrent: 2 },
  searchSeed: 0,
};

function cell(status: string, epochsDone: number, best: number | null, bestEpoch: number | null = null): SearchCell {
  return { id: `${status}-${Math.random()}`, seed: 0, status, epochsDone, epochs: 9, best, bestEpoch, stopReason: null };
}

const stop = { rung: 1, value: 2, cutoff: 1, compared: 2 };

function detail(overrides: Partial<SearchDetail> = {}): SearchDetail {
  return {
    spec,
    trialsCreated: 5,
    cancelledAt: null,
    finishedAt: null,
    trials: [
      { id: 't0', index: 0, params: { lr: 0.01 }, cells: [cell('succeeded', 9, 0.5, 7), cell('succeeded', 9, 0.7, 9)] },
      { id: 't1', index: 1, params: { lr: 0.001 }, cells: [cell('succeeded', 9, 0.4, 8), cell('succeeded', 9, 0.4, 6)] },
      { id: 't2', index: 2, params: { lr: 0.1 }, cells: [cell('running', 1, 2), cell('queued', 0, null)] },
      { id: 't3', index: 3, params: { lr: 0.05 }, cells: [cell('running', 2, 0.1, 2)] },
      { id: 't4', index: 4, params: { lr: 0.0001 }, cells: [cell('failed', 3, 1.5)] },
    ],
    decisions: [
      { trialIndex: 0, rung: 1, value: 1, cutoff: null, compared: 0, decision: 'continue', createdAt: new Date() },
      { trialIndex: 1, rung: 1, value: 0.9, cutoff: null, compared: 1, decision: 'continue', createdAt: new Date() },
      { trialIndex: 2, rung: 1, value: 2, cutoff: 1, compared: 2, decision: 'stop', createdAt: new Date() },
    ],
    ...overrides,
  };
}

describe('toSweepSearchView', () => {
  it('derives trial statuses: a stop decision wins, then running, then a seed still to run, failed/cancelled last', () => {
    const view = toSweepSearchView(detail());
    expect(view.trials.map((t) => t.status)).toEqual(['succeeded', 'succeeded', 'stopped', 'running', 'queued']);
    expect(view.trials[2]!.stopReason).toEqual(stop);
    expect(view.trialCounts).toEqual({ queued: 1, running: 1, succeeded: 2, stopped: 1, failed: 0, cancelled: 0 });
    // Once nothing more is scheduled, a trial with a failed cell and a seed never run is failed.
    const cancelled = toSweepSearchView(detail({ cancelledAt: new Date() }));
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.trials.map((t) => t.status)).toEqual(['succeeded', 'succeeded', 'stopped', 'running', 'failed']);
  });

  it('picks best-so-far among finished trials (lowest mean loss), with the epoch of its best cell', () => {
    // Trial 3 has the lowest value but is still running: finished trials come first.
    expect(toSweepSearchView(detail()).best).toEqual({ trial: 1, params: { lr: 0.001 }, value: 0.4, epoch: 8, finished: true });
    const none = detail();
    none.trials = none.trials.slice(2);
    expect(toSweepSearchView(none).best).toMatchObject({ trial: 3, value: 0.1, finished: false });
  });

  it('summarises the rungs and the epochs used against every trial to the end', () => {
    const view = toSweepSearchView(detail());
    expect(view.rungs).toEqual([
      { rung: 1, decided: 3, stopped: 1, cutoff: 1 },
      { rung: 3, decided: 0, stopped: 0, cutoff: null },
    ]);
    expect(view.gpuEpochs).toEqual({ used: 9 * 4 + 1 + 0 + 2 + 3, full: 5 * 2 * 9 });
  });
});
