#!/bin/bash
# Runs on the GPU machine from the repository root after bench/device/prepare.sh (copied into bench/.device).
# On the H100: the fixtures and attention through the CUDA target (f32 and bf16), then bench:cuda in bf16.
cd "$(dirname "$0")"
[ -x /tmp/node ] || { xz -dc node.xz > /tmp/node && chmod +x /tmp/node; }
export MOEC_CACHE=/tmp/moec-cache
timeout ${CHECK_S:-200} /tmp/node cuda-check.mjs fixtures/mixtral fixtures/olmoe fixtures/switch ../../tests/fixtures/hf/qwen2_moe ../../tests/fixtures/hf/deepseek_v3 ../../tests/fixtures/hf/granitemoe 2>&1 | tee $OUT/cuda-check.log
[ -n "$NO_BENCH" ] && exit 0
timeout ${TORCH_S:-200} python3 torch_moe.py --out /tmp/torch-cuda --shapes ${SHAPES:-mixtral,qwen,olmoe} --tokens ${TOKENS:-16,512,4096,16384} > $OUT/torch.log 2>&1
cp /tmp/torch-cuda/timings.json $OUT/ 2>/dev/null
timeout ${MOEC_S:-200} /tmp/node bench-cuda.mjs --precision bf16 --torch /tmp/torch-cuda --out $OUT/cuda-moe --shapes ${SHAPES:-mixtral,qwen,olmoe} 2>&1 | tee $OUT/moec.log
exit 0
