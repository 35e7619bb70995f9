// `finetune classify`: predictions of a torchvision resnet18 .pth (ImageNet head), or of a fleet
// run's model with its own class names (`--experiment ID`, fetched from the API), for some images,
// with the val transform (Resize(round(S*256/224)) + CenterCrop(S) + Normalize) in eval mode,
// i.e. what `model.eval(); model(val_transform(img))` gives in PyTorch. `--json` prints one
// object per image with all logits, for comparing against torch.
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { BACKENDS } from '@fleet/training/contracts.js';
import type { StateDict } from '@fleet/training/weights/index.js';
import { CliError, ExitCode } from '../cli-error.js';
import { clientFromOptions, withApiOptions } from '../api-client.js';

const MODEL_EPOCHS = ['best', 'final'] as const;

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

export interface ClassifyCommandOptions {
  /** a torchvision resnet18 .pth; exactly one of weights and experiment */
  weights?: string;
  /** a succeeded run whose model (and class names and image size) to use, fetched from the API */
  experiment?: string;
  /** which model of the run. Default 'best' */
  epoch?: string;
  api?: string;
  apiKey?: string;
  /** Default 5 */
  topk?: number;
  /** Default false */
  json?: boolean;
  /** Default: the run's imageSize with --experiment, else 224 */
  imageSize?: number;
  /** Default 'auto' */
  backend?: (typeof BACKENDS)[number] | 'auto';
}

export interface Classification {
  image: string;
  logits: number[];
  topk: { index: number; probability: number; logit: number; label?: string }[];
}

interface ClassifierWeights {
  sd: StateDict;
  source: string;
  classes?: string[];
  imageSize?: number;
}

/** The state dict to classify with: a local .pth, or the model of a run fetched from the API. */
async function classifierWeights(opts: ClassifyCommandOptions, decode: (buf: Uint8Array, source: string) => StateDict, load: (file: string) => Promise<StateDict>): Promise<ClassifierWeights> {
  if ((opts.weights === undefined) === (opts.experiment === undefined)) throw new CliError('give either --weights FILE or --experiment ID', ExitCode.Usage);
  if (opts.weights !== undefined) return { sd: await load(opts.weights), source: opts.weights };
  const epoch = opts.epoch ?? 'best';
  if (!(MODEL_EPOCHS as readonly string[]).includes(epoch)) throw new CliError(`--epoch must be one of ${MODEL_EPOCHS.join(', ')} (got "${epoch}")`, ExitCode.Usage);
  const client = clientFromOptions(opts);
  const experiment = await client.getExperiment(opts.experiment!);
  const model = await client.downloadModel(opts.experiment!, epoch as (typeof MODEL_EPOCHS)[number]);
  const source = `experiment ${opts.experiment!} (${epoch} model, epoch ${model.epochNumber})`;
  return { sd: decode(model.bytes, source), source, classes: model.classes, imageSize: experiment.config.imageSize };
}

const BATCH = 8;

export async function classifyCommand(images: string[], opts: ClassifyCommandOptions): Promise<Classification[]> {
  const training = await import('@fleet/training');
  const { tf } = await import('@fleet/training/backend/tf.js');
  let weights: ClassifierWeights;
  try {
    weights = await classifierWeights(opts, training.decodeStateDict, training.loadStateDict);
  } catch (e) {
    if (e instanceof training.WeightsError) throw new CliError(e.message, ExitCode.Usage);
    throw e;
  }
  const size = opts.imageSize ?? weights.imageSize ?? 224;
  await training.initBackend(opts.backend ?? 'auto');
  let model;
  try {
    model = training.modelFromStateDict(weights.sd, weights.source);
  } catch (e) {
    if (e instanceof training.StateDictMismatchError) throw new CliError(e.message, ExitCode.Usage);
    throw e;
  }
  const numClasses = model.numClasses;
  const k = Math.min(opts.topk ?? 5, numClasses);
  const results: Classification[] = [];
  try {
    for (let start = 0; start < images.length; start += BATCH) {
      const files = images.slice(start, start + BATCH);
      const decoded = await Promise.all(
        files.map((f) =>
          training.decodeImage(f).catch((e: unknown) => {
            throw new CliError(e instanceof Error ? e.message : String(e), ExitCode.Usage);
          }),
        ),
      );
      const per = size * size * 3;
      const buf = new Float32Array(files.length * per);
      decoded.forEach((img, i) => training.valTransform(img, size, buf, i * per));
      const logits = tf.tidy(() => model.forward(tf.tensor4d(buf, [files.length, size, size, 3]), 'eval'));
      const values = (await logits.data()) as Float32Array;
      logits.dispose();
      files.forEach((image, i) => {
        const row = Array.from(values.subarray(i * numClasses, (i + 1) * numClasses));
        const max = Math.max(...row);
        const exps = row.map((v) => Math.exp(v - max));
        const total = exps.reduce((a, b) => a + b, 0);
        const order = row.map((_, j) => j).sort((a, b) => row[b]! - row[a]!);
        results.push({ image, logits: row, topk: order.slice(0, k).map((index) => ({ index, probability: exps[index]! / total, logit: row[index]!, ...(weights.classes ? { label: weights.classes[index] ?? String(index) } : {}) })) });
      });
    }
  } finally {
    model.dispose();
  }
  return results;
}

export function registerClassifyCommand(program: Command): void {
  withApiOptions(program.command('classify'))
    .description("top-k predictions of a torchvision resnet18 .pth, or of a fleet run's model with its class names (val transform, eval mode)")
    .option('--weights <file>', 'torchvision resnet18 .pth (e.g. with its 1000-class ImageNet head)')
    .option('--experiment <id>', "a succeeded run's model, fetched from the API, with the run's class names and image size")
    .option('--epoch <which>', 'with --experiment: best (default) or final')
    .option('--topk <n>', 'predictions per image (default 5)', positiveInt)
    .option('--json', 'one JSON object per image, with all logits')
    .option('--image-size <n>', "network input side (default: the run's, else 224)", positiveInt)
    .addOption(new Option('--backend <b>', 'TensorFlow.js backend').choices(['auto', ...BACKENDS]).default('auto'))
    .argument('<image...>', 'image files')
    .action(async (images: string[], opts: ClassifyCommandOptions) => {
      for (const r of await classifyCommand(images, opts)) {
        if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
        else process.stdout.write(`${r.image}\n${r.topk.map((t) => `  ${t.label ?? `class ${String(t.index).padStart(3)}`}  p=${t.probability.toFixed(4)}  logit ${t.logit.toFixed(3)}`).join('\n')}\n`);
      }
    });
}
