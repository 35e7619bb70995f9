// A run through the fleet keeps its models: after a tiny experiment succeeds on a real worker,
// `finetune export` (the built CLI) saves its best and final .pth with the class names beside them;
// the files are torchvision resnet18 state dicts with the dataset's classes in fc.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkStateDict, loadStateDict } from '@fleet/training';
import { waitFor } from '../support/wait-for.js';
import { createExperiment, startE2eFleet, TINY_DATASET, tinyExperiment, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';

describe('model files of a fleet run', () => {
  let fleet: E2eFleet;
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'ff-export-'));
    fleet = await startE2eFleet({ workers: 1 });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
    await rm(out, { recursive: true, force: true });
  });

  const finetune = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/finetune.js', ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, FLEET_API_URL: fleet.apiProcess.url }, encoding: 'utf8', timeout: 120_000 });

  let id: string;

  it('exports best and final as strict resnet18 state dicts with the class names', async () => {
    id = await createExperiment(fleet.api, tinyExperiment({ epochs: 2 }));
    const row = await waitForStatus(fleet.prisma, id, ['succeeded'], 180_000);
    for (const epoch of ['best', 'final'] as const) {
      const file = path.join(out, `${epoch}.pth`);
      const r = finetune('export', id, '-o', file, '--epoch', epoch);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`${epoch} model (epoch ${epoch === 'best' ? row.bestEpoch : 2}`);
      expect(JSON.parse(await readFile(path.join(out, `${epoch}.classes.json`), 'utf8'))).toEqual(['ants', 'bees']);
      const sd = await loadStateDict(file);
      expect(() => checkStateDict(sd, file, 2)).not.toThrow();
    }
    // Same bytes as the worker stored (the API streams the file as it is).
    const dir = path.join(fleet.harness.artifactsDir, id);
    expect(Buffer.compare(await readFile(path.join(out, 'final.pth')), await readFile(path.join(dir, 'model-final.pth')))).toBe(0);
    // A succeeded run keeps its models, not its checkpoint; best == final shares one file.
    await waitFor(async () => !(await readdir(dir)).includes('latest.ckpt'), { timeoutMs: 30_000, intervalMs: 100, what: 'the checkpoint of the succeeded run to be removed' });
    expect((await readdir(dir)).sort()).toEqual(['classes.json', 'model-best.pth', 'model-final.pth', 'predictions.json']);
    const [best, final] = await Promise.all([stat(path.join(dir, 'model-best.pth')), stat(path.join(dir, 'model-final.pth'))]);
    expect(best.ino === final.ino).toBe(row.bestEpoch === 2);
  }, 240_000);

  it("classify --experiment predicts the run's class names, as accurately as the stored best epoch", async () => {
    const valDir = path.join(fleet.harness.dataRoot, TINY_DATASET, 'val');
    const images = (await Promise.all(['ants', 'bees'].map(async (cls) => (await readdir(path.join(valDir, cls))).map((f) => ({ cls, file: path.join(valDir, cls, f) }))))).flat();
    const r = finetune('classify', '--experiment', id, '--epoch', 'best', '--backend', 'wasm', '--json', ...images.map((i) => i.file));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const results = r.stdout.trim().split('\n').map((line) => JSON.parse(line) as { image: string; logits: number[]; topk: { label: string }[] });
    expect(results.map((x) => x.image)).toEqual(images.map((i) => i.file));
    for (const x of results) expect(x.logits).toHaveLength(2);
    const correct = results.filter((x, i) => x.topk[0]!.label === images[i]!.cls).length;
    const row = await fleet.prisma.experiment.findUniqueOrThrow({ where: { id } });
    const best = await fleet.prisma.epochMetric.findUniqueOrThrow({ where: { experimentId_epoch: { experimentId: id, epoch: row.bestEpoch! } } });
    expect(correct / images.length).toBeCloseTo(best.valAcc, 10);

    // The worker stored the best epoch's predictions: the API's matrix agrees with the stored accuracy.
    const stored = await fleet.api.get<{ epoch: number; classes: string[]; total: number; correct: number; confusion: number[][]; predictions: { file: string; predictedLabel: number }[] }>(`/api/experiments/${id}/predictions`);
    expect(stored).toMatchObject({ epoch: row.bestEpoch, classes: ['ants', 'bees'], total: images.length });
    expect(stored.correct / stored.total).toBeCloseTo(best.valAcc, 10);
    expect(stored.confusion[0]![0]! + stored.confusion[1]![1]!).toBe(stored.correct);
    for (const p of stored.predictions) {
      const i = images.findIndex((img) => img.file.endsWith(p.file));
      expect(results[i]!.topk[0]!.label).toBe(stored.classes[p.predictedLabel]);
    }
  }, 120_000);

  it('exits 2 on a bad --epoch and 3 for an unknown run', () => {
    const bad = finetune('export', '00000000-0000-4000-8000-000000000000', '--epoch', 'last');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--epoch must be one of best, final');
    const unknown = finetune('export', '00000000-0000-4000-8000-000000000000', '-o', path.join(out, 'x.pth'));
    expect(unknown.status).toBe(3);
    expect(unknown.stderr).toContain('not found');
  });
});
