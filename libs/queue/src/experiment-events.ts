// Live events of one experiment, as written by workers to its Redis Stream (field "data" holds the
// JSON) and relayed by the API as Server-Sent Events (SSE event name = type).
import type { BatchProgress, EpochMetrics } from '@fleet/training/contracts.js';

export type ExperimentStatusName = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'stopped';

export interface StatusEvent {
  type: 'status';
  experimentId: string;
  status: ExperimentStatusName;
  workerId?: string;
  backend?: string;
  error?: string;
  at: string;
}

export interface ProgressEvent extends BatchProgress {
  type: 'progress';
  experimentId: string;
}

export interface EpochEvent {
  type: 'epoch';
  experimentId: string;
  metrics: EpochMetrics;
}

export type ExperimentEvent = StatusEvent | ProgressEvent | EpochEvent;
