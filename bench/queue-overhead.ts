// bench:queue — what the queue adds around training, measured on the built API and real workers
// over many tiny jobs (1 epoch, 32 px, a handful of images; the training itself is not measured):
//   pickup:  POST /api/experiments sent -> the worker's `running` event (job taken, experiment marked)
//   finish:  the worker's last `epoch` event -> `succeeded` visible in GET /api/experiments/:id
// Both are read from the experiment's event stream, whose entry ids carry Redis's clock (same host).
// Jobs are posted one at a time so queue wait behind other jobs is not counted.
// Targets: p50 < 50 ms, p99 < 250 ms.
// Env: BENCH_JOBS (default 200), BENCH_WORKERS (default 2), WORKER_BACKEND (default wasm).
import path from 'node:path';
import { Redis } from 'ioredis';
import { eventStreamKey } from '@fleet/queue';
import { percentile } from './support/bench-api.js';
import { FleetApi } from '../test/support/fleet-api.js';
import { FleetHarness } from '../test/support/fleet-harness.js';
import { writeTinyDataset } from '../test/support/tiny-dataset.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 200);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const BACKEND = process.env.WORKER_BACKEND ?? 'wasm';

interface StreamEvent {
  at: number;
  type: string;
  status?: string;
}

async function events(redis: Redis, prefix: string, id: string): Promise<StreamEvent[]> {
  const entries = await redis.xrange(eventStreamKey(prefix, id), '-', '+');
  return entries.map(([entryId, fields]) => {
    const data = JSON.parse(fields[fields.indexOf('data') + 1] ?? '{}') as { type: string; status?: string };
    return { at: Number(entryId.split('-')[0]), type: data.type, status: data.status };
  });
}

function report(name: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `${name}: p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms (n=${sorted.length})`;
}

async function main(): Promise<void> {
  const harness = await FleetHarness.create();
  const redis = new Redis(harness.redisUrl);
  const releaseSignals = harness.teardownOnSignals();
  try {
    await writeTinyDataset(path.join(harness.dataRoot, 'tiny'), { size: 32, trainPerClass: 2, valPerClass: 1 });
    const apiHandle = await harness.startApi();
    const workers = await Promise.all(Array.from({ length: WORKERS }, () => harness.startWorker({ args: ['--backend', BACKEND] })));
    const api = new FleetApi(apiHandle.url);
    const pickup: number[] = [];
    const finish: number[] = [];
    for (let i = 0; i < JOBS; i++) {
      const postedAt = Date.now();
      const { id } = await api.post<{ id: string }>('/api/experiments', { dataset: 'tiny', strategy: 'scratch', epochs: 1, batchSize: 2, imageSize: 32, seed: i });
      let visibleAt = 0;
      for (;;) {
        const row = await api.get<{ status: string; error: string | null }>(`/api/experiments/${id}`);
        if (row.status === 'succeeded') {
          visibleAt = Date.now();
          break;
        }
        if (row.status === 'failed' || row.status === 'cancelled') throw new Error(`job ${i} ${row.status}: ${row.error ?? ''}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const stream = await events(redis, harness.queuePrefix, id);
      const running = stream.find((e) => e.type === 'status' && e.status === 'running');
      const lastEpoch = stream.filter((e) => e.type === 'epoch').at(-1);
      if (!running || !lastEpoch) throw new Error(`job ${i}: missing running/epoch events in the stream`);
      pickup.push(running.at - postedAt);
      finish.push(visibleAt - lastEpoch.at);
      if ((i + 1) % 50 === 0) process.stdout.write(`${i + 1}/${JOBS} jobs; ${report('pickup', pickup)}; ${report('finish', finish)}\n`);
    }
    process.stdout.write(`queue overhead over ${JOBS} tiny jobs, ${WORKERS} worker(s), backend ${BACKEND}\n`);
    process.stdout.write(`${report('POST -> worker started', pickup)}\n`);
    process.stdout.write(`${report('last epoch -> succeeded visible in API', finish)}\n`);
    // Figures from a run whose training processes were replaced (limits) or crashed are not clean.
    const workerOutput = workers.map((w) => w.process.output).join('\n');
    const count = (pattern: RegExp): number => workerOutput.match(pattern)?.length ?? 0;
    process.stdout.write(`training processes replaced between jobs: ${count(/replacing training child/g)}, crashed: ${count(/training process crashed/g)}\n`);
  } finally {
    releaseSignals();
    redis.disconnect();
    await harness.teardown();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:queue: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
