#!/usr/bin/env bash
# What `npm ci` installs besides node_modules (package.json postinstall), for the tests that run on a machine without
# a GPU: Mesa 25's lavapipe (WebGPU on the CPU), Debian's chromium (the playground's browser test) and gpu.js's
# browser build (the playground's WebGL fallback). Each step is idempotent and says what to do where it cannot act
# (no apt, no root); none fails the install. Installed as a dependency (under node_modules/) it touches nothing and
# goes to no network. MOEC_SKIP_SYSTEM_SETUP=1 skips it all.
set -uo pipefail

[ "${MOEC_SKIP_SYSTEM_SETUP:-}" = 1 ] && exit 0
case "${BASH_SOURCE[0]}" in */*) root="${BASH_SOURCE[0]%/*}/.." ;; *) root=.. ;; esac
cd "$root" || exit 0
case "$PWD" in
  */node_modules/*)
    echo "moec: the test machine setup (lavapipe, chromium, gpu.js) is for developing moec; 'bash $PWD/bin/setup-system.sh' runs it" >&2
    exit 0 ;;
esac
for step in runtime/webgpu/install-lavapipe.sh bin/playground/install-chromium.sh bin/playground/fetch-gpujs.sh; do
  bash "$step" || echo "moec: $step failed; the tests that need it will say so" >&2
done
exit 0
