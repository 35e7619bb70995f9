// bench:scaling — does a sweep of equal CPU jobs finish N times faster with N workers (issue 4)?
// For each N (default 1 and 2), three numbers from one run:
//   engine — N bare engine processes (bench/support/engine-jobs.ts: no API, queue or database) share
//            the jobs: what N processes can get out of this machine's cores at all (the ceiling);
//   cold   — the built API + N real worker processes, a sweep submitted right after they start:
//            includes each worker's first-job load (tfjs + wasm init, dataset decode);
//   warm   — a second sweep on the same, now warm, workers: the steady throughput a long sweep sees.
// Throughput = jobs / wall time from POST to the last run's finishedAt (the sweep is polled once a
// second, so the measurement itself takes next to no CPU from the workers);
// efficiency(N) = throughput(N) / (N x throughput(1)). Ratios only: absolute times depend on the machine.
// Every N is measured once per round (BENCH_ROUNDS, default 3); efficiencies are taken within a
// round and their median reported, because one 2-core run alone varies by +-10%.
// Env: BENCH_N ("1,2"), BENCH_JOBS (8), BENCH_EPOCHS (2), BENCH_IMAGE_SIZE (32), WORKER_BACKEND (wasm).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FleetApi } from '../test/support/fleet-api.js';
import { FleetHarness } from '../test/support/fleet-harness.js';
import { writeTinyDataset } from '../test/support/tiny-dataset.js';

const NS = (process.env.BENCH_N ?? '1,2').split(',').map(Number);
const JOBS = Number(process.env.BENCH_JOBS ?? 8);
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 2);
const IMAGE_SIZE = Number(process.env.BENCH_IMAGE_SIZE ?? 32);
const BACKEND = process.env.WORKER_BACKEND ?? 'wasm';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DATASET = { size: IMAGE_SIZE, trainPerClass: 8, valPerClass: 4 };
for (const n of NS) if (JOBS % n !== 0) throw new Error(`BENCH_JOBS=${JOBS} must be a multiple of every N (${n})`);

interface Throughputs {
  engine: number;
  cold: number;
  warm: number;
}

function runEngineProcess(datasetDir: string, checkpointRoot: string, jobs: number, firstSeed: number): Promise<{ seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/bench/support/engine-jobs.js', datasetDir, checkpointRoot, String(jobs), String(EPOCHS), String(IMAGE_SIZE), String(firstSeed)], {
      env: { ...process.env, WORKER_BACKEND: BACKEND },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`engine-jobs exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as { seconds: number });
    });
  });
}

/** N bare engine processes, each a warm-up job then JOBS/N timed jobs: JOBS / the slowest one's time. */
async function engineThroughput(n: number): Promise<number> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fleet-scaling-engine-'));
  try {
    const datasetDir = await writeTinyDataset(path.join(root, 'tiny'), DATASET);
    const results = await Promise.all(Array.from({ length: n }, (_, i) => runEngineProcess(datasetDir, path.join(root, `ckpt-${i}`), JOBS / n, 1000 * i)));
    return JOBS / Math.max(...results.map((r) => r.seconds));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * Submits one sweep of JOBS equal jobs (seeds from firstSeed) and waits until all succeed; jobs/s
 * from the POST to the last run's finishedAt as stored by its worker (same machine, same clock).
 * Polls once a second: the measurement must not take CPU from the workers it measures.
 */
async function sweepThroughput(api: FleetApi, firstSeed: number): Promise<number> {
  const posted = Date.now();
  const sweep = await api.post<{ id: string }>('/api/sweeps', {
    name: `scaling seeds ${firstSeed}+`,
    base: { dataset: 'tiny', strategy: 'scratch', epochs: EPOCHS, batchSize: 4, imageSize: IMAGE_SIZE },
    grid: { seed: Array.from({ length: JOBS }, (_, i) => firstSeed + i) },
  });
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const detail = await api.get<{ counts: Record<string, number>; runs: { status: string; error: string | null }[] }>(`/api/sweeps/${sweep.id}`);
    const broken = detail.runs.find((r) => r.status === 'failed' || r.status === 'cancelled');
    if (broken) throw new Error(`a run ${broken.status}: ${broken.error ?? ''}`);
    if ((detail.counts.succeeded ?? 0) === JOBS) break;
  }
  const runs = await api.get<{ items: { finishedAt: string | null }[] }>(`/api/experiments?sweepId=${sweep.id}&limit=${JOBS}`);
  const finished = Math.max(...runs.items.map((r) => Date.parse(r.finishedAt ?? '')));
  if (runs.items.length !== JOBS || !Number.isFinite(finished)) throw new Error(`sweep ${sweep.id}: expected ${JOBS} finished runs`);
  return JOBS / ((finished - posted) / 1000);
}

async function fleetThroughput(n: number): Promise<Pick<Throughputs, 'cold' | 'warm'>> {
  const harness = await FleetHarness.create();
  const releaseSignals = harness.teardownOnSignals();
  try {
    await writeTinyDataset(path.join(harness.dataRoot, 'tiny'), DATASET);
    const api = new FleetApi((await harness.startApi()).url);
    await Promise.all(Array.from({ length: n }, () => harness.startWorker({ args: ['--backend', BACKEND] })));
    const cold = await sweepThroughput(api, 0);
    const warm = await sweepThroughput(api, JOBS);
    return { cold, warm };
  } finally {
    releaseSignals();
    await harness.teardown();
  }
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  process.stdout.write(`scaling: ${JOBS} jobs x ${EPOCHS} epochs at ${IMAGE_SIZE} px, backend ${BACKEND}, ${ROUNDS} round(s), ${os.cpus().length} CPUs, load ${os.loadavg()[0]?.toFixed(1)}\n`);
  // Efficiencies per round: each round measures every N back to back, so a round's ratios share
  // the machine's conditions; the median over rounds is what is reported.
  const efficiencies = new Map<number, { engine: number[]; cold: number[]; warm: number[] }>(NS.map((n) => [n, { engine: [], cold: [], warm: [] }]));
  for (let round = 1; round <= ROUNDS; round++) {
    const results = new Map<number, Throughputs>();
    for (const n of NS) {
      const engine = await engineThroughput(n);
      const fleet = await fleetThroughput(n);
      results.set(n, { engine, ...fleet });
      process.stdout.write(`round ${round} N=${n}: engine ${engine.toFixed(3)} jobs/s, fleet cold ${fleet.cold.toFixed(3)}, warm ${fleet.warm.toFixed(3)} jobs/s\n`);
    }
    const base = results.get(1);
    if (!base) continue;
    for (const [n, r] of results) {
      const e = efficiencies.get(n)!;
      e.engine.push(r.engine / (n * base.engine));
      e.cold.push(r.cold / (n * base.cold));
      e.warm.push(r.warm / (n * base.warm));
    }
  }
  if (!NS.includes(1)) return;
  process.stdout.write(`\nefficiency = throughput(N) / (N x throughput(1)), median of ${ROUNDS} round(s) [each round]\n`);
  process.stdout.write(`${'N'.padEnd(3)}${'engine alone'.padStart(26)}${'fleet, cold sweep'.padStart(26)}${'fleet, warm sweep'.padStart(26)}\n`);
  const cell = (xs: number[]) => `${median(xs).toFixed(2)} [${xs.map((x) => x.toFixed(2)).join(' ')}]`.padStart(26);
  for (const [n, e] of efficiencies) process.stdout.write(`${String(n).padEnd(3)}${cell(e.engine)}${cell(e.cold)}${cell(e.warm)}\n`);
  process.stdout.write(`(load now ${os.loadavg()[0]?.toFixed(1)})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:scaling: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
