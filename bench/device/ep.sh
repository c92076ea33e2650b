#!/bin/bash
# Runs on the GPU machine from the repository root after bench/device/prepare.sh (copied into bench/.device).
# Expert parallelism through NCCL on every GPU of the machine (1 GPU: the same path with local exchanges): the
# fixtures against the single-device reference (ep-check), then one Mixtral layer in bf16 (bench:ep).
cd "$(dirname "$0")"
[ -x /tmp/node ] || { xz -dc node.xz > /tmp/node && chmod +x /tmp/node; }
export MOEC_CACHE=/tmp/moec-cache
nvidia-smi -L 2>&1 | tee $OUT/gpus.log
timeout -s KILL ${CHECK_S:-240} /tmp/node ep-check.mjs fixtures/mixtral fixtures/olmoe fixtures/switch ../../tests/fixtures/hf/qwen2_moe ../../tests/fixtures/hf/deepseek_v3 ../../tests/fixtures/hf/granitemoe 2>&1 | tee $OUT/ep-check.log
[ -n "${NO_BENCH:-}" ] || timeout -s KILL ${BENCH_S:-300} /tmp/node ep-bench.mjs 2>&1 | tee $OUT/ep-bench.log
exit 0
