// Table-driven hostile input: every request is a 4xx that names what is wrong, and none of them
// stores a row or enqueues a job.
import { mkdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { startApi, type ApiTestContext } from './api-app.js';

let ctx: ApiTestContext;
beforeAll(async () => {
  ctx = await startApi({ maxSweepRuns: 50 });
  // A dataset name that is a symlink leading out of DATA_ROOT.
  await mkdir(path.join(tmpdir(), 'fleet-outside-root'), { recursive: true });
  await symlink(path.join(tmpdir(), 'fleet-outside-root'), path.join(ctx.config.dataRoot, `${ctx.dataset}-escape`));
});
afterAll(async () => {
  await ctx.close();
});

interface Case {
  name: string;
  path?: string;
  /** A function so each case builds its body with this file's dataset name. */
  body: () => unknown;
  raw?: string;
  status: number;
  field?: string;
  reason?: RegExp;
}

const ok = () => ({ dataset: ctx.dataset, strategy: 'scratch' });
const ten = Array.from({ length: 10 }, (_, i) => i);

const cases: Case[] = [
  { name: 'string for a number', body: () => ({ ...ok(), epochs: '10' }), status: 400, field: 'epochs', reason: /integer/ },
  { name: 'float for an integer', body: () => ({ ...ok(), batchSize: 8.5 }), status: 400, field: 'batchSize', reason: /integer/ },
  { name: 'huge number', body: () => ({ ...ok(), epochs: 1e12 }), status: 400, field: 'epochs', reason: /not be greater than 1000/ },
  { name: 'lr above 10', body: () => ({ ...ok(), lr: 20 }), status: 400, field: 'lr', reason: /lr must not be greater than 10/ },
  { name: 'lr zero', body: () => ({ ...ok(), lr: 0 }), status: 400, field: 'lr', reason: /greater than 0/ },
  { name: 'negative momentum', body: () => ({ ...ok(), momentum: -0.1 }), status: 400, field: 'momentum' },
  { name: 'momentum 1', body: () => ({ ...ok(), momentum: 1 }), status: 400, field: 'momentum', reason: /less than 1/ },
  { name: 'batch size 1', body: () => ({ ...ok(), batchSize: 1 }), status: 400, field: 'batchSize' },
  { name: 'Infinity (1e400 in JSON)', body: () => undefined, raw: `{"dataset":"DS","strategy":"scratch","lr":1e400}`, status: 400, field: 'lr' },
  { name: 'NaN as a string', body: () => ({ ...ok(), lr: 'NaN' }), status: 400, field: 'lr' },
  { name: 'Infinity as a string', body: () => ({ ...ok(), gamma: 'Infinity' }), status: 400, field: 'gamma' },
  { name: 'null for a number', body: () => ({ ...ok(), seed: null, epochs: [1] }), status: 400, field: 'epochs' },
  { name: 'seed above 2^31-1', body: () => ({ ...ok(), seed: 2 ** 31 }), status: 400, field: 'seed' },
  { name: 'unknown strategy', body: () => ({ ...ok(), strategy: 'yolo' }), status: 400, field: 'strategy', reason: /one of/ },
  { name: 'pretrained strategy without weights', body: () => ({ ...ok(), strategy: 'freeze' }), status: 400, field: 'weights', reason: /required by strategy "freeze"/ },
  { name: 'unknown field', body: () => ({ ...ok(), learningRate: 0.1 }), status: 400, field: 'learningRate', reason: /should not exist/ },
  { name: '"__proto__" field', body: () => undefined, raw: `{"dataset":"DS","strategy":"scratch","__proto__":{"lr":50}}`, status: 400, field: '__proto__' },
  { name: '"constructor" field', body: () => undefined, raw: `{"dataset":"DS","strategy":"scratch","constructor":{"lr":50}}`, status: 400, field: 'constructor' },
  { name: '"__proto__" in a sweep base', path: '/api/sweeps', body: () => undefined, raw: `{"base":{"dataset":"DS","strategy":"scratch","__proto__":{"x":1}},"grid":{"seed":[0]}}`, status: 400, field: 'base.__proto__' },
  { name: 'missing dataset', body: () => ({ strategy: 'scratch' }), status: 400, field: 'dataset' },
  { name: 'path traversal dataset', body: () => ({ ...ok(), dataset: '../x' }), status: 400, field: 'dataset', reason: /plain folder name/ },
  { name: 'dot-dot dataset', body: () => ({ ...ok(), dataset: '..' }), status: 400, field: 'dataset' },
  { name: 'absolute dataset path', body: () => ({ ...ok(), dataset: '/etc' }), status: 400, field: 'dataset' },
  { name: 'NUL byte in weights', body: () => ({ ...ok(), strategy: 'finetune', weights: 'a\u0000.pth' }), status: 400, field: 'weights' },
  { name: 'weights traversal', body: () => ({ ...ok(), strategy: 'finetune', weights: '../../etc/passwd' }), status: 400, field: 'weights' },
  { name: 'missing dataset folder', body: () => ({ ...ok(), dataset: 'nope-not-here' }), status: 400, field: 'dataset', reason: /does not exist under DATA_ROOT/ },
  { name: 'missing weights file', body: () => ({ ...ok(), strategy: 'finetune', weights: 'missing.pth' }), status: 400, field: 'weights', reason: /does not exist under WEIGHTS_ROOT/ },
  { name: 'symlink escaping DATA_ROOT', body: () => ({ ...ok(), dataset: `${ctx.dataset}-escape` }), status: 400, field: 'dataset', reason: /resolves outside DATA_ROOT/ },
  { name: 'array body', body: () => [ok()], status: 400 },
  { name: 'name too long', body: () => ({ ...ok(), name: 'x'.repeat(201) }), status: 400, field: 'name' },
  { name: 'priority out of range', body: () => ({ ...ok(), priority: -1 }), status: 400, field: 'priority' },
  { name: 'malformed JSON', body: () => undefined, raw: '{"dataset": ', status: 400 },
  { name: '10 MB body', body: () => ({ ...ok(), name: 'x'.repeat(10 * 1024 * 1024) }), status: 413 },
  { name: 'deeply nested JSON', body: () => undefined, raw: `{"dataset":"DS","strategy":"scratch","name":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`, status: 400, field: 'body', reason: /nested deeper/ },
  { name: 'sweep of 10^6 combinations', path: '/api/sweeps', body: () => ({ base: ok(), grid: { seed: ten, epochs: ten.map((i) => i + 1), stepSize: ten.map((i) => i + 1), imageSize: ten.map((i) => 16 + i), lr: ten.map((i) => 0.001 * (i + 1)), gamma: ten.map((i) => 0.1 * (i + 1)) } }), status: 400, field: 'grid', reason: /1000000 runs, more than MAX_SWEEP_RUNS \(50\)/ },
  { name: 'sweep grid key that is not a field', path: '/api/sweeps', body: () => ({ base: ok(), grid: { colour: ['red'] } }), status: 400, field: 'grid.colour', reason: /not an experiment field/ },
  { name: 'sweep with an empty value list', path: '/api/sweeps', body: () => ({ base: ok(), grid: { seed: [] } }), status: 400, field: 'grid.seed', reason: /must not be empty/ },
  { name: 'sweep grid value that is an object', path: '/api/sweeps', body: () => ({ base: ok(), grid: { seed: [{ a: 1 }] } }), status: 400, field: 'grid.seed' },
  { name: 'sweep base with an unknown field', path: '/api/sweeps', body: () => ({ base: { ...ok(), colour: 'red' }, grid: { seed: [0, 1] } }), status: 400, field: 'base.colour' },
  { name: 'sweep base traversal', path: '/api/sweeps', body: () => ({ base: { ...ok(), dataset: '../../x' }, grid: { seed: [0] } }), status: 400, field: 'base.dataset' },
  { name: 'sweep with one invalid cell', path: '/api/sweeps', body: () => ({ base: ok(), grid: { lr: [0.01, 0.1, 50], seed: [0, 1] } }), status: 400, field: 'grid.lr', reason: /lr must not be greater than 10 \(run #5: lr=50 seed=0\)/ },
  { name: 'sweep without grid', path: '/api/sweeps', body: () => ({ base: ok() }), status: 400, field: 'grid' },
];

describe('API bad input', () => {
  it.each(cases)('$name -> $status naming the problem, no side effect', async (c) => {
    const [rowsBefore, jobsBefore] = await Promise.all([ctx.countExperiments(), ctx.countJobs()]);
    const req = request(ctx.server)
      .post(c.path ?? '/api/experiments')
      .set('content-type', 'application/json');
    const res = await (c.raw !== undefined ? req.send(c.raw.replace('DS', ctx.dataset)) : req.send(JSON.stringify(c.body())));
    expect(res.status).toBe(c.status);
    expect(res.body).toMatchObject({ statusCode: c.status, error: expect.any(String), message: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
    if (c.field !== undefined) expect(res.body.field).toBe(c.field);
    if (c.reason !== undefined) expect(res.body.message).toMatch(c.reason);
    expect(await ctx.countExperiments()).toBe(rowsBefore);
    expect(await ctx.countJobs()).toBe(jobsBefore);
  });

  it('accepts unicode names and lists every problem of a body', async () => {
    const good = await request(ctx.server).post('/api/experiments').send({ ...ok(), name: 'fourmis et abeilles — 蜜蜂 🐜' });
    expect(good.status).toBe(201);
    expect(good.body.name).toBe('fourmis et abeilles — 蜜蜂 🐜');
    const bad = await request(ctx.server).post('/api/experiments').send({ ...ok(), lr: -1, epochs: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'lr' }), expect.objectContaining({ field: 'epochs' })]));
  });
});
