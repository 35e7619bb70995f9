#!/bin/bash
# Device run, one script for one short GPU session: adapter info, webgpu parity vs torchvision
# fixtures, ResNet18 img/s webgpu vs PyTorch CUDA at batch 16 and 64, and the per-convolution
# breakdown of a training step: tfjs's stock webgpu kernels vs ours vs PyTorch CUDA, same shapes.
# `run.sh ops`: the last only. Time budget: the whole script stays under ~9 minutes (one device call).
# Locally on lavapipe (no NVIDIA, no PyTorch CUDA needed for the webgpu half):
#   FLEET_DEVICE_LOCAL=1 VK_ICD_FILENAMES=$(bash scripts/ci/install-lavapipe.sh) \
#   FLEET_IMAGE_SIZE=64 FLEET_BATCHES="4" FLEET_TORCH_DEVICE=cpu bash .gpu/run.sh
set -u
cd "$(dirname "$0")"   # the bundle folder (.gpu) that scripts/gpu/pack-device-bundle.sh made
SIZE=${FLEET_IMAGE_SIZE:-224}
BATCHES=${FLEET_BATCHES:-16 64}
xz -dc node.xz > /tmp/node && chmod +x /tmp/node
xz -dc dawn.node.xz > app/node_modules/webgpu/dist/linux-x64/dawn.node
if [ -z "${FLEET_DEVICE_LOCAL:-}" ]; then
  for f in ../.gl/*.deb; do dpkg -x "$f" /; done; ldconfig
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
  ICD=$(ls /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
  [ -z "$ICD" ] && ICD=$(find / -xdev -name 'nvidia_icd*.json' 2>/dev/null | head -1)
  echo "== ICD: ${ICD:-none}"; [ -n "$ICD" ] && cat "$ICD"
  export VK_ICD_FILENAMES=$ICD VK_DRIVER_FILES=$ICD LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/nvidia/lib:${LD_LIBRARY_PATH:-}
  ldconfig -p | grep -E 'libvulkan|libGLX_nvidia' | head -5
  ldd /usr/local/nvidia/lib64/libGLX_nvidia.so.0 2>/dev/null | grep -i "not found"
else
  export FLEET_WEBGPU_ALLOW_SOFTWARE=1
fi
echo "== node $(/tmp/node -v); $(uname -r); $(python3 -c 'import torch,torchvision;print("torch",torch.__version__,"torchvision",torchvision.__version__,torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA")' 2>&1)"
cd app
if [ "${1:-all}" = all ]; then
  echo "== gpu-check (parity with our kernels)"; timeout 60 /tmp/node gpu-check.mjs --fixtures ../../test/fixtures/parity; echo "rc=$?"
  for B in $BATCHES; do
    echo "== bench:train webgpu vs PyTorch (${SIZE} px, batch ${B})"
    timeout 150 /tmp/node train.mjs --backend webgpu --image-size "$SIZE" --batch-size "$B" --steps 10 --python "$(command -v python3)"; echo "rc=$?"
  done
fi
B=${BATCHES%% *}
echo "== bench:train-ops webgpu, stock tfjs kernels vs ours (${SIZE} px, batch ${B}): where a finetune step's time goes"
timeout 120 /tmp/node train-ops.mjs --backend webgpu --image-size "$SIZE" --batch-size "$B" --reps 5; echo "rc=$?"
echo "== PyTorch ${FLEET_TORCH_DEVICE:-cuda}, same shapes"
FLEET_IMAGE_SIZE=$SIZE FLEET_BATCH=$B timeout 60 python3 ../../scripts/gpu/torch-train-ops.py; echo "rc=$?"
