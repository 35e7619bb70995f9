#!/usr/bin/env node
// `npm run demo`: from a fresh clone to a finished strategy comparison in one command. Builds if
// dist/ is stale, migrates the database, generates the demo datasets, starts the API and two workers
// (logs in .demo/logs/), submits the tutorial's comparison as a sweep (every strategy x 3 seeds,
// small images, few epochs), shows live progress, prints the ranked table and leaves the dashboard
// running until Ctrl-C. `--exit` stops everything at the end instead (for timing it).
//
// Weights: the pretrained strategies need a pretrained ResNet18. ImageNet weights cannot be
// downloaded offline, so when WEIGHTS_ROOT holds no resnet18*.pth the demo pretrains a backbone
// itself: one `scratch` run through the fleet on a generated source dataset of 14 classes of
// abstract shapes and textures (no insects), then the comparison on the small ants/bees target
// starts from that run (`weights: {experiment, epoch: 'best'}`). Only the first demo pays for it:
// later demos find the succeeded run by its name (which carries the recipe version) and reuse it.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const STRATEGIES = ['scratch', 'finetune', 'freeze', 'zero-lr', 'group-lr', 'linear-probe'];
// The comparison's small target: the procedural ants/bees with 40 train images per class (a third of
// the tutorial's), so that training from scratch really has too little data, and 18 runs cost about
// what the 12 on 60 per class used to. Its val images are the 60-per-class set's (one random
// stream per split and class).
const TARGET = { dataset: 'demo-target', data: { trainPerClass: 40, valPerClass: 40, imageSize: 96, seed: 0 } };
/** The comparison's lr when it starts from the demo's backbone. */
const PRETRAIN_TARGET_LR = 0.01;
// Random weights written by earlier versions of the demo: never taken for ImageNet weights.
const OLD_STANDIN_WEIGHTS = 'resnet18-RANDOM-STANDIN-not-pretrained.pth';

// The demo's own pretraining. Changing anything here changes what the run means: bump `version`
// (it is in the dataset folder's and the run's names), so that demos stop reusing the old run.
// Tuned on the 2-core build machine: see README "About the demo's weights" for the figures.
const PRETRAIN_VERSION = 1;
const PRETRAIN = {
  dataset: `demo-shapes-v${PRETRAIN_VERSION}`,
  data: { trainPerClass: 200, valPerClass: 30, imageSize: 48, seed: 0 },
  name: `demo backbone v${PRETRAIN_VERSION}: scratch on 14 synthetic shapes (pretrained by the demo, not ImageNet)`,
  config: { strategy: 'scratch', epochs: 10, imageSize: 32, batchSize: 32, lr: 0.01, stepSize: 8, gamma: 0.1, seed: 0 },
};

const { values: args } = parseArgs({
  options: {
    exit: { type: 'boolean', default: false },
    epochs: { type: 'string' },
    'image-size': { type: 'string', default: '32' },
    lr: { type: 'string' },
    seeds: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    'skip-build': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(`npm run demo [-- --exit] [--epochs 2, 3 with ImageNet weights] [--image-size 32] [--lr 0.01, 0.001 with ImageNet weights] [--seeds 3] [--workers 2] [--skip-build]\n`);
  process.exit(0);
}

const env = { ...process.env };
const DATABASE_URL = env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/finetune_fleet';
const REDIS_URL = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATA_ROOT = path.resolve(root, env.DATA_ROOT ?? 'data');
const WEIGHTS_ROOT = path.resolve(root, env.WEIGHTS_ROOT ?? 'weights');
const PORT = Number(env.PORT ?? 3000);
const API = `http://127.0.0.1:${PORT}`;
const DEMO_DIR = path.join(root, '.demo');
const LOG_DIR = path.join(DEMO_DIR, 'logs');
Object.assign(env, { DATABASE_URL, REDIS_URL, DATA_ROOT, WEIGHTS_ROOT, PORT: String(PORT) });

const bold = (s) => (process.stdout.isTTY && !env.NO_COLOR ? `\u001b[1m${s}\u001b[0m` : s);
const warn = (s) => (process.stdout.isTTY && !env.NO_COLOR ? `\u001b[1;33m${s}\u001b[0m` : s);
const step = (s) => process.stdout.write(`${bold('▸')} ${s}\n`);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

function fail(message, code = 1) {
  process.stderr.write(`demo: ${message}\n`);
  return shutdown(code);
}

// --- children -------------------------------------------------------------------------------
const children = [];
let stopping = false;

function startChild(name, script, extraArgs = []) {
  const log = createWriteStream(path.join(LOG_DIR, `${name}.log`), { flags: 'w' });
  const child = spawn(process.execPath, [script, ...extraArgs], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const waiters = new Set();
  for (const stream of [child.stdout, child.stderr]) {
    let buffer = '';
    stream.on('data', (chunk) => {
      log.write(chunk);
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      lines.push(...parts);
      for (const w of waiters) w();
    });
  }
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(({ code, signal }) => {
    log.end();
    for (const w of waiters) w();
    if (!stopping) {
      process.stderr.write(`demo: ${name} exited unexpectedly (${signal ?? `code ${code}`}); last lines of .demo/logs/${name}.log:\n${lines.slice(-15).join('\n')}\n`);
      void shutdown(1);
    }
  });
  const handle = { name, child, lines, exited, waiters };
  children.push(handle);
  return handle;
}

function waitForLine(handle, pattern, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(() => reject(new Error(`${handle.name} printed no ${pattern} within ${timeoutMs / 1000} s (see .demo/logs/${handle.name}.log)`))), timeoutMs);
    const check = () => {
      const line = handle.lines.find((l) => pattern.test(l));
      if (line) return done(() => resolve(line));
      if (handle.child.exitCode !== null || handle.child.signalCode !== null) done(() => reject(new Error(`${handle.name} exited (see .demo/logs/${handle.name}.log)`)));
    };
    const done = (then) => {
      clearTimeout(timer);
      handle.waiters.delete(check);
      then();
    };
    handle.waiters.add(check);
    check();
  });
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  const running = children.filter((c) => c.child.exitCode === null && c.child.signalCode === null);
  if (running.length) process.stdout.write(`\nstopping ${running.map((c) => c.name).join(', ')}…\n`);
  // Workers hand their running job back on SIGTERM; give them a moment, then make sure.
  cliChild?.kill('SIGTERM');
  for (const c of running) c.child.kill('SIGTERM');
  await Promise.race([Promise.all(running.map((c) => c.exited)), new Promise((r) => setTimeout(r, 10_000).unref())]);
  for (const c of running) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));

// --- steps ----------------------------------------------------------------------------------
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'generated' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

function buildIfStale() {
  const entries = ['dist/apps/api/src/main.js', 'dist/apps/worker/src/main.js', 'dist/apps/cli/src/main.js'].map((p) => path.join(root, p));
  const oldest = Math.min(...entries.map((p) => (existsSync(p) ? statSync(p).mtimeMs : 0)));
  const sources = Math.max(newestMtime(path.join(root, 'apps')), newestMtime(path.join(root, 'libs')));
  if (oldest > sources && !args['skip-build']) return step('build is up to date');
  if (args['skip-build']) return;
  step(oldest === 0 ? 'building (first run, about a minute)…' : 'sources changed since the last build: building…');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) throw new Error('`npm run build` failed (output above)');
}

function reachable(url, fallbackPort) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(u.port || fallbackPort) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function checkServices() {
  const [pgUp, redisUp] = await Promise.all([reachable(DATABASE_URL, 5432), reachable(REDIS_URL, 6379)]);
  const problems = [];
  if (!pgUp) problems.push(`Postgres is not reachable at ${redact(DATABASE_URL)}: start it (\`sudo service postgresql start\`, or \`docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16\`) or set DATABASE_URL`);
  if (!redisUp) problems.push(`Redis is not reachable at ${redact(REDIS_URL)}: start it (\`sudo service redis-server start\`, or \`docker run -d -p 6379:6379 redis:7\`) or set REDIS_URL`);
  if (problems.length) throw new Error(problems.join('\ndemo: '));
  step('Postgres and Redis are up');
}

function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

function migrate() {
  const r = spawnSync(process.execPath, ['scripts/prisma-migrate.mjs'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
  if (r.status !== 0) throw new Error(`database migration failed:\n${r.stderr.toString() || r.stdout.toString()}`);
  step('database migrated');
}

/** Generates a dataset folder once: into a temporary sibling, renamed when complete, so an interrupted demo never leaves half a dataset that looks whole. */
async function ensureGenerated(name, what, generate) {
  const dir = path.join(DATA_ROOT, name);
  if (existsSync(path.join(dir, 'train')) && existsSync(path.join(dir, 'val'))) return step(`${what}: ${path.relative(root, dir) || dir} (already there)`);
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const t0 = Date.now();
  const summary = await generate(tmp);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  step(`${what}: generated ${summary.files} images of ${summary.classes.length} classes (${summary.imageSize}px) in ${path.relative(root, dir)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

async function ensureTargetDataset() {
  const { generateDemoDataset } = await import(pathToFileURL(path.join(root, 'dist/libs/training/src/data/demo-dataset.js')).href);
  await ensureGenerated(TARGET.dataset, 'target dataset (procedural ants/bees)', (dir) => generateDemoDataset(dir, TARGET.data));
}

async function ensureSourceDataset() {
  const { generateShapesDataset } = await import(pathToFileURL(path.join(root, 'dist/libs/training/src/data/shapes-dataset.js')).href);
  await ensureGenerated(PRETRAIN.dataset, 'source dataset for pretraining (synthetic shapes)', (dir) => generateShapesDataset(dir, PRETRAIN.data));
}

/** Real ImageNet ResNet18 weights under WEIGHTS_ROOT, if any (the file name), else undefined. */
function imagenetWeights() {
  if (!existsSync(WEIGHTS_ROOT)) return undefined;
  return readdirSync(WEIGHTS_ROOT)
    .filter((f) => /^resnet18.*\.pth$/i.test(f) && f !== OLD_STANDIN_WEIGHTS)
    .sort()[0];
}

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function request(method, urlPath, body) {
  const res = await fetch(`${API}${urlPath}`, {
    method,
    headers: { 'content-type': 'application/json', ...(env.API_KEY ? { 'x-api-key': env.API_KEY } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(`${method} ${urlPath}: ${res.status} ${data.message ?? ''}${data.field ? ` (field ${data.field})` : ''}`, res.status);
  return data;
}

async function startFleet(workerCount) {
  mkdirSync(LOG_DIR, { recursive: true });
  // .demo/ is scratch space: keep it out of git without touching the shared .gitignore.
  writeFileSync(path.join(DEMO_DIR, '.gitignore'), '*\n');
  if (await reachable(API, PORT)) throw new Error(`port ${PORT} is already in use (another API or demo?): stop it or run with PORT=3100 npm run demo`);
  const api = startChild('api', 'dist/apps/api/src/main.js');
  const workers = Array.from({ length: workerCount }, (_, i) => startChild(`worker-${i + 1}`, 'dist/apps/worker/src/main.js'));
  const deadline = Date.now() + 300_000; // a 2-core machine under load can take minutes
  while (!(await fetch(`${API}/health`).then((r) => r.ok, () => false))) {
    if (stopping) return;
    if (Date.now() > deadline) throw new Error(`the API did not become healthy within 300 s (see .demo/logs/api.log)`);
    await new Promise((r) => setTimeout(r, 200));
  }
  step(`API up at ${API} (logs: .demo/logs/api.log)`);
  const ready = await Promise.all(workers.map((w) => waitForLine(w, /worker \S+ ready/, 180_000)));
  for (const line of ready) step(line.replace(/^.*?(worker \S+ ready.*)$/, '$1'));
}

let cliChild;
function runCli(cliArgs) {
  return new Promise((resolve) => {
    cliChild = spawn(process.execPath, ['bin/finetune.js', ...cliArgs, '--api', API], { cwd: root, env, stdio: 'inherit' });
    cliChild.once('exit', (code) => {
      cliChild = undefined;
      resolve(code ?? 1);
    });
  });
}

/**
 * Cancels the unfinished runs of earlier demo sweeps (an interrupted demo leaves them queued): the
 * queue is durable, so they would otherwise train first and this demo's runs would wait for them.
 */
async function cancelStaleDemoRuns() {
  const { items } = await request('GET', '/api/sweeps');
  let cancelled = 0;
  for (const s of items) {
    if (!s.name?.startsWith('demo: ') || s.counts.queued + s.counts.running === 0) continue;
    const sweep = await request('GET', `/api/sweeps/${s.id}`);
    for (const run of sweep.runs) {
      if (run.status !== 'queued' && run.status !== 'running') continue;
      await request('POST', `/api/experiments/${run.id}/cancel`).catch(() => undefined);
      cancelled += 1;
    }
  }
  if (cancelled) step(`cancelled ${cancelled} unfinished run${cancelled === 1 ? '' : 's'} of an earlier, interrupted demo`);
}

/**
 * The id of a succeeded pretraining run of this recipe: an earlier demo's (found by name), one still
 * queued or running from an interrupted demo (watched to the end), or a new one submitted now.
 * `avoid`: ids not to reuse (a run whose stored model turned out to be gone).
 */
async function ensurePretrainedRun(avoid = new Set()) {
  const query = new URLSearchParams({ dataset: PRETRAIN.dataset, strategy: 'scratch', limit: '100' });
  const { items } = await request('GET', `/api/experiments?${query}`);
  const ours = items.filter((e) => e.name === PRETRAIN.name && !avoid.has(e.id));
  const done = ours.find((e) => e.status === 'succeeded');
  if (done) {
    step(`backbone: reusing the demo's pretraining run ${done.id} (best val acc ${(done.bestValAcc * 100).toFixed(1)}% on ${PRETRAIN.dataset}; \`finetune delete ${done.id}\` makes the next demo pretrain again)`);
    return done.id;
  }
  let run = ours.find((e) => e.status === 'queued' || e.status === 'running');
  if (run) step(`backbone: an earlier demo's pretraining run ${run.id} is still ${run.status}: waiting for it`);
  else {
    run = await request('POST', '/api/experiments', { name: PRETRAIN.name, dataset: PRETRAIN.dataset, ...PRETRAIN.config, priority: 1 });
    step(`backbone: pretraining ResNet18 from scratch on ${PRETRAIN.dataset} (run ${run.id}, ${PRETRAIN.config.epochs} epochs at ${PRETRAIN.config.imageSize}px; only the first demo does this)`);
  }
  const code = await runCli(['watch', run.id]);
  if (stopping) return undefined;
  const finished = await request('GET', `/api/experiments/${run.id}`);
  if (code !== 0 || finished.status !== 'succeeded') throw new Error(`the pretraining run ${run.id} ended ${finished.status}${finished.error ? `: ${finished.error}` : ''} (see .demo/logs/); run the demo again to retry`);
  step(`backbone: pretrained in ${finished.seconds?.toFixed(0) ?? '?'} s, best val acc ${(finished.bestValAcc * 100).toFixed(1)}% on its 14 shape classes (chance: 7%)`);
  return run.id;
}

/** Submits the comparison sweep; where the pretraining run's stored model is gone, pretrains again once. */
async function submitComparison(base, nameSuffix, pretrainedId) {
  const epochs = base.epochs;
  const body = (weights) => ({
    name: `demo: ${STRATEGIES.length} strategies x ${base.seeds.length} seeds, ${epochs} epochs at ${base.imageSize}px${nameSuffix}`,
    base: { dataset: TARGET.dataset, weights, epochs, imageSize: base.imageSize, batchSize: 16, lr: base.lr, stepSize: Math.max(1, Math.ceil((epochs * 2) / 3)), gamma: 0.1 },
    grid: { strategy: STRATEGIES, seed: base.seeds },
  });
  if (!pretrainedId) return request('POST', '/api/sweeps', body(base.weightsFile));
  try {
    return await request('POST', '/api/sweeps', body({ experiment: pretrainedId, epoch: 'best' }));
  } catch (err) {
    // e.g. artifacts/ was cleaned while the database kept the run: its model is no longer stored.
    // Only the chained-run check on the parent (field base.weights.experiment): any other 400 is a bug.
    if (!(err instanceof ApiError) || err.status !== 400 || !/weights\.experiment/.test(err.message)) throw err;
    step(`backbone: run ${pretrainedId} can no longer be used (${err.message}); pretraining again`);
    const again = await ensurePretrainedRun(new Set([pretrainedId]));
    if (!again) return undefined;
    return request('POST', '/api/sweeps', body({ experiment: again, epoch: 'best' }));
  }
}

/**
 * What the table means, in words: the tutorial's question is whether starting from pretrained
 * features beats training from scratch on a small dataset, so finetune and freeze are each tested
 * against scratch (the table's p-values are against the top group, which answers another question).
 */
async function explain(sweepId, imagenet) {
  const { welchTTest } = await import(pathToFileURL(path.join(root, 'dist/apps/api/src/sweeps/statistics.js')).href);
  const { groups } = await request('GET', `/api/sweeps/${sweepId}/compare`);
  const accs = (strategy) => (groups.find((g) => g.value === strategy)?.runs ?? []).filter((r) => r.status === 'succeeded' && r.bestValAcc !== null).map((r) => r.bestValAcc);
  const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const scratch = accs('scratch');
  const source = imagenet ? `ImageNet weights (${imagenet})` : `the backbone the demo pretrained on synthetic shapes (${PRETRAIN.dataset}, not ImageNet)`;
  process.stdout.write(`\n${bold('What this shows')}: scratch trains ResNet18 from random weights on the small ants/bees set; finetune,\n  freeze, zero-lr, group-lr and linear-probe start from ${source}.\n`);
  const verdicts = [];
  for (const strategy of ['finetune', 'freeze']) {
    const xs = accs(strategy);
    const test = welchTTest(xs, scratch);
    if (!test || !scratch.length) {
      process.stdout.write(`  ${strategy} vs scratch: not enough finished runs to test (needs 2+ seeds each)\n`);
      continue;
    }
    const diff = (avg(xs) - avg(scratch)) * 100;
    const significant = test.p < 0.05 && diff > 0;
    verdicts.push(significant);
    process.stdout.write(`  ${strategy} vs scratch: ${diff >= 0 ? '+' : ''}${diff.toFixed(1)} points of best val acc (mean of ${xs.length} vs ${scratch.length} seeds), Welch p = ${test.p.toPrecision(2)}${significant ? ' < 0.05' : ' (not significant)'}\n`);
  }
  if (verdicts.length === 2 && verdicts.every(Boolean)) {
    process.stdout.write(`  The tutorial's finding holds: on a small dataset, pretrained features beat training from scratch,\n  whether the backbone is fine-tuned or frozen.\n`);
  } else if (verdicts.length) {
    process.stdout.write(`  Not every pretrained strategy beat scratch clearly this time: more seeds (--seeds 5) or epochs tighten it.\n`);
  }
}

async function main() {
  process.stdout.write(`${bold('Finetune Fleet demo')}: every strategy of the PyTorch transfer-learning tutorial, compared on a small dataset\n`);
  buildIfStale();
  await checkServices();
  migrate();
  await ensureTargetDataset();
  const imagenet = imagenetWeights();
  if (imagenet) step(`weights: ${imagenet} from ${path.relative(root, WEIGHTS_ROOT)} (ImageNet): no pretraining needed`);
  const workerCount = Math.max(1, Number(args.workers) || 2);
  // The source dataset is drawn while the API and workers start (both take seconds on a cold run).
  await Promise.all([imagenet ? undefined : ensureSourceDataset(), startFleet(workerCount)]);
  if (stopping) return;
  await cancelStaleDemoRuns();

  let pretrainedId;
  if (!imagenet) {
    const line = '━'.repeat(78);
    process.stdout.write(
      `${warn(line)}\n${warn('  NO IMAGENET WEIGHTS: the demo pretrains its own backbone, on synthetic shapes.')}\n` +
        `  ${path.relative(root, WEIGHTS_ROOT)}/ holds no resnet18*.pth and this machine cannot download one. So the demo\n` +
        `  first trains ResNet18 from scratch on ${PRETRAIN.dataset} (14 classes of generated shapes and\n` +
        `  textures, no insects) and the pretrained strategies start from THAT backbone, not from\n` +
        `  ImageNet: the ranking shows transfer from synthetic shapes to procedural ants/bees.\n` +
        `  For the tutorial's real numbers: \`finetune download resnet18\` (online) or copy\n` +
        `  resnet18-f37072fd.pth into ${path.relative(root, WEIGHTS_ROOT)}/ and run the demo again.\n${warn(line)}\n`,
    );
    pretrainedId = await ensurePretrainedRun();
    if (stopping) return;
    process.stdout.write('\n');
  }

  const seeds = Array.from({ length: Math.max(1, Number(args.seeds) || 3) }, (_, i) => i);
  // ImageNet features need only the tutorial's lr; with the demo's weaker backbone and 2 epochs of
  // 8 batches, 0.01 is what lets finetune and freeze use it (measured, see README).
  const lr = Number(args.lr ?? (imagenet ? 0.001 : PRETRAIN_TARGET_LR));
  // Two epochs suffice from the demo's own backbone (finetune/freeze vs scratch: p < 0.001, and the
  // warm demo stays under the previous one's time); ImageNet weights keep the earlier three.
  const epochs = Number(args.epochs ?? (imagenet ? 3 : 2));
  const base = { epochs, imageSize: Number(args['image-size']), lr, seeds, weightsFile: imagenet };
  const sweep = await submitComparison(base, imagenet ? '' : '; backbone pretrained by the demo on synthetic shapes, not ImageNet', pretrainedId);
  if (!sweep || stopping) return;
  step(`sweep ${sweep.id}: ${sweep.count} experiments queued on ${workerCount} workers`);
  process.stdout.write(`  dashboard: ${bold(`${API}/sweeps/${sweep.id}`)}\n\n`);

  const watchCode = await runCli(['watch', sweep.id]);
  if (stopping) return;
  process.stdout.write('\n');
  await runCli(['compare', sweep.id]);
  await explain(sweep.id, imagenet);
  process.stdout.write(`\n${bold(`Demo finished in ${elapsed()}`)} (${watchCode === 0 ? 'all runs succeeded' : 'some runs did not succeed'}).\n`);
  process.stdout.write(`  dashboard:   ${API}/sweeps/${sweep.id}\n  queues:      ${API}/queues\n  API docs:    ${API}/docs\n  terminal:    node bin/finetune.js compare ${sweep.id}\n`);
  if (args.exit) return shutdown(watchCode === 0 ? 0 : 1);
  process.stdout.write(`\nThe API and workers keep running for you to explore. ${bold('Ctrl-C')} stops everything.\n`);
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
