#!/bin/bash
# Runs on the GPU machine from the repository root after bench/device/prepare.sh (copied into bench/.device).
# On the H100: the fixtures through the CUDA target (f32; bf16 for sm_80 and sm_90a) and, unless NO_ATTENTION is set,
# the fused attention.
cd "$(dirname "$0")"
[ -x /tmp/node ] || { xz -dc node.xz > /tmp/node && chmod +x /tmp/node; }
export MOEC_CACHE=/tmp/moec-cache
timeout -s KILL ${CHECK_S:-200} /tmp/node cuda-check.mjs ${NO_ATTENTION:+--no-attention} fixtures/mixtral fixtures/olmoe fixtures/switch ../../tests/fixtures/hf/qwen2_moe ../../tests/fixtures/hf/deepseek_v3 ../../tests/fixtures/hf/granitemoe 2>&1 | tee $OUT/cuda-check.log
exit 0
