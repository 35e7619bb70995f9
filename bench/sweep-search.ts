// bench:sweep-search — what early stopping saves on examples/tutorial-sweep.yaml: the example as
// written (random search, 16 trials x 3 seeds, 25 epochs, ASHA at epochs 1/3/9) through the built
// API and real workers, on a hymenoptera-sized generated set (244 train / 154 val JPEGs) and random
// stand-in weights, the network at a small input side so it runs on a CPU. Reports trials stopped
// and finished, epochs trained against every trial run to its last epoch, and the device time that
// is: every epoch of a run costs about the same, so the epoch ratio is the GPU-hours ratio.
// Usage: npm run bench:sweep-search -- [--workers N] [--image-size 32] [--image-side 64]
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import type { SweepSearchView } from '../libs/contracts/src/index.js';
import { generateDemoDataset } from '../libs/training/src/data/demo-dataset.js';
import { writeRandomResnet18Pth } from '../libs/training/src/weights/random-resnet18-pth.js';
import { FleetApi } from '../test/support/fleet-api.js';
import { defaultTestBackend, FleetHarness } from '../test/support/fleet-harness.js';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: String(os.availableParallelism()) },
    backend: { type: 'string', default: defaultTestBackend() },
    'image-size': { type: 'string', default: '32' },
    'image-side': { type: 'string', default: '64' },
    example: { type: 'string', default: 'examples/tutorial-sweep.yaml' },
  },
});

interface Detail {
  runs: { id: string; status: string; seconds: number | null; epochsDone: number }[];
  search: SweepSearchView;
}

async function main(): Promise<void> {
  const example = yaml.load(await readFile(args.example, 'utf8')) as { base: Record<string, unknown> } & Record<string, unknown>;
  const harness = await FleetHarness.create();
  const release = harness.teardownOnSignals();
  try {
    await generateDemoDataset(path.join(harness.dataRoot, 'hymenoptera-sized'), { trainPerClass: 122, valPerClass: 77, imageSize: Number(args['image-side']) });
    await writeRandomResnet18Pth(path.join(harness.weightsRoot, 'resnet18-bench.pth'), { seed: 7 });
    const api = new FleetApi((await harness.startApi()).url);
    await Promise.all(Array.from({ length: Number(args.workers) }, () => harness.startWorker({ args: ['--backend', args.backend, '--threads', '1'] })));
    const started = Date.now();
    const sweep = await api.post<{ id: string }>('/api/sweeps', { ...example, base: { ...example.base, dataset: 'hymenoptera-sized', weights: 'resnet18-bench.pth', imageSize: Number(args['image-size']) } });
    let detail: Detail;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      detail = await api.get<Detail>(`/api/sweeps/${sweep.id}`);
      const s = detail.search;
      process.stderr.write(`\r${s.trialsCreated}/${s.spec.budget.maxTrials} trials, ${s.gpuEpochs.used} epochs trained   `);
      if (s.trialCounts.failed + s.trialCounts.cancelled > 0) throw new Error(`a trial failed or was cancelled: ${JSON.stringify(s.trialCounts)}`);
      if (s.state === 'finished') break;
    }
    const wall = (Date.now() - started) / 1000;
    const s = detail.search;
    const runSeconds = detail.runs.reduce((n, r) => n + (r.seconds ?? 0), 0);
    const perEpoch = runSeconds / s.gpuEpochs.used;
    const saved = 1 - s.gpuEpochs.used / s.gpuEpochs.full;
    const lines = [
      `example            ${args.example}: ${s.spec.method}, ${s.spec.budget.maxTrials} trials x ${s.spec.seeds.length} seeds, ASHA rf ${s.spec.earlyStop?.reductionFactor} from epoch ${s.spec.earlyStop?.minEpochs}`,
      `set-up             ${args.workers} workers (${args.backend}, 1 thread), generated 244/154 images at ${args['image-side']} px, network input ${args['image-size']} px`,
      `trials             ${Object.entries(s.trialCounts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')}; rungs ${s.rungs.map((r) => `epoch ${r.rung}: ${r.stopped}/${r.decided} stopped`).join(', ')}`,
      `best               trial ${s.best?.trial} ${JSON.stringify(s.best?.params)} ${s.spec.metric.name} ${s.best?.value.toFixed(4)}`,
      `epochs             ${s.gpuEpochs.used} trained of ${s.gpuEpochs.full} for every trial to the end: ${(saved * 100).toFixed(0)}% saved`,
      `device time        ${(runSeconds / 3600).toFixed(2)} h of run time (${perEpoch.toFixed(2)} s/epoch); every trial to the end would be ~${((perEpoch * s.gpuEpochs.full) / 3600).toFixed(2)} h; wall ${wall.toFixed(0)} s`,
    ];
    process.stderr.write('\n');
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    release();
    await harness.teardown();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`bench:sweep-search: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
