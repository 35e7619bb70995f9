// Where a run's starting weights come from: a file name under WEIGHTS_ROOT (the original string
// form, unchanged) or the model another run of the fleet left, `{experiment, epoch}` (a chained
// run: the parent's backbone, a fresh head for the new dataset). The shape rules live here so the
// API (bodies, sweep cells) and the worker (job payloads) apply the same ones; whether the parent
// exists, has succeeded and still has its model file is for the API and the worker to find out.
import { MODEL_EPOCHS, type ModelEpoch } from '@fleet/training/contracts.js';
import type { FieldError } from './field-error.js';

/** The model file of a finished run, as a job payload carries it (epoch always present). */
export interface RunWeights {
  /** id of the parent experiment */
  experiment: string;
  /** which of its models; default best */
  epoch: ModelEpoch;
}

/** A file name under WEIGHTS_ROOT, or a parent run's model. */
export type WeightsSource = string | RunWeights;

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const RUN_WEIGHTS_KEYS: ReadonlySet<string> = new Set(['experiment', 'epoch']);

/** The object form (its fields not checked yet: see checkRunWeights). */
export function isWeightsObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The problems of the object form `{experiment, epoch?}`, each naming `<field>.experiment`,
 * `<field>.epoch` or `<field>.<unknown key>`; empty when the shape is right.
 */
export function checkRunWeights(value: Record<string, unknown>, field = 'weights'): FieldError[] {
  const errors: FieldError[] = Object.keys(value)
    .filter((key) => !RUN_WEIGHTS_KEYS.has(key))
    .map((key) => ({ field: `${field}.${key}`, reason: `${field}.${key} should not exist (a run's weights are {experiment, epoch})` }));
  const { experiment, epoch } = value;
  if (experiment === undefined) errors.push({ field: `${field}.experiment`, reason: `${field}.experiment is required: the id of a succeeded run whose model to start from` });
  else if (typeof experiment !== 'string' || !UUID_PATTERN.test(experiment)) errors.push({ field: `${field}.experiment`, reason: `${field}.experiment must be an experiment id (a UUID)` });
  if (epoch !== undefined && (typeof epoch !== 'string' || !(MODEL_EPOCHS as readonly string[]).includes(epoch))) {
    errors.push({ field: `${field}.epoch`, reason: `${field}.epoch must be one of ${MODEL_EPOCHS.join(', ')}` });
  }
  return errors;
}

/** The object form with its default filled in (epoch best); strings and anything else unchanged. */
export function withWeightsDefaults(value: unknown): unknown {
  if (!isWeightsObject(value) || value['epoch'] !== undefined) return value;
  return { ...value, epoch: 'best' };
}

/** "resnet18.pth" or "run <id> (best)", for logs and messages. */
export function describeWeights(weights: WeightsSource): string {
  return typeof weights === 'string' ? weights : `run ${weights.experiment} (${weights.epoch})`;
}

/**
 * Parses the CLI's `--weights-from ID[:best|final]` into the object form; throws a message naming
 * the option when it is malformed.
 */
export function parseWeightsFrom(text: string, option = '--weights-from'): RunWeights {
  const [experiment = '', epoch, ...rest] = text.split(':');
  if (rest.length > 0 || !UUID_PATTERN.test(experiment)) throw new Error(`${option} must be an experiment id, optionally followed by :best or :final (got "${text}")`);
  if (epoch !== undefined && !(MODEL_EPOCHS as readonly string[]).includes(epoch)) throw new Error(`${option}: the epoch after ":" must be one of ${MODEL_EPOCHS.join(', ')} (got "${epoch}")`);
  return { experiment, epoch: (epoch as ModelEpoch | undefined) ?? 'best' };
}
