// torchvision state_dict <-> our ResNet18 variables. torch keys and layouts (conv OIHW, fc
// [out, in]) on one side, ours (conv HWIO, fc [in, out]) on the other. Loading is strict like
// torch's load_state_dict(strict=True): a missing key, an unexpected key or a shape mismatch is an
// error naming the file and every offending key at once.
import { tf } from '../backend/tf.js';
import type { StateDict, StateTensor } from '../weights/index.js';
import { ResNet18 } from './resnet18.js';
import { IMAGENET_CLASSES, stateKeys } from './resnet18-spec.js';

export class StateDictMismatchError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: not a torchvision resnet18 state_dict: ${problems.join('; ')}`);
    this.name = 'StateDictMismatchError';
  }
}

function floats(t: StateTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  return Float32Array.from(t.data as ArrayLike<number | bigint>, Number);
}

/** Throws StateDictMismatchError unless `sd` has exactly resnet18's keys and shapes. */
export function checkStateDict(sd: StateDict, source: string, numClasses = IMAGENET_CLASSES): void {
  const expected = stateKeys(numClasses);
  const problems: string[] = [];
  const missing = expected.filter((k) => !sd.has(k.key)).map((k) => k.key);
  if (missing.length) problems.push(`missing keys ${missing.join(', ')}`);
  const known = new Set(expected.map((k) => k.key));
  const unexpected = [...sd.keys()].filter((k) => !known.has(k));
  if (unexpected.length) problems.push(`unexpected keys ${unexpected.slice(0, 20).join(', ')}${unexpected.length > 20 ? ` (+${unexpected.length - 20} more)` : ''}`);
  for (const k of expected) {
    const t = sd.get(k.key);
    if (!t) continue;
    // num_batches_tracked is a 0-d tensor in torch >= 0.4.1 and absent earlier; accept any size 1.
    const size = t.shape.reduce((a, b) => a * b, 1);
    const ok = k.key.endsWith('num_batches_tracked') ? size === 1 : t.shape.length === k.shape.length && t.shape.every((d, i) => d === k.shape[i]);
    if (!ok) problems.push(`${k.key} has shape [${t.shape.join(', ')}], expected [${k.shape.join(', ')}]`);
    if (!k.key.endsWith('num_batches_tracked') && !t.dtype.startsWith('float') && t.dtype !== 'bfloat16') problems.push(`${k.key} has dtype ${t.dtype}`);
  }
  if (problems.length) throw new StateDictMismatchError(source, problems);
}

/**
 * A model holding `sd`'s weights (1000-class head when sd is an ImageNet checkpoint). Older
 * torchvision files lack num_batches_tracked; it is then 0.
 */
export function modelFromStateDict(sd: StateDict, source: string): ResNet18 {
  const fc = sd.get('fc.weight');
  const numClasses = fc && fc.shape.length === 2 ? fc.shape[0]! : IMAGENET_CLASSES;
  // Old checkpoints without num_batches_tracked are fine: fill them in before the strict check.
  const complete = new Map(sd);
  for (const k of stateKeys(numClasses)) {
    if (k.key.endsWith('num_batches_tracked') && !complete.has(k.key)) complete.set(k.key, { shape: [], dtype: 'int64', data: new BigInt64Array(1) });
  }
  checkStateDict(complete, source, numClasses);
  const model = new ResNet18(numClasses);
  for (const [name] of model.convs) model.setConvFromOihw(name, floats(complete.get(`${name}.weight`)!));
  for (const [name, bn] of model.bns) {
    tf.tidy(() => {
      bn.weight.assign(tf.tensor1d(floats(complete.get(`${name}.weight`)!)));
      bn.bias.assign(tf.tensor1d(floats(complete.get(`${name}.bias`)!)));
      bn.runningMean.assign(tf.tensor1d(floats(complete.get(`${name}.running_mean`)!)));
      bn.runningVar.assign(tf.tensor1d(floats(complete.get(`${name}.running_var`)!)));
    });
    bn.numBatchesTracked = Number((complete.get(`${name}.num_batches_tracked`)!.data as ArrayLike<number | bigint>)[0] ?? 0);
  }
  model.setHead(floats(complete.get('fc.weight')!), floats(complete.get('fc.bias')!), numClasses);
  return model;
}

/**
 * The model's state in torchvision's keys, order and layouts (reads every weight back, with data():
 * the webgpu backend cannot read synchronously in Node).
 */
export async function exportStateDict(model: ResNet18): Promise<StateDict> {
  const sd: StateDict = new Map();
  /** reads `t`; disposes it afterwards when `owned` (a temporary made here) */
  const f32 = async (t: tf.Tensor, owned = false): Promise<StateTensor> => {
    try {
      return { shape: t.shape.slice(), dtype: 'float32', data: (await t.data()) as Float32Array };
    } finally {
      if (owned) t.dispose();
    }
  };
  for (const k of stateKeys(model.numClasses)) {
    const [prefix, field] = [k.key.slice(0, k.key.lastIndexOf('.')), k.key.slice(k.key.lastIndexOf('.') + 1)];
    if (k.kind === 'conv') {
      sd.set(k.key, await f32(tf.tidy(() => tf.transpose(model.convs.get(prefix)!, [3, 2, 0, 1])), true));
    } else if (k.kind === 'fc') {
      if (field === 'weight') sd.set(k.key, await f32(tf.tidy(() => tf.transpose(model.fcWeight)), true));
      else sd.set(k.key, await f32(model.fcBias));
    } else {
      const bn = model.bns.get(prefix)!;
      if (field === 'num_batches_tracked') sd.set(k.key, { shape: [], dtype: 'int64', data: BigInt64Array.of(BigInt(bn.numBatchesTracked)) });
      else sd.set(k.key, await f32({ weight: bn.weight, bias: bn.bias, running_mean: bn.runningMean, running_var: bn.runningVar }[field as 'weight']));
    }
  }
  return sd;
}
