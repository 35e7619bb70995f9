// `finetune train`: runs one training locally, without the queue: same engine, same metrics as a
// fleet worker. A progress bar per epoch on a TTY; `--json` prints one JSON line per epoch (and
// nothing else on stdout). Ctrl-C stops within one batch, keeps the last epoch's checkpoint.
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { BACKENDS, STRATEGIES, TRAIN_DEFAULTS, type BatchProgress, type EpochMetrics, type Strategy, type TrainHyperparams } from '@fleet/training/contracts.js';
import { CliError, ExitCode } from '../cli-error.js';

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
}

export interface TrainCommandOptions {
  data: string;
  strategy: Strategy;
  weights?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  lrFactor?: number;
  momentum?: number;
  imageSize?: number;
  seed?: number;
  /** Default 'auto' */
  backend?: (typeof BACKENDS)[number] | 'auto';
  checkpointDir?: string;
  /** Default false */
  resume?: boolean;
  /** Default false */
  json?: boolean;
}

export function formatEpoch(m: EpochMetrics, epochs: number): string {
  const lrs = m.lrs.map((l) => l.toPrecision(3)).join('/');
  return (
    `epoch ${m.epoch}/${epochs}  train loss ${m.trainLoss.toFixed(4)} acc ${m.trainAcc.toFixed(4)}  ` +
    `val loss ${m.valLoss.toFixed(4)} acc ${m.valAcc.toFixed(4)}  lr ${lrs}  ${m.seconds.toFixed(1)}s  ${m.imagesPerSec.toFixed(1)} img/s`
  );
}

function progressLine(p: BatchProgress): string {
  const width = 24;
  const bar = '#'.repeat(Math.round((p.batch / p.batches) * width)).padEnd(width, '.');
  return `epoch ${p.epoch} ${p.phase.padEnd(8)} [${bar}] ${p.batch}/${p.batches}${p.phase === 'features' ? '' : `  loss ${p.loss.toFixed(4)}`}`;
}

export async function trainCommand(opts: TrainCommandOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  // Loaded here, not at the top: the rest of the CLI must not pay for TensorFlow.js.
  const training = await import('@fleet/training');
  const hyper: Pick<TrainHyperparams, 'strategy'> & Partial<TrainHyperparams> = { strategy: opts.strategy };
  const set = <K extends keyof TrainHyperparams>(k: K, v: TrainHyperparams[K] | undefined) => {
    if (v !== undefined) hyper[k] = v;
  };
  set('epochs', opts.epochs);
  set('batchSize', opts.batchSize);
  set('lr', opts.lr);
  set('lrFactor', opts.lrFactor);
  set('momentum', opts.momentum);
  set('imageSize', opts.imageSize);
  set('seed', opts.seed);
  const epochs = opts.epochs ?? TRAIN_DEFAULTS.epochs;
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  const tty = err.isTTY === true;
  let drawn = false;
  let lastDraw = 0;
  const clear = () => {
    if (drawn) err.write('\r\x1b[K');
    drawn = false;
  };
  try {
    const result = await training.trainRun({
      datasetDir: opts.data,
      weightsPath: opts.weights,
      hyper,
      backend: opts.backend ?? 'auto',
      checkpointDir: opts.checkpointDir,
      resume: opts.resume ?? false,
      signal: ac.signal,
      log: (line) => err.write(`${line}\n`),
      onStart: (info) => {
        if (!opts.json) {
          err.write(
            `${info.hyper.strategy}: ${info.classes.length} classes (${info.classes.join(', ')}), ${info.trainImages} train / ${info.valImages} val images, ` +
              `${info.trainableParams} trainable parameters${info.startEpoch ? `, resuming after epoch ${info.startEpoch}` : ''}\n`,
          );
        }
      },
      onProgress: (p) => {
        if (!tty) return;
        const now = Date.now();
        if (now - lastDraw < 100 && p.batch < p.batches) return;
        lastDraw = now;
        err.write(`\r\x1b[K${progressLine(p)}`);
        drawn = true;
      },
      onEpoch: (m) => {
        clear();
        out.write(opts.json ? `${JSON.stringify(m)}\n` : `${formatEpoch(m, epochs)}\n`);
      },
    });
    clear();
    if (result.cancelled) {
      err.write(`cancelled after ${result.epochs.length} epoch(s)${opts.checkpointDir ? `; continue with --resume --checkpoint-dir ${opts.checkpointDir}` : ''}\n`);
      return ExitCode.Interrupted;
    }
    if (!opts.json) err.write(`best val acc ${result.bestValAcc.toFixed(4)} at epoch ${result.bestEpoch} (backend ${result.backend.name})\n`);
    return ExitCode.Ok;
  } catch (e) {
    clear();
    const usage = [training.TrainConfigError, training.InsufficientMemoryError, training.DatasetError, training.WeightsError, training.StateDictMismatchError];
    if (usage.some((cls) => e instanceof cls)) throw new CliError((e as Error).message, ExitCode.Usage);
    throw e;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train ResNet18 locally with one strategy and print per-epoch metrics')
    .requiredOption('--data <dir>', 'ImageFolder dataset with train/ and val/')
    .addOption(new Option('--strategy <s>', 'training strategy').choices(STRATEGIES).makeOptionMandatory())
    .option('--weights <file>', 'torchvision resnet18 .pth (required except for scratch)')
    .option('--epochs <n>', `epochs (default ${TRAIN_DEFAULTS.epochs})`, positiveInt)
    .option('--batch-size <n>', `batch size (default ${TRAIN_DEFAULTS.batchSize})`, positiveInt)
    .option('--lr <x>', `learning rate of fc (default ${TRAIN_DEFAULTS.lr})`, nonNegativeNumber)
    .option('--lr-factor <f>', `group-lr: backbone lr = f x lr (default ${TRAIN_DEFAULTS.lrFactor})`, nonNegativeNumber)
    .option('--momentum <m>', `SGD momentum (default ${TRAIN_DEFAULTS.momentum})`, nonNegativeNumber)
    .option('--image-size <n>', `input side in pixels (default ${TRAIN_DEFAULTS.imageSize})`, positiveInt)
    .option('--seed <n>', `random seed (default ${TRAIN_DEFAULTS.seed})`, nonNegativeInt)
    .addOption(new Option('--backend <b>', 'TensorFlow.js backend').choices(['auto', ...BACKENDS]).default('auto'))
    .option('--checkpoint-dir <dir>', 'write a checkpoint after every epoch')
    .option('--resume', 'continue from the checkpoint in --checkpoint-dir')
    .option('--json', 'one JSON object per epoch on stdout')
    .action(async (opts: TrainCommandOptions) => {
      const code = await trainCommand(opts);
      if (code !== 0) throw new CliError('training cancelled', code);
    });
}
