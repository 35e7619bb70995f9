// GET /metrics of the built API and a real worker's --metrics-port, scraped before, during and after
// a small sweep (2 runs x 3 epochs that succeed, 1 that fails on a broken weights file): every
// series of README's table is there and moves, and the Grafana board reads only series they serve.
// Queue, BullMQ and epoch series are per QUEUE_PREFIX (this suite's own); runs and workers come
// from the shared test database, so those are checked by differences and by this worker's labels.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createExperiment, startE2eFleet, tinyExperiment, TEST_WEIGHTS, TINY_DATASET, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import { defaultTestBackend, freePort, type WorkerHandle } from '../support/fleet-harness.js';
import { dashboardTargets } from '../../deploy/grafana/check/dashboard-model.js';
import { promqlMetricNames } from '../../deploy/grafana/check/promql-names.js';
import { scrape, type Scrape } from '../support/prom-text.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = 'scrape-token';
const EPOCHS = 3;
const STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed', 'paused', 'waiting-children'];
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'stopped'];

describe('metrics of the API and a worker during a sweep', () => {
  let fleet: E2eFleet;
  beforeAll(async () => {
    fleet = await startE2eFleet({ workers: 0, apiEnv: { METRICS_TOKEN: TOKEN } });
    await writeFile(path.join(fleet.harness.weightsRoot, 'broken.pth'), 'this is not a torch file');
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
  });

  it('serves every named series, and each one moves', async () => {
    const apiUrl = `${fleet.apiProcess.url}/metrics`;
    const api = (): Promise<Scrape> => scrape(apiUrl, TOKEN);
    /** A scrape satisfying `check`: the API serves one read of its sources for 2 s. */
    const apiWhen = (check: (s: Scrape) => boolean, what: string): Promise<Scrape> =>
      waitFor(async () => {
        const s = await api();
        return check(s) ? s : undefined;
      }, { timeoutMs: 120_000, intervalMs: 250, what });

    // METRICS_TOKEN: no token or a wrong one is refused.
    expect((await fetch(apiUrl)).status).toBe(401);
    expect((await fetch(apiUrl, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);

    // Before: an empty queue, no epochs of this prefix yet.
    const a0 = await api();
    for (const state of STATES) expect(a0.value('fleet_queue_jobs', { queue: 'train', state })).toBe(0);
    expect(a0.value('fleet_queue_jobs_completed_total', { queue: 'train' })).toBe(0);
    expect(a0.value('fleet_queue_jobs_failed_total', { queue: 'train' })).toBe(0);
    for (const status of STATUSES) expect(a0.find('fleet_runs', { status })).toHaveLength(1);
    expect(a0.find('fleet_workers_alive')).toHaveLength(1);
    expect(a0.value('fleet_metrics_source_up', { source: 'redis' })).toBe(1);
    expect(a0.value('fleet_metrics_source_up', { source: 'postgres' })).toBe(1);
    expect(a0.find('fleet_epoch_duration_seconds_count')).toEqual([]);
    const health0 = a0.value('fleet_http_request_duration_seconds_count', { method: 'GET', route: '/health', status_code: '200' });

    // Submitted with no worker running: the jobs wait (all carry a priority, so BullMQ lists them as prioritized).
    const sweep = await fleet.api.post<{ id: string; experimentIds: string[] }>('/api/sweeps', {
      name: 'metrics e2e',
      base: { dataset: TINY_DATASET, weights: TEST_WEIGHTS, epochs: EPOCHS, batchSize: 4, imageSize: 32, lr: 0.01, seed: 1 },
      grid: { strategy: ['finetune', 'freeze'] },
    });
    const broken = await createExperiment(fleet.api, tinyExperiment({ weights: 'broken.pth' }));
    const a1 = await apiWhen((s) => s.value('fleet_queue_jobs', { queue: 'train', state: 'prioritized' }) === 3, '3 prioritized jobs');
    expect(a1.value('fleet_runs', { status: 'queued' })).toBeGreaterThanOrEqual(a0.value('fleet_runs', { status: 'queued' }) + 3);
    expect(a1.value('fleet_http_request_duration_seconds_count', { method: 'POST', route: '/api/sweeps', status_code: '201' })).toBe(1);
    expect(a1.value('fleet_http_request_duration_seconds_count', { method: 'POST', route: '/api/experiments', status_code: '201' })).toBe(1);

    // A worker with its metrics port; it has not trained anything yet.
    const port = await freePort();
    const worker: WorkerHandle = await fleet.harness.startWorker({
      args: ['--backend', defaultTestBackend(), '--metrics-port', String(port)],
      env: { METRICS_TOKEN: TOKEN, WORKER_HEARTBEAT_MS: '500' },
    });
    const workerUrl = `http://127.0.0.1:${port}/metrics`;
    expect((await fetch(workerUrl)).status).toBe(401);
    const mine = { worker: worker.id };
    const w0 = await scrape(workerUrl, TOKEN);
    const info = w0.find('fleet_worker_info', mine);
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({ value: 1, labels: { backend: defaultTestBackend(), adapter: '', gpu: '' } });
    expect(info[0]?.labels.device).not.toBe('');
    expect(w0.value('fleet_worker_slots', mine)).toBe(1);
    expect(w0.value('fleet_worker_last_heartbeat_timestamp_seconds', mine)).toBeGreaterThan(Date.now() / 1000 - 60);
    for (const outcome of ['completed', 'failed', 'cancelled', 'stopped', 'handed_back']) expect(w0.find('fleet_worker_jobs_total', { ...mine, outcome })).toHaveLength(1);

    // During: a job is active, the worker is busy and alive, and its heartbeat age is reported.
    const during = await apiWhen((s) => s.value('fleet_queue_jobs', { queue: 'train', state: 'active' }) >= 1 && s.find('fleet_worker_heartbeat_age_seconds', mine).length === 1, 'an active job and the worker heartbeat');
    expect(during.value('fleet_workers_alive')).toBeGreaterThanOrEqual(1);
    const age1 = during.value('fleet_worker_heartbeat_age_seconds', mine);
    expect(age1).toBeLessThan(30);
    const wBusy = await waitFor(async () => {
      const s = await scrape(workerUrl, TOKEN);
      return s.value('fleet_worker_busy_slots', mine) === 1 && s.value('fleet_worker_busy_seconds_total', mine) > 0 ? s : undefined;
    }, { timeoutMs: 120_000, intervalMs: 100, what: 'the worker to be busy' });

    // After: 2 succeeded, 1 failed for good.
    for (const id of sweep.experimentIds) await waitForStatus(fleet.prisma, id, ['succeeded'], 240_000);
    await waitForStatus(fleet.prisma, broken, ['failed']);
    const a2 = await apiWhen(
      (s) =>
        s.value('fleet_queue_jobs_completed_total', { queue: 'train' }) === 2 &&
        s.value('fleet_queue_jobs_failed_total', { queue: 'train' }) === 1 &&
        s.find('fleet_epoch_duration_seconds_count').reduce((n, x) => n + x.value, 0) === 2 * EPOCHS,
      'BullMQ totals and every epoch in the histograms',
    );
    expect(a2.value('fleet_queue_jobs', { queue: 'train', state: 'completed' })).toBe(2);
    expect(a2.value('fleet_queue_jobs', { queue: 'train', state: 'failed' })).toBe(1);
    for (const state of ['prioritized', 'waiting', 'active']) expect(a2.value('fleet_queue_jobs', { queue: 'train', state })).toBe(0);
    expect(a2.value('fleet_runs', { status: 'succeeded' })).toBeGreaterThanOrEqual(a0.value('fleet_runs', { status: 'succeeded' }) + 2);
    expect(a2.value('fleet_runs', { status: 'failed' })).toBeGreaterThanOrEqual(a0.value('fleet_runs', { status: 'failed' }) + 1);
    expect(a2.value('fleet_http_request_duration_seconds_count', { method: 'GET', route: '/health', status_code: '200' })).toBeGreaterThanOrEqual(health0);
    const backend = defaultTestBackend();
    for (const strategy of ['finetune', 'freeze']) {
      for (const histogram of ['fleet_epoch_duration_seconds', 'fleet_epoch_images_per_second']) {
        const labels = { backend, strategy };
        expect(a2.value(`${histogram}_count`, labels)).toBe(EPOCHS);
        expect(a2.value(`${histogram}_sum`, labels)).toBeGreaterThan(0);
        expect(a2.value(`${histogram}_bucket`, { ...labels, le: '+Inf' })).toBe(EPOCHS);
      }
    }
    // The heartbeat age is re-read on a later scrape (the worker beats every 500 ms).
    const a3 = await apiWhen((s) => s.find('fleet_worker_heartbeat_age_seconds', mine).length === 1 && s.value('fleet_worker_heartbeat_age_seconds', mine) !== age1, 'a new heartbeat age');
    expect(a3.value('fleet_worker_heartbeat_age_seconds', mine)).toBeLessThan(30);

    const w2 = await waitFor(async () => {
      const s = await scrape(workerUrl, TOKEN);
      return s.value('fleet_worker_busy_slots', mine) === 0 ? s : undefined;
    }, { what: 'the worker to be idle' });
    expect(w2.value('fleet_worker_jobs_total', { ...mine, outcome: 'completed' })).toBe(2);
    expect(w2.value('fleet_worker_jobs_total', { ...mine, outcome: 'failed' })).toBe(1);
    expect(w2.value('fleet_worker_busy_seconds_total', mine)).toBeGreaterThan(wBusy.value('fleet_worker_busy_seconds_total', mine));
    expect(w2.value('fleet_worker_last_heartbeat_timestamp_seconds', mine)).toBeGreaterThan(w0.value('fleet_worker_last_heartbeat_timestamp_seconds', mine));
    expect(w2.find('nodejs_heap_size_used_bytes', mine)).toHaveLength(1);

    // The Grafana board reads only series these two endpoints serve.
    const served = new Set([...a2.names(), ...w2.names()]);
    const dashboard = JSON.parse(await readFile('deploy/grafana/finetune-fleet.json', 'utf8')) as Parameters<typeof dashboardTargets>[0];
    const missing = dashboardTargets(dashboard).flatMap((t) => promqlMetricNames(t.expr).filter((n) => !served.has(n)).map((n) => `${t.panel}: ${n}`));
    expect(missing).toEqual([]);

    // A worker that stops removes its row: its heartbeat series goes and the alive count drops.
    const aliveWithWorker = a3.value('fleet_workers_alive');
    worker.process.signal('SIGTERM');
    await worker.process.exited;
    const a4 = await apiWhen((s) => s.find('fleet_worker_heartbeat_age_seconds', mine).length === 0, 'the stopped worker to leave the heartbeat series');
    expect(a4.value('fleet_workers_alive')).toBeLessThanOrEqual(aliveWithWorker - 1);
  }, 420_000);
});
