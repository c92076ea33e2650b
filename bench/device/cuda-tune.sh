#!/bin/bash
# Runs on the GPU machine after bench/device/prepare.sh: bench:cuda at Mixtral's shapes with other tall tiles (one
# JSON of MmaTile fields per argument), to choose the default; each result in $OUT/tune-N.md.
cd "$(dirname "$0")"
[ -x /tmp/node ] || { xz -dc node.xz > /tmp/node && chmod +x /tmp/node; }
export MOEC_CACHE=/tmp/moec-cache
n=0
for tile in "$@"; do
  n=$((n + 1))
  timeout -s KILL ${TUNE_S:-60} /tmp/node bench-cuda.mjs --precision bf16 --shapes ${SHAPES:-mixtral} --tokens ${TOKENS:-4096,16384} --tall "$tile" --out $OUT/tune-$n > $OUT/tune-$n.log 2>&1
  echo "$tile: $(grep -o '"tokens":[0-9]*,"ms":[0-9.]*' $OUT/tune-$n.log | tr '\n' ' ')"
done
exit 0
