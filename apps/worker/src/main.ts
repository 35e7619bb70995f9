// Entry point of `npm run start:worker -- [--gpu N] [--concurrency 1] [--backend auto] [--threads 1]`.
// Fails fast with one line (exit 1) on invalid options/env, unreachable Postgres/Redis or an
// artifact store (ARTIFACTS_URL) it cannot write to; prints
// one "ready" line once it takes jobs; SIGTERM/SIGINT hand the running job back and exit 0.
// Scale tests: `--engine simulated [--sim-workers N]` runs N simulated workers in this process,
// each a whole FleetWorker with its own connections; one "ready" line each, then "N simulated workers ready".
import { createArtifactStore } from '@fleet/artifacts';
import { assertReachable, ConfigError, loadConfig, StartupError } from '@fleet/config';
import { InvalidArgumentError } from 'commander';
import { FleetWorker } from './fleet-worker.js';
import { SimulatedStats } from './simulated-stats.js';
import { parseWorkerOptions } from './worker-options.js';

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

async function main(): Promise<number> {
  const options = parseWorkerOptions(process.argv);
  const config = loadConfig();
  await assertReachable('Postgres', config.databaseUrl, 'DATABASE_URL');
  await assertReachable('Redis', config.redisUrl, 'REDIS_URL');
  const store = config.artifactStore ? createArtifactStore(config.artifactStore) : undefined;
  await store?.check({ write: true }).catch((err: unknown) => {
    throw new StartupError(`${err instanceof Error ? err.message : String(err)} (ARTIFACTS_URL)`);
  });
  if (options.gpu !== undefined) process.env.CUDA_VISIBLE_DEVICES = String(options.gpu);

  const simulated = options.engine === 'simulated';
  const stats = simulated && options.simulated.statsDir ? new SimulatedStats(options.simulated.statsDir) : undefined;
  // Simulated workers of one process share its metrics port: only the first one serves it.
  const workers = Array.from({ length: simulated ? options.simulated.workers : 1 }, (_, i) => new FleetWorker({ ...options, metricsPort: i === 0 ? options.metricsPort : undefined, config, log, record: stats?.record, ...(store ? { store } : {}) }));
  const stopAll = async (): Promise<void> => {
    await Promise.all(workers.map((w) => w.stop()));
    stats?.close();
  };
  let signalled = false;
  const done = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        log(`${signal} again: exiting now`);
        process.exit(1);
      }
      signalled = true;
      log(`${signal}: handing running jobs back to the queue and stopping`);
      stopAll().then(
        () => resolve(0),
        (err: unknown) => {
          log(`stop failed: ${err instanceof Error ? err.message : String(err)}`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  if (store) log(`artifacts: shared through ${store.url}, working folder ${config.artifactsDir}`);
  for (const worker of workers) {
    const backend = await worker.start();
    log(`worker ${worker.id} ready (backend ${backend.name}, pid ${process.pid}, ${simulated ? 'engine in this process' : `training ${worker.trainingChildPids.join(',')}`})`);
  }
  if (simulated) log(`${workers.length} simulated workers ready (pid ${process.pid}, ${options.simulated.epochMs} ms epochs)`);
  return done;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const expected = err instanceof ConfigError || err instanceof StartupError || err instanceof InvalidArgumentError;
    process.stderr.write(`worker: ${expected || !(err instanceof Error) ? (err instanceof Error ? err.message : String(err)) : (err.stack ?? err.message)}\n`);
    process.exit(1);
  },
);
