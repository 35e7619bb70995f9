// bench:netns — the same worker and queue code with every worker on its own network address, to
// show nothing assumes one host. Builds, on this machine only, a "hub" network namespace that runs
// a private Redis and Postgres on a bridge (10.213.0.1/24) and N worker namespaces joined to it by
// veth pairs (10.213.0.11, .12, ...). The range exists only inside these namespaces: nothing is
// added to the machine's own network. Runs the same N equal jobs in alternating phases (ABBA): A, N
// workers beside Redis and Postgres on the hub's loopback (single host); B, one worker per
// namespace. Reports the throughput of both, their ratio, and the client addresses Redis and Postgres saw. Everything is
// torn down at the end, on Ctrl-C, and after BENCH_TIMEOUT_MS. Needs root and iproute2 (`ip`).
//
// Jobs: freeze runs (generated ResNet18 weights, tiny dataset): equal, CPU-bound, seconds each.
// Env: BENCH_WORKERS (N, default 2), BENCH_JOBS (default 8), BENCH_EPOCHS (2), BENCH_IMAGE_SIZE (32),
// BENCH_ORDER (ABBA: A single host, B namespaces), BENCH_TIMEOUT_MS (900000), WORKER_BACKEND (wasm).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DEFAULT_TRAIN_JOB_OPTIONS, JobName, QueueName, type TrainJobData } from '@fleet/queue';
import { TRAIN_DEFAULTS } from '@fleet/training/contracts.js';
import { PrivatePostgres, PrivateRedis } from '../test/support/private-services.js';
import { writeRandomResnet18Pth } from '@fleet/training/weights/random-resnet18-pth.js';
import { writeTinyDataset } from '../test/support/tiny-dataset.js';

const N = intEnv('BENCH_WORKERS', 2);
const JOBS = intEnv('BENCH_JOBS', 8);
const EPOCHS = intEnv('BENCH_EPOCHS', 2);
const IMAGE_SIZE = intEnv('BENCH_IMAGE_SIZE', 32);
const TIMEOUT_MS = intEnv('BENCH_TIMEOUT_MS', 900_000);
/** A = single host, B = network namespaces. */
const ORDER = (process.env.BENCH_ORDER ?? 'ABBA').split('').filter((c): c is 'A' | 'B' => c === 'A' || c === 'B');
const SUBNET = '10.213.0';
const HUB_ADDR = `${SUBNET}.1`;
const WORKER_ENTRY = path.resolve('dist/apps/worker/src/main.js');
const WEIGHTS = 'resnet18.pth';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer (got "${raw}")`);
  return value;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The namespaces of one run; names carry a random tag so concurrent runs never collide. */
class Topology {
  readonly tag = randomBytes(3).toString('hex');
  readonly hub = `fleet-${this.tag}-hub`;
  readonly workers: { ns: string; addr: string }[];
  private created: string[] = [];

  constructor(n: number) {
    this.workers = Array.from({ length: n }, (_, i) => ({ ns: `fleet-${this.tag}-w${i + 1}`, addr: `${SUBNET}.${11 + i}` }));
  }

  create(): void {
    ip('netns', 'add', this.hub);
    this.created.push(this.hub);
    ip('-n', this.hub, 'link', 'set', 'lo', 'up');
    ip('-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.hub, 'addr', 'add', `${HUB_ADDR}/24`, 'dev', 'br0');
    ip('-n', this.hub, 'link', 'set', 'br0', 'up');
    this.workers.forEach(({ ns, addr }, i) => {
      ip('netns', 'add', ns);
      this.created.push(ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      // Both ends are created inside namespaces: the machine's own network never sees them.
      ip('-n', this.hub, 'link', 'add', `veth${i + 1}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('-n', this.hub, 'link', 'set', `veth${i + 1}`, 'master', 'br0', 'up');
      ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
    });
  }

  exec(ns: string): string[] {
    return ['ip', 'netns', 'exec', ns];
  }

  destroy(): void {
    for (const ns of this.created.reverse()) {
      try {
        ip('netns', 'del', ns);
      } catch (err) {
        log(`could not delete namespace ${ns}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.created = [];
  }
}

interface StartedWorker {
  process: ChildProcess;
  output: string[];
}

function startWorker(wrap: string[], env: NodeJS.ProcessEnv, label: string): Promise<StartedWorker> {
  const full = [...wrap, process.execPath, WORKER_ENTRY];
  const command = full[0] as string;
  const args = full.slice(1);
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        output.push(line);
        if (process.env.BENCH_VERBOSE === '1') log(`[${label}] ${line}`);
        if (/ ready \(backend/.test(line)) resolve({ process: child, output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`${label} exited (${signal ?? `code ${code}`}) before it was ready:\n${output.slice(-20).join('\n')}`)));
  });
}

async function stopWorkers(workers: StartedWorker[]): Promise<void> {
  await Promise.all(
    workers.map(async (w) => {
      if (w.process.exitCode !== null || w.process.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => w.process.once('exit', () => resolve()));
      w.process.kill('SIGTERM');
      const timer = setTimeout(() => killGroup(w.process), 15_000);
      await exited;
      clearTimeout(timer);
      killGroup(w.process);
    }),
  );
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

interface PhaseResult {
  name: string;
  seconds: number;
  jobsPerMin: number;
  perWorker: Record<string, number>;
  redisClients: string[];
  pgClients: string[];
}

interface Services {
  redis: PrivateRedis;
  postgres: PrivatePostgres;
  db: pg.Client;
  dataRoot: string;
  artifacts: string;
}

async function submit(services: Services, prefix: string, count: number, dataset: string): Promise<string[]> {
  const connection = new Redis({ path: services.redis.socketPath, maxRetriesPerRequest: null });
  const queue = new Queue<TrainJobData>(QueueName.Train, { connection, prefix });
  const ids: string[] = [];
  const config = { ...TRAIN_DEFAULTS, dataset, weights: WEIGHTS, strategy: 'freeze' as const, epochs: EPOCHS, imageSize: IMAGE_SIZE, batchSize: 4 };
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    ids.push(id);
    // What the API stores and enqueues for one experiment: the row first, then the job (id = row id).
    await services.db.query(
      `INSERT INTO "Experiment"(id, name, dataset, weights, strategy, lr, "lrFactor", momentum, "weightDecay", epochs, "batchSize", "imageSize", seed, "stepSize", gamma)
       VALUES ($1, $2, $3, $15, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [id, `${prefix}-${i}`, config.dataset, config.strategy, config.lr, config.lrFactor, config.momentum, config.weightDecay, config.epochs, config.batchSize, config.imageSize, config.seed, config.stepSize, config.gamma, config.weights],
    );
  }
  await queue.addBulk(ids.map((experimentId) => ({ name: JobName.TrainExperiment, data: { experimentId, config }, opts: { ...DEFAULT_TRAIN_JOB_OPTIONS, jobId: experimentId } })));
  await queue.close();
  connection.disconnect();
  return ids;
}

async function waitFinished(db: pg.Client, ids: string[], deadline: number): Promise<void> {
  for (;;) {
    const { rows } = await db.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM "Experiment" WHERE id = ANY($1) GROUP BY status`, [ids]);
    const counts = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    if ((counts.failed ?? 0) + (counts.cancelled ?? 0) > 0) {
      const failed = await db.query<{ error: string | null }>(`SELECT error FROM "Experiment" WHERE id = ANY($1) AND status IN ('failed','cancelled') LIMIT 1`, [ids]);
      throw new Error(`a bench job did not succeed: ${failed.rows[0]?.error ?? '(no error text)'}`);
    }
    if ((counts.succeeded ?? 0) === ids.length) return;
    if (Date.now() > deadline) throw new Error(`jobs unfinished at the deadline: ${JSON.stringify(counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function runPhase(name: string, services: Services, workerSpecs: { wrap: string[]; host: string; label: string }[], deadline: number): Promise<PhaseResult> {
  const prefix = `bench-netns-${randomBytes(3).toString('hex')}`;
  const dataset = 'tiny';
  const workers: StartedWorker[] = [];
  try {
    for (const spec of workerSpecs) {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        DATABASE_URL: `postgresql://postgres@${spec.host}:${services.postgres.port}/fleet`,
        REDIS_URL: `redis://${spec.host}:${services.redis.port}`,
        QUEUE_PREFIX: prefix,
        DATA_ROOT: services.dataRoot,
        WEIGHTS_ROOT: services.dataRoot,
        ARTIFACTS_DIR: path.join(services.artifacts, prefix),
        WORKER_BACKEND: process.env.WORKER_BACKEND ?? 'wasm',
      };
      workers.push(await startWorker(spec.wrap, env, `${name}:${spec.label}`));
    }
    // Warm-up (not timed): the first job of each worker pays for decoding the dataset and compiling kernels.
    await waitFinished(services.db, await submit(services, prefix, workerSpecs.length * 2, dataset), deadline);
    const t0 = performance.now();
    const ids = await submit(services, prefix, JOBS, dataset);
    await waitFinished(services.db, ids, deadline);
    const seconds = (performance.now() - t0) / 1000;
    const per = await services.db.query<{ workerId: string; n: string }>(`SELECT "workerId", count(*) AS n FROM "Experiment" WHERE id = ANY($1) GROUP BY "workerId" ORDER BY 1`, [ids]);
    const redisClients = await clientAddresses(services.redis);
    const pgClients = (await services.db.query<{ addr: string | null }>(`SELECT DISTINCT host(client_addr) AS addr FROM pg_stat_activity WHERE datname = 'fleet' AND client_addr IS NOT NULL ORDER BY 1`)).rows.map((r) => r.addr ?? '');
    return { name, seconds, jobsPerMin: (JOBS / seconds) * 60, perWorker: Object.fromEntries(per.rows.map((r) => [r.workerId, Number(r.n)])), redisClients, pgClients };
  } finally {
    await stopWorkers(workers);
  }
}

async function clientAddresses(redis: PrivateRedis): Promise<string[]> {
  const client = new Redis({ path: redis.socketPath });
  try {
    const list = (await client.call('CLIENT', 'LIST')) as string;
    const addrs = new Set<string>();
    for (const line of list.split('\n')) {
      const addr = /\baddr=([^ ]+)/.exec(line)?.[1];
      if (addr && !addr.startsWith('/')) addrs.add(addr.replace(/:\d+$/, ''));
    }
    return [...addrs].sort();
  } finally {
    client.disconnect();
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error('bench:netns creates network namespaces: run it as root');
  const deadline = Date.now() + TIMEOUT_MS;
  const topology = new Topology(N);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fleet-netns-'));
  let services: Services | undefined;
  const cleanup = async (): Promise<void> => {
    await services?.db.end().catch(() => undefined);
    await services?.redis.destroy().catch(() => undefined);
    await services?.postgres.destroy().catch(() => undefined);
    topology.destroy();
    rmSync(tmp, { recursive: true, force: true });
  };
  const abort = (why: string): void => {
    log(`${why}: tearing down`);
    void cleanup().finally(() => process.exit(1));
  };
  process.once('SIGINT', () => abort('SIGINT'));
  process.once('SIGTERM', () => abort('SIGTERM'));
  const timer = setTimeout(() => abort(`BENCH_TIMEOUT_MS (${TIMEOUT_MS} ms) reached`), TIMEOUT_MS);
  timer.unref();
  try {
    topology.create();
    log(`namespaces: hub ${topology.hub} (${HUB_ADDR}, Redis + Postgres), workers ${topology.workers.map((w) => `${w.ns} (${w.addr})`).join(', ')}`);
    const wrap = topology.exec(topology.hub);
    const redis = await PrivateRedis.start({ bind: [HUB_ADDR, '127.0.0.1'], unixSocket: true, wrap });
    const postgres = await PrivatePostgres.start({ listen: [HUB_ADDR, '127.0.0.1'], allowFrom: [`${SUBNET}.0/24`], wrap });
    const db = new pg.Client({ connectionString: postgres.socketUrl() });
    await db.connect();
    const dataRoot = path.join(tmp, 'data');
    await writeTinyDataset(path.join(dataRoot, 'tiny'), { trainPerClass: 8, valPerClass: 4, size: Math.max(IMAGE_SIZE + 8, 40) });
    await writeRandomResnet18Pth(path.join(dataRoot, WEIGHTS));
    services = { redis, postgres, db, dataRoot, artifacts: path.join(tmp, 'artifacts') };
    log(`${N} worker(s), ${JOBS} equal jobs (freeze, ${EPOCHS} epochs, ${IMAGE_SIZE}px, 16+8 images) per phase`);

    const singleSpecs = topology.workers.map((_, i) => ({ wrap, host: '127.0.0.1', label: `w${i + 1}` }));
    const spreadSpecs = topology.workers.map((w, i) => ({ wrap: topology.exec(w.ns), host: HUB_ADDR, label: `w${i + 1}` }));
    // ABBA order: a load that drifts during the run (other users of the machine) weighs on both kinds alike.
    const results: PhaseResult[] = [];
    for (const kind of ORDER) results.push(await runPhase(kind === 'A' ? 'single host' : 'network namespaces', services, kind === 'A' ? singleSpecs : spreadSpecs, deadline));
    for (const r of results) {
      log(`${r.name.padEnd(20)} ${r.seconds.toFixed(1).padStart(6)} s  ${r.jobsPerMin.toFixed(1).padStart(6)} jobs/min  jobs per worker ${Object.values(r.perWorker).join('/')}  Redis clients from ${r.redisClients.join(', ') || '-'}  Postgres clients from ${r.pgClients.join(', ') || '-'}`);
    }
    const rate = (name: string): number => {
      const of = results.filter((r) => r.name === name);
      return (of.length * JOBS * 60) / of.reduce((sum, r) => sum + r.seconds, 0);
    };
    const single = rate('single host');
    const spread = rate('network namespaces');
    log(`throughput: single host ${single.toFixed(1)} jobs/min, network namespaces ${spread.toFixed(1)} jobs/min, ratio namespaces / single host ${(spread / single).toFixed(3)}`);
    for (const r of results.filter((x) => x.name === 'network namespaces')) {
      const missing = topology.workers.filter((w) => !r.redisClients.includes(w.addr) || !r.pgClients.includes(w.addr));
      if (missing.length > 0) throw new Error(`Redis/Postgres saw no connection from ${missing.map((w) => w.addr).join(', ')}`);
    }
    return 0;
  } finally {
    clearTimeout(timer);
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:netns failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
