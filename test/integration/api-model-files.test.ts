// GET /api/experiments/:id/model: the stored .pth of a succeeded run, its classes in a header, and
// the errors for a bad epoch, an unfinished run, an unknown run and a run without model files.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { modelFilePath, writeModelFiles, writePredictions } from '@fleet/training/model-files/model-files.js';
import { summarizePredictions } from '@fleet/training/model-files/val-predictions.js';
import type { StateDict } from '@fleet/training/weights/pth-loader.js';
import { startApi, type ApiTestContext } from './api-app.js';

/** A small but real state dict (the endpoint serves whatever the engine stored). */
const stateDict = (value: number): StateDict =>
  new Map([
    ['fc.weight', { shape: [2, 3], dtype: 'float32', data: new Float32Array(6).fill(value) }],
    ['fc.bias', { shape: [2], dtype: 'float32', data: new Float32Array(2) }],
  ]);

describe('API model files', () => {
  let ctx: ApiTestContext;
  beforeAll(async () => {
    ctx = await startApi();
  });
  afterAll(async () => {
    await ctx.close();
  });

  async function experiment(status: 'queued' | 'succeeded', epochs = 3, bestEpoch = 2): Promise<string> {
    const created = await request(ctx.server).post('/api/experiments').send({ dataset: ctx.dataset, strategy: 'scratch', epochs });
    const id = created.body.id as string;
    await ctx.prisma.experiment.update({ where: { id }, data: { status, epochsDone: epochs, bestEpoch, bestValAcc: 0.75 } });
    return id;
  }

  it('serves best and final as .pth with the class names and epoch in headers', async () => {
    const id = await experiment('succeeded');
    const dir = path.join(ctx.config.artifactsDir, id);
    await writeModelFiles(dir, ['best'], stateDict(1), ['ants', 'abeille 🐝']);
    await writeModelFiles(dir, ['final'], stateDict(2), ['ants', 'abeille 🐝']);
    for (const [query, which, epoch] of [['', 'best', '2'], ['?epoch=best', 'best', '2'], ['?epoch=final', 'final', '3']] as const) {
      const res = await request(ctx.server).get(`/api/experiments/${id}/model${query}`).responseType('blob');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="${id}-${which}.pth"`);
      expect(res.headers['x-model-epoch']).toBe(epoch);
      expect(JSON.parse(res.headers['x-model-classes'] as string)).toEqual(['ants', 'abeille 🐝']);
      expect(Buffer.compare(res.body as Buffer, await readFile(modelFilePath(dir, which)))).toBe(0);
    }
  });

  it('400 names epoch; 409 for an unfinished run; 404 for an unknown run or missing files', async () => {
    const id = await experiment('succeeded');
    const bad = await request(ctx.server).get(`/api/experiments/${id}/model?epoch=last`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: 'epoch' });
    expect(bad.body.message).toContain('best, final');
    const none = await request(ctx.server).get(`/api/experiments/${id}/model`);
    expect(none.status).toBe(404);
    expect(none.body.message).toContain('no best model file');
    const queued = await experiment('queued');
    const early = await request(ctx.server).get(`/api/experiments/${queued}/model`);
    expect(early.status).toBe(409);
    expect(early.body.message).toContain('is queued');
    const unknown = await request(ctx.server).get('/api/experiments/00000000-0000-4000-8000-000000000000/model');
    expect(unknown.status).toBe(404);
  });

  it('serves the stored predictions; 404 without them, 409 for an unfinished run', async () => {
    const id = await experiment('succeeded');
    expect((await request(ctx.server).get(`/api/experiments/${id}/predictions`)).status).toBe(404);
    const summary = summarizePredictions([{ file: 'val/ants/a.png', trueLabel: 0, predictedLabel: 1, confidence: 0.7 }], ['ants', 'bees'], 2);
    await writePredictions(path.join(ctx.config.artifactsDir, id), summary);
    const res = await request(ctx.server).get(`/api/experiments/${id}/predictions`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(summary);
    const queued = await experiment('queued');
    expect((await request(ctx.server).get(`/api/experiments/${queued}/predictions`)).status).toBe(409);

    // val-image serves only the files the predictions list (nothing else under DATA_ROOT).
    await mkdir(path.join(ctx.config.dataRoot, ctx.dataset, 'val', 'ants'), { recursive: true });
    await writeFile(path.join(ctx.config.dataRoot, ctx.dataset, 'val', 'ants', 'a.png'), 'png bytes');
    const image = await request(ctx.server).get(`/api/experiments/${id}/val-image?file=${encodeURIComponent('val/ants/a.png')}`).responseType('blob');
    expect(image.status).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect((image.body as Buffer).toString()).toBe('png bytes');
    const other = await request(ctx.server).get(`/api/experiments/${id}/val-image?file=${encodeURIComponent('../../weights/resnet18.pth')}`);
    expect(other.status).toBe(404);
    const missing = await request(ctx.server).get(`/api/experiments/${id}/val-image`);
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ field: 'file' });
  });
});
