// The webgpu backend: TensorFlow.js's @tensorflow/tfjs-backend-webgpu running on Dawn for Node (the
// `webgpu` npm package, prebuilt inside the package, no download at install), which drives the GPU
// through Vulkan on Linux. It is the GPU route that needs nothing from outside npm: a Vulkan driver
// (NVIDIA's, or Mesa's software lavapipe in CI) is all the machine must have.
//
// Must never leave TensorFlow.js on a software adapter unless asked: in the 'auto' chain lavapipe
// would beat no one (wasm is the CPU route) and would change every CPU machine's numbers. Must never
// compute on an adapter whose limits the run exceeds: see webgpu-limits.ts.
import { readdirSync } from 'node:fs';
import type { BackendInfo } from '../contracts.js';
import { tf } from './tf.js';
import { useWebgpuTrainingKernels } from './webgpu-kernels/register-webgpu-kernels.js';
import { checkWebgpuStepFits, type TrainingStepSize } from './webgpu-limits.js';

/** Options of {@link tryInitWebgpu} and {@link loadWebgpuBackend}. */
export interface WebgpuInitOptions {
  /**
   * Index of the GPU in Dawn's adapter order (discrete GPUs first, software adapters last).
   * Default: the single integer in CUDA_VISIBLE_DEVICES when the worker set one for `--gpu N`, else 0.
   */
  gpu?: number;
  /**
   * Accept a software adapter (lavapipe, SwiftShader). Default: false, unless
   * FLEET_WEBGPU_ALLOW_SOFTWARE=1; pass true when webgpu was asked for explicitly (`--backend webgpu`).
   */
  allowSoftware?: boolean;
}

/** What Dawn tells us about one adapter, in a form independent of the WebGPU type declarations. */
export interface AdapterSummary {
  /** Dawn's native device name, e.g. "NVIDIA A100-SXM4-80GB" or "llvmpipe (LLVM 15.0.6, 256 bits)". */
  name: string;
  /** Dawn backend, "vulkan" on Linux. */
  backend: string;
  vendor: string;
  architecture: string;
  description: string;
  /** true for CPU implementations such as lavapipe. */
  software: boolean;
}

/** Adapter limits the size guard needs, in bytes. */
export interface AdapterLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

export interface WebgpuBackendInfo extends BackendInfo {
  name: 'webgpu';
  info: string;
  adapter: AdapterSummary;
  limits: AdapterLimits;
}

/** Thrown when no usable adapter exists; `tryInitWebgpu` turns it into `undefined`. */
export class WebgpuUnavailableError extends Error {
  override readonly name = 'WebgpuUnavailableError';
}

// Minimal structural views of the Dawn objects we touch; the full @webgpu/types declarations stay out
// of the program (they are global and would leak into every file).
interface DawnAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter?: boolean;
}
interface DawnAdapter {
  info: DawnAdapterInfo;
  limits: AdapterLimits;
}
interface DawnGpu {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<DawnAdapter | null>;
}
interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: object;
}
interface DawnErrorEvent {
  error?: { message?: string };
}
interface WebgpuTfBackend {
  device: { limits: AdapterLimits; addEventListener(type: 'uncapturederror', listener: (e: DawnErrorEvent) => void): void };
}

/** A WebGPU validation/out-of-memory error: the results computed since are not trustworthy. */
export class WebgpuValidationError extends Error {
  override readonly name = 'WebgpuValidationError';
}

const VENDORS: Record<string, string> = { nvidia: 'NVIDIA', amd: 'AMD', intel: 'Intel', mesa: 'Mesa', apple: 'Apple', google: 'Google', qualcomm: 'Qualcomm', arm: 'ARM' };

/** A readable one-line adapter description, stored with each run (e.g. "NVIDIA / ampere / NVIDIA A100 (Vulkan)"). */
export function describeAdapter(a: AdapterSummary): string {
  const vendor = VENDORS[a.vendor.toLowerCase()] ?? a.vendor;
  const backend = a.backend === 'vulkan' ? 'Vulkan' : a.backend;
  if (a.software) {
    const driver = a.name.startsWith('llvmpipe') ? 'lavapipe, software' : 'software';
    const mesa = /Mesa [0-9][^ ]*/.exec(a.description)?.[0];
    return [vendor, a.name].filter(Boolean).join(' / ') + ` (${[driver, backend, mesa].filter(Boolean).join(', ')})`;
  }
  return [vendor, a.architecture, a.name].filter(Boolean).join(' / ') + ` (${backend})`;
}

/** Software adapters: Dawn flags them as fallback; older drivers only say so in the architecture. */
export function isSoftwareAdapter(info: Pick<DawnAdapterInfo, 'architecture' | 'device' | 'isFallbackAdapter'>): boolean {
  return info.isFallbackAdapter === true || info.architecture === 'software' || /^(llvmpipe|lavapipe|swiftshader)/i.test(info.device);
}

/**
 * Parses the adapter list Dawn puts in its "no adapter found" rejection. dawn.node exposes no
 * enumeration API, and `adapter=<name>` (a substring of the native device name) is its only way to
 * pick a device, so this list is how --gpu N finds the N-th adapter's name.
 */
export function parseAdapterList(message: string): { backend: string; name: string }[] {
  const out: { backend: string; name: string }[] = [];
  for (const m of message.matchAll(/^ \* backend: '([^']*)', name: '(.*)'$/gm)) out.push({ backend: m[1]!, name: m[2]! });
  return out;
}

/**
 * Chooses the `adapter=` flag for GPU index `gpu`. Dawn takes the FIRST adapter whose name contains
 * the flag, so an adapter that shares its name with an earlier one (two identical GPUs) cannot be
 * selected inside one process: that is an error naming the fix, never a silent pick of another GPU.
 */
export function adapterFlagFor(adapters: readonly { name: string }[], gpu: number): string {
  const target = adapters[gpu];
  if (!target) {
    const list = adapters.map((a, i) => `${i}: ${a.name}`).join(', ') || 'none';
    throw new WebgpuUnavailableError(`--gpu ${gpu}: no such WebGPU adapter (adapters: ${list})`);
  }
  const first = adapters.findIndex((a) => a.name.includes(target.name));
  if (first !== gpu) {
    throw new Error(
      `--gpu ${gpu}: adapter ${gpu} "${target.name}" has the same name as adapter ${first}, and Dawn selects adapters by name only; ` +
        `give each worker one GPU instead (docker: NVIDIA_VISIBLE_DEVICES=${gpu} with --gpu 0), see docs/gpu.md`,
    );
  }
  return `adapter=${target.name}`;
}

/**
 * Whether a Linux machine exposes any GPU device node (NVIDIA, DRM render node, WSL's dxg). Without
 * one, only a software adapter could exist: the auto chain then skips Dawn entirely (loading it
 * costs ~0.3 s and lavapipe prints warnings to stderr).
 */
export function hasGpuDeviceNode(dev = '/dev'): boolean {
  if (process.platform !== 'linux') return true;
  const names = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  return names(dev).some((n) => /^nvidia\d+$/.test(n) || n === 'dxg') || names(`${dev}/dri`).some((n) => n.startsWith('renderD'));
}

function defaultGpuIndex(): number {
  const cuda = process.env.CUDA_VISIBLE_DEVICES?.trim();
  return cuda !== undefined && /^\d+$/.test(cuda) ? Number(cuda) : 0;
}

let dawn: DawnModule | undefined;

async function loadDawn(): Promise<DawnModule> {
  if (!dawn) {
    // ESM-only package; importing it loads dawn.node (libc/libstdc++ only, Vulkan loaded lazily).
    const mod = (await import('webgpu')) as unknown as DawnModule;
    dawn = { create: mod.create, globals: mod.globals };
  }
  return dawn;
}

async function listAdapters(d: DawnModule): Promise<{ backend: string; name: string }[]> {
  try {
    // A name no device has: Dawn rejects and lists every adapter it enumerated, in its order.
    // It resolves null instead when there are no adapters at all.
    await d.create(['adapter=\u0001fleet-list-adapters']).requestAdapter({ powerPreference: 'high-performance' });
    return [];
  } catch (err) {
    return parseAdapterList(err instanceof Error ? err.message : String(err));
  }
}

function summarize(adapter: DawnAdapter, name: string, backend: string): AdapterSummary {
  const { vendor, architecture, description } = adapter.info;
  return { name, backend, vendor, architecture, description, software: isSoftwareAdapter(adapter.info) };
}

let initialized: WebgpuBackendInfo | undefined;
let initializedGpu = 0;
const deviceErrors: string[] = [];

/**
 * Loads Dawn, selects the adapter for `gpu`, registers and initialises TensorFlow.js's webgpu backend
 * and makes it current. Throws WebgpuUnavailableError when there is no (acceptable) adapter, other
 * errors when an adapter exists but cannot be used. Idempotent for the same adapter.
 */
export async function loadWebgpuBackend(options: WebgpuInitOptions = {}): Promise<WebgpuBackendInfo> {
  const gpu = options.gpu ?? defaultGpuIndex();
  const allowSoftware = options.allowSoftware ?? process.env.FLEET_WEBGPU_ALLOW_SOFTWARE === '1';
  if (initialized && tf.findBackend('webgpu')) {
    // One device per process: TensorFlow.js keeps the first webgpu backend it created.
    if (gpu !== initializedGpu) throw new Error(`webgpu is already running on GPU ${initializedGpu} (${initialized.info}); one process uses one GPU`);
    if (initialized.adapter.software && !allowSoftware) throw new WebgpuUnavailableError(`only a software adapter: ${initialized.info}`);
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") returned false');
    return initialized;
  }
  if (!allowSoftware && !hasGpuDeviceNode()) throw new WebgpuUnavailableError('no GPU device (/dev/nvidia*, /dev/dri/renderD*)');
  let d: DawnModule;
  try {
    d = await loadDawn();
  } catch (err) {
    throw new WebgpuUnavailableError(`the webgpu package (Dawn) did not load: ${err instanceof Error ? err.message : String(err)}`);
  }
  const adapters = await listAdapters(d);
  if (adapters.length === 0) throw new WebgpuUnavailableError('no WebGPU adapter (no Vulkan driver/ICD found; see docs/gpu.md)');
  const flag = adapterFlagFor(adapters, gpu);
  const gpuObject = d.create([flag]);
  const adapter = await gpuObject.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new WebgpuUnavailableError(`no WebGPU adapter for ${flag}`);
  const summary = summarize(adapter, adapters[gpu]!.name, adapters[gpu]!.backend);
  if (summary.software && !allowSoftware) {
    throw new WebgpuUnavailableError(`only a software adapter (${describeAdapter(summary)}); ask for --backend webgpu to use it`);
  }

  // tfjs-backend-webgpu registers 'webgpu' at import time only if navigator.gpu exists then, and asks
  // navigator.gpu for its adapter when the backend is first set: both must see the chosen instance.
  const g = globalThis as { navigator?: { gpu?: unknown } };
  Object.assign(globalThis, d.globals);
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  g.navigator!.gpu = gpuObject;
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!tf.findBackendFactory('webgpu')) {
    throw new Error('@tensorflow/tfjs-backend-webgpu was imported before navigator.gpu existed and did not register');
  }
  if (!(await tf.setBackend('webgpu'))) throw new Error(`the webgpu backend failed to start on ${describeAdapter(summary)}`);
  await tf.ready();
  // Our convolution kernels replace tfjs's (webgpu-kernels/); FLEET_WEBGPU_KERNELS=stock keeps tfjs's, to compare.
  useWebgpuTrainingKernels(process.env.FLEET_WEBGPU_KERNELS !== 'stock');
  const backend = tf.backend() as unknown as WebgpuTfBackend;
  // Dawn reports invalid dispatches only through this event (and stderr); the kernel is skipped and
  // its output left as zeros, so every such error must fail the run (see assertNoWebgpuErrors).
  backend.device.addEventListener('uncapturederror', (e) => {
    if (deviceErrors.length < 10) deviceErrors.push((e.error?.message ?? 'unknown WebGPU error').split('\n')[0]!);
  });
  const { maxStorageBufferBindingSize, maxBufferSize } = backend.device.limits;
  initializedGpu = gpu;
  initialized = { name: 'webgpu', info: describeAdapter(summary), adapter: summary, limits: { maxStorageBufferBindingSize, maxBufferSize } };
  return initialized;
}

/**
 * Like {@link loadWebgpuBackend} but resolves to undefined (the reason goes to `log`) when no usable
 * adapter exists, so a caller can fall through to the next backend.
 */
export async function tryInitWebgpu(options: WebgpuInitOptions = {}, log: (line: string) => void = () => {}): Promise<WebgpuBackendInfo | undefined> {
  try {
    return await loadWebgpuBackend(options);
  } catch (err) {
    if (!(err instanceof WebgpuUnavailableError)) throw err;
    log(`webgpu: ${err.message}`);
    return undefined;
  }
}

/** The limits of the webgpu backend when it is the current TensorFlow.js backend, else undefined. */
export function currentWebgpuLimits(): (AdapterLimits & { adapter: string }) | undefined {
  if (tf.getBackend() !== 'webgpu' || !initialized) return undefined;
  return { ...initialized.limits, adapter: initialized.info };
}

/**
 * The size guard for the current backend: throws WebgpuSizeError when webgpu is current and a
 * ResNet18 training step of this geometry needs a tensor larger than the adapter can bind. A no-op
 * on other backends. Call before training starts.
 */
export function assertWebgpuStepFits(step: TrainingStepSize): void {
  const limits = currentWebgpuLimits();
  if (limits) checkWebgpuStepFits(step, limits);
}

/**
 * Throws WebgpuValidationError when the device reported an error since the last call (and clears
 * them): results computed meanwhile are wrong. Cheap; call after each batch's data() or each epoch.
 */
export function assertNoWebgpuErrors(): void {
  if (deviceErrors.length === 0) return;
  const errors = deviceErrors.splice(0);
  throw new WebgpuValidationError(`webgpu: the GPU rejected work, results are invalid: ${errors[0]}${errors.length > 1 ? ` (+${errors.length - 1} more)` : ''}`);
}
