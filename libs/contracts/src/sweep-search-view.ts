// The searched part of GET /api/sweeps/:id as it crosses the wire (API -> CLI, dashboard): one
// definition, so the shapes cannot drift.
import type { CategoricalValue, StopReason, SweepSearchSpec } from './sweep-search.js';

export const TRIAL_STATUSES = ['queued', 'running', 'succeeded', 'stopped', 'failed', 'cancelled'] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];

/** One cell (seed) of a trial. */
export interface TrialCellView {
  id: string;
  seed: number;
  status: string;
  epochsDone: number;
  epochs: number;
  /** Best value of the sweep's metric over its stored epochs, and the epoch it came at. */
  best: number | null;
  bestEpoch: number | null;
  stopReason: StopReason | null;
}

export interface TrialView {
  index: number;
  params: Record<string, CategoricalValue>;
  status: TrialStatus;
  /** Mean over its cells of their best metric value; null before any epoch. */
  value: number | null;
  stopReason: StopReason | null;
  cells: TrialCellView[];
}

/** One ASHA rung: how many trials it judged, how many it stopped, the latest cutoff. */
export interface RungView {
  rung: number;
  decided: number;
  stopped: number;
  /** Cutoff of the latest decision that had one (null while the rung had < minRunsAtRung values). */
  cutoff: number | null;
}

export interface BestSoFar {
  trial: number;
  params: Record<string, CategoricalValue>;
  value: number;
  /** Epoch of the best cell's best value (1-based). */
  epoch: number | null;
  /** True when chosen among finished trials; false while none has finished (best of those running). */
  finished: boolean;
}

export interface SweepSearchView {
  spec: SweepSearchSpec;
  state: 'running' | 'finished' | 'cancelled';
  trialsCreated: number;
  trialCounts: Record<TrialStatus, number>;
  trials: TrialView[];
  rungs: RungView[];
  best: BestSoFar | null;
  /** Epochs trained over all cells, vs running every handed-out trial's cells to their last epoch. */
  gpuEpochs: { used: number; full: number };
}
