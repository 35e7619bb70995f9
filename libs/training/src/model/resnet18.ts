// torchvision's ResNet18 in TensorFlow.js core ops, NHWC. Built from tf.conv2d etc. rather than
// tf.layers so padding, BatchNorm and gradients are exactly PyTorch's: explicit symmetric padding
// (never TF 'same', which pads asymmetrically for stride 2), max-pool padding that never wins
// (inputs are post-ReLU), BatchNorm as in batch-norm.ts. Weights are held as tf.Variables in our
// layouts (conv HWIO, fc [in, out]); state-dict-mapping.ts converts from/to torch layouts.
import { tf } from '../backend/tf.js';
import type { Rng } from '../rng.js';
import { BN_EPS, batchNormTrain, type BatchNormState } from './batch-norm.js';
import { ALL_BNS, ALL_CONVS, BLOCKS, FEATURE_DIM, STEM, type BnSpec, type ConvSpec } from './resnet18-spec.js';

/**
 * 'train': batch statistics, running stats updated (PyTorch model.train()).
 * 'eval': running statistics (model.eval()).
 */
export type ForwardMode = 'train' | 'eval';

export class ResNet18 {
  /** conv weights by torch key prefix, HWIO */
  readonly convs = new Map<string, tf.Variable<tf.Rank.R4>>();
  readonly bns = new Map<string, BatchNormState>();
  fcWeight: tf.Variable<tf.Rank.R2>;
  fcBias: tf.Variable<tf.Rank.R1>;
  private readonly foldCache = new Map<string, { sources: object[]; filter: tf.Tensor4D; bias: tf.Tensor1D }>();

  /** Zero-filled model of the right shapes; fill it with initScratch or loadStateDict. */
  constructor(numClasses: number) {
    for (const c of ALL_CONVS) this.convs.set(c.name, ownedVariable(tf.zeros([c.kernel, c.kernel, c.inChannels, c.outChannels]), true));
    for (const b of ALL_BNS) {
      this.bns.set(b.name, {
        weight: ownedVariable(tf.ones([b.channels]), true),
        bias: ownedVariable(tf.zeros([b.channels]), true),
        runningMean: ownedVariable(tf.zeros([b.channels]), false),
        runningVar: ownedVariable(tf.ones([b.channels]), false),
        numBatchesTracked: 0,
      });
    }
    this.fcWeight = ownedVariable(tf.zeros([FEATURE_DIM, numClasses]), true);
    this.fcBias = ownedVariable(tf.zeros([numClasses]), true);
  }

  get numClasses(): number {
    return this.fcBias.shape[0];
  }

  /** Global-average-pooled features [N, 512] of NHWC images. */
  features(x: tf.Tensor4D, mode: ForwardMode): tf.Tensor2D {
    return tf.tidy(() => {
      let h = this.convBnRelu(x, STEM.conv, STEM.bn, mode, true);
      h = tf.maxPool(h, 3, 2, 1);
      for (const block of BLOCKS) {
        const identity = block.downsample ? this.convBn(h, block.downsample.conv, block.downsample.bn, mode) : h;
        const out = this.convBnRelu(h, block.conv1, block.bn1, mode, true);
        h = this.convBn(out, block.conv2, block.bn2, mode, true, identity);
      }
      return tf.mean(h, [1, 2]) as tf.Tensor2D;
    });
  }

  head(features: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(features, this.fcWeight), this.fcBias));
  }

  forward(x: tf.Tensor4D, mode: ForwardMode): tf.Tensor2D {
    return tf.tidy(() => this.head(this.features(x, mode)));
  }

  /** Learnable backbone parameters: conv weights and BatchNorm weight/bias. */
  backboneVariables(): tf.Variable[] {
    return [...this.convs.values(), ...[...this.bns.values()].flatMap((b) => [b.weight, b.bias])];
  }

  headVariables(): tf.Variable[] {
    return [this.fcWeight, this.fcBias];
  }

  bnStatVariables(): tf.Variable[] {
    return [...this.bns.values()].flatMap((b) => [b.runningMean, b.runningVar]);
  }

  /** Every variable under its torch state_dict key (our layouts); for checkpoints. */
  namedVariables(): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    for (const [name, v] of this.convs) out.push([`${name}.weight`, v]);
    for (const [name, b] of this.bns) {
      out.push([`${name}.weight`, b.weight], [`${name}.bias`, b.bias], [`${name}.running_mean`, b.runningMean], [`${name}.running_var`, b.runningVar]);
    }
    out.push(['fc.weight', this.fcWeight], ['fc.bias', this.fcBias]);
    return out;
  }

  /** torchvision's init: conv kaiming_normal_(fan_out, relu), BN weight 1 bias 0, fc like nn.Linear. */
  initScratch(rng: Rng): void {
    for (const c of ALL_CONVS) {
      const std = Math.sqrt(2 / (c.outChannels * c.kernel * c.kernel));
      const oihw = seededNormals(rng.nextUint32(), c.outChannels * c.inChannels * c.kernel * c.kernel, std);
      this.setConvFromOihw(c.name, oihw);
    }
    for (const b of this.bns.values()) {
      assignFill(b.weight, 1);
      assignFill(b.bias, 0);
      assignFill(b.runningMean, 0);
      assignFill(b.runningVar, 1);
      b.numBatchesTracked = 0;
    }
    this.replaceHead(this.numClasses, rng);
  }

  /**
   * A fresh head initialised like torch.nn.Linear (kaiming_uniform a=sqrt(5) => weight and bias
   * U(-1/sqrt(in), 1/sqrt(in))), values drawn in torch's [out, in] order.
   */
  replaceHead(numClasses: number, rng: Rng): void {
    const bound = 1 / Math.sqrt(FEATURE_DIM);
    const w = Float32Array.from({ length: numClasses * FEATURE_DIM }, () => rng.uniform(-bound, bound));
    const b = Float32Array.from({ length: numClasses }, () => rng.uniform(-bound, bound));
    this.setHead(w, b, numClasses);
  }

  /** Sets fc from torch layout (weight [out, in]). */
  setHead(weightOutIn: Float32Array, bias: Float32Array, numClasses: number): void {
    if (numClasses === this.numClasses) {
      // assign() takes its own reference: the temporaries must still be disposed (tidy does it).
      tf.tidy(() => {
        this.fcWeight.assign(tf.transpose(tf.tensor2d(weightOutIn, [numClasses, FEATURE_DIM])));
        this.fcBias.assign(tf.tensor1d(bias));
      });
      return;
    }
    this.fcWeight.dispose();
    this.fcBias.dispose();
    this.fcWeight = ownedVariable(tf.tidy(() => tf.transpose(tf.tensor2d(weightOutIn, [numClasses, FEATURE_DIM]))), true);
    this.fcBias = ownedVariable(tf.tensor1d(bias), true);
  }

  setConvFromOihw(name: string, oihw: Float32Array): void {
    const v = this.convs.get(name);
    if (!v) throw new Error(`unknown conv ${name}`);
    const [kh, kw, ci, co] = v.shape;
    tf.tidy(() => v.assign(tf.transpose(tf.tensor4d(oihw, [co, ci, kh, kw]), [2, 3, 1, 0])));
  }

  dispose(): void {
    for (const f of this.foldCache.values()) tf.dispose([f.filter, f.bias]);
    this.foldCache.clear();
    tf.dispose([...this.convs.values(), ...this.headVariables(), ...[...this.bns.values()].flatMap((b) => [b.weight, b.bias, b.runningMean, b.runningVar])]);
  }

  /** [relu](bn(conv(x)) [+ residual]) */
  private convBn(x: tf.Tensor4D, c: ConvSpec, b: BnSpec, mode: ForwardMode, relu = false, residual?: tf.Tensor4D): tf.Tensor4D {
    const w = this.convs.get(c.name)!;
    const pad: 'valid' | tf.backend_util.ExplicitPadding = c.pad === 0 ? 'valid' : [[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]];
    const bn = this.bns.get(b.name)!;
    if (mode === 'eval') {
      // Eval BatchNorm is affine per channel: fold it into the filter and a bias so conv + BN
      // (+ ReLU) is one fused kernel instead of three full passes over the activations.
      const { filter, bias } = this.folded(c.name, w, bn);
      if (residual) {
        const y = tf.fused.conv2d({ x, filter, strides: c.stride, pad, bias });
        return relu ? tf.relu(tf.add(y, residual)) : tf.add(y, residual);
      }
      return tf.fused.conv2d({ x, filter, strides: c.stride, pad, bias, activation: relu ? 'relu' : 'linear' });
    }
    return batchNormTrain(tf.conv2d(x, w, c.stride, pad), bn, { relu, residual });
  }

  /**
   * The eval-mode folded filter and bias of one conv+BN, cached while none of the five source
   * variables changed. Variable.assign swaps a variable's dataId, so comparing dataIds detects any
   * update (optimizer step, BN statistics, load) without bookkeeping elsewhere; reusing the same
   * filter tensor also lets XNNPACK reuse its packed weights across val batches.
   */
  private folded(name: string, w: tf.Variable, bn: BatchNormState): { filter: tf.Tensor4D; bias: tf.Tensor1D } {
    const sources = [w, bn.weight, bn.bias, bn.runningMean, bn.runningVar].map((v) => v.dataId);
    const hit = this.foldCache.get(name);
    if (hit && hit.sources.every((id, i) => id === sources[i])) return hit;
    if (hit) tf.dispose([hit.filter, hit.bias]);
    const [filter, bias] = tf.tidy(() => {
      const scale = tf.mul(bn.weight, tf.rsqrt(tf.add(bn.runningVar, BN_EPS)));
      return [tf.mul(w, scale) as tf.Tensor4D, tf.sub(bn.bias, tf.mul(bn.runningMean, scale)) as tf.Tensor1D];
    });
    const entry = { sources, filter: tf.keep(filter), bias: tf.keep(bias) };
    this.foldCache.set(name, entry);
    return entry;
  }

  private convBnRelu(x: tf.Tensor4D, c: ConvSpec, b: BnSpec, mode: ForwardMode, relu: boolean): tf.Tensor4D {
    return this.convBn(x, c, b, mode, relu);
  }
}

const imul = Math.imul;
const { sqrt, log, cos, sin, PI } = Math;

/**
 * n draws of N(0, std^2), from a splitmix32 stream seeded by one draw of the run's Rng (11M
 * values for ResNet18: a local generator with module-level Math aliases stays fast even under
 * Jest's vm contexts, where global lookups in hot loops are ~100x slower).
 */
export function seededNormals(seed: number, n: number, std: number): Float32Array {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = imul(z ^ (z >>> 16), 0x85ebca6b);
    z = imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    let u = next();
    while (u === 0) u = next();
    const r = sqrt(-2 * log(u)) * std;
    const t = 2 * PI * next();
    out[i] = r * cos(t);
    if (i + 1 < n) out[i + 1] = r * sin(t);
  }
  return out;
}

/**
 * A variable that is the only owner of its buffer. tf.variable(init) does not take over `init`: the
 * initial tensor stays alive beside the variable, holding a reference to the same data, and keeps
 * that data alive after the variable is assigned new values or disposed. Left undisposed, every
 * model built leaked its initial buffers (ResNet18: 43 MiB), which filled the 4 GB wasm heap of a
 * long-lived training process after ~90 runs (Aborted()).
 */
function ownedVariable<R extends tf.Rank>(init: tf.Tensor<R>, trainable: boolean): tf.Variable<R> {
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}

function assignFill(v: tf.Variable, value: number): void {
  tf.tidy(() => v.assign(tf.fill(v.shape, value)));
}
