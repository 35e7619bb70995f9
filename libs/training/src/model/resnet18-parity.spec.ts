// Parity with torchvision: fixtures from scripts/parity/make-parity-fixtures.py (torch 1.13,
// torchvision 0.14) on weights and images both sides derive from the same integer hash.
// Both CPU paths: plain wasm, and wasm with the native oneDNN kernels (skipped only when the
// addon is switched off with FLEET_NATIVE=0, the fallback CI run).
import { evalLogitsParity, readEvalFixture, readTrainFixture, trainStepsParity } from './parity-fixture.js';
import { initBackend } from '../backend/init-backend.js';
import { stateKeys } from './resnet18-spec.js';
import { CPU_PATHS } from '../train/testing/cpu-paths.js';

describe.each(CPU_PATHS)('ResNet18 parity with torchvision on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it('uses torchvision resnet18 state_dict keys, order and shapes', () => {
    expect(stateKeys().map((k) => [k.key, k.shape])).toEqual(readEvalFixture().keys);
  });

  it('eval logits match torch within 1e-4', async () => {
    const f = readEvalFixture();
    const { count, maxAbsDiff } = await evalLogitsParity(f);
    expect(count).toBe(f.logits.length);
    expect(maxAbsDiff).toBeLessThan(1e-4);
  });

  it('two train-mode SGD-momentum steps match torch weights and BN running stats within 1e-4', async () => {
    const f = readTrainFixture();
    const { losses, mismatches } = await trainStepsParity(f);
    expect(losses[0]).toBeCloseTo(f.losses[0]!, 4);
    expect(losses[1]).toBeCloseTo(f.losses[1]!, 4);
    expect(mismatches).toEqual([]);
  });
});
