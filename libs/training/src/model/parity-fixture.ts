// Parity with torchvision, one implementation for every backend: the fixtures of
// scripts/parity/make-parity-fixtures.py (torch 1.13 / torchvision 0.14, weights and images both
// sides derive from the same integer hash) and the two checks run against them — eval logits, and
// two train-mode SGD-momentum steps through the engine's own trainStep. Used by the wasm and webgpu
// parity specs and by bench/gpu-check (a real GPU, no Jest).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../backend/tf.js';
import { Sgd } from '../optim/sgd.js';
import { trainStep } from '../train/train-step.js';
import type { StateDict } from '../weights/pth-loader.js';
import { deterministicImagesNhwc, deterministicStateDict, deterministicTensor, PARITY_HEAD_SEED } from './deterministic-state-dict.js';
import { exportStateDict, modelFromStateDict } from './state-dict-mapping.js';

/** Where the committed fixtures live, relative to the repository root (the tests' working directory). */
export const PARITY_FIXTURES_DIR = path.join(process.cwd(), 'test/fixtures/parity');

/** A fixture's record of one tensor after the training steps: an integer value, or norm + samples. */
export interface FixtureTensor {
  value?: number;
  norm?: number;
  samples?: [number, number][];
}

export interface EvalFixture {
  /** torchvision's state_dict keys in order, with shapes */
  keys: [string, number[]][];
  batch: number;
  imageSize: number;
  logits: number[];
}

export interface TrainFixture {
  numClasses: number;
  batch: number;
  imageSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  labels: number[];
  losses: number[];
  after: Record<string, FixtureTensor>;
}

export function readEvalFixture(dir = PARITY_FIXTURES_DIR): EvalFixture {
  return JSON.parse(readFileSync(path.join(dir, 'resnet18-eval.json'), 'utf8')) as EvalFixture;
}

export function readTrainFixture(dir = PARITY_FIXTURES_DIR): TrainFixture {
  return JSON.parse(readFileSync(path.join(dir, 'resnet18-train-step.json'), 'utf8')) as TrainFixture;
}

/** Every tensor that differs from the fixture by more than 1e-4 (norms relative above 1), as lines. */
export function stateDictMismatches(sd: StateDict, expected: Record<string, FixtureTensor>): string[] {
  const bad: string[] = [];
  for (const [key, want] of Object.entries(expected)) {
    const t = sd.get(key)!;
    if (want.value !== undefined) {
      if (Number((t.data as BigInt64Array)[0]) !== want.value) bad.push(`${key}=${(t.data as BigInt64Array)[0]} want ${want.value}`);
      continue;
    }
    const data = t.data as Float32Array;
    let sq = 0;
    for (const v of data) sq += v * v;
    const norm = Math.sqrt(sq);
    if (Math.abs(norm - want.norm!) > 1e-4 * Math.max(1, want.norm!)) bad.push(`${key} norm ${norm} want ${want.norm}`);
    for (const [i, v] of want.samples!) if (Math.abs(data[i]! - v) > 1e-4) bad.push(`${key}[${i}]=${data[i]} want ${v}`);
  }
  return bad;
}

/** Eval-mode logits of the deterministic model on the fixture's images, on the current backend. */
export async function evalLogitsParity(f: EvalFixture): Promise<{ count: number; maxAbsDiff: number }> {
  const model = modelFromStateDict(deterministicStateDict(), 'deterministic');
  const x = tf.tensor4d(deterministicImagesNhwc(0, f.batch, f.imageSize), [f.batch, f.imageSize, f.imageSize, 3]);
  const logits = model.forward(x, 'eval');
  try {
    // data(), not dataSync(): GPU backends cannot read synchronously in Node
    const got = await logits.data();
    return { count: got.length, maxAbsDiff: f.logits.reduce((worst, v, i) => Math.max(worst, Math.abs(got[i]! - v)), 0) };
  } finally {
    tf.dispose([x, logits]);
    model.dispose();
  }
}

/** Two of the engine's train steps from the fixture's start; the losses and the state-dict mismatches after. */
export async function trainStepsParity(f: TrainFixture): Promise<{ losses: number[]; mismatches: string[] }> {
  const model = modelFromStateDict(deterministicStateDict(), 'deterministic');
  model.setHead(deterministicTensor('fc.weight', PARITY_HEAD_SEED, [f.numClasses, 512]), deterministicTensor('fc.bias', PARITY_HEAD_SEED + 1, [f.numClasses]), f.numClasses);
  const opt = new Sgd([{ name: 'all', params: [...model.backboneVariables(), ...model.headVariables()], lr: f.lr }], { momentum: f.momentum, weightDecay: f.weightDecay });
  const labels = tf.tensor1d(f.labels, 'int32');
  try {
    const losses: number[] = [];
    for (let step = 0; step < 2; step++) {
      const x = tf.tensor4d(deterministicImagesNhwc(1 + step, f.batch, f.imageSize), [f.batch, f.imageSize, f.imageSize, 3]);
      losses.push((await trainStep(model, opt, x, labels)).lossSum / f.batch);
      x.dispose();
    }
    return { losses, mismatches: stateDictMismatches(await exportStateDict(model), f.after) };
  } finally {
    labels.dispose();
    opt.dispose();
    model.dispose();
  }
}
