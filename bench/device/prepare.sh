#!/bin/bash
# Assembles bench/.device/ (ignored by git; carried to the GPU machine with `run`'s carry): the benchmark and check
# scripts bundled by esbuild, the Node binary from ../shared/bin, the webgpu package's dawn.node (xz), koffi and its
# linux-x64 binary, Debian's Vulkan loader and glvnd libraries (.deb, unpacked there), three fixtures, PyTorch's side.
# Then, on the device (run with carry bench/.device): `bash bench/.device/webgpu.sh` (WebGPU fixtures + bench:webgpu),
# `bash bench/.device/cuda-check.sh` (CUDA fixtures in f32 and bf16, attention), `bash bench/.device/cuda-bench.sh` (bench:cuda),
# `bash bench/.device/ep.sh` (expert parallelism through NCCL: the fixtures, then bench:ep).
set -euo pipefail
cd "$(dirname "$0")/../.."
D=bench/.device
mkdir -p $D/node_modules/webgpu/dist/linux-x64 $D/node_modules/@koromix/koffi-linux-x64 $D/gl $D/fixtures
B=(--bundle --platform=node --format=esm --external:webgpu --external:binaryen --external:koffi "--banner:js=import { createRequire } from 'module'; const require = createRequire(import.meta.url);")
node_modules/.bin/esbuild bench/webgpu/gpu-check.ts "${B[@]}" --outfile=$D/gpu-check.mjs
node_modules/.bin/esbuild bench/webgpu/run.ts "${B[@]}" --outfile=$D/bench-webgpu.mjs
node_modules/.bin/esbuild bench/cuda/gpu-check.ts "${B[@]}" --outfile=$D/cuda-check.mjs
node_modules/.bin/esbuild bench/cuda/run.ts "${B[@]}" --outfile=$D/bench-cuda.mjs
node_modules/.bin/esbuild bench/cuda/ep-check.ts "${B[@]}" --outfile=$D/ep-check.mjs
node_modules/.bin/esbuild bench/cuda/ep-bench.ts "${B[@]}" --outfile=$D/ep-bench.mjs
node_modules/.bin/esbuild bench/cuda/diff-check.ts "${B[@]}" --outfile=$D/diff-check.mjs
cp bench/torch_moe.py bench/device/*.sh $D/
[ -f $D/node.xz ] || cp ../shared/bin/node-v20-linux-x64.xz $D/node.xz
cp node_modules/webgpu/index.js node_modules/webgpu/package.json $D/node_modules/webgpu/
[ -f $D/node_modules/webgpu/dist/linux-x64/dawn.node.xz ] || xz -9c node_modules/webgpu/dist/linux-x64/dawn.node > $D/node_modules/webgpu/dist/linux-x64/dawn.node.xz
cp -r node_modules/koffi $D/node_modules/
cp -r node_modules/@koromix/koffi-linux-x64/{package.json,index.js,linux_x64} $D/node_modules/@koromix/koffi-linux-x64/
(cd $D/gl && for p in libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2; do ls ${p}_*.deb >/dev/null 2>&1 || apt-get download $p; done)
for f in mixtral olmoe switch; do [ -d $D/fixtures/$f ] || cp -r ../shared/fixtures/hf/$f $D/fixtures/; done
du -sh $D
