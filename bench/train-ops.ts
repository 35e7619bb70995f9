// bench:train-ops — where one ResNet18 training step (224 px, batch 16 by default) spends its time
// on a backend: each of ResNet18's convolution shapes timed forward, input-gradient and
// filter-gradient (the three kernels a finetune step runs per conv), times how often a step runs
// it, against a whole finetune step measured in the same run. Explains bench:train's gap to
// PyTorch per kernel kind, e.g. on webgpu. Run: npm run bench:train-ops -- --backend webgpu
// On webgpu every shape and the whole step run twice in the same process: tfjs's stock kernels, then
// the engine's (backend/webgpu-kernels), with TFLOP/s per kernel and the speed-up.
import { parseArgs } from 'node:util';
import { initBackend, type BackendPreference } from '../libs/training/src/backend/init-backend.js';
import { tf } from '../libs/training/src/backend/tf.js';
import { useWebgpuTrainingKernels } from '../libs/training/src/backend/webgpu-kernels/register-webgpu-kernels.js';
import { profileDispatch, type DispatchProfile } from './support/webgpu-dispatch-profile.js';
import { deterministicStateDict } from '../libs/training/src/model/deterministic-state-dict.js';
import { modelFromStateDict } from '../libs/training/src/model/state-dict-mapping.js';
import { Sgd } from '../libs/training/src/optim/sgd.js';
import { Rng } from '../libs/training/src/rng.js';
import { planFor } from '../libs/training/src/train/strategy.js';
import { trainStep } from '../libs/training/src/train/train-step.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    'image-size': { type: 'string', default: '224' },
    'batch-size': { type: 'string', default: '16' },
    reps: { type: 'string', default: '5' },
  },
});
const size = Number(args['image-size']);
const batch = Number(args['batch-size']);
const reps = Number(args.reps);

/** One convolution shape of torchvision's ResNet18 and how many times a forward pass runs it. */
interface ConvShape {
  name: string;
  inSide: number;
  inCh: number;
  outCh: number;
  k: number;
  stride: number;
  count: number;
}

function resnet18Convs(side: number): ConvShape[] {
  const s = (d: number) => Math.ceil(side / d);
  return [
    { name: 'conv1 7x7/2', inSide: side, inCh: 3, outCh: 64, k: 7, stride: 2, count: 1 },
    { name: 'layer1 3x3 64', inSide: s(4), inCh: 64, outCh: 64, k: 3, stride: 1, count: 4 },
    { name: 'layer2 3x3/2 64->128', inSide: s(4), inCh: 64, outCh: 128, k: 3, stride: 2, count: 1 },
    { name: 'layer2 3x3 128', inSide: s(8), inCh: 128, outCh: 128, k: 3, stride: 1, count: 3 },
    { name: 'layer2 1x1/2 downsample', inSide: s(4), inCh: 64, outCh: 128, k: 1, stride: 2, count: 1 },
    { name: 'layer3 3x3/2 128->256', inSide: s(8), inCh: 128, outCh: 256, k: 3, stride: 2, count: 1 },
    { name: 'layer3 3x3 256', inSide: s(16), inCh: 256, outCh: 256, k: 3, stride: 1, count: 3 },
    { name: 'layer3 1x1/2 downsample', inSide: s(8), inCh: 128, outCh: 256, k: 1, stride: 2, count: 1 },
    { name: 'layer4 3x3/2 256->512', inSide: s(16), inCh: 256, outCh: 512, k: 3, stride: 2, count: 1 },
    { name: 'layer4 3x3 512', inSide: s(32), inCh: 512, outCh: 512, k: 3, stride: 1, count: 3 },
    { name: 'layer4 1x1/2 downsample', inSide: s(16), inCh: 256, outCh: 512, k: 1, stride: 2, count: 1 },
  ];
}

/** Median wall time of `f` in ms, each run read back (await data) so GPU work is included. */
async function timeMs(f: () => tf.Tensor): Promise<number> {
  const once = async () => {
    const t = performance.now();
    const out = f();
    await out.data();
    out.dispose();
    return performance.now() - t;
  };
  await once(); // compile / warm
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

interface OpTimes {
  forward: number;
  gradIn: number;
  gradW: number;
}

/** The three kernels of one conv shape, median ms each. */
async function timeConv(c: ConvShape): Promise<OpTimes> {
  const pad = (c.k - 1) >> 1;
  const padding: tf.backend_util.ExplicitPadding = [[0, 0], [pad, pad], [pad, pad], [0, 0]];
  const outSide = Math.floor((c.inSide + 2 * pad - c.k) / c.stride) + 1;
  const x = tf.randomNormal([batch, c.inSide, c.inSide, c.inCh]) as tf.Tensor4D;
  const w = tf.randomNormal([c.k, c.k, c.inCh, c.outCh]) as tf.Tensor4D;
  const dy = tf.randomNormal([batch, outSide, outSide, c.outCh]) as tf.Tensor4D;
  const attrs = { strides: c.stride, pad: padding, dataFormat: 'NHWC', dimRoundingMode: undefined };
  const forward = await timeMs(() => tf.conv2d(x, w, c.stride, padding));
  // conv1's input gradient is never needed (the images are not trained), as in PyTorch.
  const gradIn = c.name.startsWith('conv1') ? 0 : await timeMs(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor);
  const gradW = await timeMs(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor);
  tf.dispose([x, w, dy]);
  return { forward, gradIn, gradW };
}

function gflopOf(c: ConvShape): number {
  const pad = (c.k - 1) >> 1;
  const outSide = Math.floor((c.inSide + 2 * pad - c.k) / c.stride) + 1;
  return (2 * batch * outSide * outSide * c.k * c.k * c.inCh * c.outCh) / 1e9;
}

/**
 * Median ms of a whole finetune step (2 classes) with the kernels currently registered, and on
 * webgpu the dispatch profile of one more step.
 */
async function timeStep(webgpu: boolean): Promise<{ ms: number; profile?: DispatchProfile }> {
  const model = modelFromStateDict(deterministicStateDict(), 'deterministic');
  model.replaceHead(2, new Rng(0));
  const opt = new Sgd(planFor({ strategy: 'finetune', lr: 0.001, lrFactor: 0.1 }).groups(model), { momentum: 0.9 });
  const images = tf.randomNormal([batch, size, size, 3]) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 2), 'int32');
  await trainStep(model, opt, images, labels);
  const steps: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await trainStep(model, opt, images, labels);
    steps.push(performance.now() - t);
  }
  steps.sort((a, b) => a - b);
  const profile = webgpu ? await profileDispatch(() => trainStep(model, opt, images, labels)) : undefined;
  tf.dispose([images, labels]);
  opt.dispose();
  model.dispose();
  return { ms: steps[steps.length >> 1]!, profile };
}

const fmt = (v: number, width: number, digits = 2) => v.toFixed(digits).padStart(width);

async function main(): Promise<void> {
  const backend = await initBackend(args.backend as BackendPreference, (l) => console.log(l));
  // webgpu: tfjs's stock kernels vs ours in the same run; elsewhere the registered kernels only.
  const variants: { name: string; select?: () => void }[] =
    backend.name === 'webgpu'
      ? [
          { name: 'stock', select: () => useWebgpuTrainingKernels(false) },
          { name: 'ours', select: () => useWebgpuTrainingKernels(true) },
        ]
      : [{ name: backend.name }];
  console.log(`ResNet18 training ops at ${size} px, batch ${batch}, backend ${backend.name}; median of ${reps}, ms (GFLOP/s)`);
  console.log(`${'conv'.padEnd(26)}${'x'.padStart(3)}${'kernels'.padStart(8)}${'forward'.padStart(18)}${'grad in'.padStart(18)}${'grad w'.padStart(18)}${'GFLOP'.padStart(8)}`);
  const totals = new Map(variants.map((v) => [v.name, { forward: 0, gradIn: 0, gradW: 0 }]));
  const cell = (ms: number, gflop: number) => (ms === 0 ? '-'.padStart(18) : `${fmt(ms, 9)} (${fmt((1000 * gflop) / ms, 6, 1)})`);
  for (const c of resnet18Convs(size)) {
    const gflop = gflopOf(c);
    const times: OpTimes[] = [];
    for (const v of variants) {
      v.select?.();
      const t = await timeConv(c);
      times.push(t);
      const total = totals.get(v.name)!;
      total.forward += c.count * t.forward;
      total.gradIn += c.count * t.gradIn;
      total.gradW += c.count * t.gradW;
      const first = times.length === 1;
      console.log(`${(first ? c.name : '').padEnd(26)}${(first ? String(c.count) : '').padStart(3)}${v.name.padStart(8)}${cell(t.forward, gflop)}${cell(t.gradIn, gflop)}${cell(t.gradW, gflop)}${first ? fmt(gflop, 8) : ''}`);
    }
    if (times.length === 2) {
      const [a, b] = times as [OpTimes, OpTimes];
      const up = (x: number, y: number) => (y === 0 ? '-'.padStart(18) : `${fmt(x / y, 16, 1)}x`);
      console.log(`${''.padEnd(29)}${'speed-up'.padStart(8)}${up(a.forward, b.forward)}${up(a.gradIn, b.gradIn)}${up(a.gradW, b.gradW)}`);
    }
  }
  console.log('');
  for (const v of variants) {
    v.select?.();
    const t = totals.get(v.name)!;
    const { ms: step, profile } = await timeStep(backend.name === 'webgpu');
    const convs = t.forward + t.gradIn + t.gradW;
    console.log(
      `per finetune step (${v.name}): conv forward ${t.forward.toFixed(1)} + input grads ${t.gradIn.toFixed(1)} + filter grads ${t.gradW.toFixed(1)} = ${convs.toFixed(1)} ms ` +
        `of a ${step.toFixed(1)} ms step (${((100 * convs) / step).toFixed(0)}%; the rest: BatchNorm, ReLU, pooling, loss, SGD, dispatch)`,
    );
    if (profile) {
      console.log(
        `  CPU side of one step (${v.name}): ${profile.dispatches} dispatches, ${profile.submits} submits, ` +
          `${profile.recordMs.toFixed(1)} ms of JS recording them (${((1000 * profile.recordMs) / profile.dispatches).toFixed(0)} us each) in a ${profile.wallMs.toFixed(1)} ms step`,
      );
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
