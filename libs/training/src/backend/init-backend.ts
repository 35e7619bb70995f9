// Picks and initialises the TensorFlow.js backend the engine trains on. Native TensorFlow
// (tfjs-node-gpu, then tfjs-node) when installed, else WebAssembly with our training kernels, else
// the plain JS cpu backend. The native packages are optional dependencies that often fail to
// install (their install script downloads libtensorflow), so they are only ever imported
// dynamically inside try/catch. Must never throw because a preferred backend is missing when
// 'auto' was asked: it falls through to the next candidate and says which one it got.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BackendInfo, BackendName } from '../contracts.js';
import { tf } from './tf.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { loadWebgpuBackend } from './webgpu-backend.js';

export type BackendPreference = BackendName | 'auto';

interface BackendCandidate {
  name: BackendName;
  /**
   * Loads and registers the backend; resolves to a description, or throws when unavailable.
   * `forced`: this backend was asked for by name (webgpu then accepts a software adapter).
   */
  load(forced: boolean): Promise<string>;
}

// Dynamic import through a variable so TypeScript does not require the optional packages' types.
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier) as Promise<unknown>;
}

const CANDIDATES: readonly BackendCandidate[] = [
  {
    name: 'tensorflow',
    async load() {
      try {
        await importOptional('@tensorflow/tfjs-node-gpu');
        return 'libtensorflow via @tensorflow/tfjs-node-gpu';
      } catch {
        await importOptional('@tensorflow/tfjs-node');
        return 'libtensorflow via @tensorflow/tfjs-node';
      }
    },
  },
  {
    // Only when Dawn finds a GPU adapter (--gpu N picks it); lavapipe only when forced. See webgpu-backend.ts.
    name: 'webgpu',
    async load(forced) {
      return (await loadWebgpuBackend({ allowSoftware: forced || undefined })).info;
    },
  },
  {
    name: 'wasm',
    async load() {
      const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
      wasm.setWasmPaths(`${distDir}${path.sep}`);
      registerWasmTrainingKernels();
      return `tfjs-backend-wasm ${wasm.version_wasm} (SIMD, single thread) + engine training kernels`;
    },
  },
  {
    name: 'cpu',
    async load() {
      return Promise.resolve(`tfjs-backend-cpu ${tf.version.tfjs} (plain JavaScript)`);
    },
  },
];

let current: BackendInfo | undefined;

/** The backend chosen by the last successful initBackend call. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/**
 * Selects the backend. 'auto' (default) takes the first candidate that loads, in the order
 * tensorflow, (webgpu), wasm, cpu. Naming a backend that cannot load throws. Idempotent.
 */
export async function initBackend(preference: BackendPreference = 'auto', log: (line: string) => void = () => {}): Promise<BackendInfo> {
  if (current && (preference === 'auto' || preference === current.name) && tf.getBackend() === current.name) return current;
  const candidates = preference === 'auto' ? CANDIDATES : CANDIDATES.filter((c) => c.name === preference);
  if (candidates.length === 0) throw new Error(`backend '${preference}' is not available in this build`);
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      const info = await candidate.load(preference !== 'auto');
      if (!(await tf.setBackend(candidate.name))) throw new Error('tf.setBackend returned false');
      await tf.ready();
      current = { name: candidate.name, info };
      log(`training backend: ${candidate.name} (${info})`);
      return current;
    } catch (err) {
      failures.push(`${candidate.name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised (${failures.join('; ')})`);
}
