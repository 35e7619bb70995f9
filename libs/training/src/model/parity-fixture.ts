// Comparison of a model's exported state dict with what PyTorch stored in a parity fixture
// (scripts/parity/make-parity-fixtures.py): one rule for every backend's parity test.
import type { StateDict } from '../weights/pth-loader.js';

/** A fixture's record of one tensor after the training steps: an integer value, or norm + samples. */
export interface FixtureTensor {
  value?: number;
  norm?: number;
  samples?: [number, number][];
}

/** Every tensor that differs from the fixture by more than 1e-4 (norms relative above 1), as lines. */
export function stateDictMismatches(sd: StateDict, expected: Record<string, FixtureTensor>): string[] {
  const bad: string[] = [];
  for (const [key, want] of Object.entries(expected)) {
    const t = sd.get(key)!;
    if (want.value !== undefined) {
      if (Number((t.data as BigInt64Array)[0]) !== want.value) bad.push(`${key}=${(t.data as BigInt64Array)[0]} want ${want.value}`);
      continue;
    }
    const data = t.data as Float32Array;
    let sq = 0;
    for (const v of data) sq += v * v;
    const norm = Math.sqrt(sq);
    if (Math.abs(norm - want.norm!) > 1e-4 * Math.max(1, want.norm!)) bad.push(`${key} norm ${norm} want ${want.norm}`);
    for (const [i, v] of want.samples!) if (Math.abs(data[i]! - v) > 1e-4) bad.push(`${key}[${i}]=${data[i]} want ${v}`);
  }
  return bad;
}
