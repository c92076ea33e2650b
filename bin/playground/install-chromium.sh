#!/usr/bin/env bash
# What the playground's browser test needs, run by `npm ci` (package.json postinstall) like
# runtime/webgpu/install-lavapipe.sh: Debian's `chromium` package, a real browser to drive headless over the DevTools
# protocol (no puppeteer or playwright download). Idempotent; without apt or root it says what to do and leaves the
# system alone. MOEC_SKIP_SYSTEM_SETUP=1 skips it.
set -euo pipefail

[ "${MOEC_SKIP_SYSTEM_SETUP:-}" = 1 ] && exit 0
[ "$(uname -s)" = Linux ] || exit 0
command -v chromium >/dev/null && exit 0

if ! command -v apt-get >/dev/null; then
  echo "moec: the playground test drives a headless Chromium; install one (the 'chromium' package) to run it" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=sudo; else
    echo "moec: run 'sudo bash bin/playground/install-chromium.sh' to install Chromium for the playground test" >&2
    exit 0
  fi
fi

echo "moec: installing Chromium (the playground's browser test)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
