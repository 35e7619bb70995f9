// The dashboard in a real browser (Debian's chromium through playwright-core) against the built API
// with seeded history: the overview lists the sweep, the sweep page ranks the strategies and draws
// its curves, the experiment page draws its charts and moves its progress bar on a live SSE event,
// the workers page shows the worker. Screenshots land in test/artifacts/ (gitignored).
import { mkdir } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Redis } from 'ioredis';
import { PrismaService } from '@fleet/persistence';
import { eventStreamKey } from '@fleet/queue';
import { FleetHarness, type ApiHandle } from '../support/fleet-harness.js';
import { waitFor } from '../support/wait-for.js';

const ARTIFACTS = 'test/artifacts';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const EPOCHS = 6;
/** Per strategy: plateau of val acc; finetune is seeded best so the ranking is known. */
const PLATEAU = { finetune: 0.93, freeze: 0.88, scratch: 0.62 } as const;
type SeededStrategy = keyof typeof PLATEAU;

let fleet: FleetHarness;
let api: ApiHandle;
let prisma: PrismaService;
let browser: Browser;
const sweepId = randomUUID();
const runningId = randomUUID();
const workerId = `dash-${randomUUID().slice(0, 8)}`;
const bestBySeed = new Map<string, number[]>();

function curve(strategy: SeededStrategy, seed: number, epoch: number): { valAcc: number; trainLoss: number } {
  const wobble = ((seed * 7 + epoch * 3) % 5) / 200;
  const valAcc = PLATEAU[strategy] - (PLATEAU[strategy] - 0.5) * Math.exp(-epoch / 1.5) + wobble;
  return { valAcc, trainLoss: 0.7 * Math.exp(-epoch / (strategy === 'scratch' ? 6 : 2)) + 0.05 + wobble };
}

function metrics(experimentId: string, strategy: SeededStrategy, seed: number, epochs: number) {
  return Array.from({ length: epochs }, (_, i) => {
    const epoch = i + 1;
    const { valAcc, trainLoss } = curve(strategy, seed, epoch);
    return {
      experimentId,
      epoch,
      trainLoss,
      trainAcc: Math.min(1, valAcc + 0.02),
      valLoss: trainLoss * 1.1,
      valAcc,
      lrs: strategy === 'freeze' ? [0.001] : [epoch > 3 ? 0.0001 : 0.001],
      seconds: 2 + seed * 0.1,
      imagesPerSec: 120,
      trainableParams: strategy === 'freeze' ? 1026 : 11_177_538,
      backboneDrift: strategy === 'freeze' ? 0 : 0.01 * epoch,
      bnStatsDrift: 0.02 * epoch,
    };
  });
}

async function seed(): Promise<void> {
  const base = { dataset: 'demo', weights: 'resnet18.pth', epochs: EPOCHS, imageSize: 64 };
  const strategies = Object.keys(PLATEAU) as SeededStrategy[];
  await prisma.sweep.create({ data: { id: sweepId, name: 'dashboard e2e sweep', base, grid: { strategy: strategies, seed: [0, 1] } } });
  const start = Date.now() - 600_000;
  let n = 0;
  for (const strategy of strategies) {
    for (const s of [0, 1]) {
      const id = randomUUID();
      const m = metrics(id, strategy, s, EPOCHS);
      const best = m.reduce((a, b) => (b.valAcc > a.valAcc ? b : a));
      bestBySeed.set(strategy, [...(bestBySeed.get(strategy) ?? []), best.valAcc]);
      await prisma.experiment.create({
        data: {
          id,
          sweepId,
          gridValues: { strategy, seed: s },
          dataset: 'demo',
          weights: strategy === 'scratch' ? null : 'resnet18.pth',
          strategy,
          lr: 0.001,
          lrFactor: 0.1,
          momentum: 0.9,
          epochs: EPOCHS,
          batchSize: 16,
          imageSize: 64,
          seed: s,
          stepSize: 3,
          gamma: 0.1,
          status: 'succeeded',
          attempts: 1,
          workerId,
          backend: 'cpu',
          epochsDone: EPOCHS,
          bestValAcc: best.valAcc,
          bestEpoch: best.epoch,
          finalValAcc: m.at(-1)!.valAcc,
          createdAt: new Date(start + n++ * 1000),
          startedAt: new Date(start + n * 1000),
          finishedAt: new Date(start + n * 1000 + 12_000),
        },
      });
      await prisma.epochMetric.createMany({ data: m });
    }
  }
  await prisma.experiment.create({
    data: {
      id: runningId,
      name: 'live run',
      dataset: 'demo',
      weights: 'resnet18.pth',
      strategy: 'group-lr',
      lr: 0.001,
      lrFactor: 0.1,
      momentum: 0.9,
      epochs: 5,
      batchSize: 16,
      imageSize: 64,
      seed: 0,
      stepSize: 7,
      gamma: 0.1,
      status: 'running',
      attempts: 1,
      workerId,
      backend: 'cpu',
      epochsDone: 2,
      bestValAcc: 0.8,
      bestEpoch: 2,
      finalValAcc: null,
      startedAt: new Date(Date.now() - 30_000),
    },
  });
  await prisma.epochMetric.createMany({ data: metrics(runningId, 'finetune', 0, 2).map((m) => ({ ...m, lrs: [0.0001, 0.001] })) });
  await prisma.worker.create({ data: { id: workerId, host: 'e2e-host', pid: 4242, backend: 'cpu', currentExperimentId: runningId, lastSeenAt: new Date() } });
}

/** What the page's charts hold and whether their canvases show lines of the given colours. */
async function chartState(page: Page, selector: string, rgb: [number, number, number]): Promise<{ datasets: number; points: number; coloured: number }> {
  return page.evaluate(
    ({ selector, rgb }) => {
      const canvas = document.querySelector<HTMLCanvasElement>(selector);
      const Chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: { data: unknown[]; band?: boolean }[] } } | undefined } }).Chart;
      const chart = canvas ? Chart.getChart(canvas) : undefined;
      if (!canvas || !chart) return { datasets: 0, points: 0, coloured: 0 };
      const lines = chart.data.datasets.filter((d) => !d.band && d.data.length > 0);
      const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let coloured = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3]! > 200 && Math.abs(px[i]! - rgb[0]) < 24 && Math.abs(px[i + 1]! - rgb[1]) < 24 && Math.abs(px[i + 2]! - rgb[2]) < 24) coloured++;
      }
      return { datasets: lines.length, points: lines.reduce((a, d) => a + d.data.length, 0), coloured };
    },
    { selector, rgb },
  );
}

const FINETUNE_RGB: [number, number, number] = [0x4e, 0x79, 0xa7];

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  fleet = await FleetHarness.create();
  prisma = new PrismaService(fleet.databaseUrl);
  await seed();
  [api, browser] = await Promise.all([fleet.startApi(), chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await prisma?.sweep.deleteMany({ where: { id: sweepId } });
  await prisma?.experiment.deleteMany({ where: { id: runningId } });
  await prisma?.worker.deleteMany({ where: { id: workerId } });
  await prisma?.$disconnect();
  await fleet?.teardown();
});

const pageErrors = new WeakMap<Page, string[]>();

async function openPage(colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  pageErrors.set(page, errors);
  page.on('pageerror', (err) => errors.push(err.message));
  return page;
}

/** Closes the page; uncaught errors in the page's scripts fail the test. */
async function closePage(page: Page): Promise<void> {
  await page.context().close();
  expect(pageErrors.get(page)).toEqual([]);
}

it('lists the seeded sweep on the overview', async () => {
  const page = await openPage();
  await page.goto(`${api.url}/`);
  const row = page.locator('[data-testid="sweep-row"]', { hasText: 'dashboard e2e sweep' });
  await row.waitFor();
  expect(await row.textContent()).toContain('6 succeeded');
  await page.screenshot({ path: `${ARTIFACTS}/dashboard-overview.png` });
  await closePage(page);
}, 60_000);

it.each(['light', 'dark'] as const)('ranks the strategies and draws their curves on the sweep page (%s)', async (scheme) => {
  const page = await openPage(scheme);
  await page.goto(`${api.url}/sweeps/${sweepId}`);
  const rows = page.locator('[data-testid="compare-row"]');
  await waitFor(async () => (await rows.count()) === 3, { what: 'three ranked groups', timeoutMs: 20_000 });
  expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-group')))).toEqual(['finetune', 'freeze', 'scratch']);
  const ft = bestBySeed.get('finetune')!;
  const mean = (ft[0]! + ft[1]!) / 2;
  expect(await rows.first().textContent()).toContain(`${(mean * 100).toFixed(1)}%`);
  expect(await page.locator('[data-testid="run-row"]').count()).toBe(6);

  for (const chart of ['chart-valacc', 'chart-loss']) {
    // 3 group means + 6 individual runs (shown by default for small sweeps), each with 6 epochs.
    const state = await waitFor(
      async () => {
        const s = await chartState(page, `[data-testid="${chart}"]`, FINETUNE_RGB);
        return s.datasets === 9 && s.coloured > 100 ? s : undefined;
      },
      { what: `${chart} drawn`, timeoutMs: 20_000 },
    );
    expect(state.points).toBe(9 * EPOCHS);
  }
  await page.screenshot({ path: `${ARTIFACTS}/dashboard-sweep-${scheme}.png`, fullPage: true });
  await closePage(page);
}, 90_000);

it('shows an experiment with its charts and moves the progress bar on a live SSE event', async () => {
  const page = await openPage();
  await page.goto(`${api.url}/experiments/${runningId}`);
  const progress = page.locator('[data-testid="live-progress"]');
  await progress.waitFor();
  expect(await progress.textContent()).toContain('2/5 epochs');
  for (const chart of ['chart-acc', 'chart-loss', 'chart-drift', 'chart-lr']) {
    await waitFor(async () => (await chartState(page, `[data-testid="${chart}"]`, [0, 0, 0])).points >= 4, { what: `${chart} has data`, timeoutMs: 20_000 });
  }
  // StepLR is drawn as steps, not as a slope between epochs.
  const stepped = await page.evaluate(() => {
    const canvas = document.querySelector('[data-testid="chart-lr"]');
    const chart = (window as unknown as { Chart: { getChart(c: unknown): { data: { datasets: { stepped?: unknown }[] } } | undefined } }).Chart.getChart(canvas);
    return chart?.data.datasets.map((d) => d.stepped);
  });
  expect(stepped).toEqual(['before', 'before']);
  const redis = new Redis(fleet.redisUrl);
  try {
    const event = { type: 'progress', experimentId: runningId, epoch: 3, phase: 'train', batch: 7, batches: 10, loss: 0.4321 };
    // Keep publishing until the page shows it: the stream may attach after the first entry.
    await waitFor(
      async () => {
        await redis.xadd(eventStreamKey(fleet.queuePrefix, runningId), '*', 'data', JSON.stringify(event));
        return (await progress.textContent())?.includes('train 7/10');
      },
      { what: 'live progress from SSE', timeoutMs: 30_000, intervalMs: 1000 },
    );
  } finally {
    redis.disconnect();
  }
  expect(await progress.textContent()).toContain('loss 0.432');
  await page.screenshot({ path: `${ARTIFACTS}/dashboard-experiment.png`, fullPage: true });
  await closePage(page);
}, 90_000);

it('lists the worker and what it runs', async () => {
  const page = await openPage();
  await page.goto(`${api.url}/workers`);
  const row = page.locator('[data-testid="worker-row"]', { hasText: workerId });
  await row.waitFor();
  expect(await row.textContent()).toContain('online');
  await row.locator('a').click();
  await page.waitForURL(`**/experiments/${runningId}`);
  await page.locator('[data-testid="live-progress"]').waitFor();
  await closePage(page);
}, 60_000);

it('serves Bull Board at /queues with the train queue', async () => {
  const res = await fetch(`${api.url}/queues`);
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('Finetune Fleet queues');
  const queues = (await (await fetch(`${api.url}/queues/api/queues`)).json()) as { queues: { name: string }[] };
  expect(queues.queues.map((q) => q.name)).toContain('train');
});
