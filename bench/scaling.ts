// bench:scaling — does a sweep of equal CPU jobs finish N times faster with N workers (issue 4)?
// For each N (default 1 and 2), four numbers from one run:
//   cpu    — N processes of a pure integer loop (no memory traffic): what this machine (a VM whose
//            vCPUs share a host) gives perfectly parallel work;
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
// Env: BENCH_N ("1,2"), BENCH_JOBS (12), BENCH_EPOCHS (2), BENCH_IMAGE_SIZE (32), WORKER_BACKEND (wasm).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FleetApi } from '../test/support/fleet-api.js';
import { FleetHarness } from '../test/support/fleet-harness.js';
import { writeTinyDataset } from '../test/support/tiny-dataset.js';

const NS = (process.env.BENCH_N ?? '1,2').split(',').map(Number);
const JOBS = Number(process.env.BENCH_JOBS ?? 12);
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 2);
const IMAGE_SIZE = Number(process.env.BENCH_IMAGE_SIZE ?? 32);
const BACKEND = process.env.WORKER_BACKEND ?? 'wasm';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DATASET = { size: IMAGE_SIZE, trainPerClass: 8, valPerClass: 4 };
for (const n of NS) if (JOBS % n !== 0) throw new Error(`BENCH_JOBS=${JOBS} must be a multiple of every N (${n})`);

interface Throughputs {
  cpu: number;
  engine: number;
  cold: number;
  warm: number;
}

/** Runs a node child that prints JSON lines; resolves with the `seconds` of its last line. */
function runTimedChild(args: string[], label: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${label} exited with ${code}`));
      resolve((JSON.parse(out.trim().split('\n').pop()!) as { seconds: number }).seconds);
    });
  });
}

function runEngineProcess(datasetDir: string, checkpointRoot: string, jobs: number, firstSeed: number): Promise<number> {
  const args = ['dist/bench/support/engine-jobs.js', datasetDir, checkpointRoot, String(jobs), String(EPOCHS), String(IMAGE_SIZE), String(firstSeed)];
  return runTimedChild(args, 'engine-jobs', { ...process.env, WORKER_BACKEND: BACKEND });
}

const CPU_LOOP = 'let x = 0; const t = performance.now(); for (let i = 0; i < 1.5e9; i++) x = (x * 1664525 + 1013904223) | 0; console.log(JSON.stringify({ seconds: (performance.now() - t) / 1000, x }));';

/** N processes of the same integer loop at once: N / the slowest one's time (loops per second). */
async function cpuThroughput(n: number): Promise<number> {
  const seconds = await Promise.all(Array.from({ length: n }, () => runTimedChild(['-e', CPU_LOOP], 'cpu loop')));
  return n / Math.max(...seconds);
}

/** N bare engine processes, each a warm-up job then JOBS/N timed jobs: JOBS / the slowest one's time. */
async function engineThroughput(n: number): Promise<number> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fleet-scaling-engine-'));
  try {
    const datasetDir = await writeTinyDataset(path.join(root, 'tiny'), DATASET);
    const results = await Promise.all(Array.from({ length: n }, (_, i) => runEngineProcess(datasetDir, path.join(root, `ckpt-${i}`), JOBS / n, 1000 * i)));
    return JOBS / Math.max(...results);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * Submits one sweep of JOBS equal jobs (seeds from firstSeed) and waits until all succeed; jobs/s
 * from the POST to the last run's finishedAt as stored by its worker (same machine, same clock).
 * Polls once a second: the measurement must not take CPU from the workers it measures.
 */
interface SweepTiming {
  throughput: number;
  /** Share of the sweep's span (POST -> last finish) the workers spent inside jobs. */
  busy: number;
  /** Mean seconds from a job's start to its finish. */
  jobSeconds: number;
}

async function sweepThroughput(api: FleetApi, firstSeed: number, workers: number): Promise<SweepTiming> {
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
  const runs = await api.get<{ items: { startedAt: string | null; finishedAt: string | null }[] }>(`/api/experiments?sweepId=${sweep.id}&limit=${JOBS}`);
  const durations = runs.items.map((r) => (Date.parse(r.finishedAt ?? '') - Date.parse(r.startedAt ?? '')) / 1000);
  const finished = Math.max(...runs.items.map((r) => Date.parse(r.finishedAt ?? '')));
  if (runs.items.length !== JOBS || !Number.isFinite(finished) || durations.some((d) => !Number.isFinite(d))) throw new Error(`sweep ${sweep.id}: expected ${JOBS} finished runs`);
  const span = (finished - posted) / 1000;
  const inJobs = durations.reduce((a, b) => a + b, 0);
  return { throughput: JOBS / span, busy: inJobs / (workers * span), jobSeconds: inJobs / JOBS };
}

async function fleetThroughput(n: number): Promise<{ cold: SweepTiming; warm: SweepTiming }> {
  const harness = await FleetHarness.create();
  const releaseSignals = harness.teardownOnSignals();
  try {
    await writeTinyDataset(path.join(harness.dataRoot, 'tiny'), DATASET);
    const api = new FleetApi((await harness.startApi()).url);
    await Promise.all(Array.from({ length: n }, () => harness.startWorker({ args: ['--backend', BACKEND] })));
    const cold = await sweepThroughput(api, 0, n);
    const warm = await sweepThroughput(api, JOBS, n);
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
  const columns = ['cpu', 'engine', 'cold', 'warm'] as const;
  const efficiencies = new Map(NS.map((n) => [n, Object.fromEntries(columns.map((c) => [c, [] as number[]])) as Record<(typeof columns)[number], number[]>]));
  // Where the fleet's time goes on the warm sweep: how busy the workers were and how long a job took.
  const warmTimings = new Map<number, SweepTiming[]>(NS.map((n) => [n, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    const results = new Map<number, Throughputs>();
    for (const n of NS) {
      const cpu = await cpuThroughput(n);
      const engine = await engineThroughput(n);
      const fleet = await fleetThroughput(n);
      results.set(n, { cpu, engine, cold: fleet.cold.throughput, warm: fleet.warm.throughput });
      warmTimings.get(n)!.push(fleet.warm);
      process.stdout.write(
        `round ${round} N=${n}: cpu loop ${cpu.toFixed(3)}/s, engine ${engine.toFixed(3)} jobs/s, fleet cold ${fleet.cold.throughput.toFixed(3)}, warm ${fleet.warm.throughput.toFixed(3)} jobs/s ` +
          `(warm: workers busy ${(100 * fleet.warm.busy).toFixed(1)}% of the sweep, ${fleet.warm.jobSeconds.toFixed(2)} s per job)\n`,
      );
    }
    const base = results.get(1);
    if (!base) continue;
    for (const [n, r] of results) for (const c of columns) efficiencies.get(n)![c].push(r[c] / (n * base[c]));
  }
  if (!NS.includes(1)) return;
  process.stdout.write(`\nefficiency = throughput(N) / (N x throughput(1)), median of ${ROUNDS} round(s) [each round]\n`);
  process.stdout.write(`${'N'.padEnd(3)}${'cpu loop'.padStart(26)}${'engine alone'.padStart(26)}${'fleet, cold sweep'.padStart(26)}${'fleet, warm sweep'.padStart(26)}\n`);
  const cell = (xs: number[]) => `${median(xs).toFixed(2)} [${xs.map((x) => x.toFixed(2)).join(' ')}]`.padStart(26);
  for (const [n, e] of efficiencies) process.stdout.write(`${String(n).padEnd(3)}${columns.map((c) => cell(e[c])).join('')}\n`);
  process.stdout.write('\nwarm sweep, median over rounds: workers busy = time inside jobs / (N x span); job = seconds from start to finish\n');
  for (const [n, timings] of warmTimings) {
    process.stdout.write(`N=${n}: workers busy ${(100 * median(timings.map((t) => t.busy))).toFixed(1)}%, ${median(timings.map((t) => t.jobSeconds)).toFixed(2)} s per job\n`);
  }
  process.stdout.write(`(load now ${os.loadavg()[0]?.toFixed(1)})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:scaling: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
