// Default BullMQ options of a train-experiment job. The API adds jobs with them; the worker's
// failure handling assumes them (retryable errors back off exponentially, unrecoverable ones fail
// at once through UnrecoverableError).
import type { JobsOptions } from 'bullmq';

/** Attempts of one train-experiment job before it is failed for good. */
export const TRAIN_JOB_ATTEMPTS = 3;

/** First retry delay; doubled on each further attempt (exponential backoff). */
export const TRAIN_JOB_BACKOFF_MS = 2_000;

/**
 * Options for `queue.add(JobName.TrainExperiment, data, { ...DEFAULT_TRAIN_JOB_OPTIONS, jobId: experimentId })`.
 * The job id should be the experiment id so a duplicate enqueue is a no-op and cancel can find it.
 */
export const DEFAULT_TRAIN_JOB_OPTIONS = Object.freeze({
  attempts: TRAIN_JOB_ATTEMPTS,
  backoff: { type: 'exponential', delay: TRAIN_JOB_BACKOFF_MS },
  // Finished jobs live on in Postgres; keep Redis small but leave recent ones for Bull Board.
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
} satisfies JobsOptions);
