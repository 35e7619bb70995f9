// The sweep page of a searched sweep in a real browser (Debian's chromium through playwright-core)
// against the built API with seeded history: the search panel shows best-so-far and epochs used,
// the trials (stopped ones greyed with their reason) and the rungs, the scatter holds one point per
// trial, and the curves chart carries the rung lines. Screenshot in test/artifacts/.
import { mkdir } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { PrismaService } from '@fleet/persistence';
import { FleetHarness, type ApiHandle } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const ARTIFACTS = 'test/artifacts';
const EPOCHS = 9;
const sweepId = randomUUID();
/** Trial -> [lr, plateau, epochs run, stopped at rung]. */
const TRIALS: [number, number, number, number | null][] = [
  [0.01, 0.8, EPOCHS, null],
  [0.003, 0.9, EPOCHS, null],
  [0.5, 0.3, 1, 1],
  [0.0001, 0.6, 3, 3],
];

let fleet: FleetHarness;
let api: ApiHandle;
let prisma: PrismaService;
let browser: Browser;

async function seed(): Promise<void> {
  const search = {
    method: 'random',
    parameters: { lr: { distribution: 'log_uniform', min: 0.0001, max: 0.5 } },
    seeds: [0],
    metric: { name: 'valAcc', goal: 'maximize' },
    earlyStop: { type: 'asha', minEpochs: 1, reductionFactor: 3, minRunsAtRung: 2 },
    budget: { maxTrials: TRIALS.length, maxConcurrent: 2 },
    searchSeed: 0,
    priority: 0,
    queuePrefix: 'dashboard-seeded',
  };
  await prisma.sweep.create({ data: { id: sweepId, name: 'dashboard search', base: { dataset: 'demo', strategy: 'scratch', epochs: EPOCHS }, grid: {}, search, trialsCreated: TRIALS.length, finishedAt: new Date() } });
  for (const [index, [lr, plateau, epochs, stoppedAt]] of TRIALS.entries()) {
    const trial = await prisma.sweepTrial.create({ data: { sweepId, index, params: { lr } } });
    const curve = Array.from({ length: epochs }, (_, i) => plateau * (1 - 0.5 * Math.exp(-(i + 1) / 2)));
    const stopReason = stoppedAt === null ? null : { rung: stoppedAt, value: curve[stoppedAt - 1]!, cutoff: 0.7, compared: 2 };
    const id = randomUUID();
    await prisma.experiment.create({
      data: {
        id, sweepId, trialId: trial.id, gridValues: { lr, seed: 0 }, dataset: 'demo', strategy: 'scratch', lr, lrFactor: 0.1, momentum: 0.9, epochs: EPOCHS, batchSize: 16, imageSize: 64, seed: 0, stepSize: 7, gamma: 0.1,
        status: stoppedAt === null ? 'succeeded' : 'stopped', ...(stopReason ? { stopReason } : {}), attempts: 1, epochsDone: epochs, bestValAcc: Math.max(...curve), bestEpoch: epochs, finalValAcc: curve.at(-1)!,
        createdAt: new Date(Date.now() - 60_000 + index * 1000), startedAt: new Date(Date.now() - 50_000), finishedAt: new Date(),
      },
    });
    await prisma.epochMetric.createMany({ data: curve.map((valAcc, i) => ({ experimentId: id, epoch: i + 1, trainLoss: 1 - valAcc, trainAcc: valAcc, valLoss: 1 - valAcc, valAcc, lrs: [lr], seconds: 1, imagesPerSec: 100, trainableParams: 1, backboneDrift: 0, bnStatsDrift: 0 })) });
    for (const rung of [1, 3].filter((r) => r <= epochs)) {
      const decision = stopReason?.rung === rung ? 'stop' : 'continue';
      await prisma.rungDecision.create({ data: { trialId: trial.id, sweepId, rung, value: curve[rung - 1]!, cutoff: index < 2 ? null : 0.7, compared: index, decision } });
    }
  }
}

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  fleet = await FleetHarness.create();
  prisma = new PrismaService(fleet.databaseUrl);
  await seed();
  [api, browser] = await Promise.all([fleet.startApi(), chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] })]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await prisma?.sweep.deleteMany({ where: { id: sweepId } });
  await prisma?.$disconnect();
  await fleet?.teardown();
});

it('shows trials, rungs, best so far and greys the stopped runs with their reason', async () => {
  const context = await browser.newContext({ viewport: { width: 1360, height: 1400 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${api.url}/sweeps/${sweepId}`);
  const trialRows = page.locator('[data-testid="trial-row"]');
  await waitFor(async () => (await trialRows.count()) === TRIALS.length, { what: 'one row per trial', timeoutMs: 20_000 });
  expect(await page.locator('[data-testid="search-best"]').textContent()).toContain('trial 1 (lr=3.00e-3) valAcc');
  expect(await page.locator('[data-testid="search-epochs"]').textContent()).toContain(`${2 * EPOCHS + 1 + 3} trained of ${4 * EPOCHS}`);
  const stopped = page.locator('tr.stopped-row[data-testid="trial-row"]');
  expect(await stopped.count()).toBe(2);
  expect(await stopped.first().getAttribute('title')).toMatch(/^stopped at epoch \d: /);
  expect(await page.locator('[data-testid="rung-row"]').count()).toBe(2);
  expect(await page.locator('tr.stopped-row[data-testid="run-row"]').count()).toBe(2);
  // Ranked by trial: the finished ones by their val acc, the stopped ones unranked after them.
  const ranking = page.locator('[data-testid="compare-row"]');
  await waitFor(async () => (await ranking.count()) === TRIALS.length, { what: 'the trials ranked', timeoutMs: 20_000 });
  expect(await ranking.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-group')))).toEqual(['1', '0', '2', '3']);

  const charts = await page.evaluate(() => {
    const Chart = (window as unknown as { Chart: { getChart(c: Element): { data: { datasets: { label?: string; data: unknown[] }[] } } | undefined } }).Chart;
    const of = (id: string) => Chart.getChart(document.querySelector(`[data-testid="${id}"]`)!)?.data.datasets ?? [];
    return { scatter: of('chart-search').reduce((n, d) => n + d.data.length, 0), rungs: of('chart-valacc').filter((d) => d.label?.startsWith('rung ')).map((d) => d.label) };
  });
  expect(charts).toEqual({ scatter: TRIALS.length, rungs: ['rung 1', 'rung 3'] });
  await page.screenshot({ path: `${ARTIFACTS}/dashboard-sweep-search.png`, fullPage: true });
  await context.close();
  expect(errors).toEqual([]);
}, 90_000);
