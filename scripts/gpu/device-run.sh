#!/bin/bash
# Device run: adapter info, webgpu parity vs torchvision fixtures, ResNet18 224/b16 img/s webgpu vs
# PyTorch CUDA, and the per-convolution breakdown of a training step on both. `run.sh ops`: the last only.
set -u
cd "$(dirname "$0")"   # the bundle folder (.gpu) that scripts/gpu/pack-device-bundle.sh made
for f in ../.gl/*.deb; do dpkg -x "$f" /; done; ldconfig
xz -dc node.xz > /tmp/node && chmod +x /tmp/node
xz -dc dawn.node.xz > app/node_modules/webgpu/dist/linux-x64/dawn.node
echo "== node $(/tmp/node -v); $(uname -r); $(python3 -c 'import torch,torchvision;print("torch",torch.__version__,"torchvision",torchvision.__version__,torch.cuda.get_device_name(0))' 2>&1)"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
ICD=$(ls /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
[ -z "$ICD" ] && ICD=$(find / -xdev -name 'nvidia_icd*.json' 2>/dev/null | head -1)
echo "== ICD: ${ICD:-none}"; [ -n "$ICD" ] && cat "$ICD"
export VK_ICD_FILENAMES=$ICD VK_DRIVER_FILES=$ICD LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/nvidia/lib:${LD_LIBRARY_PATH:-}
ldconfig -p | grep -E 'libvulkan|libGLX_nvidia' | head -5; ls /usr/local/nvidia/lib64 2>/dev/null | grep -iE 'glx|vulkan' | head
ldd /usr/local/nvidia/lib64/libGLX_nvidia.so.0 | grep -i "not found"
cd app
if [ "${1:-all}" = all ]; then
echo "== gpu-check"; timeout 120 /tmp/node gpu-check.mjs --fixtures ../../test/fixtures/parity; echo "rc=$?"
echo "== bench:train webgpu vs PyTorch CUDA (224 px, batch 16)"
timeout 240 /tmp/node train.mjs --backend webgpu --steps 20 --python "$(command -v python3)"; echo "rc=$?"
fi
echo "== bench:train-ops webgpu (224 px, batch 16): where a finetune step's time goes"
timeout 180 /tmp/node train-ops.mjs --backend webgpu --reps 5; echo "rc=$?"
echo "== PyTorch CUDA, same shapes"
timeout 120 python3 ../../scripts/gpu/torch-train-ops.py; echo "rc=$?"
