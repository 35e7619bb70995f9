// Acceptance of the exported models against real PyTorch (Debian's python3-torch): a run's
// model-best.pth and model-final.pth load strictly into torchvision's resnet18 and give, on the
// run's val images, the logits of our engine (within 1e-3) and the val accuracy and loss the run
// stored for that epoch.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../backend/tf.js';
import { loadImageFolder, valTransform } from '../data/index.js';
import { modelFromStateDict } from '../model/state-dict-mapping.js';
import { DeterministicWeightsCache, FAKE_WEIGHTS, makeTinyDataset, type TinyDataset } from '../train/testing/tiny-run.js';
import { trainRun, type TrainRunResult } from '../train/train-run.js';
import { loadStateDict } from '../weights/index.js';
import { findModelFile, MODEL_EPOCHS, readPredictions } from './model-files.js';

const PYTHON = process.env.FLEET_PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.resolve('scripts/parity/torch-logits.py');
const SIZE = 32;

function torchLogits(modelFile: string, inputsFile: string, n: number): { type: string; logits: number[][] } {
  const r = spawnSync(PYTHON, [SCRIPT, modelFile, inputsFile, String(n), String(SIZE)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${PYTHON} ${SCRIPT} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { type: string; logits: number[][] };
}

function crossEntropy(logits: number[], label: number): number {
  const max = Math.max(...logits);
  const logSum = Math.log(logits.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
  return logSum - logits[label]!;
}

const argmax = (row: number[]) => row.indexOf(Math.max(...row));

describe('exported models in real PyTorch', () => {
  let data: TinyDataset;
  let dir: string;
  let result: TrainRunResult;

  beforeAll(async () => {
    data = await makeTinyDataset(4, 4, SIZE);
    dir = await mkdtemp(path.join(os.tmpdir(), 'ff-models-'));
    // lr high enough that the weights move every epoch and the best epoch need not be the last.
    result = await trainRun({
      datasetDir: data.dir,
      weightsPath: FAKE_WEIGHTS,
      cache: new DeterministicWeightsCache(),
      hyper: { strategy: 'finetune', epochs: 3, batchSize: 4, imageSize: SIZE, lr: 0.01, stepSize: 2, seed: 11 },
      backend: 'wasm',
      modelDir: dir,
    });
  }, 240_000);
  afterAll(async () => {
    await data.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(MODEL_EPOCHS)('%s: strict torchvision load, same logits (1e-3), argmax and stored val acc/loss', async (which) => {
    const stored = await findModelFile(dir, which);
    expect(stored?.classes).toEqual(['blue', 'red']);
    const epoch = which === 'best' ? result.bestEpoch : result.epochs.length;
    const metrics = result.epochs[epoch - 1]!;

    const dataset = await loadImageFolder(data.dir);
    const per = SIZE * SIZE * 3;
    const inputs = new Float32Array(dataset.val.length * per);
    dataset.val.forEach((item, i) => valTransform(item.image, SIZE, inputs, i * per));
    const inputsFile = path.join(dir, `${which}.f32`);
    await writeFile(inputsFile, inputs);

    const model = modelFromStateDict(await loadStateDict(stored!.file), stored!.file);
    const ours = tf.tidy(() => model.forward(tf.tensor4d(inputs, [dataset.val.length, SIZE, SIZE, 3]), 'eval'));
    const engine = (await ours.array()) as number[][];
    ours.dispose();
    model.dispose();

    const torch = torchLogits(stored!.file, inputsFile, dataset.val.length);
    expect(torch.type).toBe('OrderedDict');
    const maxDiff = Math.max(...torch.logits.flatMap((row, i) => row.map((v, j) => Math.abs(v - engine[i]![j]!))));
    expect(maxDiff).toBeLessThan(1e-3);
    expect(torch.logits.map(argmax)).toEqual(engine.map(argmax));

    const labels = dataset.val.map((item) => item.label);
    const correct = torch.logits.filter((row, i) => argmax(row) === labels[i]).length;
    expect(correct / labels.length).toBeCloseTo(metrics.valAcc, 10);
    const loss = torch.logits.reduce((s, row, i) => s + crossEntropy(row, labels[i]!), 0) / labels.length;
    expect(loss).toBeCloseTo(metrics.valLoss, 3);
    expect((await readFile(stored!.file)).subarray(0, 2).toString('latin1')).toBe('PK');

    if (which === 'best') {
      // The stored predictions are the best model's: PyTorch's argmax per file, the stored accuracy.
      const stored = await readPredictions(dir);
      expect(stored).toMatchObject({ epoch: result.bestEpoch, classes: ['blue', 'red'], total: labels.length, correct, truncated: false });
      const byFile = new Map(stored!.predictions.map((p) => [p.file, p]));
      dataset.val.forEach((item, i) => {
        const p = byFile.get(path.relative(data.dir, item.path));
        expect(p).toMatchObject({ trueLabel: item.label, predictedLabel: argmax(torch.logits[i]!) });
      });
      expect(stored!.confusion.flat().reduce((a, b) => a + b, 0)).toBe(labels.length);
      expect(stored!.confusion[0]![0]! + stored!.confusion[1]![1]!).toBe(correct);
    }
  }, 120_000);
});
