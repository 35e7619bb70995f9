// The one definition of an experiment's configuration and its rules. The API validates HTTP bodies
// (single experiments and every sweep cell) against it, and the worker validates every job payload
// against it again before training starts, so a rule changed here changes at both edges.
// Filesystem checks (does the dataset exist, does a symlink escape DATA_ROOT) are not rules of the
// shape and live in the API; this class only guarantees names cannot address other folders.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsNumber, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateBy, ValidateIf, validateSync, type ValidationError } from 'class-validator';
import { MODEL_EPOCHS, PRETRAINED_STRATEGIES, STRATEGIES, TRAIN_DEFAULTS, type Strategy, type TrainHyperparams } from '@fleet/training/contracts.js';
import type { FieldError } from './field-error.js';
import { checkRunWeights, isWeightsObject, withWeightsDefaults, type WeightsSource } from './weights-source.js';

/**
 * A single path segment: no separators, no NUL, not "." or "..". Unicode is fine. Whether the name
 * exists under its root (and does not escape it through a symlink) is checked by the API.
 */
export const FILE_NAME_PATTERN = /^(?!\.{1,2}$)[^/\\\0]+$/u;

const finite = { allowNaN: false, allowInfinity: false } as const;

/** Largest seed: seeds feed a 32-bit generator (libs/training/src/rng.ts). */
export const MAX_SEED = 2 ** 31 - 1;

/** Every field of a run's configuration, all present (defaults applied). */
export interface ExperimentConfigData extends TrainHyperparams {
  /** Folder name under DATA_ROOT (ImageFolder layout: train/ and val/). */
  dataset: string;
  /**
   * File name under WEIGHTS_ROOT, or a finished run's model ({experiment, epoch}: a chained run);
   * required by PRETRAINED_STRATEGIES.
   */
  weights?: WeightsSource;
}

/** Names of the fields of ExperimentConfigData, in display order. */
export const EXPERIMENT_CONFIG_FIELDS = [
  'dataset',
  'weights',
  'strategy',
  'epochs',
  'batchSize',
  'lr',
  'lrFactor',
  'momentum',
  'weightDecay',
  'stepSize',
  'gamma',
  'imageSize',
  'seed',
] as const satisfies readonly (keyof ExperimentConfigData)[];
export type ExperimentConfigField = (typeof EXPERIMENT_CONFIG_FIELDS)[number];
const CONFIG_FIELD_SET: ReadonlySet<string> = new Set(EXPERIMENT_CONFIG_FIELDS);

/** The first problem of a weights value as a whole; the object form's own fields are checked by checkRunWeights. */
function weightsProblem(value: unknown, strategy: unknown): string | undefined {
  if (value === undefined) return `weights is required by strategy "${String(strategy)}" (it starts from pretrained weights)`;
  if (isWeightsObject(value)) return undefined;
  if (typeof value !== 'string') return 'weights must be a file name under WEIGHTS_ROOT or a run\'s model {experiment, epoch}';
  if (value.length < 1) return 'weights must be longer than or equal to 1 characters';
  if (value.length > 255) return 'weights must be shorter than or equal to 255 characters';
  if (!FILE_NAME_PATTERN.test(value)) return 'weights must be a plain file name (no "/", "\\", NUL, "." or "..")';
  return undefined;
}

/** weights: a plain file name (the string rules as before) or the object form of a chained run. */
function IsWeightsSource() {
  return ValidateBy({
    name: 'isWeightsSource',
    validator: {
      validate: (value, args) => weightsProblem(value, (args?.object as Partial<ExperimentConfig> | undefined)?.strategy) === undefined,
      defaultMessage: (args) => weightsProblem(args?.value, (args?.object as Partial<ExperimentConfig> | undefined)?.strategy) ?? 'weights is invalid',
    },
  });
}

/**
 * A complete experiment configuration with its validation rules. Ranges are what makes sense for
 * the tutorial's SGD + StepLR loop; batchSize starts at 2 because train-mode BatchNorm needs more
 * than one value per channel (PyTorch refuses a batch of 1 once feature maps are 1x1).
 */
export class ExperimentConfig implements ExperimentConfigData {
  @ApiProperty({ description: 'Dataset folder name under DATA_ROOT (a name, not a path)', example: 'hymenoptera_data', maxLength: 255 })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  @Matches(FILE_NAME_PATTERN, { message: '$property must be a plain folder name (no "/", "\\", NUL, "." or "..")' })
  dataset!: string;

  @ApiPropertyOptional({
    description:
      'Starting weights; required by pretrained strategies. Either a .pth file name under WEIGHTS_ROOT, or {experiment, epoch} to start from the model a succeeded run left (its backbone; the fc head is replaced for this dataset\'s classes). epoch: best (default) or final.',
    oneOf: [
      { type: 'string', maxLength: 255, example: 'resnet18-f37072fd.pth' },
      { type: 'object', required: ['experiment'], properties: { experiment: { type: 'string', format: 'uuid' }, epoch: { type: 'string', enum: [...MODEL_EPOCHS], default: 'best' } } },
    ],
  })
  @ValidateIf((o: ExperimentConfig) => o.weights !== undefined || PRETRAINED_STRATEGIES.includes(o.strategy))
  @IsWeightsSource()
  weights?: WeightsSource;

  @ApiProperty({ enum: STRATEGIES, description: 'How the backbone is treated' })
  @IsIn(STRATEGIES, { message: `strategy must be one of: ${STRATEGIES.join(', ')}` })
  strategy!: Strategy;

  @ApiProperty({ minimum: 1, maximum: 1000, default: TRAIN_DEFAULTS.epochs })
  @IsInt()
  @Min(1)
  @Max(1000)
  epochs!: number;

  @ApiProperty({ minimum: 2, maximum: 1024, default: TRAIN_DEFAULTS.batchSize, description: 'At least 2: train-mode BatchNorm needs more than one value per channel' })
  @IsInt()
  @Min(2)
  @Max(1024)
  batchSize!: number;

  @ApiProperty({ minimum: 0, exclusiveMinimum: true, maximum: 10, default: TRAIN_DEFAULTS.lr, description: 'fc learning rate (and the backbone one for scratch/finetune)' })
  @IsNumber(finite, { message: '$property must be a finite number' })
  @Min(Number.MIN_VALUE, { message: 'lr must be greater than 0' })
  @Max(10)
  lr!: number;

  @ApiProperty({ minimum: 0, maximum: 1, default: TRAIN_DEFAULTS.lrFactor, description: 'group-lr: backbone lr = lrFactor x lr' })
  @IsNumber(finite, { message: '$property must be a finite number' })
  @Min(0)
  @Max(1)
  lrFactor!: number;

  @ApiProperty({ minimum: 0, maximum: 1, exclusiveMaximum: true, default: TRAIN_DEFAULTS.momentum })
  @IsNumber(finite, { message: '$property must be a finite number' })
  @Min(0)
  @Max(1 - Number.EPSILON, { message: 'momentum must be less than 1' })
  momentum!: number;

  @ApiProperty({ minimum: 0, maximum: 1, default: TRAIN_DEFAULTS.weightDecay })
  @IsNumber(finite, { message: '$property must be a finite number' })
  @Min(0)
  @Max(1)
  weightDecay!: number;

  @ApiProperty({ minimum: 1, maximum: 1000, default: TRAIN_DEFAULTS.stepSize, description: 'StepLR step size in epochs' })
  @IsInt()
  @Min(1)
  @Max(1000)
  stepSize!: number;

  @ApiProperty({ minimum: 0, exclusiveMinimum: true, maximum: 1, default: TRAIN_DEFAULTS.gamma, description: 'StepLR factor' })
  @IsNumber(finite, { message: '$property must be a finite number' })
  @Min(Number.MIN_VALUE, { message: 'gamma must be greater than 0' })
  @Max(1)
  gamma!: number;

  @ApiProperty({ minimum: 16, maximum: 1024, default: TRAIN_DEFAULTS.imageSize })
  @IsInt()
  @Min(16)
  @Max(1024)
  imageSize!: number;

  @ApiProperty({ minimum: 0, maximum: MAX_SEED, default: TRAIN_DEFAULTS.seed })
  @IsInt()
  @Min(0)
  @Max(MAX_SEED)
  seed!: number;
}

/** Assignment would run the "__proto__" setter for such a key; a defined property stays a plain (rejected) field. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The configuration with TRAIN_DEFAULTS filled in for every hyper-parameter left out. */
export function applyExperimentDefaults<T extends Partial<ExperimentConfigData>>(input: T): T & Omit<ExperimentConfigData, 'dataset' | 'strategy'> {
  const out: Record<string, unknown> = { ...TRAIN_DEFAULTS };
  for (const [key, value] of Object.entries(input)) if (value !== undefined) setOwn(out, key, key === 'weights' ? withWeightsDefaults(value) : value);
  return out as T & Omit<ExperimentConfigData, 'dataset' | 'strategy'>;
}

/** Only the configuration fields of a larger object (e.g. a stored experiment row), in field order. */
export function pickExperimentConfig(source: Partial<Record<ExperimentConfigField, unknown>>): ExperimentConfigData {
  const out: Record<string, unknown> = {};
  for (const field of EXPERIMENT_CONFIG_FIELDS) {
    const value = source[field];
    if (value !== undefined && value !== null) setOwn(out, field, value);
  }
  return out as unknown as ExperimentConfigData;
}

export type { FieldError } from './field-error.js';

/** Constraints that say the most about a value, reported first (e.g. "must be an integer" before "must not be greater than 1000"). */
const CONSTRAINT_PRIORITY = ['whitelistValidation', 'unknownValue', 'isDefined', 'isString', 'isNumber', 'isInt', 'isIn', 'isObject', 'isUuid'];

function rank(constraint: string): number {
  const i = CONSTRAINT_PRIORITY.indexOf(constraint);
  return i === -1 ? CONSTRAINT_PRIORITY.length : i;
}

/**
 * Flattens class-validator's tree into one entry per invalid field (its most telling constraint),
 * with dotted paths for nested fields.
 */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const constraints = Object.entries(error.constraints ?? {}).sort(([a], [b]) => rank(a) - rank(b));
    if (constraints[0]) out.push({ field, reason: constraints[0][1] });
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, field));
  }
  return out;
}

/**
 * Validates a complete configuration (no defaults applied, unknown fields rejected).
 * Returns the problems, empty when valid.
 */
export function validateExperimentConfig(raw: unknown): FieldError[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [{ field: 'config', reason: 'config must be an object' }];
  // The fields are flat scalars, so a plain copy does what class-transformer would, at a fraction
  // of its cost (a 1000-cell sweep validates every cell). defineProperty, not assignment, so a
  // "__proto__" key stays a (rejected) own field instead of changing the prototype.
  const instance = new ExperimentConfig();
  for (const [key, value] of Object.entries(raw)) setOwn(instance as unknown as Record<string, unknown>, key, value);
  // class-validator's own whitelist looks names up in a plain object, so "__proto__" and
  // "constructor" slip through it: unknown fields are found here instead.
  const unknown: FieldError[] = Object.keys(raw)
    .filter((key) => !CONFIG_FIELD_SET.has(key))
    .map((field) => ({ field, reason: `property ${field} should not exist` }));
  const known = flattenValidationErrors(validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }));
  // The object form of weights names its own fields (weights.experiment, weights.epoch).
  const weights = (raw as Record<string, unknown>)['weights'];
  const weightsFields = isWeightsObject(weights) ? checkRunWeights(weights) : [];
  return [...unknown, ...known.filter((e) => CONFIG_FIELD_SET.has(e.field)), ...weightsFields];
}
