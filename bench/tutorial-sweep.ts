// bench:tutorial — the question a user asks first: "why not just run the PyTorch script?". The
// tutorial's whole comparison (scratch, finetune, freeze, zero-lr, group-lr; E epochs each) on a
// hymenoptera-sized generated set (244 train / 154 val JPEGs), timed two ways in one run:
//   torch — the tutorial's PyTorch script (bench/support/torch-tutorial.py) five times back to back,
//           every core (Debian's python3-torch 1.13, the same oneDNN as our native path);
//   fleet — the built API + N real workers (default: one single-threaded worker per core), the five
//           runs submitted as one sweep; POST to the last run's stored finishedAt.
// Same data, same (random stand-in) weights file, same hyper-parameters: speed does not depend on
// the weights' values. Ratios only; absolute times depend on the machine.
// Usage: npm run bench:tutorial -- [--epochs 25] [--workers N] [--threads 1] [--image-side 320]
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateDemoDataset } from '../libs/training/src/data/demo-dataset.js';
import { writeRandomResnet18Pth } from '../libs/training/src/weights/random-resnet18-pth.js';
import { FleetApi } from '../test/support/fleet-api.js';
import { defaultTestBackend, FleetHarness } from '../test/support/fleet-harness.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '25' },
    workers: { type: 'string', default: String(os.availableParallelism()) },
    threads: { type: 'string', default: '1' },
    backend: { type: 'string', default: defaultTestBackend() },
    // The real hymenoptera JPEGs are ~500x375; generated squares of this side go through the same
    // decode + RandomResizedCrop / Resize(256) work.
    'image-side': { type: 'string', default: '320' },
    python: { type: 'string', default: process.env.FLEET_PYTHON ?? '/usr/bin/python3' },
    torch: { type: 'boolean', default: true },
  },
  allowNegative: true,
});
const EPOCHS = Number(args.epochs);
const WORKERS = Number(args.workers);
const STRATEGIES = ['scratch', 'finetune', 'freeze', 'zero-lr', 'group-lr'] as const;

interface FleetRun {
  strategy: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  bestValAcc: number | null;
}

async function fleetSweep(harness: FleetHarness): Promise<{ seconds: number; runs: FleetRun[] }> {
  const api = new FleetApi((await harness.startApi()).url);
  await Promise.all(Array.from({ length: WORKERS }, () => harness.startWorker({ args: ['--backend', args.backend, '--threads', args.threads] })));
  const posted = Date.now();
  const sweep = await api.post<{ id: string }>('/api/sweeps', {
    name: `bench:tutorial ${EPOCHS} epochs`,
    base: { dataset: 'hymenoptera-sized', weights: 'resnet18-bench.pth', epochs: EPOCHS },
    grid: { strategy: STRATEGIES },
  });
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const detail = await api.get<{ counts: Record<string, number>; runs: { status: string; error: string | null }[] }>(`/api/sweeps/${sweep.id}`);
    const broken = detail.runs.find((r) => r.status === 'failed' || r.status === 'cancelled');
    if (broken) throw new Error(`a run ${broken.status}: ${broken.error ?? ''}`);
    if ((detail.counts.succeeded ?? 0) === STRATEGIES.length) break;
  }
  const { items } = await api.get<{ items: FleetRun[] }>(`/api/experiments?sweepId=${sweep.id}&limit=${STRATEGIES.length}`);
  const last = Math.max(...items.map((r) => Date.parse(r.finishedAt ?? '')));
  return { seconds: (last - posted) / 1000, runs: items };
}

function torchScript(dataDir: string, weights: string): { seconds: number; runs: { strategy: string; seconds: number; best_acc: number }[] } | undefined {
  const script = path.join(process.cwd(), 'bench/support/torch-tutorial.py');
  const runs: { strategy: string; seconds: number; best_acc: number }[] = [];
  const started = performance.now();
  for (const strategy of STRATEGIES) {
    const r = spawnSync(args.python, [script, dataDir, weights, strategy, String(EPOCHS)], { encoding: 'utf8', timeout: 4 * 3600_000 });
    if (r.status !== 0) {
      if (/No module named/.test(r.stderr) || r.error) return undefined;
      throw new Error(`PyTorch tutorial (${strategy}) failed: ${r.stderr}`);
    }
    const run = JSON.parse(r.stdout.trim().split('\n').pop()!) as { strategy: string; seconds: number; best_acc: number };
    runs.push(run);
    process.stdout.write(`  torch ${strategy}: ${run.seconds.toFixed(1)} s\n`);
  }
  return { seconds: (performance.now() - started) / 1000, runs };
}

async function main(): Promise<void> {
  const harness = await FleetHarness.create();
  const releaseSignals = harness.teardownOnSignals();
  try {
    const dataDir = path.join(harness.dataRoot, 'hymenoptera-sized');
    await generateDemoDataset(dataDir, { trainPerClass: 122, valPerClass: 77, imageSize: Number(args['image-side']) });
    const weights = await writeRandomResnet18Pth(path.join(harness.weightsRoot, 'resnet18-bench.pth'), { seed: 7 });
    process.stdout.write(
      `bench:tutorial: 5 strategies x ${EPOCHS} epochs, 244 train / 154 val images of ${args['image-side']} px at 224, batch 16; ` +
        `fleet: ${WORKERS} worker(s) x ${args.threads} thread(s) on ${args.backend}; ${os.availableParallelism()} CPUs, load ${os.loadavg()[0]?.toFixed(1)}\n`,
    );
    // PyTorch first, while no worker is started: each side gets the machine to itself.
    const torch = args.torch ? torchScript(dataDir, weights) : undefined;
    if (torch) process.stdout.write(`torch: ${torch.seconds.toFixed(1)} s for the five scripts back to back\n`);
    const fleet = await fleetSweep(harness);
    process.stdout.write(`fleet: ${fleet.seconds.toFixed(1)} s for the sweep\n`);
    for (const r of fleet.runs) {
      const secs = (Date.parse(r.finishedAt ?? '') - Date.parse(r.startedAt ?? '')) / 1000;
      process.stdout.write(`  fleet ${r.strategy}: ${secs.toFixed(1)} s in its worker\n`);
    }
    if (!torch) {
      process.stdout.write(`(no PyTorch numbers: ${args.python} with torch + torchvision not available or --no-torch)\n`);
      return;
    }
    process.stdout.write(`\nfleet ${fleet.seconds.toFixed(1)} s vs PyTorch script x5 ${torch.seconds.toFixed(1)} s: the fleet takes ${(fleet.seconds / torch.seconds).toFixed(2)}x the time (${(torch.seconds / fleet.seconds).toFixed(2)}x faster)\n`);
    process.stdout.write(`(load now ${os.loadavg()[0]?.toFixed(1)})\n`);
  } finally {
    releaseSignals();
    await harness.teardown();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:tutorial: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
