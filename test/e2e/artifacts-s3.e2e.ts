// Artifacts across machines: two workers whose ARTIFACTS_DIR are different local folders share an
// S3-compatible store (s3rver, started here on a free port; ARTIFACTS_URL=s3://bucket/prefix, the
// endpoint and credentials in the AWS SDK's own variables). kill -9 of the worker training a run:
// the other one, which never had the run's folder, restores the checkpoint from the store and
// ends with the same epochs as an uninterrupted run; the API, with a third (empty) ARTIFACTS_DIR,
// serves the run's model from the store.
import { createHash, randomBytes } from 'node:crypto';
import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { readRunManifest, restoreRunDir, type ArtifactStore } from '@fleet/artifacts';
import { checkStateDict, decodeStateDict } from '@fleet/training';
import { comparableMetrics, createExperiment, startE2eFleet, storedEpochs, trainingProcessesGone, tinyExperiment, waitForEpochs, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import type { WorkerHandle } from '../support/fleet-harness.js';
import { s3StoreOn, startTestS3, type TestS3 } from '../support/s3-server.js';
import { waitFor } from '../support/wait-for.js';

interface WorkerList {
  items: { id: string; pid: number; currentExperimentId: string | null }[];
}

const exists = (file: string) => access(file).then(() => true, () => false);

describe('artifacts in an S3-compatible store', () => {
  let s3: TestS3;
  let fleet: E2eFleet;
  let store: ArtifactStore;
  const workerDirs: string[] = [];
  const workers: WorkerHandle[] = [];
  beforeAll(async () => {
    s3 = await startTestS3('fleet-e2e');
    const prefix = `e2e-${randomBytes(4).toString('hex')}/artifacts`;
    store = s3StoreOn(s3, prefix);
    const shared = { ...s3.env, ARTIFACTS_URL: `s3://${s3.bucket}/${prefix}` };
    fleet = await startE2eFleet({ workers: 0, apiEnv: shared });
    for (const name of ['machine-a', 'machine-b']) {
      const dir = path.join(fleet.harness.root, name);
      workerDirs.push(dir);
      workers.push(await fleet.harness.startWorker({ env: { ...shared, ARTIFACTS_DIR: dir, WORKER_LOCK_DURATION_MS: '5000', WORKER_STALLED_INTERVAL_MS: '1000', WORKER_HEARTBEAT_MS: '500' } }));
    }
  }, 300_000);
  afterAll(async () => {
    await fleet?.close();
    await s3?.close();
  });

  it('resumes a run killed on one machine on the other from the stored checkpoint, with the epochs of an uninterrupted run', async () => {
    const { api, prisma } = fleet;
    const config = tinyExperiment({ epochs: 4, seed: 7, strategy: 'finetune' });
    const crashed = await createExperiment(api, { ...config, name: 'crashed' });
    const clean = await createExperiment(api, { ...config, name: 'clean' });

    // Epoch 1 is stored, so it is published: the store has its checkpoint.
    await waitForEpochs(prisma, crashed, 1);
    const victim = await waitFor(async () => (await api.get<WorkerList>('/api/workers')).items.find((w) => w.currentExperimentId === crashed), { what: 'the worker running the experiment in /api/workers' });
    const index = workers.findIndex((w) => w.pid === victim.pid);
    const [handle, survivor] = [workers[index]!, workers[1 - index]!];
    const survivorDir = workerDirs[1 - index]!;
    expect(await exists(path.join(survivorDir, crashed))).toBe(false);
    expect((await readRunManifest(store, crashed))?.files['latest.ckpt']).toBeDefined();

    process.kill(victim.pid, 'SIGKILL');
    await handle.process.exited;
    await trainingProcessesGone(handle);

    const [resumed] = await Promise.all([waitForStatus(prisma, crashed, ['succeeded'], 240_000), waitForStatus(prisma, clean, ['succeeded'], 240_000)]);
    expect(resumed.workerId).toBe(survivor.id);
    expect(resumed.attempts).toBe(2);
    expect(await storedEpochs(prisma, crashed)).toEqual([1, 2, 3, 4]);
    expect(survivor.process.output).toMatch(new RegExp(`experiment ${crashed}: restored its artifacts of epoch [1-4] from s3://fleet-e2e/`));
    expect(survivor.process.output).toMatch(new RegExp(`experiment ${crashed} resumed from checkpoint after epoch [1-4]`));

    // Identical epochs: the resumed run is the uninterrupted one, bit for bit.
    const [a, b] = await Promise.all([comparableMetrics(prisma, crashed), comparableMetrics(prisma, clean)]);
    expect(a).toHaveLength(4);
    expect(a).toEqual(b);

    // The succeeded run's checkpoint left the store; its models are there, each blob present.
    const manifest = await waitFor(async () => {
      const m = await readRunManifest(store, crashed);
      return m && !m.files['latest.ckpt'] ? m : undefined;
    }, { timeoutMs: 30_000, what: 'the checkpoint of the succeeded run to leave the store' });
    expect(Object.keys(manifest.files).sort()).toEqual(['classes.json', 'model-best.pth', 'model-final.pth', 'predictions.json']);
    const live = [...new Set(Object.values(manifest.files).map((e) => e.key)), `${crashed}/manifest.json`].sort();
    const listed = async () => (await store.list(`${crashed}/`)).map((o) => o.key);
    for (const key of live) expect(await listed()).toContain(key);
    // What the killed worker's interrupted publish left (its blobs, under blobs/) is kept for the
    // grace period (it could be a stalled writer's upload in progress), then a restore deletes it.
    const left = (await listed()).filter((k) => !live.includes(k));
    expect(left.every((k) => k.startsWith(`${crashed}/blobs/`))).toBe(true);
    await restoreRunDir(store, crashed, path.join(fleet.harness.root, 'machine-c', crashed), { orphanGraceMs: 0 });
    expect((await listed()).sort()).toEqual(live);

    // Model export works from the store: the API's own ARTIFACTS_DIR never saw the run.
    expect(await exists(path.join(fleet.harness.artifactsDir, crashed))).toBe(false);
    for (const which of ['best', 'final'] as const) {
      const res = await fetch(`${fleet.apiProcess.url}/api/experiments/${crashed}/model?epoch=${which}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-model-epoch')).toBe(String(which === 'best' ? resumed.bestEpoch : 4));
      expect(JSON.parse(res.headers.get('x-model-classes') ?? 'null')).toEqual(['ants', 'bees']);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.files[`model-${which}.pth`]?.sha256);
      expect(() => checkStateDict(decodeStateDict(bytes, `${which}.pth`), `${which}.pth`, 2)).not.toThrow();
    }
    const predictions = await api.get<{ epoch: number; total: number }>(`/api/experiments/${crashed}/predictions`);
    expect(predictions.epoch).toBe(resumed.bestEpoch);
    expect((await readdir(path.join(fleet.harness.artifactsDir, crashed))).filter((n) => !n.startsWith('.')).sort()).toEqual(['classes.json', 'model-best.pth', 'model-final.pth', 'predictions.json']);
  }, 400_000);
});
