#!/usr/bin/env node
// Builds the oneDNN kernels addon (onednn-kernels.cpp beside this file) with the machine's C++
// compiler against the system oneDNN (Debian/Ubuntu: apt-get install g++ libdnnl-dev), into
// build/native/fleet_onednn.node at the repository root. Run by `npm install` (postinstall) and by
// `npm run build:native`. Never fails the install: where the addon cannot be built it prints one
// line saying the engine will run on plain wasm and how to get the native path, and exits 0.
// FLEET_NATIVE=0 skips the build (and the native path at run time).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../../../..');
const source = path.join(here, 'onednn-kernels.cpp');
// FLEET_NATIVE_BUILD_DIR: another output folder (the fallback spec builds into a temporary one).
const outDir = process.env.FLEET_NATIVE_BUILD_DIR ?? path.join(root, 'build', 'native');
const out = path.join(outDir, 'fleet_onednn.node');
const HOW = 'install a C++ compiler and oneDNN (Debian/Ubuntu: apt-get install g++ libdnnl-dev), then npm run build:native';

function fallback(reason) {
  console.log(`finetune-fleet: native oneDNN kernels not built (${reason}); the engine will run on plain wasm. For the native path: ${HOW}`);
  process.exit(0);
}

if (process.env.FLEET_NATIVE === '0') fallback('FLEET_NATIVE=0');
const force = process.argv.includes('--force');
if (!force && existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) process.exit(0);

/** Node-API headers: node's own (node-gyp layout), else the node-api-headers package. */
function nodeApiInclude() {
  const candidates = [path.resolve(process.execPath, '../../include/node'), '/usr/include/node', '/usr/local/include/node'];
  try {
    candidates.push(path.join(path.dirname(fileURLToPath(import.meta.resolve('node-api-headers/package.json'))), 'include'));
  } catch {
    // optional
  }
  return candidates.find((dir) => existsSync(path.join(dir, 'node_api.h')));
}

const cxx = process.env.CXX ?? 'g++';
if (spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status !== 0) fallback(`no C++ compiler '${cxx}'`);
const include = nodeApiInclude();
if (!include) fallback('no Node-API headers (node_api.h)');

mkdirSync(outDir, { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
// -ffp-contract=off: no fused multiply-adds, so BatchNorm's float32 arithmetic rounds exactly as
// the wasm path's does. No -march=native: the file may run on another CPU than the one that built
// it (images); hot loops carry target_clones and oneDNN dispatches on the CPU it finds.
const args = ['-O3', '-std=c++17', '-shared', '-fPIC', '-fopenmp', '-ffp-contract=off', '-fvisibility=hidden', `-I${include}`, source, '-o', tmp, '-ldnnl'];
const started = Date.now();
const r = spawnSync(cxx, args, { encoding: 'utf8' });
if (r.status !== 0) {
  const firstError = (r.stderr || r.error?.message || '').split('\n').find((l) => /error|not found|No such file/.test(l)) ?? `exit ${r.status}`;
  fallback(`${cxx} failed: ${firstError.trim()}`);
}
renameSync(tmp, out);
console.log(`finetune-fleet: built native oneDNN kernels (${path.relative(root, out)}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
