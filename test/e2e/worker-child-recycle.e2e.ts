// A worker replaces its long-lived training process after WORKER_CHILD_MAX_JOBS jobs, between two
// jobs: no attempt fails, the next job runs on the fresh process, and the log line says why, with
// the memory the old process reported after its last job.
import { createExperiment, startE2eFleet, tinyExperiment, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import { childPids, isAlive } from '../support/managed-process.js';
import { waitFor } from '../support/wait-for.js';

describe('training process recycling', () => {
  let fleet: E2eFleet;
  beforeAll(async () => {
    fleet = await startE2eFleet({ workers: 1, worker: { env: { WORKER_CHILD_MAX_JOBS: '2' } } });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
  });

  it('runs job 3 on a fresh training process after 2 jobs, with no failed attempt', async () => {
    const { api, prisma } = fleet;
    const worker = fleet.workers[0];
    const first = worker?.trainingPids[0];
    if (!worker || first === undefined) throw new Error('no worker');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await createExperiment(api, tinyExperiment({ epochs: 1, seed: i }));
      const done = await waitForStatus(prisma, id, ['succeeded'], 120_000);
      expect(done.attempts).toBe(1);
      ids.push(id);
    }
    const out = worker.process.output;
    const replaced = new RegExp(`replacing training child ${first} between jobs: 2 jobs \\(limit 2\\); wasm heap (\\d+) MiB, rss (\\d+) MiB, 0 tensors`).exec(out);
    expect(replaced).not.toBeNull();
    expect(Number(replaced?.[1])).toBeGreaterThan(0);
    // Jobs 1 and 2 ran on the first process, job 3 on its replacement.
    const runs = [...out.matchAll(/pickup to first batch \d+ ms \(training child (\d+), job (\d+) of this child/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(runs).toHaveLength(3);
    expect(runs.slice(0, 2)).toEqual([[first, 1], [first, 2]]);
    const [second, jobOfSecond] = runs[2]!;
    expect(second).not.toBe(first);
    expect(jobOfSecond).toBe(1);
    await waitFor(() => !isAlive(first), { what: 'the replaced training process to exit' });
    expect(childPids(worker.pid)).toEqual([second]);
    expect(out).not.toMatch(/training process crashed|will be retried/);
  }, 240_000);
});
