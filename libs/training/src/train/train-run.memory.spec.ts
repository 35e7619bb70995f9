// A long-lived training process runs job after job: whatever one run leaves on the wasm heap stays
// there for good (the heap never shrinks, 4 GB at most). The worker's queue bench aborted its
// training child after ~90 runs because every ResNet18 built leaked its 43 MiB of initial buffers;
// these specs hold the engine to "a run leaves nothing behind" on the wasm backend.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { engineMemory } from '../backend/engine-memory.js';
import { CPU_PATHS } from './testing/cpu-paths.js';
import { initBackend } from '../backend/init-backend.js';
import { tf } from '../backend/tf.js';
import { deterministicStateDict } from '../model/deterministic-state-dict.js';
import { ResNet18 } from '../model/resnet18.js';
import { modelFromStateDict } from '../model/state-dict-mapping.js';
import { Rng } from '../rng.js';
import { DeterministicWeightsCache, FAKE_WEIGHTS, makeTinyDataset, type TinyDataset } from './testing/tiny-run.js';
import { trainRun } from './train-run.js';

const MiB = 1024 ** 2;
/** Heap growth tolerated over the repeated runs: below one leaked model (43 MiB). */
const HEAP_SLACK = 16 * MiB;

/** Buffers the wasm backend holds, including those no tfjs tensor tracks (kernel temporaries). */
const backendBuffers = (): number => tf.backend().numDataIds();

describe.each(CPU_PATHS)('engine memory across runs in one process (%s)', (backend) => {
  let data: TinyDataset;
  let artifacts: string;

  beforeAll(async () => {
    await initBackend(backend);
    data = await makeTinyDataset(2, 1, 32);
    artifacts = await mkdtemp(path.join(os.tmpdir(), 'ff-memory-spec-'));
  });
  afterAll(async () => {
    await data.remove();
    await rm(artifacts, { recursive: true, force: true });
  });

  it('a model built and disposed frees every buffer it made (scratch and from a state dict with a new head)', () => {
    const before = { tensors: tf.memory().numTensors, buffers: backendBuffers() };
    const scratch = new ResNet18(2);
    scratch.initScratch(new Rng(1));
    scratch.dispose();
    const pretrained = modelFromStateDict(deterministicStateDict(), 'deterministic');
    pretrained.replaceHead(2, new Rng(2));
    pretrained.replaceHead(2, new Rng(3));
    pretrained.dispose();
    expect({ tensors: tf.memory().numTensors, buffers: backendBuffers() }).toEqual(before);
  });

  it('the training kernels free their intermediate buffers', () => {
    const x = tf.randomNormal([2, 9, 9, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const before = backendBuffers();
    // stride 2: the input gradient goes by output phase, the filter gradient is the dilated conv
    const grads = tf.grads((a, b) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, [[0, 0], [1, 1], [1, 1], [0, 0]])))([x, w]);
    expect(backendBuffers()).toBe(before + grads.length);
    tf.dispose([x, w, ...grads]);
  });

  it('consecutive runs leave no tensors behind and keep the wasm heap flat', async () => {
    const cache = new DeterministicWeightsCache();
    const runOnce = async (i: number, strategy: 'scratch' | 'finetune') => {
      await trainRun({
        datasetDir: data.dir,
        weightsPath: FAKE_WEIGHTS,
        hyper: { strategy, epochs: 1, batchSize: 2, imageSize: 32, seed: i },
        backend,
        checkpointDir: path.join(artifacts, `run-${i}`),
        resume: true,
        cache,
      });
      return engineMemory();
    };
    const before = { tensors: tf.memory().numTensors, buffers: backendBuffers() };
    // Warm-up: each workload once, so the heap has reached the high-water mark these runs need.
    await runOnce(0, 'scratch');
    const warm = await runOnce(1, 'finetune');
    expect(warm.wasmHeapBytes).toBeGreaterThan(0);
    for (const [i, strategy] of [[2, 'scratch'], [3, 'finetune'], [4, 'scratch']] as const) {
      const m = await runOnce(i, strategy);
      expect({ run: i, tensors: m.numTensors, buffers: backendBuffers() }).toEqual({ run: i, ...before });
      expect(m.wasmHeapBytes - warm.wasmHeapBytes).toBeLessThanOrEqual(HEAP_SLACK);
    }
  }, 60_000);
});
