// `finetune submit/status/watch/compare/cancel` as a user runs them: the built CLI (bin/finetune.js)
// as a real process against the built API, checking output and the exit codes scripts rely on
// (0 ok, 1 failure, 2 bad input, 3 not found, 4 unreachable). No workers: finished and running
// history is seeded through Prisma, and live events are written to the experiment's Redis stream.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { eventStreamKey } from '@fleet/queue';
import { startE2eFleet, TEST_WEIGHTS, TINY_DATASET, type E2eFleet } from '../support/e2e-fleet.js';
import { waitFor } from '../support/wait-for.js';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let fleet: E2eFleet;

function finetune(args: string[], env: Record<string, string> = {}): Promise<CliResult> & { stdoutSoFar(): string } {
  const child = spawn(process.execPath, ['bin/finetune.js', ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, FLEET_API_URL: fleet.apiProcess.url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return Object.assign(done, { stdoutSoFar: () => stdout });
}

async function seedSweep(statuses: ('succeeded' | 'failed')[]): Promise<{ sweepId: string; ids: string[] }> {
  const sweepId = randomUUID();
  await fleet.prisma.sweep.create({ data: { id: sweepId, name: 'cli e2e', base: { dataset: TINY_DATASET, epochs: 2 }, grid: { strategy: ['finetune', 'freeze'], seed: [0, 1] } } });
  const ids: string[] = [];
  let i = 0;
  for (const strategy of ['finetune', 'freeze']) {
    for (const seed of [0, 1]) {
      const id = randomUUID();
      const status = statuses[i] ?? 'succeeded';
      const acc = (strategy === 'finetune' ? 0.9 : 0.7) + seed * 0.02;
      await fleet.prisma.experiment.create({
        data: {
          id,
          sweepId,
          gridValues: { strategy, seed },
          dataset: TINY_DATASET,
          weights: TEST_WEIGHTS,
          strategy,
          lr: 0.001,
          lrFactor: 0.1,
          momentum: 0.9,
          epochs: 2,
          batchSize: 4,
          imageSize: 32,
          seed,
          stepSize: 7,
          gamma: 0.1,
          status,
          error: status === 'failed' ? 'boom' : null,
          epochsDone: 2,
          bestValAcc: acc,
          bestEpoch: 2,
          finalValAcc: acc,
          createdAt: new Date(Date.now() - 60_000 + i++ * 100),
          startedAt: new Date(Date.now() - 50_000),
          finishedAt: new Date(Date.now() - 40_000),
        },
      });
      await fleet.prisma.epochMetric.createMany({
        data: [1, 2].map((epoch) => ({ experimentId: id, epoch, trainLoss: 0.5 / epoch, trainAcc: acc, valLoss: 0.6 / epoch, valAcc: epoch === 2 ? acc : acc - 0.1, lrs: [0.001], seconds: 1.5, imagesPerSec: 10, trainableParams: 1026, backboneDrift: 0, bnStatsDrift: 0 })),
      });
      ids.push(id);
    }
  }
  return { sweepId, ids };
}

beforeAll(async () => {
  fleet = await startE2eFleet({ workers: 0 });
}, 120_000);

afterAll(async () => {
  await fleet?.close();
});

describe('submit', () => {
  it('queues an experiment from flags and prints its id', async () => {
    const r = await finetune(['submit', '--dataset', TINY_DATASET, '--strategy', 'finetune', '--weights', TEST_WEIGHTS, '--epochs', '2', '--image-size', '32', '--batch-size', '4']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const id = /submitted experiment (\S+):/.exec(r.stdout)?.[1];
    const row = await fleet.prisma.experiment.findUniqueOrThrow({ where: { id: id! } });
    expect(row).toMatchObject({ strategy: 'finetune', epochs: 2, imageSize: 32, batchSize: 4, status: 'queued' });
  });

  it('queues a sweep from a YAML file', async () => {
    const file = path.join(fleet.harness.root, 'sweep.yaml');
    await writeFile(file, `name: cli yaml sweep\nbase:\n  dataset: ${TINY_DATASET}\n  weights: ${TEST_WEIGHTS}\n  epochs: 1\n  imageSize: 32\ngrid:\n  strategy: [finetune, freeze]\n  seed: [0, 1, 2]\n`);
    const r = await finetune(['submit', '-f', file, '--json']);
    expect(r.code).toBe(0);
    const created = JSON.parse(r.stdout) as { id: string; count: number; experimentIds: string[] };
    expect(created.count).toBe(6);
    expect(await fleet.prisma.experiment.count({ where: { sweepId: created.id } })).toBe(6);
  });

  it('exits 2 naming the field the API rejected', async () => {
    const r = await finetune(['submit', '--dataset', TINY_DATASET, '--strategy', 'finetune', '--weights', TEST_WEIGHTS, '--lr', '-1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^finetune: .*lr/);
  });

  it('exits 2 on a flag that is not a number, before asking the API', async () => {
    const r = await finetune(['submit', '--dataset', TINY_DATASET, '--strategy', 'finetune', '--epochs', 'ten'], { FLEET_API_URL: 'http://127.0.0.1:1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--epochs must be a number (got "ten")');
  });

  it('exits 2 on an unreadable or invalid file', async () => {
    const bad = path.join(fleet.harness.root, 'bad.yaml');
    await writeFile(bad, 'base: [unclosed\n');
    expect((await finetune(['submit', '-f', bad])).code).toBe(2);
    const missing = await finetune(['submit', '-f', path.join(fleet.harness.root, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ENOENT');
  });
});

describe('status', () => {
  it('lists recent sweeps and experiments', async () => {
    const { sweepId } = await seedSweep([]);
    const r = await finetune(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Experiments');
    expect(r.stdout).toContain(sweepId);
  });

  it('shows a sweep and an experiment in detail', async () => {
    const { sweepId, ids } = await seedSweep([]);
    const sweep = await finetune(['status', sweepId]);
    expect(sweep.code).toBe(0);
    expect(sweep.stdout).toContain('4 succeeded');
    const exp = await finetune(['status', ids[0]!]);
    expect(exp.code).toBe(0);
    expect(exp.stdout).toContain('strategy    finetune on tiny');
    expect(exp.stdout).toMatch(/epoch\s+train loss/);
  });

  it('exits 3 for an unknown id', async () => {
    const r = await finetune(['status', randomUUID()]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no experiment or sweep with id');
  });
});

describe('compare', () => {
  it('prints the ranked table, or the JSON', async () => {
    const { sweepId } = await seedSweep([]);
    const r = await finetune(['compare', sweepId]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const first = lines.findIndex((l) => /^\s*1\s+finetune/.test(l));
    const second = lines.findIndex((l) => /^\s*2\s+freeze/.test(l));
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(lines[first]).toContain('91.0% ± 1.4%');
    const json = JSON.parse((await finetune(['compare', sweepId, '--json'])).stdout) as { groups: { value: string }[] };
    expect(json.groups.map((g) => g.value)).toEqual(['finetune', 'freeze']);
  });

  it('exits 3 for an unknown sweep', async () => {
    expect((await finetune(['compare', randomUUID()])).code).toBe(3);
  });
});

describe('watch', () => {
  it('exits 0 at once when every run of a sweep succeeded, 1 when one failed', async () => {
    const ok = await seedSweep([]);
    const good = await finetune(['watch', ok.sweepId]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('4 experiments: 4 succeeded');
    const bad = await seedSweep(['succeeded', 'failed']);
    const r = await finetune(['watch', bad.sweepId]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('1 of 4 experiments did not succeed');
  });

  it('follows a running experiment live from its event stream until it ends', async () => {
    const id = randomUUID();
    await fleet.prisma.experiment.create({
      data: { id, dataset: TINY_DATASET, weights: TEST_WEIGHTS, strategy: 'finetune', lr: 0.001, lrFactor: 0.1, momentum: 0.9, epochs: 2, batchSize: 4, imageSize: 32, seed: 0, stepSize: 7, gamma: 0.1, status: 'running', startedAt: new Date() },
    });
    const redis = new Redis(fleet.harness.redisUrl);
    const stream = eventStreamKey(fleet.harness.queuePrefix, id);
    const publish = (event: object) => redis.xadd(stream, '*', 'data', JSON.stringify({ experimentId: id, ...event }));
    try {
      const watching = finetune(['watch', id, '--plain']);
      const metrics = { epoch: 1, trainLoss: 0.5, trainAcc: 0.8, valLoss: 0.4, valAcc: 0.875, lrs: [0.001], seconds: 1, imagesPerSec: 10, trainableParams: 1, backboneDrift: 0, bnStatsDrift: 0 };
      // Publish until the CLI shows it: it may attach to the stream after the first entry.
      await waitFor(
        async () => {
          await publish({ type: 'epoch', metrics });
          return watching.stdoutSoFar().includes('epoch 1/2 val acc 87.5%');
        },
        { what: 'the epoch event in the watch output', timeoutMs: 30_000, intervalMs: 500 },
      );
      await fleet.prisma.experiment.update({ where: { id }, data: { status: 'succeeded', epochsDone: 2, finishedAt: new Date() } });
      await publish({ type: 'status', status: 'succeeded', at: new Date().toISOString() });
      const r = await watching;
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('1 experiment: 1 succeeded');
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});

describe('cancel', () => {
  it('cancels a queued experiment and says so for a finished one', async () => {
    const created = await finetune(['submit', '--dataset', TINY_DATASET, '--strategy', 'freeze', '--weights', TEST_WEIGHTS, '--epochs', '1', '--json']);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    const r = await finetune(['cancel', id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`experiment ${id}: cancelled`);
    expect((await fleet.prisma.experiment.findUniqueOrThrow({ where: { id } })).status).toBe('cancelled');
    const again = await finetune(['cancel', id]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already cancelled');
  });

  it('exits 3 for an unknown id', async () => {
    expect((await finetune(['cancel', randomUUID()])).code).toBe(3);
  });
});

describe('delete', () => {
  it('refuses an active experiment with the reason, deletes it once cancelled, then exits 3', async () => {
    const created = await finetune(['submit', '--dataset', TINY_DATASET, '--strategy', 'freeze', '--weights', TEST_WEIGHTS, '--epochs', '1', '--json']);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    await fleet.prisma.experiment.update({ where: { id }, data: { status: 'running' } });
    const refused = await finetune(['delete', id]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('cancel it first');
    await fleet.prisma.experiment.update({ where: { id }, data: { status: 'cancelled', finishedAt: new Date() } });
    const r = await finetune(['delete', id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`experiment ${id} deleted`);
    expect(await fleet.prisma.experiment.count({ where: { id } })).toBe(0);
    expect((await finetune(['delete', id])).code).toBe(3);
  });
});

describe('errors', () => {
  it('exits 4 with one line when the API cannot be reached', async () => {
    const r = await finetune(['status', '--api', 'http://127.0.0.1:1']);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('cannot reach the fleet API at http://127.0.0.1:1');
  });

  it('exits 2 on a usage error', async () => {
    expect((await finetune(['watch'])).code).toBe(2);
    expect((await finetune(['status', '--api', 'not a url'])).code).toBe(2);
  });
});
