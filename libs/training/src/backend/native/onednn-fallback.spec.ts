// Where the native addon cannot be built or loaded, `npm install` still succeeds with one line
// saying so and how to get the native path, and the engine runs on plain wasm.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../init-backend.js';

const BUILD_SCRIPT = path.join(process.cwd(), 'libs/training/src/backend/native/build.mjs');

function build(env: Record<string, string>): { status: number | null; stdout: string; outDir: string } {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'ff-native-build-'));
  const r = spawnSync(process.execPath, [BUILD_SCRIPT, '--force'], { encoding: 'utf8', env: { ...process.env, FLEET_NATIVE_BUILD_DIR: outDir, ...env } });
  return { status: r.status, stdout: r.stdout, outDir };
}

describe('native kernels fallback', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it.each([
    ['no compiler', { CXX: '/nonexistent/g++' }, /no C\+\+ compiler/],
    ['FLEET_NATIVE=0', { FLEET_NATIVE: '0' }, /FLEET_NATIVE=0/],
  ])('install succeeds with one line when the addon cannot be built: %s', (_name, env, reason) => {
    const r = build(env);
    dirs.push(r.outDir);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(reason);
    expect(lines[0]).toMatch(/will run on plain wasm.*apt-get install g\+\+ libdnnl-dev/);
    expect(existsSync(path.join(r.outDir, 'fleet_onednn.node'))).toBe(false);
  });

  it('install succeeds when the compiler finds no oneDNN, naming the compiler error', () => {
    const fakeDir = mkdtempSync(path.join(os.tmpdir(), 'ff-fake-cxx-'));
    dirs.push(fakeDir);
    const fake = path.join(fakeDir, 'g++');
    writeFileSync(fake, '#!/bin/sh\n[ "$1" = --version ] && exit 0\necho "onednn-kernels.cpp:13:10: fatal error: oneapi/dnnl/dnnl.hpp: No such file or directory" >&2\nexit 1\n');
    chmodSync(fake, 0o755);
    const r = build({ CXX: fake });
    dirs.push(r.outDir);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/dnnl\.hpp: No such file or directory.*will run on plain wasm/);
  });

  it('the engine falls back to plain wasm when the addon is missing, and says why when it is asked for', async () => {
    const saved = process.env.FLEET_ONEDNN_ADDON;
    process.env.FLEET_ONEDNN_ADDON = '/nonexistent/fleet_onednn.node';
    try {
      await expect(initBackend('wasm+onednn')).rejects.toThrow(/not built.*apt-get install g\+\+ libdnnl-dev/);
      const backend = await initBackend('auto');
      expect(backend.name).toBe('wasm');
    } finally {
      if (saved === undefined) delete process.env.FLEET_ONEDNN_ADDON;
      else process.env.FLEET_ONEDNN_ADDON = saved;
    }
  });
});
