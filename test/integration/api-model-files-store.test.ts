// With ARTIFACTS_URL set the API serves a run's models from the artifact store: the worker that
// trained the run is on another machine, this API's ARTIFACTS_DIR starts empty and becomes its
// cache. The folder store stands in for S3 here (same protocol; the e2e suite uses s3rver).
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { DirArtifactStore, publishRunDir } from '@fleet/artifacts';
import { StartupError } from '@fleet/config';
import { modelFilePath, writeModelFiles, writePredictions } from '@fleet/training/model-files/model-files.js';
import { summarizePredictions } from '@fleet/training/model-files/val-predictions.js';
import type { StateDict } from '@fleet/training/weights/pth-loader.js';
import { RunFilesService } from '../../apps/api/src/artifacts/run-files.service.js';
import { startApi, type ApiTestContext } from './api-app.js';

const stateDict = (value: number): StateDict =>
  new Map([
    ['fc.weight', { shape: [2, 3], dtype: 'float32', data: new Float32Array(6).fill(value) }],
    ['fc.bias', { shape: [2], dtype: 'float32', data: new Float32Array(2) }],
  ]);

describe('API model files from the artifact store', () => {
  let ctx: ApiTestContext;
  let root: string;
  let store: DirArtifactStore;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'fleet-store-'));
    store = new DirArtifactStore(root);
    ctx = await startApi({ artifactStore: { kind: 'dir', url: `file://${root}`, dir: root } });
  });
  afterAll(async () => {
    await ctx?.close();
    await rm(root, { recursive: true, force: true });
  });

  async function succeededExperiment(): Promise<string> {
    const created = await request(ctx.server).post('/api/experiments').send({ dataset: ctx.dataset, strategy: 'scratch', epochs: 3 });
    const id = created.body.id as string;
    await ctx.prisma.experiment.update({ where: { id }, data: { status: 'succeeded', epochsDone: 3, bestEpoch: 2, bestValAcc: 0.75 } });
    return id;
  }

  it("serves what the worker published, not what this machine's folder held", async () => {
    const id = await succeededExperiment();
    const workerDir = path.join(root, '..', `${path.basename(root)}-worker`, id);
    await writeModelFiles(workerDir, ['best'], stateDict(1), ['ants', 'bees']);
    await writeModelFiles(workerDir, ['final'], stateDict(2), ['ants', 'bees']);
    const summary = summarizePredictions([{ file: 'val/ants/a.png', trueLabel: 0, predictedLabel: 0, confidence: 0.9 }], ['ants', 'bees'], 2);
    await writePredictions(workerDir, summary);
    // A stale copy in the API's cache (say, of an earlier attempt) loses to the published state.
    await writeModelFiles(path.join(ctx.config.artifactsDir, id), ['best'], stateDict(9), ['stale', 'classes']);
    await publishRunDir(store, id, workerDir, { epoch: 3 });

    for (const which of ['best', 'final'] as const) {
      const res = await request(ctx.server).get(`/api/experiments/${id}/model?epoch=${which}`).responseType('blob');
      expect(res.status).toBe(200);
      expect(JSON.parse(res.headers['x-model-classes'] as string)).toEqual(['ants', 'bees']);
      expect(Buffer.compare(res.body as Buffer, await readFile(modelFilePath(workerDir, which)))).toBe(0);
    }
    const predictions = await request(ctx.server).get(`/api/experiments/${id}/predictions`);
    expect(predictions.status).toBe(200);
    expect(predictions.body).toEqual(summary);
    await rm(workerDir, { recursive: true, force: true });

    // Deleting the run removes its objects from the store too, and the API's cached copy.
    expect((await store.list(`${id}/`)).length).toBeGreaterThan(0);
    expect((await request(ctx.server).delete(`/api/experiments/${id}`)).status).toBe(204);
    expect(await store.list(`${id}/`)).toEqual([]);
    await expect(access(path.join(ctx.config.artifactsDir, id))).rejects.toThrow();
  });

  it('404 when neither the store nor the folder has the run', async () => {
    const id = await succeededExperiment();
    const res = await request(ctx.server).get(`/api/experiments/${id}/model`);
    expect(res.status).toBe(404);
    expect(res.body.message).toContain('no best model file');
  });

  it('refuses to boot with a store it cannot read, in one line', async () => {
    const missing = path.join(root, 'not-there');
    const service = new RunFilesService({ ...ctx.config, artifactStore: { kind: 'dir', url: `file://${missing}`, dir: missing } });
    const err = await service.onModuleInit().then(() => undefined, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(StartupError);
    expect(err?.message).toMatch(/^artifact store file:\/\/.*not-there is not usable: ENOENT.* \(ARTIFACTS_URL\)$/);
  });
});
