// bench:scaling — throughput of N workers on one machine with equal CPU-bound jobs. For each N the
// same number of identical jobs (same config, different seeds) goes through the built API and N
// real worker processes; throughput = jobs / wall time from the first POST to the last success.
// Efficiency(N) = throughput(N) / (N x throughput(1)): 1.0 means perfect scaling. On a machine with
// fewer free cores than N, efficiency drops by design: the bench measures, it does not hide that.
// Env: BENCH_N (default "1,2"), BENCH_JOBS (default 4), BENCH_EPOCHS (2), BENCH_IMAGE_SIZE (32),
// WORKER_BACKEND (default wasm).
import os from 'node:os';
import path from 'node:path';
import { FleetApi } from '../test/support/fleet-api.js';
import { FleetHarness } from '../test/support/fleet-harness.js';
import { writeTinyDataset } from '../test/support/tiny-dataset.js';

const NS = (process.env.BENCH_N ?? '1,2').split(',').map(Number);
const JOBS = Number(process.env.BENCH_JOBS ?? 4);
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 2);
const IMAGE_SIZE = Number(process.env.BENCH_IMAGE_SIZE ?? 32);
const BACKEND = process.env.WORKER_BACKEND ?? 'wasm';

async function throughput(n: number): Promise<number> {
  const harness = await FleetHarness.create();
  // Ctrl-C or a timeout must not leave the API and workers running.
  const onSignal = (): void => void harness.teardown().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await writeTinyDataset(path.join(harness.dataRoot, 'tiny'), { size: IMAGE_SIZE, trainPerClass: 8, valPerClass: 4 });
    const apiHandle = await harness.startApi();
    await Promise.all(Array.from({ length: n }, () => harness.startWorker({ args: ['--backend', BACKEND] })));
    const api = new FleetApi(apiHandle.url);
    const started = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const { id } = await api.post<{ id: string }>('/api/experiments', { dataset: 'tiny', strategy: 'scratch', epochs: EPOCHS, batchSize: 4, imageSize: IMAGE_SIZE, seed: i });
      ids.push(id);
    }
    const pending = new Set(ids);
    while (pending.size > 0) {
      for (const id of [...pending]) {
        const row = await api.get<{ status: string; error: string | null }>(`/api/experiments/${id}`);
        if (row.status === 'succeeded') pending.delete(id);
        else if (row.status === 'failed' || row.status === 'cancelled') throw new Error(`${id} ${row.status}: ${row.error ?? ''}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    const jobsPerSecond = JOBS / seconds;
    process.stdout.write(`N=${n}: ${JOBS} jobs in ${seconds.toFixed(1)} s = ${jobsPerSecond.toFixed(3)} jobs/s\n`);
    return jobsPerSecond;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await harness.teardown();
  }
}

async function main(): Promise<void> {
  process.stdout.write(`scaling: ${JOBS} jobs x ${EPOCHS} epochs at ${IMAGE_SIZE} px, backend ${BACKEND}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]?.toFixed(1)}\n`);
  const results = new Map<number, number>();
  for (const n of NS) results.set(n, await throughput(n));
  const base = results.get(1);
  for (const [n, tput] of results) {
    const ratio = base ? tput / base : NaN;
    process.stdout.write(`N=${n}: throughput ratio ${ratio.toFixed(2)}, efficiency ${(ratio / n).toFixed(2)}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:scaling: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
