// `finetune submit`: queue one experiment from flags, or an experiment or sweep described in a YAML
// or JSON file ({name, base, grid} or {name, base, method, parameters, ...} is a sweep, anything
// else an experiment). Flags given with a file
// override its values (in the sweep's base). Validation is the API's: a 400 exits with code 2 and
// names the field.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import yaml from 'js-yaml';
import { parseWeightsFrom } from '@fleet/queue/weights-source.js';
import { CliError, ExitCode } from '../cli-error.js';
import { clientFromOptions, withApiOptions } from '../api-client.js';
import { watch } from './watch.command.js';

interface SubmitFlags {
  api?: string;
  apiKey?: string;
  file?: string;
  name?: string;
  dataset?: string;
  strategy?: string;
  weights?: string;
  weightsFrom?: string;
  epochs?: string;
  batchSize?: string;
  lr?: string;
  lrFactor?: string;
  momentum?: string;
  stepSize?: string;
  gamma?: string;
  imageSize?: string;
  seed?: string;
  priority?: string;
  json?: boolean;
  watch?: boolean;
}

const NUMERIC: readonly (keyof SubmitFlags & string)[] = ['epochs', 'batchSize', 'lr', 'lrFactor', 'momentum', 'stepSize', 'gamma', 'imageSize', 'seed', 'priority'];
const FLAG_NAMES: Record<string, string> = { batchSize: '--batch-size', lrFactor: '--lr-factor', stepSize: '--step-size', imageSize: '--image-size' };

/**
 * The experiment fields set by flags, numbers parsed; a value that is not a number is a usage error.
 * --weights-from ID[:best|final] becomes weights {experiment, epoch} (a chained run).
 */
export function fieldsFromFlags(flags: SubmitFlags): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const key of ['name', 'dataset', 'strategy', 'weights'] as const) {
    const v = flags[key];
    if (v !== undefined) fields[key] = v;
  }
  if (flags.weightsFrom !== undefined) {
    if (flags.weights !== undefined) throw new CliError('give either --weights FILE or --weights-from ID, not both', ExitCode.Usage);
    try {
      fields['weights'] = parseWeightsFrom(flags.weightsFrom);
    } catch (err) {
      throw new CliError(err instanceof Error ? err.message : String(err), ExitCode.Usage);
    }
  }
  for (const key of NUMERIC) {
    const raw = flags[key];
    if (raw === undefined || typeof raw !== 'string') continue;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) throw new CliError(`${FLAG_NAMES[key] ?? `--${key}`} must be a number (got "${raw}")`, ExitCode.Usage);
    fields[key] = value;
  }
  return fields;
}

async function readSpec(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, ExitCode.Usage);
  }
  let parsed: unknown;
  try {
    parsed = /\.json$/i.test(file) ? JSON.parse(text) : yaml.load(text);
  } catch (err) {
    throw new CliError(`${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, ExitCode.Usage);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError(`${file} must hold an object (an experiment, or a sweep {name, base, grid})`, ExitCode.Usage);
  return parsed as Record<string, unknown>;
}

export function registerSubmitCommand(program: Command): void {
  withApiOptions(
    program
      .command('submit')
      .description('queue an experiment (from flags) or an experiment or sweep (from -f FILE, YAML or JSON)')
      .option('-f, --file <path>', 'experiment, or sweep {name, base, grid} or {name, base, method, parameters, ...} (see examples/tutorial-sweep.yaml), as YAML or JSON')
      .option('--name <name>', 'label shown in listings')
      .option('--dataset <name>', 'dataset folder under DATA_ROOT (ImageFolder layout: train/ and val/)')
      .option('--strategy <strategy>', 'scratch | finetune | freeze | zero-lr | group-lr | linear-probe')
      .option('--weights <file>', 'pretrained .pth under WEIGHTS_ROOT (all strategies but scratch)')
      .option('--weights-from <id[:best|final]>', "start from a succeeded run's model (its backbone; a new head for this dataset's classes); default :best")
      .option('--epochs <n>', 'epochs (default 25)')
      .option('--batch-size <n>', 'batch size (default 16)')
      .option('--lr <x>', 'learning rate (default 0.001)')
      .option('--lr-factor <x>', 'group-lr: backbone lr factor (default 0.1)')
      .option('--momentum <x>', 'SGD momentum (default 0.9)')
      .option('--step-size <n>', 'StepLR step in epochs (default 7)')
      .option('--gamma <x>', 'StepLR factor (default 0.1)')
      .option('--image-size <n>', 'network input side (default 224)')
      .option('--seed <n>', 'random seed (default 0)')
      .option('--priority <n>', 'queue priority (higher runs first)')
      .option('--json', 'print the API response as JSON')
      .option('--watch', 'follow the submitted runs until they end (exit 1 if any did not succeed)'),
  ).action(async (flags: SubmitFlags) => {
    const fields = fieldsFromFlags(flags);
    const client = clientFromOptions(flags);
    const spec = flags.file ? await readSpec(flags.file) : undefined;
    let id: string;
    if (spec && ('grid' in spec || 'method' in spec)) {
      const base = { ...((spec.base as Record<string, unknown> | undefined) ?? {}) };
      const { name, ...rest } = fields;
      const body = { ...spec, base: { ...base, ...rest }, ...(name !== undefined ? { name } : {}) };
      const sweep = await client.createSweep(body);
      id = sweep.id;
      const searched = 'method' in spec ? ` (${String(spec.method)} search: more are queued as these end, within its budget)` : '';
      process.stdout.write(flags.json ? `${JSON.stringify(sweep, null, 2)}\n` : `submitted sweep ${sweep.id}: ${sweep.count} experiment${sweep.count === 1 ? '' : 's'} queued${searched}\n`);
    } else {
      const body = { ...(spec ?? {}), ...fields };
      if (body.dataset === undefined || body.strategy === undefined) {
        throw new CliError('give --dataset and --strategy (or -f FILE with an experiment or a sweep)', ExitCode.Usage);
      }
      const exp = await client.createExperiment(body);
      id = exp.id;
      process.stdout.write(flags.json ? `${JSON.stringify(exp, null, 2)}\n` : `submitted experiment ${exp.id}: ${exp.strategy} on ${exp.dataset}, ${exp.status}\n`);
    }
    if (flags.watch) {
      const result = await watch(client, id);
      if (!result.allSucceeded) throw new CliError(`${result.total - result.counts.succeeded - result.counts.stopped} of ${result.total} did not succeed`, ExitCode.Failure);
    } else if (!flags.json) {
      process.stdout.write(`follow it: finetune watch ${id}\n`);
    }
  });
}
