// Starts the BUILT fleet (dist/) as real processes for end-to-end tests and benchmarks: the API
// (`node dist/apps/api/src/main.js`) and workers (`node dist/apps/worker/src/main.js`), each with
// the test database, a queue prefix of its own, a free port and temporary data folders. One
// harness per test file (or per test); `teardown()` kills every process it started, with its
// children, deletes the prefix's Redis keys and the temporary folders.
//
//   const fleet = await FleetHarness.create();
//   afterAll(() => fleet.teardown());
//   const api = await fleet.startApi();
//   const worker = await fleet.startWorker({ env: { WORKER_LOCK_DURATION_MS: '5000' } });
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRedisConnection, nodesOf } from '@fleet/queue';
import { ManagedProcess } from './managed-process.js';

export const API_ENTRY = 'dist/apps/api/src/main.js';
export const WORKER_ENTRY = 'dist/apps/worker/src/main.js';

/** Worker settings that make a lost lock visible within seconds instead of 30 s (crash and kill tests). */
export const FAST_STALL = { WORKER_LOCK_DURATION_MS: '3000', WORKER_STALLED_INTERVAL_MS: '1000', WORKER_HEARTBEAT_MS: '500' };

/**
 * The backend test workers train on: $FLEET_TEST_BACKEND, else the native CPU path (wasm+onednn),
 * or plain wasm where the native kernels are switched off (FLEET_NATIVE=0).
 */
export function defaultTestBackend(): string {
  return process.env.FLEET_TEST_BACKEND ?? (process.env.FLEET_NATIVE === '0' ? 'wasm' : 'wasm+onednn');
}

export interface FleetHarnessOptions {
  /** Redis key prefix. Default: random `t<hex>` (own queue per harness). */
  queuePrefix?: string;
  /** Default: the test database of test/test-env.mjs. */
  databaseUrl?: string;
  /** Default: the test Redis of test/test-env.mjs. */
  redisUrl?: string;
}

/**
 * test/test-env.mjs, loaded from the repository root at run time: bench scripts reuse this harness
 * from dist/, which holds no copy of the .mjs files.
 */
async function testEnv(): Promise<typeof import('../test-env.mjs')> {
  return (await import(pathToFileURL(path.resolve('test/test-env.mjs')).href)) as typeof import('../test-env.mjs');
}

export interface StartApiOptions {
  /** Extra environment (wins over the harness's). */
  env?: Record<string, string>;
  /** Wait for GET /health to answer 200. Default 30000 ms. */
  readyTimeoutMs?: number;
}

export interface StartWorkerOptions {
  /** Command line flags, e.g. ['--backend', 'wasm']. Default ['--backend', {@link defaultTestBackend}()]. */
  args?: string[];
  env?: Record<string, string>;
  /** Wait for the ready line. Default 120000 ms (the backend initialises first). */
  readyTimeoutMs?: number;
}

export interface ApiHandle {
  process: ManagedProcess;
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
}

export interface WorkerHandle {
  process: ManagedProcess;
  /** Worker id as in the Worker table. */
  id: string;
  pid: number;
  /** Pids of its training child processes (from its ready line). */
  trainingPids: number[];
}

/** A free TCP port on 127.0.0.1 (free when asked; good enough for tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export class FleetHarness {
  readonly processes: ManagedProcess[] = [];
  private apiCount = 0;
  private workerCount = 0;

  private constructor(
    /** Temporary root holding data/, weights/, artifacts/. */
    readonly root: string,
    readonly queuePrefix: string,
    readonly databaseUrl: string,
    readonly redisUrl: string,
  ) {}

  static async create(options: FleetHarnessOptions = {}): Promise<FleetHarness> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'fleet-e2e-'));
    const env = options.databaseUrl && options.redisUrl ? undefined : await testEnv();
    const databaseUrl = options.databaseUrl ?? (env as typeof import('../test-env.mjs')).testDatabaseUrl();
    const redisUrl = options.redisUrl ?? (env as typeof import('../test-env.mjs')).testRedisUrl();
    const harness = new FleetHarness(root, options.queuePrefix ?? `t${randomBytes(5).toString('hex')}`, databaseUrl, redisUrl);
    await Promise.all([harness.dataRoot, harness.weightsRoot, harness.artifactsDir].map((dir) => mkdir(dir, { recursive: true })));
    return harness;
  }

  get dataRoot(): string {
    return path.join(this.root, 'data');
  }

  get weightsRoot(): string {
    return path.join(this.root, 'weights');
  }

  get artifactsDir(): string {
    return path.join(this.root, 'artifacts');
  }

  /** The environment every process gets: test DB, Redis, the prefix and the temporary folders. */
  baseEnv(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redisUrl,
      QUEUE_PREFIX: this.queuePrefix,
      DATA_ROOT: this.dataRoot,
      WEIGHTS_ROOT: this.weightsRoot,
      ARTIFACTS_DIR: this.artifactsDir,
    };
  }

  async startApi(options: StartApiOptions = {}): Promise<ApiHandle> {
    const port = await freePort();
    const proc = this.spawn(`api${++this.apiCount}`, [API_ENTRY], { PORT: String(port), ...options.env });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    for (;;) {
      if (!proc.running) throw new Error(`API exited before it was healthy; output:\n${proc.tail()}`);
      const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`API not healthy within ${options.readyTimeoutMs ?? 30_000} ms; output:\n${proc.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { process: proc, port, url };
  }

  async startWorker(options: StartWorkerOptions = {}): Promise<WorkerHandle> {
    const args = options.args ?? ['--backend', defaultTestBackend()];
    const proc = this.spawn(`worker${++this.workerCount}`, [WORKER_ENTRY, ...args], options.env ?? {});
    const match = await proc.waitForLine(/worker (\S+) ready \(backend \S+, pid (\d+), training ([\d,]+)\)/, options.readyTimeoutMs ?? 120_000);
    return { process: proc, id: match[1] as string, pid: Number(match[2]), trainingPids: (match[3] as string).split(',').map(Number) };
  }

  /** Starts `node <args>` with the harness environment plus `env`; killed by teardown(). */
  spawn(label: string, args: string[], env: Record<string, string>): ManagedProcess {
    const proc = new ManagedProcess({ label, args, env: { ...this.baseEnv(), ...env }, cwd: process.cwd() });
    this.processes.push(proc);
    return proc;
  }

  /**
   * Until the returned function is called, Ctrl-C or SIGTERM tears the harness down and exits 130:
   * a bench stopped by hand or by a timeout must not leave the API and workers running.
   */
  teardownOnSignals(): () => void {
    const onSignal = (): void => void this.teardown().finally(() => process.exit(130));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    return () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  }

  /** Kills every process started here (with their children), drops the prefix's keys and the temp folders. */
  async teardown(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill()));
    // Any topology REDIS_URL names; on a cluster each master holds a share of the keys to scan.
    const redis = createRedisConnection(this.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      for (const node of await nodesOf(redis)) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${this.queuePrefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await node.del(...keys);
        } while (cursor !== '0');
      }
    } finally {
      redis.disconnect();
    }
    await rm(this.root, { recursive: true, force: true });
  }
}
