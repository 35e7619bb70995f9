import { initBackend } from '../backend/init-backend.js';
import { deterministicStateDict } from './deterministic-state-dict.js';
import { exportStateDict, modelFromStateDict, StateDictMismatchError } from './state-dict-mapping.js';

describe('torchvision state_dict mapping', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('round-trips every tensor bit for bit through our layouts (conv OIHW<->HWIO, fc [out,in]<->[in,out])', async () => {
    const sd = deterministicStateDict();
    const model = modelFromStateDict(sd, 'deterministic.pth');
    const back = await exportStateDict(model);
    model.dispose();
    expect([...back.keys()]).toEqual([...sd.keys()]);
    for (const [key, t] of sd) {
      expect(back.get(key)!.shape).toEqual(t.shape);
      if (t.data instanceof Float32Array) expect(Buffer.from((back.get(key)!.data as Float32Array).buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
    }
  });

  it('names the file and every missing, unexpected or misshapen key', () => {
    const sd = deterministicStateDict();
    sd.delete('layer3.1.bn2.running_var');
    sd.set('layer2.0.conv1.weight', { shape: [128, 64, 1, 1], dtype: 'float32', data: new Float32Array(128 * 64) });
    sd.set('extra.weight', { shape: [1], dtype: 'float32', data: new Float32Array(1) });
    let error: unknown;
    try {
      modelFromStateDict(sd, '/w/bad.pth');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictMismatchError);
    const message = (error as Error).message;
    expect(message).toMatch(/^\/w\/bad\.pth: /);
    expect(message).toContain('missing keys layer3.1.bn2.running_var');
    expect(message).toContain('unexpected keys extra.weight');
    expect(message).toContain('layer2.0.conv1.weight has shape [128, 64, 1, 1], expected [128, 64, 3, 3]');
  });

  it('accepts old checkpoints without num_batches_tracked', () => {
    const sd = deterministicStateDict();
    for (const k of [...sd.keys()]) if (k.endsWith('num_batches_tracked')) sd.delete(k);
    const model = modelFromStateDict(sd, 'old.pth');
    expect(model.bns.get('bn1')!.numBatchesTracked).toBe(0);
    model.dispose();
  });
});
