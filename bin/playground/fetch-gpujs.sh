#!/usr/bin/env bash
# gpu.js's browser build for the playground's WebGL fallback (package.json postinstall). Every gpu.js 2.x on npm
# depends on `gl` (headless-gl: a native addon with an install script) and on a `webgpu` Dawn binding (63–84 MB);
# the page needs only dist/gpu-browser.min.js (self-contained, no native code). So instead of installing the
# package, this takes that one file from gpu.js 2.16.0's tarball (`npm pack`, checked against its published
# shasum) into node_modules/.cache/moec/. Idempotent; offline or MOEC_SKIP_SYSTEM_SETUP=1 it does nothing and the
# playground runs its kernels as JavaScript where WebGPU is missing.
set -euo pipefail

[ "${MOEC_SKIP_SYSTEM_SETUP:-}" = 1 ] && exit 0
cd "$(dirname "$0")/../.."
version=2.16.0
shasum=35531f8ee79292b71a454455e7bf0aaf6693182a
dest=node_modules/.cache/moec/gpu.js-$version
[ -f "$dest/gpu-browser.min.js" ] && exit 0
[ -f node_modules/gpu.js/dist/gpu-browser.min.js ] && exit 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! tarball=$(npm pack "gpu.js@$version" --pack-destination "$tmp" --silent 2>/dev/null); then
  echo "moec: could not fetch gpu.js $version (offline?); the playground's WebGL fallback needs it" >&2
  exit 0
fi
if [ "$(sha1sum "$tmp/$tarball" | cut -d' ' -f1)" != "$shasum" ]; then
  echo "moec: gpu.js $version's tarball does not match its published shasum; not using it" >&2
  exit 0
fi
mkdir -p "$dest"
tar -xzf "$tmp/$tarball" -C "$tmp" package/dist/gpu-browser.min.js package/LICENSE
cp "$tmp/package/dist/gpu-browser.min.js" "$tmp/package/LICENSE" "$dest/"
