// The engine's ResNet18 on the webgpu backend against torchvision: the fixtures of
// model/resnet18-parity.spec.ts (scripts/parity/make-parity-fixtures.py). lavapipe in CI; with
// CI=true a missing adapter fails, elsewhere the suite is skipped with the reason.
import { evalLogitsParity, readEvalFixture, readTrainFixture, trainStepsParity } from '../model/parity-fixture.js';
import { tf } from './tf.js';
import { assertNoWebgpuErrors, tryInitWebgpu } from './webgpu-backend.js';
import { takeWebgpuKernelUse } from './webgpu-kernels/register-webgpu-kernels.js';
import { resnet18LargestTensor } from './webgpu-limits.js';

// lavapipe runs a 64 px / batch 4 step in ~3 s on an idle machine but ~60 s on a loaded 2-core one.
const LAVAPIPE_TIMEOUT_MS = 600_000;
const reasons: string[] = [];
const webgpu = await tryInitWebgpu({ allowSoftware: true }, (line) => reasons.push(line));
const inCi = process.env.CI === 'true';
if (!webgpu && !inCi) console.warn(`webgpu parity tests skipped: ${reasons.join('; ')} (install lavapipe with scripts/ci/install-lavapipe.sh)`);

(webgpu || inCi ? describe : describe.skip)('ResNet18 parity with torchvision on webgpu', () => {
  beforeAll(async () => {
    if (!webgpu) throw new Error(`CI=true but no WebGPU adapter: ${reasons.join('; ')}; run scripts/ci/install-lavapipe.sh and set VK_ICD_FILENAMES`);
    await tf.setBackend('webgpu');
  });

  afterEach(() => assertNoWebgpuErrors());

  // The parity must hold with the engine's convolution kernels, not tfjs's: none may fall back.
  beforeEach(() => takeWebgpuKernelUse());

  it('eval logits match torch within 1e-4', async () => {
    const f = readEvalFixture();
    const { count, maxAbsDiff } = await evalLogitsParity(f);
    expect(count).toBe(f.logits.length);
    expect(maxAbsDiff).toBeLessThan(1e-4);
    const use = takeWebgpuKernelUse();
    expect(use.ours.Conv2D + use.ours.FusedConv2D).toBeGreaterThan(0);
    expect(Object.values(use.stock).reduce((a, b) => a + b)).toBe(0);
  }, LAVAPIPE_TIMEOUT_MS);

  it('two train-mode SGD-momentum steps match torch within 1e-4, allocating nothing larger than the size guard predicts', async () => {
    const f = readTrainFixture();
    const manager = (tf.backend() as unknown as { bufferManager: { acquireBuffer: (size: number, ...rest: unknown[]) => unknown } }).bufferManager;
    const acquire = manager.acquireBuffer;
    let largest = 0;
    manager.acquireBuffer = function (size: number, ...rest: unknown[]) {
      largest = Math.max(largest, size);
      return acquire.call(this, size, ...rest);
    };
    let result: Awaited<ReturnType<typeof trainStepsParity>>;
    try {
      result = await trainStepsParity(f);
    } finally {
      manager.acquireBuffer = acquire;
    }
    expect(largest).toBe(resnet18LargestTensor({ batchSize: f.batch, imageSize: f.imageSize, numClasses: f.numClasses }).bytes);
    expect(result.losses[0]).toBeCloseTo(f.losses[0]!, 4);
    expect(result.losses[1]).toBeCloseTo(f.losses[1]!, 4);
    expect(result.mismatches).toEqual([]);
    const use = takeWebgpuKernelUse();
    expect(use.ours.Conv2DBackpropFilter).toBeGreaterThan(0);
    expect(use.ours.Conv2DBackpropInput).toBeGreaterThan(0);
    expect(use.ours.MaxPoolGrad).toBeGreaterThan(0);
    expect(Object.values(use.stock).reduce((a, b) => a + b)).toBe(0);
  }, LAVAPIPE_TIMEOUT_MS);
});
