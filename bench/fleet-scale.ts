// bench:fleet — the fleet at scale on simulated workers (issue 16). For each worker count N, the
// built API, one Redis and one Postgres on this machine run a sweep (default 2000 runs x 10
// epochs) on N simulated workers (`--engine simulated`: the real worker, its checkpoints, epoch
// storage and events, with sleeps for epochs), N/P per process in P processes, each worker with
// its own Redis connections and Postgres pool. Mid-sweep a tenth of the workers are killed with
// SIGKILL (whole processes) and restarted. Reported per N:
//   dispatch      a job enqueued or a worker free (its previous run succeeded, or it just
//                 started), whichever is later -> BullMQ hands the job to the worker (its
//                 processedOn, timed by the worker: the queue's dispatch, BullMQ's wait time), first
//                 attempts only; split into the burst (each worker's first run: the sweep lands on
//                 the idle fleet and every worker takes a run at once) and the steady state (all
//                 later runs)
//   to running    the same start -> the worker's `running` event: adds the run's start on the
//                 worker (payload check, run folder, engine, `running` in Postgres), split the same
//                 way, with the burst's CPU per pickup (all processes, 100 ms snapshots)
//   epoch report  the engine finished an epoch -> stored in Postgres, published, early-stop checked
//                 (the worker waits for this before the next epoch), with its parts
//   Postgres      client connections (peak, all apps), PgBouncer clients waiting for a server
//   Redis ops/s, CPU of the API / workers / Postgres / Redis / PgBouncer, epochs/s vs offered
//   lost, duplicated or wrong epochs (must be 0) and how long the killed workers' runs took to resume
// Postgres is a private cluster (max_connections 100, the default), Redis a private server
// (appendfsync everysec), both started here and removed afterwards; the apps reach Postgres through
// a private PgBouncer in transaction mode (--db direct: without it).
//
//   npm run bench:fleet -- --workers 10,50,200 [--runs 2000] [--epochs 10] [--epoch-ms 250]
//                          [--processes 10] [--kill 0.1] [--db pgbouncer|direct] [--pool 20]
//                          [--cpu-prof DIR]
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { PrismaService } from '@fleet/persistence';
import { QueueName } from '@fleet/queue';
import { percentile } from './support/bench-api.js';
import { FleetApi } from '../test/support/fleet-api.js';
import { FleetHarness } from '../test/support/fleet-harness.js';
import { PrivatePgBouncer, PrivatePostgres, PrivateRedis } from '../test/support/private-services.js';
import { auditSimulatedSweep, SIM_DATASET, startSimulatedWorkers, writeSimDataset, type SimulatedWorkerProcess, type TimedEvent } from '../test/support/simulated-fleet.js';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: '10,50,200' },
    runs: { type: 'string', default: '2000' },
    epochs: { type: 'string', default: '10' },
    'epoch-ms': { type: 'string', default: '250' },
    processes: { type: 'string', default: '10' },
    kill: { type: 'string', default: '0.1' },
    db: { type: 'string', default: 'pgbouncer' },
    pool: { type: 'string', default: '20' },
    'cpu-prof': { type: 'string' },
  },
});

function positiveInt(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer (got "${raw}")`);
  return value;
}

const NS = (args.workers ?? '').split(',').map((n) => positiveInt('workers', n));
const RUNS = positiveInt('runs', args.runs);
const EPOCHS = positiveInt('epochs', args.epochs);
const EPOCH_MS = positiveInt('epoch-ms', args['epoch-ms']);
const PROCESSES = positiveInt('processes', args.processes);
const KILL = Number(args.kill);
const DB = args.db;
const POOL = positiveInt('pool', args.pool);
if (!(KILL >= 0 && KILL < 1)) throw new Error(`--kill must be a fraction in [0, 1) (got "${args.kill}")`);
if (DB !== 'pgbouncer' && DB !== 'direct') throw new Error(`--db must be pgbouncer or direct (got "${DB}")`);
/** --cpu-prof DIR: the worker processes write V8 CPU profiles there when they exit (see where the time goes). */
const PROFILE_FLAGS = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args['cpu-prof'])}`] : [];
/** Worker locks expire within seconds, so killed workers' runs are picked up again quickly. */
const WORKER_ENV = { WORKER_LOCK_DURATION_MS: '10000', WORKER_STALLED_INTERVAL_MS: '5000' };
const CLK_TCK = 100;

/**
 * CPU seconds (user + system) of processes, from /proc; withChildren adds their reaped children's
 * (Postgres backends that ended during the run are then still counted through the postmaster).
 */
function cpuSeconds(pids: number[], withChildren = false): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(fields[11]) + Number(fields[12]) + (withChildren ? Number(fields[13]) + Number(fields[14]) : 0);
    } catch {
      // gone (a killed worker)
    }
  }
  return ticks / CLK_TCK;
}

/** CPU seconds of the private Postgres: the postmaster, the backends it reaped and the live ones. */
function postgresCpuSeconds(dataDir: string): number {
  const postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return cpuSeconds([postmaster], true) + cpuSeconds(pids);
}

/**
 * The worker processes go on using the cores for a while after their ready lines (measured: 2
 * CPU-s in the first second at 10 workers, start-up work such as V8's background compilation and
 * garbage collection). The sweep must land on an idle fleet, as it does in production, so this waits
 * until they use less than a quarter of a core over half a second (idle, 200 workers' heartbeats
 * and stalled-job checks take ~10-20%), at most 30 s. Returns how long it waited.
 */
async function waitUntilQuiet(pids: () => number[]): Promise<number> {
  const started = Date.now();
  let last = cpuSeconds(pids());
  while (Date.now() - started < 30_000) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = cpuSeconds(pids());
    if (now - last < 0.125) break;
    last = now;
  }
  return Date.now() - started;
}

async function redisInfo(redis: Redis): Promise<{ commands: number; cpu: number }> {
  const info = await redis.info();
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return { commands: field('total_commands_processed'), cpu: field('used_cpu_user') + field('used_cpu_sys') };
}

interface Samples {
  pgConnections: number;
  pgActive: number;
  bouncerWaiting: number;
  bouncerMaxWaitMs: number;
}

/** Polls Postgres (and PgBouncer) every 250 ms; keeps the peaks. */
function startSampler(monitor: pg.Client, bouncer: pg.Client | undefined): { stop(): Promise<Samples> } {
  const peak: Samples = { pgConnections: 0, pgActive: 0, bouncerWaiting: 0, bouncerMaxWaitMs: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await monitor.query<{ total: string; active: string }>(
        `SELECT count(*) AS total, count(*) FILTER (WHERE state <> 'idle') AS active FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      peak.pgConnections = Math.max(peak.pgConnections, Number(rows[0]?.total));
      peak.pgActive = Math.max(peak.pgActive, Number(rows[0]?.active));
      if (bouncer) {
        const pools = await bouncer.query<{ database: string; cl_waiting: string; maxwait: string; maxwait_us: string }>('SHOW POOLS');
        for (const p of pools.rows.filter((r) => r.database !== 'pgbouncer')) {
          peak.bouncerWaiting = Math.max(peak.bouncerWaiting, Number(p.cl_waiting));
          peak.bouncerMaxWaitMs = Math.max(peak.bouncerMaxWaitMs, Number(p.maxwait) * 1000 + Number(p.maxwait_us) / 1000);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return peak;
    },
  };
}

/** The stats files of the worker processes: every sample by name. */
function readStats(dir: string): Map<string, number[]> {
  const all = new Map<string, number[]>();
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      const { samples } = JSON.parse(line) as { samples: Record<string, number[]> };
      for (const [name, values] of Object.entries(samples)) all.set(name, [...(all.get(name) ?? []), ...values]);
    }
  }
  return all;
}

const pct = (values: number[], p: number): number => percentile([...values].sort((a, b) => a - b), p);
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

interface ToRunning {
  /** First-attempt pickups: free -> running, ms. */
  latencies: number[];
  /**
   * Of those, each worker's first run of the sweep: the sweep landing on an idle fleet, every
   * worker taking a run at once (the cold burst).
   */
  burst: number[];
  /** When the last of those pickups before the kill happened (Redis clock, ms): the sweep's landing. */
  burstEndAt: number;
  /** The others: a worker free after its previous run -> its next one (steady state). */
  steady: number[];
  /** Runs the killed workers held: kill -> running again elsewhere, ms. */
  recoveries: number[];
}

/**
 * Dispatch to `running` from the runs' event streams (Redis clock) and the jobs' enqueue times (the
 * API's clock, same machine): per worker, in pickup order, each first-attempt pickup minus the
 * moment the worker was free for it (its previous run's `succeeded`, or its ready time) or the job
 * was enqueued, whichever was later.
 */
function toRunningLatencies(events: Map<string, TimedEvent[]>, enqueuedAt: Map<string, number>, readyAt: Map<string, number>, killedAt: number | undefined): ToRunning {
  const pickups: { worker: string; at: number; id: string; first: boolean }[] = [];
  const ends = new Map<string, number>();
  const recoveries: number[] = [];
  for (const [id, timeline] of events) {
    const running = timeline.filter((e) => e.event.type === 'status' && e.event.status === 'running');
    running.forEach((e, i) => pickups.push({ worker: (e.event as { workerId?: string }).workerId ?? '?', at: e.at, id, first: i === 0 }));
    const succeeded = timeline.find((e) => e.event.type === 'status' && e.event.status === 'succeeded');
    if (succeeded) ends.set(id, succeeded.at);
    const resumed = running.find((e) => killedAt !== undefined && e.at > killedAt && running.indexOf(e) > 0);
    if (resumed && killedAt !== undefined) recoveries.push(resumed.at - killedAt);
  }
  const byWorker = new Map<string, typeof pickups>();
  for (const p of pickups) byWorker.set(p.worker, [...(byWorker.get(p.worker) ?? []), p]);
  const latencies: number[] = [];
  const burst: number[] = [];
  let burstEndAt = NaN;
  const steady: number[] = [];
  for (const [worker, list] of byWorker) {
    list.sort((a, b) => a.at - b.at);
    list.forEach((p, i) => {
      const previous = list[i - 1];
      const free = previous ? ends.get(previous.id) : readyAt.get(worker);
      const enqueued = enqueuedAt.get(p.id);
      // A previous run that did not succeed on this worker (handed back) gives no free time: skipped.
      if (!p.first || free === undefined || enqueued === undefined) return;
      const latency = p.at - Math.max(free, enqueued);
      latencies.push(latency);
      (previous ? steady : burst).push(latency);
      if (!previous && (killedAt === undefined || p.at < killedAt)) burstEndAt = Number.isNaN(burstEndAt) ? p.at : Math.max(burstEndAt, p.at);
    });
  }
  return { latencies, burst, burstEndAt, steady, recoveries };
}

type CpuPart = 'api' | 'workers' | 'postgres' | 'redis' | 'pgbouncer';

interface CpuSnapshot {
  at: number;
  seconds: Record<CpuPart, number>;
}

/**
 * CPU snapshots every 100 ms for the first seconds of the sweep: the burst is CPU-bound on a small
 * machine, and its CPU per pickup says by what.
 */
function startCpuSnapshots(take: () => Promise<Record<CpuPart, number>>, forMs: number): { stop(): Promise<CpuSnapshot[]> } {
  const snapshots: CpuSnapshot[] = [];
  const until = Date.now() + forMs;
  let busy: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    if (Date.now() > until) return clearInterval(timer);
    busy = busy.then(async () => {
      const seconds = await take();
      snapshots.push({ at: Date.now(), seconds });
    }).catch(() => undefined);
  }, 100);
  return {
    async stop() {
      clearInterval(timer);
      await busy;
      return snapshots;
    },
  };
}

function burstCpu(before: CpuSnapshot, snapshots: CpuSnapshot[], burstEndAt: number): Row['burstCpu'] {
  const after = snapshots.find((s) => s.at >= burstEndAt);
  if (!after) return undefined;
  const seconds = Object.fromEntries(Object.entries(after.seconds).map(([k, v]) => [k, v - before.seconds[k as CpuPart]])) as Record<CpuPart, number>;
  return { seconds, windowMs: after.at - before.at };
}

interface Row {
  n: number;
  processes: number;
  toRunning: ToRunning;
  report: number[];
  parts: Map<string, number[]>;
  samples: Samples;
  redisOpsPerSec: number;
  cpu: Record<CpuPart, number>;
  /** CPU seconds each part used from the sweep's POST until the burst's last pickup (first snapshot after it). */
  burstCpu: { seconds: Record<CpuPart, number>; windowMs: number } | undefined;
  spanSeconds: number;
  epochsPerSec: number;
  offeredPerSec: number;
  audit: { lost: number; duplicated: number; wrong: number; unfinished: number; reReported: number };
  killed: number;
  load: [number, number];
}

async function main(): Promise<void> {
  process.stdout.write(`bench:fleet: ${RUNS} runs x ${EPOCHS} epochs of ${EPOCH_MS} ms, workers ${NS.join('/')} in up to ${PROCESSES} processes, kill ${KILL}, db ${DB}${DB === 'pgbouncer' ? ` (pool ${POOL})` : ''}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  const postgres = await PrivatePostgres.start({ maxConnections: 100 });
  const redisServer = await PrivateRedis.start({ appendfsync: 'everysec' });
  const bouncer = DB === 'pgbouncer' ? await PrivatePgBouncer.start({ target: { host: postgres.host, port: postgres.port }, databases: ['fleet'], poolSize: POOL }) : undefined;
  const harness = await FleetHarness.create({ databaseUrl: bouncer ? bouncer.url('fleet') : postgres.url(), redisUrl: redisServer.url });
  const cleanup = async (): Promise<void> => {
    await harness.teardown().catch(() => undefined);
    await bouncer?.destroy().catch(() => undefined);
    await redisServer.destroy().catch(() => undefined);
    await postgres.destroy().catch(() => undefined);
  };
  const onSignal = (): void => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const monitor = new pg.Client({ connectionString: postgres.url() });
  const bouncerAdmin = bouncer ? new pg.Client({ connectionString: bouncer.adminUrl }) : undefined;
  const redis = new Redis(redisServer.url);
  const prisma = new PrismaService(postgres.url(), { poolMax: 2 });
  const rows: Row[] = [];
  try {
    await monitor.connect();
    await bouncerAdmin?.connect();
    await writeSimDataset(harness.dataRoot);
    const apiHandle = await harness.startApi({ env: { MAX_SWEEP_RUNS: String(RUNS), RATE_LIMIT: 'off' } });
    const api = new FleetApi(apiHandle.url);
    for (const n of NS) rows.push(await runOne(n, { harness, api, apiPid: apiHandle.process.pid, monitor, bouncerAdmin, bouncerPid: bouncer?.pid, redis, prisma, postgresDir: postgres.dataDir }));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    redis.disconnect();
    await prisma.$disconnect();
    await monitor.end().catch(() => undefined);
    await bouncerAdmin?.end().catch(() => undefined);
    await cleanup();
  }
  printTable(rows);
}

interface Context {
  harness: FleetHarness;
  api: FleetApi;
  apiPid: number;
  monitor: pg.Client;
  bouncerAdmin: pg.Client | undefined;
  bouncerPid: number | undefined;
  redis: Redis;
  prisma: PrismaService;
  postgresDir: string;
}

async function runOne(n: number, ctx: Context): Promise<Row> {
  const processes = Math.min(n, PROCESSES);
  if (n % processes !== 0) throw new Error(`--workers ${n} must be a multiple of the process count ${processes}`);
  const perProcess = n / processes;
  const statsDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-bench-stats-'));
  const readyAt = new Map<string, number>();
  let launched = 0;
  const launch = async (): Promise<SimulatedWorkerProcess> => {
    const started = await startSimulatedWorkers(ctx.harness, `sim${n}-${++launched}`, { workers: perProcess, epochMs: EPOCH_MS, statsDir, env: WORKER_ENV, nodeFlags: PROFILE_FLAGS, readyTimeoutMs: 300_000 });
    for (const id of started.workerIds) readyAt.set(id, Date.now());
    return started;
  };
  const fleet = await Promise.all(Array.from({ length: processes }, launch));
  const load0 = os.loadavg()[0] ?? NaN;
  process.stdout.write(`\nN=${n}: ${processes} processes x ${perProcess} simulated workers ready (load ${load0.toFixed(1)})\n`);

  const pids = () => fleet.map((p) => p.process.pid);
  const quietMs = await waitUntilQuiet(pids);
  process.stdout.write(`N=${n}: workers quiet ${(quietMs / 1000).toFixed(1)} s after ready\n`);
  const cpuOf = () => ({
    api: cpuSeconds([ctx.apiPid]),
    workers: cpuSeconds(pids()),
    postgres: postgresCpuSeconds(ctx.postgresDir),
    pgbouncer: ctx.bouncerPid ? cpuSeconds([ctx.bouncerPid]) : 0,
  });
  const cpu0 = cpuOf();
  const redis0 = await redisInfo(ctx.redis);
  const sampler = startSampler(ctx.monitor, ctx.bouncerAdmin);
  const snapshotNow = async (): Promise<Record<CpuPart, number>> => ({ ...cpuOf(), redis: (await redisInfo(ctx.redis)).cpu });
  const beforeBurst: CpuSnapshot = { at: Date.now(), seconds: { ...cpu0, redis: redis0.cpu } };
  const snapshots = startCpuSnapshots(snapshotNow, 10_000);
  const posted = Date.now();
  const sweep = await ctx.api.post<{ id: string; experimentIds: string[] }>('/api/sweeps', {
    name: `bench:fleet N=${n}`,
    base: { dataset: SIM_DATASET, strategy: 'scratch', epochs: EPOCHS },
    grid: { seed: Array.from({ length: RUNS }, (_, i) => i) },
  });
  const enqueuedAt = await jobTimestamps(ctx.redis, ctx.harness.queuePrefix, sweep.experimentIds);
  const total = RUNS * EPOCHS;
  const storedEpochs = async (): Promise<number> =>
    Number((await ctx.monitor.query<{ n: string }>('SELECT count(*) AS n FROM "EpochMetric" m JOIN "Experiment" e ON e.id = m."experimentId" WHERE e."sweepId" = $1', [sweep.id])).rows[0]?.n);
  const succeeded = async (): Promise<number> =>
    Number((await ctx.monitor.query<{ n: string }>(`SELECT count(*) AS n FROM "Experiment" WHERE "sweepId" = $1 AND status = 'succeeded'`, [sweep.id])).rows[0]?.n);

  // Kill a tenth of the workers (whole processes) once 30% of the epochs are stored; restart them.
  const victims = KILL > 0 ? Math.max(1, Math.round(processes * KILL)) : 0;
  let killedAt: number | undefined;
  const deadline = Date.now() + 3_600_000;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (killedAt === undefined && victims > 0 && (await storedEpochs()) >= total * 0.3) {
      killedAt = Date.now();
      const dead = fleet.splice(0, victims);
      await Promise.all(dead.map((p) => p.process.kill()));
      process.stdout.write(`N=${n}: killed ${victims} process(es) (${victims * perProcess} workers) with SIGKILL at ${((killedAt - posted) / 1000).toFixed(1)} s; restarting them\n`);
      fleet.push(...(await Promise.all(Array.from({ length: victims }, launch))));
    }
    if ((await succeeded()) === RUNS) break;
    if (Date.now() > deadline) throw new Error(`N=${n}: the sweep did not finish within an hour`);
  }
  const finished = Date.now();
  const samples = await sampler.stop();
  const cpuSnapshots = await snapshots.stop();
  const cpu1 = cpuOf();
  const redis1 = await redisInfo(ctx.redis);
  const load1 = os.loadavg()[0] ?? NaN;
  const workerCpu = cpu1.workers - cpu0.workers; // killed processes' CPU up to the kill is lost: a slight undercount
  await Promise.all(fleet.map(async (p) => {
    p.process.signal('SIGTERM');
    await Promise.race([p.process.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    await p.process.kill();
  }));

  const audit = await auditSimulatedSweep(ctx.prisma, ctx.redis, ctx.harness.queuePrefix, sweep.id);
  const lastSucceeded = Math.max(...[...audit.events.values()].flatMap((t) => t.filter((e) => e.event.type === 'status' && e.event.status === 'succeeded').map((e) => e.at)));
  const span = (lastSucceeded - posted) / 1000;
  const wall = (finished - posted) / 1000;
  const stats = readStats(statsDir);
  await rm(statsDir, { recursive: true, force: true });
  const toRunning = toRunningLatencies(audit.events, enqueuedAt, readyAt, killedAt);
  const row: Row = {
    n,
    processes,
    toRunning,
    burstCpu: burstCpu(beforeBurst, cpuSnapshots, toRunning.burstEndAt),
    report: stats.get('epoch.report') ?? [],
    parts: stats,
    samples,
    redisOpsPerSec: (redis1.commands - redis0.commands) / wall,
    cpu: {
      api: (100 * (cpu1.api - cpu0.api)) / wall,
      workers: (100 * workerCpu) / wall,
      postgres: (100 * (cpu1.postgres - cpu0.postgres)) / wall,
      redis: (100 * (redis1.cpu - redis0.cpu)) / wall,
      pgbouncer: (100 * (cpu1.pgbouncer - cpu0.pgbouncer)) / wall,
    },
    spanSeconds: span,
    epochsPerSec: total / span,
    offeredPerSec: (n * 1000) / EPOCH_MS,
    audit,
    killed: victims * perProcess,
    load: [load0, load1],
  };
  process.stdout.write(`${describe(row)}\n`);
  if (audit.problems.length > 0) process.stdout.write(`N=${n} problems:\n  ${audit.problems.join('\n  ')}\n`);
  return row;
}

/** BullMQ's enqueue time of each job (jobId = experiment id), read right after the POST. */
async function jobTimestamps(redis: Redis, prefix: string, ids: string[]): Promise<Map<string, number>> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hget(`${prefix}:${QueueName.Train}:${id}`, 'timestamp');
  const replies = (await pipeline.exec()) ?? [];
  const out = new Map<string, number>();
  ids.forEach((id, i) => {
    const value = replies[i]?.[1];
    if (typeof value === 'string') out.set(id, Number(value));
  });
  return out;
}

const ms = (x: number): string => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : 'n/a');

/** The samples the workers recorded under `name` (none: empty). */
const part = (r: Row, name: string): number[] => r.parts.get(name) ?? [];

/** "p50 / p99 ms" of some samples, as the table shows them. */
const p50p99 = (values: number[]): string => `${ms(pct(values, 50))} / ${ms(pct(values, 99))} ms`;

/** Every first attempt's queue hand-out, burst and steady state together. */
const handouts = (r: Row): number[] => [...part(r, 'handout.first'), ...part(r, 'handout')];

/** CPU seconds of all processes together. */
const totalSeconds = (seconds: Record<CpuPart, number>): number => Object.values(seconds).reduce((a, v) => a + v, 0);

/** The burst's CPU of all processes per first pickup, ms. */
const burstCpuPerPickupMs = (r: Row): number => (r.burstCpu ? (1000 * totalSeconds(r.burstCpu.seconds)) / r.n : NaN);

/** The burst's CPU: what each part used until the last first pickup, and per pickup. */
function describeBurstCpu(r: Row): string {
  const b = r.burstCpu;
  if (!b) return 'n/a';
  const total = totalSeconds(b.seconds);
  const cores = os.cpus().length;
  const parts = (Object.entries(b.seconds) as [CpuPart, number][]).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
  return `${total.toFixed(2)} CPU-s in ${(b.windowMs / 1000).toFixed(2)} s (${((100 * total) / (b.windowMs / 1000) / cores).toFixed(0)}% of ${cores} cores; ${parts}) = ${ms(burstCpuPerPickupMs(r))} ms per pickup`;
}

function describe(r: Row): string {
  const parts = ['epoch.store', 'epoch.search', 'event.publish', 'cancel.check', 'run.start']
    .map((name) => [name, part(r, name)] as const)
    .filter(([, v]) => v.length > 0)
    .map(([name, v]) => `${name} p50 ${ms(pct(v, 50))} / mean ${ms(mean(v))} / p99 ${ms(pct(v, 99))}`);
  return [
    `N=${r.n}: sweep ${r.spanSeconds.toFixed(1)} s, ${r.epochsPerSec.toFixed(0)} epochs/s of ${r.offeredPerSec.toFixed(0)} offered`,
    `  dispatch (queue hand-out: enqueued or worker free -> BullMQ gives the worker the job): ` +
      `all p50 ${ms(pct(handouts(r), 50))} / p99 ${ms(pct(handouts(r), 99))} ms; burst p50 ${ms(pct(part(r, 'handout.first'), 50))} / p99 ${ms(pct(part(r, 'handout.first'), 99))} ms (n=${part(r, 'handout.first').length}); ` +
      `steady p50 ${ms(pct(part(r, 'handout'), 50))} / p99 ${ms(pct(part(r, 'handout'), 99))} ms (n=${part(r, 'handout').length})`,
    `  dispatch to the running event (adds the run's start on the worker): p50 ${ms(pct(r.toRunning.latencies, 50))} ms, p99 ${ms(pct(r.toRunning.latencies, 99))} ms, max ${ms(Math.max(...r.toRunning.latencies))} ms (n=${r.toRunning.latencies.length}); ` +
      `steady state p50 ${ms(pct(r.toRunning.steady, 50))} / p99 ${ms(pct(r.toRunning.steady, 99))} / max ${ms(Math.max(...r.toRunning.steady))} ms (n=${r.toRunning.steady.length}); ` +
      `burst (each worker's first run) p50 ${ms(pct(r.toRunning.burst, 50))} / p99 ${ms(pct(r.toRunning.burst, 99))} / max ${ms(Math.max(...r.toRunning.burst))} ms (n=${r.toRunning.burst.length})`,
    `  burst CPU: ${describeBurstCpu(r)}`,
    `  epoch report p50 ${ms(pct(r.report, 50))} ms, p99 ${ms(pct(r.report, 99))} ms (n=${r.report.length}); parts (ms): ${parts.join('; ')}`,
    `  Postgres connections peak ${r.samples.pgConnections} (active ${r.samples.pgActive}), PgBouncer clients waiting peak ${r.samples.bouncerWaiting} (longest wait ${ms(r.samples.bouncerMaxWaitMs)} ms); Redis ${r.redisOpsPerSec.toFixed(0)} ops/s`,
    `  CPU (% of one core): API ${r.cpu.api.toFixed(0)}, workers ${r.cpu.workers.toFixed(0)}, Postgres ${r.cpu.postgres.toFixed(0)}, Redis ${r.cpu.redis.toFixed(0)}, PgBouncer ${r.cpu.pgbouncer.toFixed(0)}; load ${r.load[0].toFixed(1)} -> ${r.load[1].toFixed(1)}`,
    `  killed ${r.killed} workers: runs resumed elsewhere after p50 ${ms(pct(r.toRunning.recoveries, 50))} ms, max ${ms(Math.max(...r.toRunning.recoveries))} ms (n=${r.toRunning.recoveries.length}); epochs lost ${r.audit.lost}, duplicated ${r.audit.duplicated}, wrong ${r.audit.wrong}, runs unfinished ${r.audit.unfinished}; epochs re-reported after the kill ${r.audit.reReported}`,
  ].join('\n');
}

function printTable(rows: Row[]): void {
  const line = (label: string, cell: (r: Row) => string): string => `| ${label} | ${rows.map(cell).join(' | ')} |`;
  const out = [
    `\nbench:fleet: ${RUNS} runs x ${EPOCHS} epochs of ${EPOCH_MS} ms, db ${DB}${DB === 'pgbouncer' ? ` (pool ${POOL})` : ''}`,
    `| workers (processes x per process) | ${rows.map((r) => `${r.n} (${r.processes} x ${r.n / r.processes})`).join(' | ')} |`,
    `| --- | ${rows.map(() => '---').join(' | ')} |`,
    line('sweep time; epochs/s done / offered', (r) => `${r.spanSeconds.toFixed(0)} s; ${r.epochsPerSec.toFixed(0)} / ${r.offeredPerSec.toFixed(0)}`),
    line('dispatch (queue hand-out) p50 / p99, all (enqueued or free -> BullMQ gives the worker the job)', (r) => p50p99(handouts(r))),
    line('... burst / steady state p99', (r) => `${ms(pct(part(r, 'handout.first'), 99))} / ${ms(pct(part(r, 'handout'), 99))} ms`),
    line('dispatch to the `running` event p50 / p99, all', (r) => p50p99(r.toRunning.latencies)),
    line('... steady state (worker free -> its next run)', (r) => p50p99(r.toRunning.steady)),
    line("... burst (sweep lands on the idle fleet: each worker's first run)", (r) => p50p99(r.toRunning.burst)),
    line('... burst CPU per pickup (all processes, until the last first pickup)', (r) => (r.burstCpu ? `${ms(burstCpuPerPickupMs(r))} ms` : 'n/a')),
    line('epoch report p50 / p99', (r) => p50p99(r.report)),
    line('... store in Postgres p50 / p99', (r) => p50p99(part(r, 'epoch.store'))),
    // A grid sweep's cells have no rungs: the worker skips the query, so there is nothing to time.
    line('... early-stop check (searched sweeps only) p50 / p99', (r) => (part(r, 'epoch.search').length === 0 ? 'not run (grid sweep)' : p50p99(part(r, 'epoch.search')))),
    line('... Redis event p50 / p99', (r) => p50p99(part(r, 'event.publish'))),
    line('Postgres connections peak (active)', (r) => `${r.samples.pgConnections} (${r.samples.pgActive})`),
    line('PgBouncer clients waiting peak', (r) => String(r.samples.bouncerWaiting)),
    line('Redis ops/s', (r) => r.redisOpsPerSec.toFixed(0)),
    line('CPU % of a core: API / workers / Postgres / Redis / PgBouncer', (r) => `${r.cpu.api.toFixed(0)} / ${r.cpu.workers.toFixed(0)} / ${r.cpu.postgres.toFixed(0)} / ${r.cpu.redis.toFixed(0)} / ${r.cpu.pgbouncer.toFixed(0)}`),
    line('killed (kill -9) -> resumed p50 / max', (r) => `${r.killed} -> ${ms(pct(r.toRunning.recoveries, 50) / 1000)} / ${ms(Math.max(...r.toRunning.recoveries) / 1000)} s`),
    line('epochs lost / duplicated / wrong', (r) => `${r.audit.lost} / ${r.audit.duplicated} / ${r.audit.wrong}`),
    line('load average (1 min) before -> after', (r) => `${r.load[0].toFixed(1)} -> ${r.load[1].toFixed(1)}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  const bad = rows.filter((r) => r.audit.lost + r.audit.duplicated + r.audit.wrong + r.audit.unfinished > 0);
  if (bad.length > 0) {
    process.stdout.write(`FAILED: lost, duplicated or wrong epochs at N=${bad.map((r) => r.n).join(', ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:fleet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
