// 'auto' picks webgpu when an adapter it accepts exists. CI has only lavapipe, so software adapters
// are accepted here through FLEET_WEBGPU_ALLOW_SOFTWARE=1, set before the chain's first use (the
// chain keeps its choice per process, hence a file of its own).
import { currentBackend, initBackend } from './init-backend.js';
import { tryInitWebgpu } from './webgpu-backend.js';

const reasons: string[] = [];
const probe = await tryInitWebgpu({ allowSoftware: true }, (line) => reasons.push(line));
const inCi = process.env.CI === 'true';
if (!probe && !inCi) console.warn(`webgpu chain tests skipped: ${reasons.join('; ')} (install lavapipe with scripts/ci/install-lavapipe.sh)`);

(probe || inCi ? describe : describe.skip)("initBackend('auto') with a webgpu adapter", () => {
  const saved = process.env.FLEET_WEBGPU_ALLOW_SOFTWARE;
  beforeAll(() => {
    if (!probe) throw new Error(`CI=true but no WebGPU adapter: ${reasons.join('; ')}; run scripts/ci/install-lavapipe.sh and set VK_ICD_FILENAMES`);
    process.env.FLEET_WEBGPU_ALLOW_SOFTWARE = '1';
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.FLEET_WEBGPU_ALLOW_SOFTWARE;
    else process.env.FLEET_WEBGPU_ALLOW_SOFTWARE = saved;
  });

  it('prefers webgpu over wasm and records the adapter', async () => {
    const log: string[] = [];
    const picked = await initBackend('auto', (line) => log.push(line));
    expect(picked).toEqual({ name: 'webgpu', info: probe!.info, adapter: { name: probe!.adapter.name } });
    expect(currentBackend()).toEqual(picked);
    expect(log).toEqual([`training backend: webgpu (${probe!.info})`]);
  });
});
