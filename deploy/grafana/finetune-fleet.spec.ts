// finetune-fleet.json: a valid dashboard model that queries only series the API and the workers
// expose, and README's "Metrics" table lists exactly the fleet_ metrics they register. No services
// needed: the registries are built without reading anything. (Paths are from the repository root,
// where npm test runs.)
import { readFile } from 'node:fs/promises';
import { createApiRegistry, exposedSeriesNames } from '../../apps/api/src/metrics/api-metrics.js';
import { WorkerMetrics } from '../../apps/worker/src/worker-metrics.js';
import { dashboardProblems, dashboardTargets } from './check/dashboard-model.js';
import { promqlMetricNames } from './check/promql-names.js';

const DASHBOARD = 'deploy/grafana/finetune-fleet.json';

async function loadDashboard() {
  return JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: { title: string; targets?: { expr?: string }[] }[] };
}

function registries() {
  const api = createApiRegistry(() => Promise.reject(new Error('not read: names only')));
  const worker = new WorkerMetrics({ id: 'names-only', host: 'h', gpu: undefined, slots: 1 });
  return { api: api.registry, worker: worker.registry };
}

describe('promqlMetricNames', () => {
  it.each([
    ['max(fleet_workers_alive)', ['fleet_workers_alive']],
    ['sum(max by (state) (fleet_queue_jobs{state=~"waiting|prioritized"}))', ['fleet_queue_jobs']],
    ['histogram_quantile(0.9, sum by (le, backend) (rate(fleet_epoch_duration_seconds_bucket[$__rate_interval])))', ['fleet_epoch_duration_seconds_bucket']],
    ['sum by (worker) (rate(a_total[5m])) / sum by (worker) (b_slots) > bool 0.5', ['a_total', 'b_slots']],
    ['rate(x{a="by (y)", b=\'{z}\'}[1h:5m] offset 10m) * 1e3 unless on (q) c', ['x', 'c']],
    ['up and on(job) group_left(instance) node_info', ['up', 'node_info']],
  ])('%s -> %j', (expr, names) => {
    expect(promqlMetricNames(expr).sort()).toEqual([...names].sort());
  });
});

describe('Grafana dashboard', () => {
  it('is a valid dashboard model', async () => {
    expect(dashboardProblems(await loadDashboard())).toEqual([]);
  });

  it('the structural check finds what Grafana would refuse or misplace', async () => {
    const broken = (await loadDashboard()) as unknown as Record<string, unknown> & { panels: Record<string, unknown>[] };
    delete broken.title;
    const [first, second, third] = broken.panels as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    second.id = first.id;
    third.gridPos = { x: 20, y: 100, w: 8, h: 4 };
    (first.targets as Record<string, unknown>[])[0]!.expr = ' ';
    second.datasource = { type: 'prometheus', uid: 'prod' };
    expect(dashboardProblems(broken)).toEqual(
      expect.arrayContaining([
        'title: required',
        'panels[0].targets[0].expr: a PromQL expression is required',
        'panels[1].id: a unique integer is required',
        'panels[1]: datasource must be {type: "prometheus", uid: "${DS_PROMETHEUS}"}',
        'panels[2].gridPos: must lie in the 24-column grid (x 20, w 8)',
      ]),
    );
  });

  it('queries only series that the API or a worker exposes, and covers each issue panel', async () => {
    const { api, worker } = registries();
    const exposed = new Set([...exposedSeriesNames(api), ...exposedSeriesNames(worker)]);
    const targets = dashboardTargets(await loadDashboard());
    expect(targets.length).toBeGreaterThan(10);
    const unknown = targets.flatMap((t) => promqlMetricNames(t.expr).filter((n) => !exposed.has(n)).map((n) => `${t.panel}: ${n}`));
    expect(unknown).toEqual([]);
    const used = new Set(targets.flatMap((t) => promqlMetricNames(t.expr)));
    for (const name of ['fleet_queue_jobs', 'fleet_worker_busy_seconds_total', 'fleet_queue_jobs_failed_total', 'fleet_epoch_duration_seconds_bucket', 'fleet_epoch_images_per_second_sum', 'fleet_http_request_duration_seconds_bucket']) {
      expect(used).toContain(name);
    }
  });

  it("README's Metrics table lists exactly the fleet_ metrics registered", async () => {
    const { api, worker } = registries();
    const registered = [...api.getMetricsAsArray(), ...worker.getMetricsAsArray()].map((m) => (m as unknown as { name: string }).name).filter((n) => n.startsWith('fleet_'));
    const readme = await readFile('README.md', 'utf8');
    const start = readme.indexOf('\n## Metrics\n');
    expect(start).toBeGreaterThan(0);
    const end = readme.indexOf('\n## ', start + 1);
    const listed = [...readme.slice(start, end < 0 ? undefined : end).matchAll(/^\| `(fleet_\w+)`/gm)].map((m) => m[1]);
    expect([...listed].sort()).toEqual([...new Set(registered)].sort());
  });
});
