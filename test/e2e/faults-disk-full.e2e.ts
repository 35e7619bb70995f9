// Disk full under ARTIFACTS_DIR: a 2 MiB tmpfs mounted by the test is too small for the first
// checkpoint, so the run fails with ENOSPC in its error (after its retries), the worker survives,
// and once the disk has room again (remounted larger) the same worker trains the next job.
// Mounting needs root (CAP_SYS_ADMIN); without it the suite is skipped and says why.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createExperiment, storedEpochs, waitForStatus, type E2eFleet } from '../support/e2e-fleet.js';
import { startFaultFleet, faultExperiment } from '../faults/fault-fleet.js';

function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(path.join(os.tmpdir(), 'fleet-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmdirSync(probe);
  }
}

const mountable = canMount();
if (!mountable) process.stderr.write('faults-disk-full: skipped, this user cannot mount a tmpfs (needs root / CAP_SYS_ADMIN)\n');

(mountable ? describe : describe.skip)('disk full under ARTIFACTS_DIR', () => {
  let fleet: E2eFleet;
  let artifacts: string;
  beforeAll(async () => {
    artifacts = mkdtempSync(path.join(os.tmpdir(), 'fleet-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', artifacts]);
    fleet = await startFaultFleet({ workers: 1, worker: { env: { ARTIFACTS_DIR: artifacts } } });
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
    if (artifacts) {
      execFileSync('umount', [artifacts]);
      rmdirSync(artifacts);
    }
  });

  it('fails the experiment with ENOSPC and keeps the worker', async () => {
    const { api, prisma } = fleet;
    const worker = fleet.workers[0];
    if (!worker) throw new Error('no worker');
    const full = await createExperiment(api, faultExperiment({ epochs: 2, name: 'disk full' }));
    const failed = await waitForStatus(prisma, full, ['failed'], 240_000);
    expect(failed.error).toMatch(/ENOSPC|no space left on device/i);
    // The epoch itself trained fine and is kept; only its checkpoint could not be written.
    expect((await storedEpochs(prisma, full)).length).toBeLessThanOrEqual(1);
    expect(worker.process.running).toBe(true);

    execFileSync('mount', ['-o', 'remount,size=512m', artifacts]);
    const roomy = await createExperiment(api, faultExperiment({ epochs: 2, name: 'disk has room again' }));
    const ok = await waitForStatus(prisma, roomy, ['succeeded'], 240_000);
    expect(ok.workerId).toBe(worker.id);
    expect(await storedEpochs(prisma, roomy)).toEqual([1, 2]);
  }, 600_000);
});
