#!/bin/bash
# Runs on the GPU machine after bench/device/prepare.sh: differential testing of the CUDA target on random models.
cd "$(dirname "$0")"
[ -x /tmp/node ] || { xz -dc node.xz > /tmp/node && chmod +x /tmp/node; }
export MOEC_CACHE=/tmp/moec-cache
timeout -s KILL ${DIFF_S:-300} /tmp/node diff-check.mjs --runs ${RUNS:-200} --seed ${SEED:-1} 2>&1 | tee $OUT/diff-check.log
exit 0
