// When a long-lived training process is replaced by a fresh one, between jobs (Celery's
// max-tasks-per-child / max-memory-per-child, Ray's max_calls). Defence in depth: the engine frees
// everything a run made, but a leak that slips in later (ours, tfjs's, a native backend's) would
// otherwise grow one process until it aborts mid-job. The wasm heap never shrinks and aborts at
// 4 GB, so its size after a job is the number to watch there. Pure: decides, starts nothing.
import type { ChildMemory } from './training-ipc.js';

/** Options of the recycling policy; 0 turns a limit off. */
export interface ChildRecycleOptions {
  /** Jobs one training process runs before it is replaced. Default 1000 (env WORKER_CHILD_MAX_JOBS) */
  maxJobs: number;
  /**
   * Wasm heap size after a job that gets the process replaced. Default 3.5 GiB of the 4 GB the heap
   * can reach: above what the tutorial's 224 px / batch 16 run needs (~2.7 GB), below the abort
   * (env WORKER_CHILD_MAX_HEAP_MB). Ignored on other backends.
   */
  maxHeapBytes: number;
  /** Resident set size after a job that gets the process replaced. Default 0: off (env WORKER_CHILD_MAX_RSS_MB) */
  maxRssBytes: number;
}

const MiB = 1024 ** 2;

export const DEFAULT_CHILD_RECYCLE: Readonly<ChildRecycleOptions> = { maxJobs: 1000, maxHeapBytes: 3584 * MiB, maxRssBytes: 0 };

const mib = (bytes: number): string => `${Math.round(bytes / MiB)} MiB`;

/** What a process holds, for log lines. */
export function describeMemory(memory: ChildMemory): string {
  return `wasm heap ${mib(memory.wasmHeapBytes)}, rss ${mib(memory.rssBytes)}, ${memory.numTensors} tensors (${mib(memory.numBytes)})`;
}

/**
 * Why the process that has just finished its `jobs`-th job should be replaced, or undefined to keep
 * it. `memory` is what it reported after that job (absent when it could not report).
 */
export function recycleReason(options: ChildRecycleOptions, jobs: number, memory: ChildMemory | undefined): string | undefined {
  if (options.maxJobs > 0 && jobs >= options.maxJobs) return `${jobs} jobs (limit ${options.maxJobs})`;
  if (!memory) return undefined;
  if (options.maxHeapBytes > 0 && memory.wasmHeapBytes >= options.maxHeapBytes) return `wasm heap ${mib(memory.wasmHeapBytes)} (limit ${mib(options.maxHeapBytes)})`;
  if (options.maxRssBytes > 0 && memory.rssBytes >= options.maxRssBytes) return `rss ${mib(memory.rssBytes)} (limit ${mib(options.maxRssBytes)})`;
  return undefined;
}
