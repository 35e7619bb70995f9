import { DEFAULT_CHILD_RECYCLE, recycleReason } from './child-recycle.js';
import type { ChildMemory } from './training-ipc.js';

const MiB = 1024 ** 2;
const memory = (overrides: Partial<ChildMemory> = {}): ChildMemory => ({ numTensors: 0, numBytes: 0, wasmHeapBytes: 400 * MiB, rssBytes: 700 * MiB, ...overrides });

describe('recycleReason', () => {
  it('keeps a process under every limit', () => {
    expect(recycleReason(DEFAULT_CHILD_RECYCLE, 999, memory())).toBeUndefined();
  });

  it('replaces it after maxJobs jobs', () => {
    expect(recycleReason({ ...DEFAULT_CHILD_RECYCLE, maxJobs: 3 }, 2, memory())).toBeUndefined();
    expect(recycleReason({ ...DEFAULT_CHILD_RECYCLE, maxJobs: 3 }, 3, memory())).toBe('3 jobs (limit 3)');
    expect(recycleReason(DEFAULT_CHILD_RECYCLE, 1000, undefined)).toBe('1000 jobs (limit 1000)');
  });

  it('replaces it when the wasm heap or the RSS reached its limit', () => {
    expect(recycleReason(DEFAULT_CHILD_RECYCLE, 1, memory({ wasmHeapBytes: 3584 * MiB }))).toBe('wasm heap 3584 MiB (limit 3584 MiB)');
    expect(recycleReason(DEFAULT_CHILD_RECYCLE, 1, memory({ rssBytes: 64 * 1024 * MiB }))).toBeUndefined();
    expect(recycleReason({ ...DEFAULT_CHILD_RECYCLE, maxRssBytes: 1024 * MiB }, 1, memory({ rssBytes: 1500 * MiB }))).toBe('rss 1500 MiB (limit 1024 MiB)');
  });

  it('treats 0 as no limit', () => {
    expect(recycleReason({ maxJobs: 0, maxHeapBytes: 0, maxRssBytes: 0 }, 1_000_000, memory({ wasmHeapBytes: 4095 * MiB, rssBytes: 1e12 }))).toBeUndefined();
  });
});
