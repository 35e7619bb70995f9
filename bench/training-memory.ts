// bench:memory — many tiny training runs in ONE process, the way the worker's long-lived training
// child runs job after job (one EngineCache, checkpoints, resume on), printing after each run what
// the process holds: tfjs tensors/bytes/data buffers, the wasm heap, RSS and the cache sizes.
// Anything that grows run after run here is what aborted the queue bench's training child.
// Run the built file: npm run bench:memory -- --runs 40 --strategy scratch --image-size 32
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { engineMemory } from '../libs/training/src/backend/engine-memory.js';
import type { BackendPreference } from '../libs/training/src/backend/init-backend.js';
import { STRATEGIES, type Strategy } from '../libs/training/src/contracts.js';
import { DeterministicWeightsCache, FAKE_WEIGHTS, makeTinyDataset } from '../libs/training/src/train/testing/tiny-run.js';
import { trainRun } from '../libs/training/src/train/train-run.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    runs: { type: 'string', default: '40' },
    strategy: { type: 'string', default: 'scratch' },
    'image-size': { type: 'string', default: '32' },
    'batch-size': { type: 'string', default: '2' },
    epochs: { type: 'string', default: '1' },
  },
});
const runs = Number(args.runs);
const strategy = args.strategy as Strategy;
if (!STRATEGIES.includes(strategy)) throw new Error(`unknown strategy ${strategy}`);
const MiB = 1024 ** 2;

async function main(): Promise<void> {
  // The queue bench's dataset: 2 classes x (2 train + 1 val) images.
  const data = await makeTinyDataset(2, 1, 32);
  const artifacts = await mkdtemp(path.join(os.tmpdir(), 'ff-memory-'));
  const cache = new DeterministicWeightsCache();
  const first = { tensors: 0, heap: 0, rss: 0 };
  try {
    for (let i = 0; i < runs; i++) {
      await trainRun({
        datasetDir: data.dir,
        weightsPath: FAKE_WEIGHTS,
        hyper: { strategy, epochs: Number(args.epochs), batchSize: Number(args['batch-size']), imageSize: Number(args['image-size']), seed: i },
        backend: args.backend as BackendPreference,
        checkpointDir: path.join(artifacts, `run-${i}`),
        resume: true,
        cache,
      });
      const m = engineMemory();
      if (i === 0) Object.assign(first, { tensors: m.numTensors, heap: m.wasmHeapBytes, rss: m.rssBytes });
      process.stdout.write(
        `run ${String(i + 1).padStart(3)}: tensors ${m.numTensors} (${(m.numBytes / MiB).toFixed(1)} MiB, ${m.numDataBuffers} buffers), ` +
          `wasm heap ${(m.wasmHeapBytes / MiB).toFixed(0)} MiB, rss ${(m.rssBytes / MiB).toFixed(0)} MiB, ` +
          `cache ${cache.images.count} images (${(cache.images.size / 1024).toFixed(0)} KiB), ${cache.stateDictCount} state dicts\n`,
      );
    }
    const m = engineMemory();
    process.stdout.write(
      `after ${runs} runs: tensors +${m.numTensors - first.tensors}, wasm heap +${((m.wasmHeapBytes - first.heap) / MiB).toFixed(0)} MiB, rss +${((m.rssBytes - first.rss) / MiB).toFixed(0)} MiB since run 1\n`,
    );
  } finally {
    await data.remove();
    await rm(artifacts, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:memory: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
