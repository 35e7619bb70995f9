// The host's recycling between jobs, against a stand-in training child (a few lines of IPC, no
// TensorFlow.js) that reports the memory figures it is given and takes a while to exit on shutdown.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CHILD_RECYCLE, type ChildRecycleOptions } from './child-recycle.js';
import { TrainingChildHost } from './training-child.host.js';
import type { RunSpec } from './training-ipc.js';

const FAKE_CHILD = `
process.on('message', (m) => {
  if (m.type === 'run') {
    const memory = { numTensors: 0, numBytes: 0, wasmHeapBytes: Number(process.env.FAKE_HEAP_BYTES), rssBytes: 50e6 };
    process.send({ type: 'done', runId: m.runId, cancelled: false, memory });
  } else if (m.type === 'shutdown') {
    // Slow to go, like a real child releasing a large heap: a job must not wait for this.
    setTimeout(() => process.exit(0), 300);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', backend: { name: 'wasm', info: 'stand-in' }, pid: process.pid });
`;

const SPEC = { datasetDir: '/nowhere', hyper: {} as RunSpec['hyper'], checkpointDir: '/nowhere', resume: false } satisfies RunSpec;
const GiB = 1024 ** 3;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('TrainingChildHost recycling between jobs', () => {
  let dir: string;
  let childPath: string;
  const hosts: TrainingChildHost[] = [];
  const lines: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ff-host-'));
    childPath = path.join(dir, 'fake-child.mjs');
    await writeFile(childPath, FAKE_CHILD);
  });
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop(1000)));
    lines.length = 0;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function host(recycle: ChildRecycleOptions, heapBytes = 0.5 * GiB): TrainingChildHost {
    const h = new TrainingChildHost({ childPath, env: { ...process.env, FAKE_HEAP_BYTES: String(heapBytes) }, recycle, log: (l) => lines.push(l) });
    hosts.push(h);
    return h;
  }
  const run = (h: TrainingChildHost) => h.run(SPEC, { onEpoch: () => Promise.resolve() });

  it('replaces the child after maxJobs jobs, without making the finished job wait, and starts the next one ahead of the next job', async () => {
    const h = host({ ...DEFAULT_CHILD_RECYCLE, maxJobs: 2 });
    await h.start();
    const first = h.pid!;
    await run(h);
    expect(h.pid).toBe(first);
    await run(h);
    // The job is done while the old child is still shutting down (it takes 300 ms to exit).
    expect(alive(first)).toBe(true);
    expect(lines.join('\n')).toMatch(new RegExp(`replacing training child ${first} between jobs: 2 jobs \\(limit 2\\); wasm heap 512 MiB`));
    // The replacement starts by itself, once the old child is gone.
    await until(() => h.pid !== undefined && h.pid !== first && h.backend !== undefined, 'the replacement child');
    expect(alive(first)).toBe(false);
    const second = h.pid!;
    await run(h);
    expect(h.pid).toBe(second);
    expect(lines.join('\n')).not.toMatch(/exited/);
  });

  it('replaces the child when its reported wasm heap passed the limit, and keeps it below', async () => {
    const big = host({ maxJobs: 0, maxHeapBytes: 1 * GiB, maxRssBytes: 0 }, 1.5 * GiB);
    await big.start();
    const pid = big.pid!;
    await run(big);
    expect(lines.join('\n')).toMatch(/between jobs: wasm heap 1536 MiB \(limit 1024 MiB\)/);
    await until(() => big.pid !== undefined && big.pid !== pid && big.backend !== undefined, 'the replacement child');

    const small = host({ maxJobs: 0, maxHeapBytes: 1 * GiB, maxRssBytes: 0 }, 0.5 * GiB);
    await small.start();
    const kept = small.pid!;
    for (let i = 0; i < 3; i++) await run(small);
    expect(small.pid).toBe(kept);
  });

  it('recycle() after a failed job keeps a replacement that has not run anything yet', async () => {
    const h = host({ ...DEFAULT_CHILD_RECYCLE, maxJobs: 1 });
    await h.start();
    const first = h.pid!;
    await run(h);
    await h.recycle();
    await h.start();
    const fresh = h.pid!;
    expect(fresh).not.toBe(first);
    await h.recycle();
    expect(h.pid).toBe(fresh);
    expect(alive(fresh)).toBe(true);
  });
});
