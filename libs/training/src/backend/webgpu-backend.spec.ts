// The pure parts of the webgpu backend: adapter listing, --gpu selection, descriptions. The parts
// that need an adapter are in webgpu.webgpu.spec.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adapterFlagFor, describeAdapter, hasGpuDeviceNode, isSoftwareAdapter, parseAdapterList, WebgpuUnavailableError } from './webgpu-backend.js';

// dawn.node 0.6.2's rejection text for an `adapter=` flag that matches nothing.
const DAWN_LIST =
  "no suitable backends found\nAvailable adapters:\n * backend: 'vulkan', name: 'NVIDIA A100-SXM4-80GB'\n" +
  " * backend: 'vulkan', name: 'NVIDIA A100-SXM4-80GB'\n * backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)'";

describe('parseAdapterList', () => {
  it("reads Dawn's adapter list in order", () => {
    expect(parseAdapterList(DAWN_LIST)).toEqual([
      { backend: 'vulkan', name: 'NVIDIA A100-SXM4-80GB' },
      { backend: 'vulkan', name: 'NVIDIA A100-SXM4-80GB' },
      { backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)' },
    ]);
    expect(parseAdapterList('unrelated error')).toEqual([]);
  });
});

describe('adapterFlagFor', () => {
  const adapters = parseAdapterList(DAWN_LIST);

  it('selects the N-th adapter by its name', () => {
    expect(adapterFlagFor(adapters, 0)).toBe('adapter=NVIDIA A100-SXM4-80GB');
    expect(adapterFlagFor(adapters, 2)).toBe('adapter=llvmpipe (LLVM 15.0.6, 256 bits)');
  });

  it('refuses an index Dawn cannot select rather than silently using another GPU', () => {
    expect(() => adapterFlagFor(adapters, 1)).toThrow(/adapter 1 "NVIDIA A100-SXM4-80GB" has the same name as adapter 0.*NVIDIA_VISIBLE_DEVICES=1/);
  });

  it('reports a missing index as unavailable, listing the adapters', () => {
    expect(() => adapterFlagFor(adapters, 3)).toThrow(WebgpuUnavailableError);
    expect(() => adapterFlagFor(adapters, 3)).toThrow(/--gpu 3: no such WebGPU adapter \(adapters: 0: NVIDIA A100-SXM4-80GB, 1: NVIDIA/);
  });
});

describe('describeAdapter', () => {
  it('reads vendor / architecture / name (backend)', () => {
    expect(describeAdapter({ name: 'NVIDIA A100-SXM4-80GB', backend: 'vulkan', vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA: 550.54.15', software: false })).toBe(
      'NVIDIA / ampere / NVIDIA A100-SXM4-80GB (Vulkan)',
    );
  });

  it('marks lavapipe as software with its Mesa version', () => {
    expect(
      describeAdapter({ name: 'llvmpipe (LLVM 15.0.6, 256 bits)', backend: 'vulkan', vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1', software: true }),
    ).toBe('Mesa / llvmpipe (LLVM 15.0.6, 256 bits) (lavapipe, software, Vulkan, Mesa 25.0.7-2~bpo12+1)');
  });
});

describe('isSoftwareAdapter', () => {
  it('recognises fallback adapters and llvmpipe, not GPUs', () => {
    expect(isSoftwareAdapter({ architecture: 'software', device: 'llvmpipe-llvm-15', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ architecture: '', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ architecture: 'ampere', device: 'NVIDIA A100', isFallbackAdapter: false })).toBe(false);
  });
});

describe('hasGpuDeviceNode', () => {
  const dev = mkdtempSync(path.join(os.tmpdir(), 'fleet-dev-'));
  afterAll(() => rmSync(dev, { recursive: true, force: true }));

  it('sees NVIDIA and DRM render nodes, not a machine without them', () => {
    if (process.platform !== 'linux') return;
    mkdirSync(path.join(dev, 'dri'));
    writeFileSync(path.join(dev, 'nvidiactl'), '');
    writeFileSync(path.join(dev, 'dri', 'card0'), '');
    expect(hasGpuDeviceNode(dev)).toBe(false);
    writeFileSync(path.join(dev, 'dri', 'renderD128'), '');
    expect(hasGpuDeviceNode(dev)).toBe(true);
    rmSync(path.join(dev, 'dri', 'renderD128'));
    writeFileSync(path.join(dev, 'nvidia0'), '');
    expect(hasGpuDeviceNode(dev)).toBe(true);
  });
});
