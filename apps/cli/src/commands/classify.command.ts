// `finetune classify`: ImageNet-head predictions of a torchvision resnet18 .pth for some images,
// with the val transform (Resize(round(S*256/224)) + CenterCrop(S) + Normalize) in eval mode,
// i.e. what `model.eval(); model(val_transform(img))` gives in PyTorch. `--json` prints one
// object per image with all logits, for comparing against torch.
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { BACKENDS } from '@fleet/training/contracts.js';
import { CliError, ExitCode } from '../cli-error.js';

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

export interface ClassifyCommandOptions {
  weights: string;
  /** Default 5 */
  topk?: number;
  /** Default false */
  json?: boolean;
  /** Default 224 */
  imageSize?: number;
  /** Default 'auto' */
  backend?: (typeof BACKENDS)[number] | 'auto';
}

export interface Classification {
  image: string;
  logits: number[];
  topk: { index: number; probability: number; logit: number }[];
}

const BATCH = 8;

export async function classifyCommand(images: string[], opts: ClassifyCommandOptions): Promise<Classification[]> {
  const training = await import('@fleet/training');
  const { tf } = await import('@fleet/training/backend/tf.js');
  const size = opts.imageSize ?? 224;
  const k = Math.min(opts.topk ?? 5, training.IMAGENET_CLASSES);
  await training.initBackend(opts.backend ?? 'auto');
  let sd;
  try {
    sd = await training.loadStateDict(opts.weights);
  } catch (e) {
    if (e instanceof training.WeightsError) throw new CliError(e.message, ExitCode.Usage);
    throw e;
  }
  let model;
  try {
    model = training.modelFromStateDict(sd, opts.weights);
  } catch (e) {
    if (e instanceof training.StateDictMismatchError) throw new CliError(e.message, ExitCode.Usage);
    throw e;
  }
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
        const row = Array.from(values.subarray(i * training.IMAGENET_CLASSES, (i + 1) * training.IMAGENET_CLASSES));
        const max = Math.max(...row);
        const exps = row.map((v) => Math.exp(v - max));
        const total = exps.reduce((a, b) => a + b, 0);
        const order = row.map((_, j) => j).sort((a, b) => row[b]! - row[a]!);
        results.push({ image, logits: row, topk: order.slice(0, k).map((index) => ({ index, probability: exps[index]! / total, logit: row[index]! })) });
      });
    }
  } finally {
    model.dispose();
  }
  return results;
}

export function registerClassifyCommand(program: Command): void {
  program
    .command('classify')
    .description('ImageNet top-k predictions of a torchvision resnet18 .pth (val transform, eval mode)')
    .requiredOption('--weights <file>', 'torchvision resnet18 .pth with its 1000-class head')
    .option('--topk <n>', 'predictions per image (default 5)', positiveInt)
    .option('--json', 'one JSON object per image, with all 1000 logits')
    .option('--image-size <n>', 'network input side (default 224)', positiveInt)
    .addOption(new Option('--backend <b>', 'TensorFlow.js backend').choices(['auto', ...BACKENDS]).default('auto'))
    .argument('<image...>', 'image files')
    .action(async (images: string[], opts: ClassifyCommandOptions) => {
      for (const r of await classifyCommand(images, opts)) {
        if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
        else process.stdout.write(`${r.image}\n${r.topk.map((t) => `  class ${String(t.index).padStart(3)}  p=${t.probability.toFixed(4)}  logit ${t.logit.toFixed(3)}`).join('\n')}\n`);
      }
    });
}
