// One process running training jobs back to back with the engine alone (no API, queue or database),
// the way a worker's training process does: one EngineCache across jobs, a checkpoint per epoch.
// bench:scaling starts N of these at once to measure what N processes can get out of this
// machine's cores at all — the ceiling the queue's scaling is judged against.
// Usage: node dist/bench/support/engine-jobs.js <datasetDir> <checkpointRoot> <jobs> <epochs> <imageSize> <firstSeed>
// Runs one untimed warm-up job first (seed firstSeed), then <jobs> timed ones; prints one JSON line {seconds}.
import path from 'node:path';
import { EngineCache, trainRun } from '../../libs/training/src/index.js';

const [datasetDir, checkpointRoot, jobsArg, epochsArg, sizeArg, seedArg] = process.argv.slice(2);
if (!datasetDir || !checkpointRoot || !jobsArg || !epochsArg || !sizeArg || !seedArg) {
  process.stderr.write('usage: engine-jobs <datasetDir> <checkpointRoot> <jobs> <epochs> <imageSize> <firstSeed>\n');
  process.exit(2);
}
const jobs = Number(jobsArg);
const cache = new EngineCache();

async function job(seed: number): Promise<void> {
  await trainRun({
    datasetDir,
    hyper: { strategy: 'scratch', epochs: Number(epochsArg), batchSize: 4, imageSize: Number(sizeArg), seed },
    backend: (process.env.WORKER_BACKEND ?? 'wasm') as 'wasm',
    checkpointDir: path.join(checkpointRoot, `seed-${seed}`),
    cache,
  });
}

async function main(): Promise<void> {
  const seed0 = Number(seedArg);
  await job(seed0);
  const t = performance.now();
  for (let i = 1; i <= jobs; i++) await job(seed0 + i);
  process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - t) / 1000 })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`engine-jobs: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
