// Chained runs through the built API and a real worker: a tiny parent run on 2 classes, then a
// child on 3 classes with weights {experiment: parent, epoch: best}. The child's backbone starts
// from the parent's model (its first-epoch drift is measured from the parent's weights, not from
// the file the parent started from) and its head has the new class count. Then what happens to a
// queued child when its parent goes away: the API refuses to delete the parent (409), and a parent
// whose files were removed by hand fails the child at once, with a reason, without retries.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { loadStateDict, type StateDict } from '@fleet/training';
import { FleetApiError } from '../support/fleet-api.js';
import { writeTinyDataset } from '../support/tiny-dataset.js';
import { waitFor } from '../support/wait-for.js';
import { createExperiment, TEST_WEIGHTS, tinyExperiment, useE2eFleetWithQueue, waitForStatus } from '../support/e2e-fleet.js';

const THREE = 'tiny3';
const CLASSES3 = ['blue', 'green', 'red'];

/** Trainable backbone tensors (what the engine's backboneDrift covers): not fc, not BatchNorm statistics. */
const isBackbone = (key: string) => !key.startsWith('fc.') && !/running_(mean|var)$|num_batches_tracked$/.test(key);

/** ||a - b|| / ||b|| over the backbone tensors, in float64. */
function relativeDrift(a: StateDict, b: StateDict): number {
  let diff = 0;
  let norm = 0;
  for (const [key, t] of b) {
    if (!isBackbone(key)) continue;
    const x = a.get(key)!.data as Float32Array;
    const y = t.data as Float32Array;
    for (let i = 0; i < y.length; i++) {
      diff += (x[i]! - y[i]!) ** 2;
      norm += y[i]! ** 2;
    }
  }
  return Math.sqrt(diff) / Math.sqrt(norm);
}

async function expectApiError(promise: Promise<unknown>, status: number): Promise<{ message: string; field?: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FleetApiError);
  expect((err as FleetApiError).status).toBe(status);
  return JSON.parse((err as FleetApiError).body) as { message: string; field?: string };
}

describe('chained runs', () => {
  const suite = useE2eFleetWithQueue({ workers: 1 });
  let parent: string;
  let firstChild: string;

  beforeAll(async () => {
    await writeTinyDataset(path.join(suite.fleet.harness.dataRoot, THREE), { classes: CLASSES3, seed: 7 });
    // A high lr moves the parent far from the file it started from, so "from the parent" and
    // "from the parent's starting file" give clearly different drifts for the child.
    parent = await createExperiment(suite.fleet.api, tinyExperiment({ epochs: 2, lr: 0.05 }));
    await waitForStatus(suite.fleet.prisma, parent, ['succeeded'], 180_000);
  }, 240_000);

  it("starts the child's backbone from the parent's best model, with a fresh 3-class head", async () => {
    const { api, prisma, harness } = suite.fleet;
    const child = await createExperiment(api, { dataset: THREE, strategy: 'finetune', weights: { experiment: parent }, epochs: 1, batchSize: 4, imageSize: 32, lr: 0.001, seed: 3 });
    firstChild = child;
    const row = await waitForStatus(prisma, child, ['succeeded'], 180_000);
    expect(row).toMatchObject({ parentExperimentId: parent, parentEpoch: 'best', weights: null });

    const shown = await api.get<{ parent: unknown; config: { weights: unknown } }>(`/api/experiments/${child}`);
    expect(shown.parent).toEqual({ experimentId: parent, epoch: 'best' });
    expect(shown.config.weights).toEqual({ experiment: parent, epoch: 'best' });

    const [parentBest, childFinal, startFile] = await Promise.all([
      loadStateDict(path.join(harness.artifactsDir, parent, 'model-best.pth')),
      loadStateDict(path.join(harness.artifactsDir, child, 'model-final.pth')),
      loadStateDict(path.join(harness.weightsRoot, TEST_WEIGHTS)),
    ]);
    // The head: the new dataset's classes.
    expect(childFinal.get('fc.weight')!.shape).toEqual([3, 512]);
    expect(childFinal.get('fc.bias')!.shape).toEqual([3]);
    expect(JSON.parse(await readFile(path.join(harness.artifactsDir, child, 'classes.json'), 'utf8'))).toEqual(CLASSES3);

    // The first epoch's drift is measured from the parent's weights (the backbone the child loaded).
    const epoch1 = await prisma.epochMetric.findUniqueOrThrow({ where: { experimentId_epoch: { experimentId: child, epoch: 1 } } });
    const fromParent = relativeDrift(childFinal, parentBest);
    const fromStartFile = relativeDrift(childFinal, startFile);
    expect(epoch1.backboneDrift).toBeGreaterThan(0);
    expect(Math.abs(epoch1.backboneDrift - fromParent)).toBeLessThan(1e-3 * fromParent + 1e-7);
    expect(fromStartFile).toBeGreaterThan(3 * fromParent);
  }, 240_000);

  it('refuses to delete a parent with a queued child; a parent whose files vanished fails the child once, for good', async () => {
    const { api, prisma, harness } = suite.fleet;
    // No worker: the child stays queued while its parent goes away.
    await suite.fleet.workers[0]!.process.kill();
    const child = await createExperiment(api, { dataset: THREE, strategy: 'freeze', weights: { experiment: parent, epoch: 'final' }, epochs: 1, batchSize: 4, imageSize: 32 });

    const refused = await expectApiError(api.request('DELETE', `/api/experiments/${parent}`), 409);
    expect(refused.message).toContain(`parent of queued or running chained runs (${child})`);
    expect(await prisma.experiment.count({ where: { id: parent } })).toBe(1);

    // Removing the parent's folder by hand (what the README says reclaims a run's space).
    await rm(path.join(harness.artifactsDir, parent), { recursive: true, force: true });
    await harness.startWorker();
    const failed = await waitForStatus(prisma, child, ['failed'], 120_000);
    expect(failed.error).toBe(`weights.experiment: the final model of parent run ${parent} is gone from ARTIFACTS_DIR (removed after this run was submitted); submit the run again from another parent`);
    const job = await waitFor(async () => ((await suite.queue.getJobState(child)) === 'failed' ? suite.queue.getJob(child) : undefined), { what: 'the child job to fail' });
    expect(job!.attemptsMade).toBe(1); // of 3: not retried

    // New children of it are refused up front: its model is gone.
    const gone = await expectApiError(api.post('/api/experiments', { dataset: THREE, strategy: 'finetune', weights: { experiment: parent } }), 400);
    expect(gone.field).toBe('weights.experiment');
    expect(gone.message).toContain('has no best model under ARTIFACTS_DIR any more');

    // With no queued or running child left it can be deleted; its finished child keeps its row.
    await api.request('DELETE', `/api/experiments/${parent}`);
    expect(await prisma.experiment.count({ where: { id: parent } })).toBe(0);
    expect(await prisma.experiment.findUniqueOrThrow({ where: { id: firstChild } })).toMatchObject({ status: 'succeeded', parentExperimentId: null, parentEpoch: 'best' });
    expect((await api.get<{ parent: unknown }>(`/api/experiments/${firstChild}`)).parent).toEqual({ experimentId: null, epoch: 'best' });
    const unknown = await expectApiError(api.post('/api/experiments', { dataset: THREE, strategy: 'finetune', weights: { experiment: parent } }), 400);
    expect(unknown).toMatchObject({ field: 'weights.experiment', message: `weights.experiment: no experiment ${parent}` });
  }, 240_000);
});
