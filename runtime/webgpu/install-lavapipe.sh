#!/usr/bin/env bash
# What WebGPU needs on a Linux machine without a GPU, run by `npm ci` (package.json postinstall): Mesa's lavapipe
# (a Vulkan driver on the CPU) from Mesa 25 or later, which Dawn accepts. Debian bookworm ships Mesa 22, which Dawn
# rejects; bookworm-backports has 25. Elsewhere (macOS, Windows, a machine with a GPU driver, no root) it says what
# to do and leaves the system alone. MOEC_SKIP_SYSTEM_SETUP=1 skips it. Installed as a dependency (npm's postinstall
# under node_modules/) it never touches the system: it says how to run it. It exits 0 whatever happens, so it never
# fails an install.
set -euo pipefail

[ "${MOEC_SKIP_SYSTEM_SETUP:-}" = 1 ] && exit 0
[ "$(uname -s)" = Linux ] || exit 0

installed() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true; }
major=$(installed | sed -E 's/^([0-9]+).*/\1/')
if [ -n "$major" ] && [ "$major" -ge 25 ]; then exit 0; fi
# Installed as a dependency: never the user's system, only how to do it.
if [ "${npm_lifecycle_event:-}" = postinstall ] && case "$PWD" in */node_modules/*) true ;; *) false ;; esac; then
  echo "moec: WebGPU on a machine without a GPU needs Mesa >= 25 lavapipe; 'sudo bash $PWD/runtime/webgpu/install-lavapipe.sh' installs it on Debian bookworm" >&2
  exit 0
fi

if ! command -v apt-get >/dev/null || ! grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
  echo "moec: WebGPU on the CPU needs Mesa >= 25 lavapipe (mesa-vulkan-drivers); install it to run the WebGPU tests" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=sudo; else
    echo "moec: run 'sudo bash runtime/webgpu/install-lavapipe.sh' to install Mesa 25 lavapipe for the WebGPU tests" >&2
    exit 0
  fi
fi

install() {
  $sudo tee /etc/apt/sources.list.d/moec-bookworm-backports.sources >/dev/null <<'SOURCES' || return 1
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  $sudo apt-get update -qq || return 1
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
}
echo "moec: installing Mesa 25 lavapipe from bookworm-backports (WebGPU on the CPU)" >&2
# Offline or a broken apt: a warning, not a failed install.
install || echo "moec: could not install Mesa 25 lavapipe (apt failed; offline?); the WebGPU tests need it: run 'sudo bash runtime/webgpu/install-lavapipe.sh' later" >&2
