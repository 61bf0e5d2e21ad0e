#!/usr/bin/env bash
# One-time (and idempotent) set-up: Python venv, solc-js, and the pinned geth binary.
# Everything goes into git-ignored folders; geth is cached outside the checkout (~/.cache/phr).
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: '$1' is required but not installed. $2" >&2; exit 1; }; }
need python3 "Install Python 3.11+."
need node "Install Node.js 20+ (apt-get install nodejs npm)."
need npm "Install npm."
need go "Install Go 1.21+ (apt-get install golang or https://go.dev/dl) to build geth."

stamp=.venv/.phr-setup
want="$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python dependencies into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e '.[local,test]'
  echo "$want" > "$stamp"
fi

if [ ! -d contracts/node_modules/solc ] || [ contracts/package-lock.json -nt contracts/node_modules/.package-lock.json ]; then
  echo "setup: installing solc-js (pinned) into contracts/node_modules"
  npm ci --prefix contracts --no-audit --no-fund --loglevel=error
fi

# PostgreSQL server binaries, for the tests that run the app on PostgreSQL as in production (Debian package).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "setup: installing PostgreSQL (apt) for the PostgreSQL tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# Chromium for the browser tests (tests/browser), from Debian's archive; Playwright drives it, never downloads one.
# The CJK and Thai fonts make the screenshots of translated pages readable.
if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s fonts-noto-cjk fonts-thai-tlwg >/dev/null 2>&1; then
  echo "setup: installing Chromium and CJK/Thai fonts (apt) for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk fonts-thai-tlwg >/dev/null
fi

.venv/bin/python -c "from phr.devnet.toolchain import ensure_geth; print('setup: geth at', ensure_geth())"
