// Loads the native oneDNN kernels addon (onednn-kernels.cpp, built by build.mjs at npm install into
// build/native/fleet_onednn.node). Loading is the only thing done here: which kernels use it lives
// in onednn-kernels.ts. Must never throw at import: a machine without the addon runs plain wasm.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every kernel takes the wasm heap and a Float64Array of byte offsets + geometry (see the .cpp). */
export type HeapKernel = (heap: ArrayBuffer, params: Float64Array) => void;

export interface OnednnDescription {
  /** oneDNN's version, e.g. "2.6.3" */
  version: string;
  /** the instruction set oneDNN dispatches to on this CPU, e.g. "avx512_core_amx" */
  isa: string;
  /** OpenMP threads the kernels use */
  threads: number;
  /** convolution primitives created so far (cached per shape) */
  primitives: number;
}

export interface OnednnAddon {
  convForward: HeapKernel;
  convBackwardData: HeapKernel;
  convBackwardWeights: HeapKernel;
  batchNormForward: HeapKernel;
  batchNormBackward: HeapKernel;
  maxPoolGrad: HeapKernel;
  sgdMomentum: HeapKernel;
  setThreads(threads: number): void;
  describe(): OnednnDescription;
  clearCache(): void;
}

export const ADDON_FILE = path.join('build', 'native', 'fleet_onednn.node');

/**
 * Where the addon is: FLEET_ONEDNN_ADDON, else build/native/fleet_onednn.node in the nearest folder
 * above this module that has one (the repository root, from src/ under Jest or from dist/).
 */
export function findOnednnAddon(): string | undefined {
  const explicit = process.env.FLEET_ONEDNN_ADDON;
  if (explicit) return existsSync(explicit) ? explicit : undefined;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, ADDON_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

let loaded: OnednnAddon | undefined;

/**
 * The addon, loaded once. Throws with the reason and the remedy when it is disabled
 * (FLEET_NATIVE=0), not built, or cannot load (e.g. libdnnl.so.2 missing at run time).
 */
export function loadOnednnAddon(): OnednnAddon {
  if (loaded) return loaded;
  if (process.env.FLEET_NATIVE === '0') throw new Error('native kernels disabled (FLEET_NATIVE=0)');
  const file = findOnednnAddon();
  if (!file) throw new Error(`native oneDNN addon not built (${ADDON_FILE}): apt-get install g++ libdnnl-dev, then npm run build:native`);
  const require = createRequire(import.meta.url);
  loaded = require(file) as OnednnAddon;
  return loaded;
}
