// The payload and result of a train-experiment job. The payload is plain JSON (BullMQ stores it in
// Redis); parseTrainJobData re-validates it with the same rules the API applied, because anything
// could have written to the queue. The worker wraps its error in BullMQ's UnrecoverableError.
import { validateExperimentConfig, type ExperimentConfigData, type FieldError } from './experiment-config.js';

export interface TrainJobData {
  /** Experiment row id; also the BullMQ job id, which makes enqueueing idempotent. */
  experimentId: string;
  /** Complete configuration (defaults already applied by the API). */
  config: ExperimentConfigData;
}

export interface TrainJobResult {
  experimentId: string;
  epochsDone: number;
  bestValAcc: number | null;
  bestEpoch: number | null;
  finalValAcc: number | null;
  /** Set when the run stopped because it was cancelled. */
  cancelled?: boolean;
  /** Set when the sweep's early stopping ended the run: the rung, its value, cutoff and how many it was compared with. */
  stopped?: { rung: number; value: number; cutoff: number; compared: number };
}

export class InvalidTrainJobError extends Error {
  override name = 'InvalidTrainJobError';
  constructor(readonly errors: FieldError[]) {
    super(`invalid train job payload: ${errors.map((e) => `${e.field}: ${e.reason}`).join('; ')}`);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Validates a job payload; throws InvalidTrainJobError naming every bad field. */
export function parseTrainJobData(raw: unknown): TrainJobData {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidTrainJobError([{ field: 'data', reason: 'job data must be an object' }]);
  const { experimentId, config, ...rest } = raw as Record<string, unknown>;
  const errors: FieldError[] = Object.keys(rest).map((field) => ({ field, reason: `${field} should not exist` }));
  if (typeof experimentId !== 'string' || !UUID.test(experimentId)) errors.push({ field: 'experimentId', reason: 'experimentId must be a UUID' });
  errors.push(...validateExperimentConfig(config).map((e) => ({ field: e.field === 'config' ? 'config' : `config.${e.field}`, reason: e.reason })));
  if (errors.length > 0) throw new InvalidTrainJobError(errors);
  return { experimentId: experimentId as string, config: config as ExperimentConfigData };
}
