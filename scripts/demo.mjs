#!/usr/bin/env node
// `npm run demo`: from a fresh clone to a finished strategy comparison in one command. Builds if
// dist/ is stale, migrates the database, generates the demo dataset, starts the API and two workers
// (logs in .demo/logs/), submits the tutorial's comparison as a sweep (every strategy x 2 seeds,
// small images, few epochs), shows live progress, prints the ranked table and leaves the dashboard
// running until Ctrl-C. `--exit` stops everything at the end instead (for timing it).
//
// Weights: the pretrained strategies need ImageNet ResNet18 weights, which cannot be downloaded
// offline. When WEIGHTS_ROOT holds no resnet18*.pth the demo writes a clearly named stand-in with
// random (He-initialised) weights and says so loudly: the pipeline runs end to end, but the
// numbers then show what each strategy does with UNTRAINED features, not the transfer-learning gain.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const STRATEGIES = ['scratch', 'finetune', 'freeze', 'zero-lr', 'group-lr', 'linear-probe'];
const STANDIN_WEIGHTS = 'resnet18-RANDOM-STANDIN-not-pretrained.pth';

const { values: args } = parseArgs({
  options: {
    exit: { type: 'boolean', default: false },
    epochs: { type: 'string', default: '3' },
    'image-size': { type: 'string', default: '32' },
    seeds: { type: 'string', default: '2' },
    workers: { type: 'string', default: '2' },
    'skip-build': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(`npm run demo [-- --exit] [--epochs 3] [--image-size 32] [--seeds 2] [--workers 2] [--skip-build]\n`);
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

async function ensureDataset() {
  const dir = path.join(DATA_ROOT, 'demo');
  if (existsSync(path.join(dir, 'train')) && existsSync(path.join(dir, 'val'))) return step(`dataset: ${path.relative(root, dir) || dir} (already there)`);
  const { generateDemoDataset } = await import(pathToFileURL(path.join(root, 'dist/libs/training/src/data/demo-dataset.js')).href);
  const summary = await generateDemoDataset(dir, { imageSize: 96 });
  step(`dataset: generated ${summary.files} procedural ants/bees images (${summary.imageSize}px) in ${path.relative(root, dir)}`);
}

/** The weights file name under WEIGHTS_ROOT the pretrained strategies use, and whether it is real. */
async function ensureWeights() {
  mkdirSync(WEIGHTS_ROOT, { recursive: true });
  const real = readdirSync(WEIGHTS_ROOT).filter((f) => /^resnet18.*\.pth$/i.test(f) && f !== STANDIN_WEIGHTS).sort();
  if (real.length) {
    step(`weights: ${real[0]} from ${path.relative(root, WEIGHTS_ROOT)}`);
    return { file: real[0], standIn: false };
  }
  const target = path.join(WEIGHTS_ROOT, STANDIN_WEIGHTS);
  if (!existsSync(target)) {
    // He-initialised conv/fc and identity BatchNorm: torchvision's names, shapes and format, random numbers.
    const { writeRandomResnet18Pth } = await import(pathToFileURL(path.join(root, 'dist/libs/training/src/weights/random-resnet18-pth.js')).href);
    await writeRandomResnet18Pth(target, { seed: 7 });
  }
  const line = '━'.repeat(78);
  process.stdout.write(
    `${warn(line)}\n${warn('  NO PRETRAINED WEIGHTS: using a RANDOM stand-in, not ImageNet ResNet18.')}\n` +
      `  ${path.relative(root, WEIGHTS_ROOT)}/ holds no resnet18*.pth and this machine cannot download one.\n` +
      `  The demo uses ${STANDIN_WEIGHTS} (He-initialised, fixed seed)\n` +
      `  so finetune/freeze/zero-lr/group-lr/linear-probe start from UNTRAINED features:\n` +
      `  the run exercises the whole fleet, but its ranking is NOT the tutorial's result.\n` +
      `  For real numbers: \`finetune download resnet18\` (online) or copy\n` +
      `  resnet18-f37072fd.pth into ${path.relative(root, WEIGHTS_ROOT)}/ and run the demo again.\n${warn(line)}\n`,
  );
  return { file: STANDIN_WEIGHTS, standIn: true };
}

async function request(method, urlPath, body) {
  const res = await fetch(`${API}${urlPath}`, {
    method,
    headers: { 'content-type': 'application/json', ...(env.API_KEY ? { 'x-api-key': env.API_KEY } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${urlPath}: ${res.status} ${data.message ?? ''}${data.field ? ` (field ${data.field})` : ''}`);
  return data;
}

async function startFleet(workerCount) {
  mkdirSync(LOG_DIR, { recursive: true });
  // .demo/ is scratch space: keep it out of git without touching the shared .gitignore.
  writeFileSync(path.join(DEMO_DIR, '.gitignore'), '*\n');
  if (await reachable(API, PORT)) throw new Error(`port ${PORT} is already in use (another API or demo?): stop it or run with PORT=3100 npm run demo`);
  const api = startChild('api', 'dist/apps/api/src/main.js');
  const workers = Array.from({ length: workerCount }, (_, i) => startChild(`worker-${i + 1}`, 'dist/apps/worker/src/main.js'));
  const deadline = Date.now() + 60_000;
  while (!(await fetch(`${API}/health`).then((r) => r.ok, () => false))) {
    if (stopping) return;
    if (Date.now() > deadline) throw new Error(`the API did not become healthy within 60 s (see .demo/logs/api.log)`);
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

async function main() {
  process.stdout.write(`${bold('Finetune Fleet demo')}: every strategy of the PyTorch transfer-learning tutorial, compared on a small dataset\n`);
  buildIfStale();
  await checkServices();
  migrate();
  await ensureDataset();
  const weights = await ensureWeights();
  const workerCount = Math.max(1, Number(args.workers) || 2);
  await startFleet(workerCount);
  await cancelStaleDemoRuns();

  const epochs = Number(args.epochs);
  const imageSize = Number(args['image-size']);
  const seeds = Array.from({ length: Math.max(1, Number(args.seeds) || 2) }, (_, i) => i);
  const sweep = await request('POST', '/api/sweeps', {
    name: `demo: ${STRATEGIES.length} strategies x ${seeds.length} seeds, ${epochs} epochs at ${imageSize}px${weights.standIn ? ' (RANDOM stand-in weights)' : ''}`,
    base: { dataset: 'demo', weights: weights.file, epochs, imageSize, batchSize: 16, stepSize: Math.max(1, Math.ceil((epochs * 2) / 3)), gamma: 0.1 },
    grid: { strategy: STRATEGIES, seed: seeds },
  });
  step(`sweep ${sweep.id}: ${sweep.count} experiments queued on ${workerCount} workers`);
  process.stdout.write(`  dashboard: ${bold(`${API}/sweeps/${sweep.id}`)}\n\n`);

  const watchCode = await runCli(['watch', sweep.id]);
  if (stopping) return;
  process.stdout.write('\n');
  await runCli(['compare', sweep.id]);
  if (weights.standIn) process.stdout.write(`\n${warn('Reminder: pretrained strategies started from RANDOM stand-in weights; see above.')}\n`);
  process.stdout.write(`\n${bold(`Demo finished in ${elapsed()}`)} (${watchCode === 0 ? 'all runs succeeded' : 'some runs did not succeed'}).\n`);
  process.stdout.write(`  dashboard:   ${API}/sweeps/${sweep.id}\n  queues:      ${API}/queues\n  API docs:    ${API}/docs\n  terminal:    node bin/finetune.js compare ${sweep.id}\n`);
  if (args.exit) return shutdown(watchCode === 0 ? 0 : 1);
  process.stdout.write(`\nThe API and workers keep running for you to explore. ${bold('Ctrl-C')} stops everything.\n`);
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
