// Picks and initialises the TensorFlow.js backend the engine trains on. Native TensorFlow
// (tfjs-node-gpu, then tfjs-node) when installed, else a GPU through WebGPU, else WebAssembly with
// the heavy kernels native on oneDNN (wasm+onednn), else plain WebAssembly with our training
// kernels, else the plain JS cpu backend. The native packages are optional dependencies that often fail to
// install (their install script downloads libtensorflow), so they are only ever imported
// dynamically inside try/catch. Must never throw because a preferred backend is missing when
// 'auto' was asked: it falls through to the next candidate and says which one it got.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BackendInfo, BackendName } from '../contracts.js';
import { tf } from './tf.js';
import { loadOnednnAddon } from './native/onednn-addon.js';
import { disableOnednnKernels, enableOnednnKernels } from './onednn-kernels.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { loadWebgpuBackend } from './webgpu-backend.js';

export type BackendPreference = BackendName | 'auto';

interface BackendCandidate {
  name: BackendName;
  /** the TensorFlow.js backend it runs on (wasm+onednn is wasm with native kernels). Default: name */
  tfBackend?: string;
  /**
   * Loads and registers the backend; resolves to a description (with the adapter on webgpu), or
   * throws when unavailable. `forced`: this backend was asked for by name (webgpu then accepts a
   * software adapter).
   */
  load(forced: boolean): Promise<string | Omit<BackendInfo, 'name'>>;
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
      const webgpu = await loadWebgpuBackend({ allowSoftware: forced || undefined });
      return { info: webgpu.info, adapter: { name: webgpu.adapter.name } };
    },
  },
  {
    // The CPU route: wasm with the heavy kernels on oneDNN, where the addon is built.
    name: 'wasm+onednn',
    tfBackend: 'wasm',
    async load() {
      const addon = loadOnednnAddon();
      const version = await loadWasm();
      const d = enableOnednnKernels(addon, threadsFromEnv());
      return `oneDNN ${d.version}, ${d.isa}, ${d.threads} thread${d.threads === 1 ? '' : 's'} (tfjs-backend-wasm ${version} for the small ops)`;
    },
  },
  {
    name: 'wasm',
    async load() {
      const version = await loadWasm();
      disableOnednnKernels();
      return `tfjs-backend-wasm ${version} (SIMD, single thread) + engine training kernels`;
    },
  },
  {
    name: 'cpu',
    async load() {
      return Promise.resolve(`tfjs-backend-cpu ${tf.version.tfjs} (plain JavaScript)`);
    },
  },
];

/** Loads the wasm backend module with our wasm training kernels; resolves to its version. */
async function loadWasm(): Promise<string> {
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(`${distDir}${path.sep}`);
  registerWasmTrainingKernels();
  return wasm.version_wasm;
}

/**
 * Threads of the native kernels: FLEET_THREADS (the worker's --threads), else oneDNN's default
 * (OMP_NUM_THREADS, else every core).
 */
function threadsFromEnv(): number | undefined {
  const raw = process.env.FLEET_THREADS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`FLEET_THREADS must be a positive integer, got '${raw}'`);
  return n;
}

let current: BackendInfo | undefined;
let currentTfBackend: string | undefined;

/** The backend chosen by the last successful initBackend call. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/**
 * Selects the backend. 'auto' (default) takes the first candidate that loads, in the order
 * tensorflow, (webgpu), wasm+onednn, wasm, cpu. Naming a backend that cannot load throws. Idempotent.
 */
export async function initBackend(preference: BackendPreference = 'auto', log: (line: string) => void = () => {}): Promise<BackendInfo> {
  if (current && (preference === 'auto' || preference === current.name) && tf.getBackend() === currentTfBackend) return current;
  const candidates = preference === 'auto' ? CANDIDATES : CANDIDATES.filter((c) => c.name === preference);
  if (candidates.length === 0) throw new Error(`backend '${preference}' is not available in this build`);
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      const loaded = await candidate.load(preference !== 'auto');
      const tfBackend = candidate.tfBackend ?? candidate.name;
      if (!(await tf.setBackend(tfBackend))) throw new Error('tf.setBackend returned false');
      await tf.ready();
      current = { name: candidate.name, ...(typeof loaded === 'string' ? { info: loaded } : loaded) };
      currentTfBackend = tfBackend;
      log(`training backend: ${candidate.name} (${current.info ?? ''})`);
      return current;
    } catch (err) {
      failures.push(`${candidate.name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised (${failures.join('; ')})`);
}
