// `finetune submit -f examples/tutorial-sweep.yaml` (the searched form, flags overriding its base
// for the tiny set-up), `status` showing the search and `cancel` stopping its scheduling, against
// the built API. No workers: the search's first runs stay queued.
import { spawn } from 'node:child_process';
import { startE2eFleet, TINY_DATASET, type E2eFleet } from '../support/e2e-fleet.js';

let fleet: E2eFleet;

function finetune(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/finetune.js', ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, FLEET_API_URL: fleet.apiProcess.url }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

beforeAll(async () => {
  fleet = await startE2eFleet({ workers: 0 });
}, 120_000);

afterAll(async () => {
  await fleet?.close();
});

it('submits the tutorial search, shows it in status and cancels it', async () => {
  const submitted = await finetune(['submit', '-f', 'examples/tutorial-sweep.yaml', '--dataset', TINY_DATASET, '--weights', 'resnet18.pth', '--epochs', '3', '--image-size', '32']);
  expect(submitted.stderr).toBe('');
  expect(submitted.code).toBe(0);
  const id = /submitted sweep (\S+): 6 experiments queued \(random search/.exec(submitted.stdout)?.[1];
  expect(id).toBeDefined();
  // 6 at a time: two trials of 3 seeds each.
  expect(await fleet.prisma.sweepTrial.count({ where: { sweepId: id! } })).toBe(2);

  const status = await finetune(['status', id!]);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain('search      random, 2/16 trials x 3 seeds, 6 at a time, maximize valAcc; running');
  expect(status.stdout).toContain('trials      2 queued');
  expect(status.stdout).toContain('epochs      0 trained of 18 for every trial to the end');
  expect(status.stdout).toContain('rungs       epoch 1: 0/0 stopped');

  const cancelled = await finetune(['cancel', id!]);
  expect(cancelled.code).toBe(0);
  expect(cancelled.stdout).toContain(`sweep ${id!}: cancelled 6 of 6 unfinished experiments; no further trials will be scheduled`);
  expect((await fleet.prisma.sweep.findUniqueOrThrow({ where: { id: id! } })).cancelledAt).toBeInstanceOf(Date);

  const bad = await finetune(['submit', '-f', 'examples/tutorial-sweep.yaml', '--dataset', 'nope']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('base.dataset');
}, 120_000);
