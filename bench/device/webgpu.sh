#!/bin/bash
# Runs on the H100 machine from the repository root: PyTorch's side, moec's WGSL side, the fixtures.
# (Copied into bench/.device by bench/device/prepare.sh and run from there.)
cd "$(dirname "$0")"
xz -dc node.xz > /tmp/node && chmod +x /tmp/node
xz -dc node_modules/webgpu/dist/linux-x64/dawn.node.xz > node_modules/webgpu/dist/linux-x64/dawn.node
for f in gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
timeout ${TORCH_S:-200} python3 torch_moe.py --out /tmp/torch ${TORCH_ARGS} 2>&1 | tee $OUT/torch.log
cp /tmp/torch/timings.json $OUT/ 2>/dev/null
timeout ${MOEC_S:-300} /tmp/node bench-webgpu.mjs --adapter nvidia --torch /tmp/torch --out $OUT/webgpu-moe ${MOEC_ARGS} 2>&1 | tee $OUT/moec.log
[ -n "$CHECK" ] && timeout 120 /tmp/node gpu-check.mjs --adapter nvidia --n 4096 fixtures/mixtral fixtures/olmoe fixtures/switch ../../tests/fixtures/hf/qwen2_moe ../../tests/fixtures/hf/deepseek_v3 ../../tests/fixtures/hf/granitemoe 2>&1 | tee $OUT/check.log
exit 0
