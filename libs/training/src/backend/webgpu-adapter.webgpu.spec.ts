// The webgpu backend on a real adapter: lavapipe in CI (scripts/ci/install-lavapipe.sh), a GPU
// where there is one. With CI=true a missing adapter fails these tests; elsewhere they are skipped
// with the reason. Kept small: lavapipe runs shaders on the CPU.
import { tf } from './tf.js';
import { assertNoWebgpuErrors, assertWebgpuStepFits, currentWebgpuLimits, tryInitWebgpu, WebgpuValidationError } from './webgpu-backend.js';
import { batchNormTrain, type BatchNormState } from '../model/batch-norm.js';
import { maxWebgpuBatchSize, resnet18TrainingTensors, WebgpuSizeError } from './webgpu-limits.js';

const reasons: string[] = [];
const webgpu = await tryInitWebgpu({ allowSoftware: true }, (line) => reasons.push(line));
const inCi = process.env.CI === 'true';
if (!webgpu && !inCi) console.warn(`webgpu tests skipped: ${reasons.join('; ')} (install lavapipe with scripts/ci/install-lavapipe.sh)`);

/** Sizes of every GPU buffer the webgpu backend acquires while `fn` runs. */
async function trackBuffers(fn: () => Promise<void>): Promise<number[]> {
  const manager = (tf.backend() as unknown as { bufferManager: { acquireBuffer: (size: number, ...rest: unknown[]) => unknown } }).bufferManager;
  const original = manager.acquireBuffer;
  const sizes: number[] = [];
  manager.acquireBuffer = function (size: number, ...rest: unknown[]) {
    sizes.push(size);
    return original.call(this, size, ...rest);
  };
  try {
    await fn();
  } finally {
    manager.acquireBuffer = original;
  }
  return sizes;
}

(webgpu || inCi ? describe : describe.skip)('webgpu backend on a real adapter', () => {
  beforeAll(async () => {
    if (!webgpu) throw new Error(`CI=true but no WebGPU adapter: ${reasons.join('; ')}; run scripts/ci/install-lavapipe.sh and set VK_ICD_FILENAMES`);
    await tf.setBackend('webgpu');
  });

  afterEach(() => assertNoWebgpuErrors());

  it('is current and describes its adapter and limits', () => {
    expect(tf.getBackend()).toBe('webgpu');
    expect(webgpu!.info).toMatch(/^[^/]+ \/ .+ \(.*Vulkan.*\)$/);
    const limits = currentWebgpuLimits()!;
    expect(limits.adapter).toBe(webgpu!.info);
    expect(limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(limits.maxBufferSize).toBeGreaterThanOrEqual(limits.maxStorageBufferBindingSize);
  });

  it('keeps to its one GPU: a second init asking for another one is refused', async () => {
    await expect(tryInitWebgpu({ gpu: 1, allowSoftware: true })).rejects.toThrow(/webgpu is already running on GPU 0/);
    await expect(tryInitWebgpu({ gpu: 0, allowSoftware: true })).resolves.toBe(webgpu);
  });

  it('the size guard fires for a batch one above what the real adapter binds, not at it', () => {
    const limits = currentWebgpuLimits()!;
    const maxBatch = maxWebgpuBatchSize(224, limits);
    expect(maxBatch).toBeGreaterThan(0);
    expect(() => assertWebgpuStepFits({ batchSize: maxBatch, imageSize: 224 })).not.toThrow();
    expect(() => assertWebgpuStepFits({ batchSize: maxBatch + 1, imageSize: 224 })).toThrow(WebgpuSizeError);
  });

  it('the largest buffer of a ResNet18 stem training step is exactly the conv1 output the guard predicts', async () => {
    // Small on purpose (lavapipe); the stem's kernels take the same paths at 224 (no im2col above 8 workgroups).
    const [batch, size] = [2, 112];
    const conv = tf.variable(tf.randomNormal<tf.Rank.R4>([7, 7, 3, 64], 0, 0.05, 'float32', 1));
    const bn: BatchNormState = {
      weight: tf.variable(tf.ones([64])),
      bias: tf.variable(tf.zeros([64])),
      runningMean: tf.variable(tf.zeros([64]), false),
      runningVar: tf.variable(tf.ones([64]), false),
      numBatchesTracked: 0,
    };
    const x = tf.randomUniform<tf.Rank.R4>([batch, size, size, 3], -2, 2, 'float32', 2);
    const sizes = await trackBuffers(async () => {
      const { value, grads } = tf.variableGrads(() => {
        const y = tf.relu<tf.Tensor4D>(batchNormTrain(tf.conv2d(x, conv, 2, [[0, 0], [3, 3], [3, 3], [0, 0]]), bn));
        return tf.mean(tf.maxPool(y, 3, 2, 1));
      }, [conv, bn.weight, bn.bias]);
      await value.data();
      await grads[conv.name]!.data();
      tf.dispose([value, ...Object.values(grads)]);
    });
    const conv1 = resnet18TrainingTensors({ batchSize: batch, imageSize: size }).find((t) => t.what === 'conv1 output')!;
    expect(conv1.shape).toEqual([batch, 56, 56, 64]);
    expect(Math.max(...sizes)).toBe(conv1.bytes);
    tf.dispose([conv, bn.weight, bn.bias, bn.runningMean, bn.runningVar, x]);
  }, 300_000);

  it('a tensor over maxStorageBufferBindingSize is rejected by the GPU, and assertNoWebgpuErrors reports it', async () => {
    const limit = currentWebgpuLimits()!.maxStorageBufferBindingSize;
    // Only on adapters with a small binding limit (lavapipe: 128 MiB); a GPU's 2-4 GiB is too much to allocate here.
    if (limit > 512 * 2 ** 20) return;
    const n = limit / 4 + 1024;
    const sum = tf.tidy(() => tf.sum(tf.fill([n], 1)));
    const got = (await sum.data())[0];
    sum.dispose();
    // Dawn skipped the kernel: the value is wrong, and only the device's error event says so.
    expect(got).not.toBe(n);
    expect(() => assertNoWebgpuErrors()).toThrow(WebgpuValidationError);
    expect(() => assertNoWebgpuErrors()).not.toThrow();
  });
});
