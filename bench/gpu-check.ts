// gpu-check — what a real GPU machine proves about the webgpu backend, in one run: which adapter
// Dawn picked (and its limits), the engine's parity with torchvision's fixtures on it (the same
// checks as backend/webgpu-parity.webgpu.spec.ts, without Jest, so it runs from a bundle on a
// machine that has Node but no node_modules), and the largest batch the size guard admits at 224 px.
// Exit code 1 when parity fails. Followed by `bench:train -- --backend webgpu` for img/s vs CUDA.
// Run: node dist/bench/gpu-check.js [--fixtures test/fixtures/parity] [--gpu N]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { tf } from '../libs/training/src/backend/tf.js';
import { assertNoWebgpuErrors, describeAdapter, loadWebgpuBackend } from '../libs/training/src/backend/webgpu-backend.js';
import { maxWebgpuBatchSize } from '../libs/training/src/backend/webgpu-limits.js';
import { deterministicImagesNhwc, deterministicStateDict, deterministicTensor, PARITY_HEAD_SEED } from '../libs/training/src/model/deterministic-state-dict.js';
import { stateDictMismatches, type FixtureTensor } from '../libs/training/src/model/parity-fixture.js';
import { exportStateDict, modelFromStateDict } from '../libs/training/src/model/state-dict-mapping.js';
import { Sgd } from '../libs/training/src/optim/sgd.js';
import { crossEntropy } from '../libs/training/src/train/train-step.js';

const { values: args } = parseArgs({
  options: {
    fixtures: { type: 'string', default: 'test/fixtures/parity' },
    gpu: { type: 'string', default: '0' },
  },
});
const fixture = <T>(name: string): T => JSON.parse(readFileSync(path.join(args.fixtures, name), 'utf8')) as T;

interface EvalFixture {
  batch: number;
  imageSize: number;
  logits: number[];
}
interface TrainFixture {
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

async function evalParity(): Promise<number> {
  const f = fixture<EvalFixture>('resnet18-eval.json');
  const model = modelFromStateDict(deterministicStateDict(), 'deterministic');
  const x = tf.tensor4d(deterministicImagesNhwc(0, f.batch, f.imageSize), [f.batch, f.imageSize, f.imageSize, 3]);
  const logits = model.forward(x, 'eval');
  const got = await logits.data();
  tf.dispose([x, logits]);
  model.dispose();
  if (got.length !== f.logits.length) throw new Error(`eval: ${got.length} logits, fixture has ${f.logits.length}`);
  return f.logits.reduce((worst, v, i) => Math.max(worst, Math.abs(got[i]! - v)), 0);
}

async function trainParity(): Promise<{ losses: number[]; want: number[]; mismatches: string[] }> {
  const f = fixture<TrainFixture>('resnet18-train-step.json');
  const model = modelFromStateDict(deterministicStateDict(), 'deterministic');
  model.setHead(deterministicTensor('fc.weight', PARITY_HEAD_SEED, [f.numClasses, 512]), deterministicTensor('fc.bias', PARITY_HEAD_SEED + 1, [f.numClasses]), f.numClasses);
  const params = [...model.backboneVariables(), ...model.headVariables()];
  const opt = new Sgd([{ name: 'all', params, lr: f.lr }], { momentum: f.momentum, weightDecay: f.weightDecay });
  const labels = tf.tensor1d(f.labels, 'int32');
  const losses: number[] = [];
  for (let step = 0; step < 2; step++) {
    const x = tf.tensor4d(deterministicImagesNhwc(1 + step, f.batch, f.imageSize), [f.batch, f.imageSize, f.imageSize, 3]);
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => crossEntropy(model.forward(x, 'train'), labels), params);
      opt.step(grads);
      return value;
    });
    losses.push((await loss.data())[0]!);
    tf.dispose([x, loss]);
  }
  const mismatches = stateDictMismatches(await exportStateDict(model), f.after);
  tf.dispose(labels);
  opt.dispose();
  model.dispose();
  return { losses, want: f.losses, mismatches };
}

async function main(): Promise<void> {
  const backend = await loadWebgpuBackend({ gpu: Number(args.gpu), allowSoftware: true });
  if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend(webgpu) returned false');
  await tf.ready();
  console.log(`adapter: ${describeAdapter(backend.adapter)}`);
  console.log(`adapter info: ${JSON.stringify(backend.adapter)}`);
  console.log(`limits: maxStorageBufferBindingSize ${(backend.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, maxBufferSize ${(backend.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB`);
  console.log(`size guard: largest batch at 224 px = ${maxWebgpuBatchSize(224, backend.limits)}`);

  let t = performance.now();
  const evalErr = await evalParity();
  assertNoWebgpuErrors();
  console.log(`parity eval logits: max |diff| ${evalErr.toExponential(2)} (limit 1e-4) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  const train = await trainParity();
  assertNoWebgpuErrors();
  const lossErr = Math.max(...train.losses.map((l, i) => Math.abs(l - train.want[i]!)));
  console.log(`parity 2 SGD-momentum steps: losses ${train.losses.map((l) => l.toFixed(6)).join(', ')} (torch ${train.want.map((l) => l.toFixed(6)).join(', ')}); state-dict mismatches: ${train.mismatches.length} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  for (const m of train.mismatches.slice(0, 10)) console.log(`  ${m}`);
  const ok = evalErr < 1e-4 && lossErr < 1e-4 && train.mismatches.length === 0;
  console.log(ok ? 'PARITY OK' : 'PARITY FAILED');
  if (!ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
