// Training throughput of the engine per strategy (224x224, batch 16 by default), eval throughput,
// linear-probe's 25 epochs vs one eval pass, peak RSS; and PyTorch's numbers on the same machine
// when /usr/bin/python3 has torch, with ratios.
// On a CPU (backend auto / wasm+onednn) every CPU path is measured in the same run, each in its own
// process: the native path (wasm+onednn) on every core and on 1 thread, and plain wasm; PyTorch on
// every core and on 1 thread. Ratios: native vs PyTorch with the same threads ("per core" = 1 thread:
// the fleet runs one single-threaded worker per core), and wasm vs PyTorch on 1 thread.
// On a GPU backend (webgpu, tensorflow) the one backend against PyTorch CUDA.
// Weights are the deterministic parity weights (speed does not depend on their values).
// Run the built file: npm run bench:train -- [--backend auto] [--strategies finetune,freeze] [--steps 3] [--profile]
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { initBackend, type BackendPreference } from '../libs/training/src/backend/init-backend.js';
import { tf } from '../libs/training/src/backend/tf.js';
import { assertWebgpuStepFits } from '../libs/training/src/backend/webgpu-backend.js';
import { STRATEGIES, type Strategy } from '../libs/training/src/contracts.js';
import { deterministicStateDict } from '../libs/training/src/model/deterministic-state-dict.js';
import { FEATURE_DIM } from '../libs/training/src/model/resnet18-spec.js';
import { modelFromStateDict } from '../libs/training/src/model/state-dict-mapping.js';
import { Sgd } from '../libs/training/src/optim/sgd.js';
import { Rng } from '../libs/training/src/rng.js';
import { planFor } from '../libs/training/src/train/strategy.js';
import { headStep, trainStep } from '../libs/training/src/train/train-step.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    strategies: { type: 'string', default: 'finetune,freeze,zero-lr,group-lr,linear-probe' },
    'image-size': { type: 'string', default: '224' },
    'batch-size': { type: 'string', default: '16' },
    steps: { type: 'string', default: '3' },
    torch: { type: 'boolean', default: true },
    // The Python that has torch + torchvision (GPU machines often keep it in a virtualenv).
    python: { type: 'string', default: process.env.FLEET_PYTHON ?? '/usr/bin/python3' },
    // Where one training step's time goes, kernel by kernel (tf.profile), for each strategy.
    profile: { type: 'boolean', default: false },
    // Internal: measure one backend in this process and print its figures as a JSON line.
    child: { type: 'boolean', default: false },
  },
  allowNegative: true,
});
const size = Number(args['image-size']);
const batch = Number(args['batch-size']);
const steps = Number(args.steps);
const strategies = args.strategies.split(',').map((s) => s.trim()) as Strategy[];
for (const s of strategies) if (!STRATEGIES.includes(s)) throw new Error(`unknown strategy ${s}`);
/** The tutorial's hymenoptera split. */
const TRAIN_IMAGES = 244;
const VAL_IMAGES = 153;
const PROBE_EPOCHS = 25;

async function seconds<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, (performance.now() - t) / 1000];
}

interface Measured {
  backend: string;
  info: string;
  /** img/s by 'eval' and strategy */
  ours: Record<string, number>;
  rssGb: number;
}

/** Every figure of one backend, in this process. */
async function measure(preference: BackendPreference): Promise<Measured> {
  const backend = await initBackend(preference, (l) => console.log(l));
  assertWebgpuStepFits({ batchSize: batch, imageSize: size });
  const rng = new Rng(0);
  const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 2), 'int32');
  const ours: Record<string, number> = {};

  const evalModel = modelFromStateDict(deterministicStateDict(), 'deterministic');
  // data(), not dataSync(): the webgpu backend cannot read synchronously in Node
  const evalOnce = async () => {
    const logits = tf.tidy(() => evalModel.forward(x, 'eval'));
    try {
      return await logits.data();
    } finally {
      logits.dispose();
    }
  };
  await evalOnce();
  const [, evalTime] = await seconds(async () => {
    for (let i = 0; i < steps; i++) await evalOnce();
  });
  evalModel.dispose();
  ours.eval = (steps * batch) / evalTime;
  console.log(`eval: ${ours.eval.toFixed(2)} img/s`);

  for (const strategy of strategies) {
    const model = modelFromStateDict(deterministicStateDict(), 'deterministic');
    model.replaceHead(2, rng);
    const plan = planFor({ strategy, lr: 0.001, lrFactor: 0.1 });
    const opt = new Sgd(plan.groups(model), { momentum: 0.9 });
    if (plan.cachedFeatures) {
      // 25 epochs of head training on cached features, vs one eval pass over the same images.
      const feats = tf.randomNormal([batch, FEATURE_DIM]) as tf.Tensor2D;
      const batches = Math.ceil(TRAIN_IMAGES / batch);
      await headStep(model, opt, feats, labels);
      const [, headTime] = await seconds(async () => {
        for (let i = 0; i < PROBE_EPOCHS * batches; i++) await headStep(model, opt, feats, labels);
      });
      const evalPass = (TRAIN_IMAGES + VAL_IMAGES) / ours.eval;
      const total = evalPass + headTime;
      ours[strategy] = (PROBE_EPOCHS * TRAIN_IMAGES) / total;
      console.log(
        `linear-probe: ${PROBE_EPOCHS} epochs on ${TRAIN_IMAGES}+${VAL_IMAGES} images = one feature pass ${evalPass.toFixed(1)} s + head training ${headTime.toFixed(2)} s = ${total.toFixed(1)} s (${(total / evalPass).toFixed(2)}x one eval pass)`,
      );
      feats.dispose();
    } else {
      const step = async () => {
        if (plan.backboneGradients) return trainStep(model, opt, x, labels);
        const f = model.features(x, 'train');
        try {
          return await headStep(model, opt, f, labels);
        } finally {
          f.dispose();
        }
      };
      await step();
      if (args.profile) await printStepProfile(strategy, step);
      const [, t] = await seconds(async () => {
        for (let i = 0; i < steps; i++) await step();
      });
      ours[strategy] = (steps * batch) / t;
      console.log(`${strategy}: ${ours[strategy].toFixed(2)} train img/s`);
    }
    opt.dispose();
    model.dispose();
  }
  const rssGb = process.resourceUsage().maxRSS / 1024 ** 2;
  console.log(`peak RSS ${rssGb.toFixed(2)} GB (backend ${backend.name}, ${size}px, batch ${batch}, ${steps} timed steps)`);
  return { backend: backend.name, info: backend.info ?? '', ours, rssGb };
}

/** Measures one CPU path in a child process (its own heap, backend and thread count). */
function measureInChild(backend: string, threads: number | undefined): Measured | undefined {
  const argv = process.argv.slice(2).filter((a, i, all) => a !== '--backend' && all[i - 1] !== '--backend');
  const env = { ...process.env, ...(threads === undefined ? {} : { FLEET_THREADS: String(threads) }) };
  console.log(`\n-- ${backend}${threads === undefined ? '' : `, ${threads} thread${threads === 1 ? '' : 's'}`}`);
  const r = spawnSync(process.execPath, [process.argv[1]!, ...argv, '--backend', backend, '--child', '--no-torch'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'], timeout: 60 * 60_000 });
  const lines = r.stdout.trim().split('\n');
  for (const line of lines) if (!line.startsWith('RESULT ')) console.log(line);
  const result = lines.find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !result) {
    console.log(`(${backend} not measured: exit ${r.status})`);
    return undefined;
  }
  return JSON.parse(result.slice('RESULT '.length)) as Measured;
}

const ratio = (ours: number | undefined, t: number | undefined) => (ours && t ? (ours / t).toFixed(2) + 'x' : '-');
const fmt = (v: number | undefined) => (v ? v.toFixed(2) : '-');

async function main(): Promise<void> {
  if (args.child) {
    console.log(`RESULT ${JSON.stringify(await measure(args.backend as BackendPreference))}`);
    return;
  }
  if (args.backend === 'webgpu' || args.backend === 'tensorflow') return gpuMain();
  const cores = os.availableParallelism();
  const native = args.backend === 'wasm' ? undefined : measureInChild('wasm+onednn', cores);
  const native1 = native && cores > 1 ? measureInChild('wasm+onednn', 1) : native;
  const wasm = measureInChild('wasm', undefined);
  const torch = args.torch ? torchNumbers(strategies, 'cpu', cores) : undefined;
  const torch1 = args.torch ? (cores > 1 ? torchNumbers(strategies, 'cpu', 1) : torch) : undefined;
  const cols = ['what', `native ${cores}t`, 'native 1t', 'wasm', `torch ${cores}t`, 'torch 1t', `nat/torch ${cores}t`, 'nat/torch 1t', 'wasm/torch 1t'];
  console.log(`\n${cols[0]!.padEnd(14)}${cols.slice(1).map((c) => c.padStart(14)).join('')}`);
  for (const k of ['eval', ...strategies]) {
    const n = native?.ours[k];
    const n1 = native1?.ours[k];
    const w = wasm?.ours[k];
    const t = torch?.[k];
    const t1 = torch1?.[k];
    console.log(`${k.padEnd(14)}${[fmt(n), fmt(n1), fmt(w), fmt(t), fmt(t1), ratio(n, t), ratio(n1, t1), ratio(w, t1)].map((c) => c.padStart(14)).join('')}`);
  }
  console.log(`native: ${native?.info ?? 'not available'}; peak RSS native ${fmt(native?.rssGb)} GB, wasm ${fmt(wasm?.rssGb)} GB`);
  if (!torch) console.log(`(no PyTorch numbers: ${args.python} with torch not available or --no-torch)`);
  else console.log(`(img/s; PyTorch 1.13 CPU in the same run: ${cores} threads, then 1 thread; load now ${os.loadavg()[0]?.toFixed(1)})`);
}

/** One GPU backend in this process against PyTorch on the GPU (CUDA) when it has one. */
async function gpuMain(): Promise<void> {
  const { ours } = await measure(args.backend as BackendPreference);
  const torch = args.torch ? torchNumbers(strategies, 'cuda', 2) : undefined;
  console.log(`\n${'what'.padEnd(14)}${'ours img/s'.padStart(12)}${'torch img/s'.padStart(13)}${'ratio'.padStart(8)}`);
  for (const k of ['eval', ...strategies]) console.log(`${k.padEnd(14)}${fmt(ours[k]).padStart(12)}${fmt(torch?.[k]).padStart(13)}${ratio(ours[k], torch?.[k]).padStart(8)}`);
  if (!torch) console.log(`(no PyTorch numbers: ${args.python} with torch not available or --no-torch)`);
  else console.log(`(PyTorch ran on ${torch.cuda ? 'the GPU (CUDA)' : 'the CPU (no CUDA device)'})`);
}

/**
 * One step under tf.profile: milliseconds per kernel name (forward and backward together), largest
 * first, with the share of the step. Kernel timings include what the backend does around the op.
 */
async function printStepProfile(strategy: string, step: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  const profile = await tf.profile(async () => {
    await step();
  });
  const wall = performance.now() - t0;
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of profile.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls += 1;
    byKernel.set(k.name, e);
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const inKernels = rows.reduce((s, [, e]) => s + e.ms, 0);
  console.log(`profile of one ${strategy} step: ${wall.toFixed(0)} ms wall, ${inKernels.toFixed(0)} ms in ${profile.kernels.length} kernel calls`);
  for (const [name, e] of rows.slice(0, 14)) console.log(`  ${name.padEnd(26)}${e.ms.toFixed(1).padStart(9)} ms${((100 * e.ms) / wall).toFixed(1).padStart(7)}%${String(e.calls).padStart(6)} calls`);
}

const TORCH_SCRIPT = String.raw`
import json, sys, time, torch, torchvision
size, batch, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(int(sys.argv[6]))  # CPU only: 2 = this machine's cores, 1 = one core (no effect on CUDA)
strategies = sys.argv[4].split(',')
dev = torch.device('cuda' if sys.argv[5] == 'cuda' and torch.cuda.is_available() else 'cpu')
sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
x = torch.randn(batch, 3, size, size).to(dev); y = (torch.arange(batch) % 2).to(dev)
out = {'cuda': float(dev.type == 'cuda')}
m = torchvision.models.resnet18().to(dev); m.eval()
with torch.no_grad():
    m(x); sync(); t = time.perf_counter()
    for _ in range(steps): m(x)
    sync()
out['eval'] = steps * batch / (time.perf_counter() - t)
def bench(s):
    m = torchvision.models.resnet18(); m.fc = torch.nn.Linear(512, 2); m.to(dev); m.train()
    backbone = [p for n, p in m.named_parameters() if not n.startswith('fc.')]
    if s in ('freeze', 'linear-probe'):
        for p in backbone: p.requires_grad = False
        opt = torch.optim.SGD(m.fc.parameters(), lr=1e-3, momentum=0.9)
    elif s == 'zero-lr':
        opt = torch.optim.SGD([{'params': backbone, 'lr': 0.0}, {'params': m.fc.parameters()}], lr=1e-3, momentum=0.9)
    elif s == 'group-lr':
        opt = torch.optim.SGD([{'params': backbone, 'lr': 1e-4}, {'params': m.fc.parameters()}], lr=1e-3, momentum=0.9)
    else:
        opt = torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9)
    def step():
        opt.zero_grad(); torch.nn.functional.cross_entropy(m(x), y).backward(); opt.step()
    step(); sync(); t = time.perf_counter()
    for _ in range(steps): step()
    sync()
    return steps * batch / (time.perf_counter() - t)
for s in strategies:
    if s != 'linear-probe': out[s] = bench(s)
# linear-probe the PyTorch way: the tutorial's freeze loop for 25 epochs
if 'linear-probe' in strategies and 'freeze' in out: out['linear-probe'] = out['freeze']
print(json.dumps(out))
`;

function torchNumbers(strategies: Strategy[], device: 'cuda' | 'cpu', threads: number): Record<string, number> | undefined {
  console.log(`\nPyTorch (${device === 'cuda' ? 'CUDA if available, else CPU' : 'CPU'}, ${threads} thread${threads === 1 ? '' : 's'}) on the same machine...`);
  const r = spawnSync(args.python, ['-c', TORCH_SCRIPT, String(size), String(batch), String(steps), strategies.join(','), device, String(threads)], { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.status !== 0) {
    if (r.error || /No module named/.test(r.stderr)) return undefined;
    throw new Error(`PyTorch benchmark failed: ${r.stderr}`);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
