#!/usr/bin/env bash
# Packs what a bare GPU machine (no network, no Node, PyTorch present) needs to run the webgpu
# checks: a linux-x64 node binary, bench/gpu-check, bench/train and bench/train-ops bundled with esbuild (no
# node_modules), Dawn's linux-x64 dawn.node, and the Vulkan loader + GL vendor-neutral dispatch
# debs that NVIDIA's Vulkan ICD (libGLX_nvidia.so.0) needs. Output: .gpu/ and .gl/ (about 40 MB,
# both git-ignored). On the GPU machine, from the repository root: bash .gpu/run.sh
# The first try without libglvnd0 failed with "Could not get 'vkCreateInstance' via
# 'vk_icdGetInstanceProcAddr' for ICD libGLX_nvidia.so.0": the ICD needs libGLdispatch.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run build >/dev/null
rm -rf .gpu && mkdir -p .gpu/app/node_modules/webgpu/dist/linux-x64 .gl
for f in gpu-check train train-ops; do
  # webgpu stays external (it loads dawn.node beside itself); the optional native and wasm backends are never loaded there.
  npx --yes esbuild@0.25.12 "dist/bench/$f.js" --bundle --platform=node --format=esm --target=node20 --outfile=".gpu/app/$f.mjs" \
    --external:webgpu --external:@tensorflow/tfjs-backend-wasm --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" --log-level=warning
done
cp node_modules/webgpu/package.json node_modules/webgpu/index.js .gpu/app/node_modules/webgpu/
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node >.gpu/dawn.node.xz
xz -T0 -6 -c "$(command -v node)" >.gpu/node.xz
cp scripts/gpu/device-run.sh .gpu/run.sh
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
mkdir -p /tmp/amd64/partial
# shellcheck disable=SC2086
apt-get $o update >/dev/null && (cd .gl && apt-get $o download libvulkan1 libglvnd0 libegl1 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
du -sh .gpu .gl
