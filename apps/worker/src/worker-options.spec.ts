import { parseWorkerOptions } from './worker-options.js';

const argv = (...args: string[]) => ['node', 'main.js', ...args];

describe('parseWorkerOptions', () => {
  it('defaults to one auto-backend job, a 30 s lock and a 5 s heartbeat', () => {
    expect(parseWorkerOptions(argv(), {})).toEqual({
      gpu: undefined,
      concurrency: 1,
      backend: 'auto',
      threads: 1,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      heartbeatMs: 5_000,
      childRecycle: { maxJobs: 1000, maxHeapBytes: 3584 * 1024 ** 2, maxRssBytes: 0 },
      metricsPort: undefined,
      engine: 'tfjs',
      simulated: { epochMs: 100, workers: 1, statsDir: undefined },
    });
  });

  it('reads flags and the environment', () => {
    const opts = parseWorkerOptions(argv('--gpu', '1', '--concurrency', '2', '--backend', 'wasm+onednn', '--threads', '2', '--metrics-port', '9464'), {
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      WORKER_HEARTBEAT_MS: '500',
      WORKER_CHILD_MAX_JOBS: '50',
      WORKER_CHILD_MAX_HEAP_MB: '0',
      WORKER_CHILD_MAX_RSS_MB: '6144',
    });
    expect(opts).toEqual({
      gpu: 1,
      concurrency: 2,
      backend: 'wasm+onednn',
      threads: 2,
      lockDurationMs: 2000,
      stalledIntervalMs: 1000,
      heartbeatMs: 500,
      childRecycle: { maxJobs: 50, maxHeapBytes: 0, maxRssBytes: 6144 * 1024 ** 2 },
      metricsPort: 9464,
      engine: 'tfjs',
      simulated: { epochMs: 100, workers: 1, statsDir: undefined },
    });
  });

  it('reads the simulated engine flags', () => {
    const opts = parseWorkerOptions(argv('--engine', 'simulated', '--sim-epoch-ms', '250', '--sim-workers', '20', '--sim-stats', '/tmp/s'), { NODE_ENV: 'test' });
    expect(opts).toMatchObject({ engine: 'simulated', simulated: { epochMs: 250, workers: 20, statsDir: '/tmp/s' } });
  });

  it('refuses the simulated engine in production with one line', () => {
    expect(() => parseWorkerOptions(argv('--engine', 'simulated'), { NODE_ENV: 'production' })).toThrow(
      /^--engine simulated is for scale tests only and is refused when NODE_ENV=production$/,
    );
    expect(parseWorkerOptions(argv('--engine', 'tfjs'), { NODE_ENV: 'production' }).engine).toBe('tfjs');
  });

  it('takes the backend from WORKER_BACKEND when the flag is absent', () => {
    expect(parseWorkerOptions(argv(), { WORKER_BACKEND: 'cpu' }).backend).toBe('cpu');
  });

  it('takes the metrics port from WORKER_METRICS_PORT when the flag is absent; the flag wins', () => {
    expect(parseWorkerOptions(argv(), { WORKER_METRICS_PORT: '9100' }).metricsPort).toBe(9100);
    expect(parseWorkerOptions(argv('--metrics-port', '9200'), { WORKER_METRICS_PORT: '9100' }).metricsPort).toBe(9200);
  });

  it.each([
    [argv('--backend', 'cuda'), {}, /--backend must be one of/],
    [argv('--metrics-port', '0'), {}, /--metrics-port must be between 1 and 65535/],
    [argv('--metrics-port', 'http'), {}, /--metrics-port must be an integer/],
    [argv(), { WORKER_METRICS_PORT: '70000' }, /WORKER_METRICS_PORT must be between 1 and 65535/],
    [argv('--concurrency', '0'), {}, /--concurrency must be between 1 and 64/],
    [argv('--gpu', 'x'), {}, /--gpu must be an integer/],
    [argv('--threads', '0'), {}, /--threads must be between 1 and 1024/],
    [argv(), { WORKER_THREADS: 'two' }, /WORKER_THREADS must be an integer/],
    [argv(), { WORKER_LOCK_DURATION_MS: '10' }, /WORKER_LOCK_DURATION_MS must be between/],
    [argv(), { WORKER_CHILD_MAX_HEAP_MB: '5000' }, /WORKER_CHILD_MAX_HEAP_MB must be between 0 and 4096/],
    [argv(), { WORKER_CHILD_MAX_JOBS: '-1' }, /WORKER_CHILD_MAX_JOBS must be an integer/],
    [argv('--engine', 'fake'), {}, /--engine must be one of tfjs, simulated/],
    [argv('--sim-workers', '4'), {}, /--sim-workers needs --engine simulated/],
    [argv('--engine', 'simulated', '--sim-workers', '0'), {}, /--sim-workers must be between 1 and 200/],
    [argv('--engine', 'simulated', '--sim-epoch-ms', 'x'), {}, /--sim-epoch-ms must be an integer/],
  ])('rejects %j %j with a message naming the option', (args, env, message) => {
    expect(() => parseWorkerOptions(args, env)).toThrow(message);
  });
});
