// `finetune make-dataset DIR`: writes the procedural ants-vs-bees demo dataset (hymenoptera layout)
// for trying the fleet without downloading anything.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { generateDemoDataset } from '@fleet/training/data/index.js';
import type { DemoDatasetOptions, DemoDatasetSummary } from '@fleet/training/data/index.js';
import { CliError, ExitCode } from '../cli-error.js';

/** Commander parser for a non-negative integer option. */
function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

export interface MakeDatasetCommandOptions {
  seed?: number;
  trainPerClass?: number;
  valPerClass?: number;
  imageSize?: number;
  /** Replace an existing dataset in DIR. Default false */
  force?: boolean;
}

export async function makeDatasetCommand(dir: string, options: MakeDatasetCommandOptions = {}): Promise<{ summary: DemoDatasetSummary; text: string }> {
  const gen: DemoDatasetOptions = { seed: options.seed, trainPerClass: options.trainPerClass, valPerClass: options.valPerClass, imageSize: options.imageSize, overwrite: options.force };
  let summary: DemoDatasetSummary;
  try {
    summary = await generateDemoDataset(dir, gen);
  } catch (err) {
    if (err instanceof RangeError || (err instanceof Error && /already holds a dataset/.test(err.message))) {
      throw new CliError(`${err.message}${/already holds/.test(err.message) ? ' (--force replaces it)' : ''}`, ExitCode.Usage);
    }
    throw err;
  }
  const count = (split: Record<string, number>): string => Object.entries(split).map(([c, n]) => `${n} ${c}`).join(' + ');
  const text =
    `wrote ${summary.files} images (${(summary.bytes / 1024).toFixed(0)} KiB, ${summary.imageSize}x${summary.imageSize} JPEG, seed ${summary.seed}) to ${dir}\n` +
    `  train: ${count(summary.train)}\n  val:   ${count(summary.val)}\n`;
  return { summary, text };
}

export function registerMakeDatasetCommand(program: Command): void {
  program
    .command('make-dataset')
    .description('generate the procedural ants-vs-bees demo dataset (train/ and val/ in hymenoptera layout)')
    .argument('<dir>', 'output folder')
    .option('--seed <n>', 'random seed (default 0)', integer)
    .option('--train-per-class <n>', 'training images per class (default 60)', integer)
    .option('--val-per-class <n>', 'validation images per class (default 40)', integer)
    .option('--image-size <n>', 'image side in pixels (default 96)', integer)
    .option('--force', 'replace an existing dataset in DIR')
    .action(async (dir: string, opts: MakeDatasetCommandOptions) => {
      process.stdout.write((await makeDatasetCommand(dir, opts)).text);
    });
}
