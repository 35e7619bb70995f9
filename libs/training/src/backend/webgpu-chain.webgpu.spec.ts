// initBackend with webgpu in the chain, on a machine whose only adapter is software (lavapipe in
// CI): 'auto' passes it over for the CPU path, naming webgpu forces it and records the adapter. With CI=true
// a missing adapter fails; elsewhere the suite is skipped with the reason.
import { currentBackend, initBackend } from './init-backend.js';
import { tf } from './tf.js';
import { tryInitWebgpu } from './webgpu-backend.js';
import { NATIVE_ENABLED } from '../train/testing/cpu-paths.js';

// Probed on the side without touching TensorFlow.js's current backend: does an adapter exist, and is it software?
const reasons: string[] = [];
const probe = await tryInitWebgpu({ allowSoftware: true }, (line) => reasons.push(line));
const inCi = process.env.CI === 'true';
if (!probe && !inCi) console.warn(`webgpu chain tests skipped: ${reasons.join('; ')} (install lavapipe with scripts/ci/install-lavapipe.sh)`);

(probe || inCi ? describe : describe.skip)('initBackend with webgpu', () => {
  beforeAll(async () => {
    if (!probe) throw new Error(`CI=true but no WebGPU adapter: ${reasons.join('; ')}; run scripts/ci/install-lavapipe.sh and set VK_ICD_FILENAMES`);
    await tf.setBackend('cpu');
  });

  it("'auto' takes webgpu only on a hardware adapter, else falls through to the CPU path", async () => {
    const picked = await initBackend('auto');
    const cpuPath = NATIVE_ENABLED ? 'wasm+onednn' : 'wasm';
    expect(picked.name).toBe(probe!.adapter.software ? cpuPath : 'webgpu');
  });

  it("'webgpu' forces it, even on a software adapter, and records the adapter description and name", async () => {
    const picked = await initBackend('webgpu');
    expect(picked).toEqual({ name: 'webgpu', info: probe!.info, adapter: { name: probe!.adapter.name } });
    expect(currentBackend()).toEqual(picked);
    expect(tf.getBackend()).toBe('webgpu');
    const y = tf.tidy(() => tf.sum(tf.mul(tf.range(0, 4096), 2)));
    expect((await y.data())[0]).toBe(4095 * 4096);
    y.dispose();
  });
});
