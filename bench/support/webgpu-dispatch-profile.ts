// The CPU side of a webgpu training step: how many compute dispatches and queue submits it makes,
// and how much JavaScript time tfjs-backend-webgpu spends recording them (pipeline lookup,
// uniform buffer writes, bind group creation, encoding), measured by wrapping the backend's
// runWebGPUProgram and submitQueue for the duration of one callback. GPU time is not in it.
import { tf } from '../../libs/training/src/backend/tf.js';

interface RecordingBackend {
  runWebGPUProgram(...args: unknown[]): unknown;
  submitQueue(): void;
}

export interface DispatchProfile {
  dispatches: number;
  submits: number;
  /** JS ms inside runWebGPUProgram (our kernels' own JS is outside: it only builds the program) */
  recordMs: number;
  /** wall ms of the whole callback */
  wallMs: number;
}

export async function profileDispatch(run: () => Promise<unknown>): Promise<DispatchProfile> {
  const backend = tf.backend() as unknown as RecordingBackend;
  const { runWebGPUProgram, submitQueue } = backend;
  const profile: DispatchProfile = { dispatches: 0, submits: 0, recordMs: 0, wallMs: 0 };
  let depth = 0;
  backend.runWebGPUProgram = function (...args: unknown[]) {
    const t = performance.now();
    depth++;
    try {
      return runWebGPUProgram.apply(this, args);
    } finally {
      depth--;
      profile.dispatches++;
      if (depth === 0) profile.recordMs += performance.now() - t;
    }
  };
  backend.submitQueue = function () {
    profile.submits++;
    submitQueue.call(this);
  };
  const start = performance.now();
  try {
    await run();
  } finally {
    profile.wallMs = performance.now() - start;
    backend.runWebGPUProgram = runWebGPUProgram;
    backend.submitQueue = submitQueue;
  }
  return profile;
}
