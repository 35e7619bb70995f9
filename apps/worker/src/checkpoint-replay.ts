// On resume, the epochs a checkpoint holds are reported again before training goes on: the engine
// writes the checkpoint before it reports the epoch, so a crash between the two leaves an epoch
// that only the checkpoint knows. Storing is an upsert, so re-reporting stored ones is harmless.
// Shared by the training child and the simulated engine's host. No TensorFlow.js here.
import { readCheckpoint } from '@fleet/training/checkpoint/checkpoint.js';
import type { EpochMetrics } from '@fleet/training/contracts.js';

/** The checkpoint's epochs up to startEpoch (the one the run resumed after), in order. */
export async function epochsToReplay(checkpointDir: string, startEpoch: number): Promise<EpochMetrics[]> {
  if (startEpoch === 0) return [];
  const ckpt = await readCheckpoint(checkpointDir);
  return (ckpt?.meta.history ?? []).filter((metrics) => metrics.epoch <= startEpoch);
}
