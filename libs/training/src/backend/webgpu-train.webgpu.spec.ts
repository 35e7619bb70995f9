// trainRun end to end on the webgpu backend (lavapipe in CI): every read in the training path is
// asynchronous (dataSync() throws in Node on webgpu), and one epoch's metrics match the wasm run's.
// With CI=true a missing adapter fails; elsewhere the suite is skipped with the reason.
import { makeTinyDataset, type TinyDataset } from '../train/testing/tiny-run.js';
import { trainRun, type TrainRunResult } from '../train/train-run.js';
import { assertNoWebgpuErrors, tryInitWebgpu } from './webgpu-backend.js';

// lavapipe is slow on a loaded machine (see webgpu-parity.webgpu.spec.ts)
const LAVAPIPE_TIMEOUT_MS = 600_000;
const reasons: string[] = [];
const webgpu = await tryInitWebgpu({ allowSoftware: true }, (line) => reasons.push(line));
const inCi = process.env.CI === 'true';
if (!webgpu && !inCi) console.warn(`webgpu training tests skipped: ${reasons.join('; ')} (install lavapipe with scripts/ci/install-lavapipe.sh)`);

// lr 0.001 (the default): a from-scratch net's eval-mode BatchNorm statistics after two steps are
// ill-conditioned, and at higher rates the backends' rounding differences grow past 1e-3 in valLoss.
const HYPER = { strategy: 'scratch' as const, epochs: 1, batchSize: 4, imageSize: 32, lr: 0.001, stepSize: 7, seed: 1 };

(webgpu || inCi ? describe : describe.skip)('trainRun on webgpu', () => {
  let data: TinyDataset;

  beforeAll(async () => {
    if (!webgpu) throw new Error(`CI=true but no WebGPU adapter: ${reasons.join('; ')}; run scripts/ci/install-lavapipe.sh and set VK_ICD_FILENAMES`);
    data = await makeTinyDataset(4, 2, 32);
  });
  afterAll(async () => {
    await data?.remove();
  });
  afterEach(() => assertNoWebgpuErrors());

  it('runs one epoch and matches the wasm run within 1e-3', async () => {
    const run = (backend: 'wasm' | 'webgpu'): Promise<TrainRunResult> => trainRun({ datasetDir: data.dir, hyper: HYPER, backend });
    const onWasm = await run('wasm');
    const onGpu = await run('webgpu');
    expect(onGpu.backend.name).toBe('webgpu');
    expect(onGpu.cancelled).toBe(false);
    expect(onGpu.epochs).toHaveLength(1);
    const [w, g] = [onWasm.epochs[0]!, onGpu.epochs[0]!];
    const keys = ['trainLoss', 'trainAcc', 'valLoss', 'valAcc', 'backboneDrift', 'bnStatsDrift'] as const;
    const off = keys.filter((k) => !(Math.abs(g[k] - w[k]) < 1e-3)).map((k) => `${k}: webgpu ${g[k]} vs wasm ${w[k]}`);
    if (!(Math.abs(onGpu.finalDrift.head - onWasm.finalDrift.head) < 1e-3)) off.push(`head drift: webgpu ${onGpu.finalDrift.head} vs wasm ${onWasm.finalDrift.head}`);
    expect(off).toEqual([]);
  }, LAVAPIPE_TIMEOUT_MS);
});
