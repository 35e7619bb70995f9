// Command line and environment of a worker process. Pure: parses what it is given, so the rules
// are unit-tested without starting anything. Invalid values throw one line naming the flag/variable.
import { BACKENDS } from '@fleet/training/contracts.js';
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_CHILD_RECYCLE, type ChildRecycleOptions } from './child-recycle.js';

export const WORKER_BACKENDS = ['auto', ...BACKENDS] as const;
export type WorkerBackend = (typeof WORKER_BACKENDS)[number];

/**
 * 'tfjs': the real engine in a training child process. 'simulated': scale tests only (see
 * simulated-engine.ts); no TensorFlow.js, refused when NODE_ENV=production.
 */
export const WORKER_ENGINES = ['tfjs', 'simulated'] as const;
export type WorkerEngine = (typeof WORKER_ENGINES)[number];

/** The simulated engine's settings (used only with engine 'simulated'). */
export interface SimulatedWorkerOptions {
  /** Wall time of one simulated epoch. Default 100 ms */
  epochMs: number;
  /**
   * Simulated workers in this process, each a whole FleetWorker with its own Redis connections and
   * Postgres pool (as separate processes would have), sharing only the event loop. Default 1
   */
  workers: number;
  /** Folder where each process appends its epoch-report timings (bench:fleet reads them). Default: none */
  statsDir: string | undefined;
}

export interface WorkerOptions {
  /** GPU index; sets CUDA_VISIBLE_DEVICES for the training process. Default: unset (all/none). */
  gpu: number | undefined;
  /** Jobs trained at once, one training process each. Default 1 */
  concurrency: number;
  /** Backend preference for the engine. Default 'auto' (env WORKER_BACKEND) */
  backend: WorkerBackend;
  /**
   * CPU threads of each training process's native kernels (wasm+onednn). Default 1 (env
   * WORKER_THREADS): on a CPU machine the fleet runs one single-threaded worker per core, which
   * measured ~13% more sweep throughput than one worker using every core (README "CPU workers").
   */
  threads: number;
  /** BullMQ lock duration: a job whose lock is not renewed for this long is stalled. Default 30000 ms (env WORKER_LOCK_DURATION_MS) */
  lockDurationMs: number;
  /** How often BullMQ looks for stalled jobs. Default = lockDurationMs (env WORKER_STALLED_INTERVAL_MS) */
  stalledIntervalMs: number;
  /** Worker table heartbeat period. Default 5000 ms (env WORKER_HEARTBEAT_MS) */
  heartbeatMs: number;
  /** When a training process is replaced between jobs; see ChildRecycleOptions for the defaults. */
  childRecycle: ChildRecycleOptions;
  /**
   * Port of this worker's Prometheus endpoint (GET /metrics on all interfaces, METRICS_TOKEN
   * applies). Default: none, no endpoint (env WORKER_METRICS_PORT)
   */
  metricsPort: number | undefined;
  /** Which engine trains. Default 'tfjs' */
  engine: WorkerEngine;
  simulated: SimulatedWorkerOptions;
}

type Env = Record<string, string | undefined>;

const MiB = 1024 ** 2;

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new InvalidArgumentError(`${name} must be an integer (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max} (got ${value})`);
  return value;
}

function engineOf(raw: string): WorkerEngine {
  if (!(WORKER_ENGINES as readonly string[]).includes(raw)) throw new InvalidArgumentError(`--engine must be one of ${WORKER_ENGINES.join(', ')} (got "${raw}")`);
  return raw as WorkerEngine;
}

function backendOf(name: string, raw: string): WorkerBackend {
  if (!(WORKER_BACKENDS as readonly string[]).includes(raw)) throw new InvalidArgumentError(`${name} must be one of ${WORKER_BACKENDS.join(', ')} (got "${raw}")`);
  return raw as WorkerBackend;
}

/** Parses argv (as process.argv, node and script first) and env. Throws InvalidArgumentError. */
export function parseWorkerOptions(argv: string[], env: Env = process.env): WorkerOptions {
  const program = new Command('start:worker')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .option('--gpu <index>', 'GPU index (sets CUDA_VISIBLE_DEVICES for training)', (v) => int('--gpu', v, 0, 0, 1024))
    .option('--concurrency <n>', 'jobs trained at once, one training process each', (v) => int('--concurrency', v, 1, 1, 64))
    .option('--backend <name>', `training backend: ${WORKER_BACKENDS.join('|')}`, (v) => backendOf('--backend', v))
    .option('--threads <n>', 'CPU threads per training process (native kernels)', (v) => int('--threads', v, 1, 1, 1024))
    .option('--metrics-port <port>', 'serve Prometheus metrics on this port (GET /metrics)', (v) => int('--metrics-port', v, 0, 1, 65535))
    .option('--engine <name>', `training engine: ${WORKER_ENGINES.join('|')} (simulated: scale tests only)`, engineOf)
    .option('--sim-epoch-ms <ms>', 'simulated engine: wall time of one epoch', (v) => int('--sim-epoch-ms', v, 100, 0, 3_600_000))
    .option('--sim-workers <n>', 'simulated engine: workers in this process', (v) => int('--sim-workers', v, 1, 1, 200))
    .option('--sim-stats <dir>', 'simulated engine: append epoch-report timings to files in this folder');
  program.parse(argv);
  const opts = program.opts<{ gpu?: number; concurrency?: number; backend?: WorkerBackend; threads?: number; engine?: WorkerEngine; simEpochMs?: number; simWorkers?: number; simStats?: string; metricsPort?: number }>();
  const envMetricsPort = int('WORKER_METRICS_PORT', env.WORKER_METRICS_PORT, 0, 1, 65535);
  const engine = opts.engine ?? 'tfjs';
  if (engine === 'simulated' && env.NODE_ENV === 'production') throw new InvalidArgumentError('--engine simulated is for scale tests only and is refused when NODE_ENV=production');
  if (engine !== 'simulated') {
    const simOnly = (['simEpochMs', 'simWorkers', 'simStats'] as const).find((k) => opts[k] !== undefined);
    if (simOnly) throw new InvalidArgumentError(`--${simOnly.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --engine simulated`);
  }
  const lockDurationMs = int('WORKER_LOCK_DURATION_MS', env.WORKER_LOCK_DURATION_MS, 30_000, 500, 3_600_000);
  return {
    gpu: opts.gpu,
    concurrency: opts.concurrency ?? 1,
    backend: opts.backend ?? (env.WORKER_BACKEND ? backendOf('WORKER_BACKEND', env.WORKER_BACKEND) : 'auto'),
    threads: opts.threads ?? int('WORKER_THREADS', env.WORKER_THREADS, 1, 1, 1024),
    lockDurationMs,
    stalledIntervalMs: int('WORKER_STALLED_INTERVAL_MS', env.WORKER_STALLED_INTERVAL_MS, lockDurationMs, 100, 3_600_000),
    heartbeatMs: int('WORKER_HEARTBEAT_MS', env.WORKER_HEARTBEAT_MS, 5_000, 100, 600_000),
    childRecycle: {
      maxJobs: int('WORKER_CHILD_MAX_JOBS', env.WORKER_CHILD_MAX_JOBS, DEFAULT_CHILD_RECYCLE.maxJobs, 0, 1_000_000_000),
      // The wasm heap cannot pass 4 GB (4096 MiB), so a larger limit could never trigger.
      maxHeapBytes: int('WORKER_CHILD_MAX_HEAP_MB', env.WORKER_CHILD_MAX_HEAP_MB, DEFAULT_CHILD_RECYCLE.maxHeapBytes / MiB, 0, 4096) * MiB,
      maxRssBytes: int('WORKER_CHILD_MAX_RSS_MB', env.WORKER_CHILD_MAX_RSS_MB, DEFAULT_CHILD_RECYCLE.maxRssBytes / MiB, 0, 16_777_216) * MiB,
    },
    metricsPort: opts.metricsPort ?? (envMetricsPort === 0 ? undefined : envMetricsPort),
    engine,
    simulated: { epochMs: opts.simEpochMs ?? 100, workers: opts.simWorkers ?? 1, statsDir: opts.simStats },
  };
}
