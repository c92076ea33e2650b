#!/bin/bash
# Runs on the GPU machine from the repository root after bench/device/prepare.sh (copied into bench/.device):
# PyTorch's bf16 variants, then bench:cuda rendered for the GPU (sm_90a's wgmma on an H100) and, with SM80=1, for
# sm_80 (mma.sync) too; with NCU=1, Nsight Compute's profile of the expert matmuls at Mixtral, 4096 tokens.
cd "$(dirname "$0")"
[ -x /tmp/node ] || { xz -dc node.xz > /tmp/node && chmod +x /tmp/node; }
export MOEC_CACHE=/tmp/moec-cache
timeout -s KILL 80 python3 torch_moe.py --out /tmp/torch-cuda --shapes mixtral,qwen,olmoe --tokens 16,512,4096,16384 --variants bf16-loop,bf16-grouped_mm > $OUT/torch.log 2>&1; echo "torch exit $?" >> $OUT/torch.log
cp /tmp/torch-cuda/timings.json $OUT/ 2>/dev/null
timeout -s KILL 110 /tmp/node bench-cuda.mjs --precision bf16 --torch /tmp/torch-cuda --out $OUT/cuda-moe --shapes mixtral,qwen,olmoe > $OUT/moec.log 2>&1; echo "moec exit $?" >> $OUT/moec.log
tail -2 $OUT/torch.log; tail -16 $OUT/moec.log
if [ -n "$SM80" ]; then
  timeout -s KILL 110 /tmp/node bench-cuda.mjs --precision bf16 --arch sm_80 --torch /tmp/torch-cuda --out $OUT/cuda-moe-sm80 --shapes mixtral,qwen,olmoe > $OUT/moec-sm80.log 2>&1; echo "moec sm_80 exit $?" >> $OUT/moec-sm80.log
  tail -16 $OUT/moec-sm80.log
fi
if [ -n "$NCU" ]; then
  NCU_BIN=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
  timeout -s KILL ${NCU_S:-120} $NCU_BIN --clock-control none --kernel-name regex:'k[34]_.*grouped_linear$' --launch-count 2 \
    --section SpeedOfLight --section Occupancy --section LaunchStats --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis --section WarpStateStats \
    /tmp/node bench-cuda.mjs --precision bf16 --shapes mixtral --tokens 4096 --out /tmp/ncu-bench > $OUT/ncu.log 2>&1; echo "ncu exit $?" >> $OUT/ncu.log
  grep -E "k[34]_|Duration|Throughput|Achieved Occupancy|Registers|Shared Memory Config|Warp Cycles|Stall|Block Limit|exit" $OUT/ncu.log | head -60
fi
exit 0
