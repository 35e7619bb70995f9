// A sweep of 3 strategies x 2 seeds on two real worker processes: every run succeeds with each of
// its epochs stored exactly once, both workers share the work, and /compare ranks the strategies.
import { startE2eFleet, storedEpochs, TEST_WEIGHTS, TINY_DATASET, type E2eFleet } from '../support/e2e-fleet.js';
import { waitFor } from '../support/wait-for.js';

interface SweepDetail {
  counts: { queued: number; running: number; succeeded: number; failed: number; cancelled: number };
  runs: { id: string; status: string; error: string | null }[];
}

interface Compare {
  groups: { value: string | number | null; rank: number; n: number; meanBestValAcc: number | null }[];
}

describe('sweep on two workers', () => {
  let fleet: E2eFleet;
  beforeAll(async () => {
    fleet = await startE2eFleet({ workers: 2 });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
  });

  it('runs 3 strategies x 2 seeds to completion, every epoch once, and ranks the strategies', async () => {
    const { api, prisma } = fleet;
    const sweep = await api.post<{ id: string; count: number; experimentIds: string[] }>('/api/sweeps', {
      name: 'e2e sweep',
      base: { dataset: TINY_DATASET, weights: TEST_WEIGHTS, epochs: 2, batchSize: 4, imageSize: 32, lr: 0.01 },
      grid: { strategy: ['finetune', 'freeze', 'scratch'], seed: [1, 2] },
    });
    expect(sweep.count).toBe(6);

    const detail = await waitFor(
      async () => {
        const d = await api.get<SweepDetail>(`/api/sweeps/${sweep.id}`);
        const bad = d.runs.find((r) => r.status === 'failed' || r.status === 'cancelled');
        if (bad) throw new Error(`run ${bad.id} ${bad.status}: ${bad.error ?? ''}`);
        return d.counts.succeeded === 6 ? d : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 250, what: 'all 6 runs to succeed' },
    );
    expect(detail.runs).toHaveLength(6);

    const rows = await prisma.experiment.findMany({ where: { sweepId: sweep.id } });
    for (const row of rows) {
      expect(await storedEpochs(prisma, row.id)).toEqual([1, 2]);
      expect(row).toMatchObject({ status: 'succeeded', epochsDone: 2, attempts: 1 });
      expect(row.bestValAcc).not.toBeNull();
      expect(row.finishedAt).toBeInstanceOf(Date);
    }
    expect(new Set(rows.map((r) => r.workerId))).toEqual(new Set(fleet.workers.map((w) => w.id)));

    const compare = await api.get<Compare>(`/api/sweeps/${sweep.id}/compare?groupBy=strategy`);
    expect(compare.groups.map((g) => g.value).sort()).toEqual(['finetune', 'freeze', 'scratch']);
    expect(compare.groups.map((g) => g.rank).sort()).toEqual([1, 2, 3]);
    const byRank = [...compare.groups].sort((a, b) => a.rank - b.rank);
    for (let i = 1; i < byRank.length; i++) expect(byRank[i - 1]?.meanBestValAcc ?? 0).toBeGreaterThanOrEqual(byRank[i]?.meanBestValAcc ?? 0);
    for (const g of compare.groups) expect(g.n).toBe(2);

    // The training child keeps datasets and weights between jobs: each worker logs its pickup-to-first-batch time.
    for (const w of fleet.workers) expect(w.process.output).toMatch(/pickup to first batch \d+ ms/);
  }, 300_000);
});
