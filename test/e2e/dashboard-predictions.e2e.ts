// The run page of a real fleet run in a real browser (Debian's chromium through playwright-core):
// after a tiny experiment succeeds on a worker, the page shows the best epoch's confusion matrix,
// consistent with the stored val accuracy, and the grid of val images with predicted vs true label,
// wrong ones first. Screenshot in test/artifacts/ (gitignored; docs/screenshots/ has a copy).
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';
import { createExperiment, startE2eFleet, tinyExperiment, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';

const ARTIFACTS = 'test/artifacts';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

describe('run page predictions', () => {
  let fleet: E2eFleet;
  let browser: Browser;
  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    [fleet, browser] = await Promise.all([startE2eFleet({ workers: 1, dataset: { valPerClass: 6 } }), chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })]);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await fleet?.close();
  });

  it('shows the confusion matrix and the val images, wrong ones first', async () => {
    const id = await createExperiment(fleet.api, tinyExperiment({ epochs: 2, lr: 0.002 }));
    const row = await waitForStatus(fleet.prisma, id, ['succeeded'], 180_000);
    const best = await fleet.prisma.epochMetric.findUniqueOrThrow({ where: { experimentId_epoch: { experimentId: id, epoch: row.bestEpoch! } } });

    const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${fleet.apiProcess.url}/experiments/${id}`);
    const matrix = page.locator('[data-testid="confusion-matrix"]');
    await matrix.waitFor();
    const cells = (await matrix.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => Number(td.textContent))))) as number[][];
    expect(cells.flat().reduce((a, b) => a + b, 0)).toBe(12);
    expect((cells[0]![0]! + cells[1]![1]!) / 12).toBeCloseTo(best.valAcc, 10);

    const figures = page.locator('[data-testid="prediction"]');
    expect(await figures.count()).toBe(12);
    const kinds = await figures.evaluateAll((fs) => fs.map((f) => (f.classList.contains('wrong') ? 'wrong' : 'right')));
    const wrong = kinds.filter((k) => k === 'wrong').length;
    expect(wrong).toBe(cells[0]![1]! + cells[1]![0]!);
    expect(kinds).toEqual([...Array<string>(wrong).fill('wrong'), ...Array<string>(12 - wrong).fill('right')]);
    // Every image arrived (fetched with the API key path, shown from a blob URL).
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid="prediction"] img')].every((img) => img.complete && img.naturalWidth > 0), undefined, { timeout: 20_000 });
    await page.locator('[data-testid="predictions"]').screenshot({ path: `${ARTIFACTS}/dashboard-predictions.png` });
    await context.close();
    expect(errors).toEqual([]);
  }, 240_000);
});
