import { WorkerMetrics } from './worker-metrics.js';

async function sample(m: WorkerMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metrics = await m.registry.getMetricsAsJSON();
  const metric = metrics.find((x) => x.name === name);
  return metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
}

describe('WorkerMetrics', () => {
  it('counts busy seconds of running jobs up to the scrape, and each outcome once', async () => {
    const m = new WorkerMetrics({ id: 'w1', host: 'h', gpu: 0, slots: 2 });
    expect(await sample(m, 'fleet_worker_busy_seconds_total')).toBe(0);
    const end = m.jobStarted();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await sample(m, 'fleet_worker_busy_slots')).toBe(1);
    const running = (await sample(m, 'fleet_worker_busy_seconds_total')) ?? 0;
    expect(running).toBeGreaterThanOrEqual(0.05);
    end('failed');
    end('completed'); // a second call for the same job changes nothing
    const ended = (await sample(m, 'fleet_worker_busy_seconds_total')) ?? 0;
    expect(ended).toBeGreaterThanOrEqual(running);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await sample(m, 'fleet_worker_busy_seconds_total')).toBe(ended);
    expect(await sample(m, 'fleet_worker_busy_slots')).toBe(0);
    expect(await sample(m, 'fleet_worker_jobs_total', { outcome: 'failed' })).toBe(1);
    expect(await sample(m, 'fleet_worker_jobs_total', { outcome: 'completed' })).toBe(0);
    expect(await sample(m, 'fleet_worker_slots')).toBe(2);
  });

  it('labels the adapter on webgpu only, and every series with the worker id', async () => {
    const m = new WorkerMetrics({ id: 'w2', host: 'gpu-box', gpu: 1, slots: 1 });
    m.setBackend({ name: 'webgpu', info: 'NVIDIA / ampere / NVIDIA A100 (Vulkan)', adapter: { name: 'NVIDIA A100-SXM4-80GB' } });
    const text = await m.registry.metrics();
    expect(text).toContain('fleet_worker_info{backend="webgpu",device="NVIDIA / ampere / NVIDIA A100 (Vulkan)",adapter="NVIDIA A100-SXM4-80GB",gpu="1",host="gpu-box",worker="w2"} 1');
    m.setBackend({ name: 'wasm+onednn', info: 'oneDNN 2.6.3', adapter: { name: 'ignored' } });
    expect(await m.registry.metrics()).toContain('fleet_worker_info{backend="wasm+onednn",device="oneDNN 2.6.3",adapter="",gpu="1",host="gpu-box",worker="w2"} 1');
    for (const line of (await m.registry.metrics()).split('\n').filter((l) => l !== '' && !l.startsWith('#'))) expect(line).toContain('worker="w2"');
  });
});
