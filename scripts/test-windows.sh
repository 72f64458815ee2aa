#!/usr/bin/env bash
# npm run test:windows: builds dist/windows/lastresort.exe and runs the Windows
# lane (test/windows/*.wine.ts) under Wine against the MariaDB here. Installs
# Debian's wine64 when run as root (as .ci/run does for the other packages).
# Separate from `npm test`: Wine starts slowly on a loaded machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-setup.sh
if [ ! -x /usr/lib/wine/wine64 ] && ! command -v wine64 >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "The Windows lane needs Wine. Install it with: sudo apt-get install -y wine64" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wine64
fi
npm run package:windows
node --import tsx --test --test-concurrency=1 --test-timeout=3600000 test/windows/*.wine.ts
