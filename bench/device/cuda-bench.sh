#!/bin/bash
# Runs on the GPU machine from the repository root after bench/device/prepare.sh (copied into bench/.device).
cd "$(dirname "$0")"
[ -x /tmp/node ] || { xz -dc node.xz > /tmp/node && chmod +x /tmp/node; }
export MOEC_CACHE=/tmp/moec-cache
timeout -s KILL 80 python3 torch_moe.py --out /tmp/torch-cuda --shapes mixtral,qwen,olmoe --tokens 16,512,4096,16384 --variants bf16-loop,bf16-grouped_mm > $OUT/torch.log 2>&1; echo "torch exit $?" >> $OUT/torch.log
cp /tmp/torch-cuda/timings.json $OUT/ 2>/dev/null
timeout -s KILL 110 /tmp/node bench-cuda.mjs --precision bf16 --torch /tmp/torch-cuda --out $OUT/cuda-moe --shapes mixtral,qwen,olmoe > $OUT/moec.log 2>&1; echo "moec exit $?" >> $OUT/moec.log
tail -2 $OUT/torch.log; tail -16 $OUT/moec.log
exit 0
