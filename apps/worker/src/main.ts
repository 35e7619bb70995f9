// Entry point of `npm run start:worker -- [--gpu N] [--concurrency 1] [--backend auto] [--threads 1]`.
// Fails fast with one line (exit 1) on invalid options/env, unreachable Postgres/Redis or an
// artifact store (ARTIFACTS_URL) it cannot write to; prints
// one "ready" line once it takes jobs; SIGTERM/SIGINT hand the running job back and exit 0.
import { createArtifactStore } from '@fleet/artifacts';
import { assertReachable, ConfigError, loadConfig, StartupError } from '@fleet/config';
import { InvalidArgumentError } from 'commander';
import { FleetWorker } from './fleet-worker.js';
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

  const worker = new FleetWorker({ ...options, config, log, ...(store ? { store } : {}) });
  let signalled = false;
  const done = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        log(`${signal} again: exiting now`);
        process.exit(1);
      }
      signalled = true;
      log(`${signal}: handing running jobs back to the queue and stopping`);
      worker.stop().then(
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
  const backend = await worker.start();
  if (store) log(`artifacts: shared through ${store.url}, working folder ${config.artifactsDir}`);
  log(`worker ${worker.id} ready (backend ${backend.name}, pid ${process.pid}, training ${worker.trainingChildPids.join(',')})`);
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
