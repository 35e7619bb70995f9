// gpu-check — what a real GPU machine proves about the webgpu backend, in one run: which adapter
// Dawn picked (and its limits), the engine's parity with torchvision's fixtures on it (the same
// checks as backend/webgpu-parity.webgpu.spec.ts, without Jest, so it runs from a bundle on a
// machine that has Node but no node_modules), and the largest batch the size guard admits at 224 px.
// Exit code 1 when parity fails. Followed by `bench:train -- --backend webgpu` for img/s vs CUDA.
// Run: node dist/bench/gpu-check.js [--fixtures test/fixtures/parity] [--gpu N]
import { parseArgs } from 'node:util';
import { tf } from '../libs/training/src/backend/tf.js';
import { assertNoWebgpuErrors, describeAdapter, loadWebgpuBackend } from '../libs/training/src/backend/webgpu-backend.js';
import { maxWebgpuBatchSize } from '../libs/training/src/backend/webgpu-limits.js';
import { evalLogitsParity, readEvalFixture, readTrainFixture, trainStepsParity } from '../libs/training/src/model/parity-fixture.js';

const { values: args } = parseArgs({
  options: {
    fixtures: { type: 'string', default: 'test/fixtures/parity' },
    gpu: { type: 'string', default: '0' },
  },
});

async function main(): Promise<void> {
  const backend = await loadWebgpuBackend({ gpu: Number(args.gpu), allowSoftware: true });
  if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend(webgpu) returned false');
  await tf.ready();
  console.log(`adapter: ${describeAdapter(backend.adapter)}`);
  console.log(`adapter info: ${JSON.stringify(backend.adapter)}`);
  console.log(`limits: maxStorageBufferBindingSize ${(backend.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, maxBufferSize ${(backend.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB`);
  console.log(`size guard: largest batch at 224 px = ${maxWebgpuBatchSize(224, backend.limits)}`);

  let t = performance.now();
  const evalFixture = readEvalFixture(args.fixtures);
  const evalResult = await evalLogitsParity(evalFixture);
  assertNoWebgpuErrors();
  console.log(`parity eval logits: max |diff| ${evalResult.maxAbsDiff.toExponential(2)} (limit 1e-4) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  const trainFixture = readTrainFixture(args.fixtures);
  const train = await trainStepsParity(trainFixture);
  assertNoWebgpuErrors();
  const lossErr = Math.max(...train.losses.map((l, i) => Math.abs(l - trainFixture.losses[i]!)));
  console.log(`parity 2 SGD-momentum steps: losses ${train.losses.map((l) => l.toFixed(6)).join(', ')} (torch ${trainFixture.losses.map((l) => l.toFixed(6)).join(', ')}); state-dict mismatches: ${train.mismatches.length} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  for (const m of train.mismatches.slice(0, 10)) console.log(`  ${m}`);
  const ok = evalResult.count === evalFixture.logits.length && evalResult.maxAbsDiff < 1e-4 && lossErr < 1e-4 && train.mismatches.length === 0;
  console.log(ok ? 'PARITY OK' : 'PARITY FAILED');
  if (!ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
