#!/usr/bin/env bash
# `npm test`: installs what the tests need, builds, and runs every test once.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
bash scripts/ensure-system-deps.sh
npx tsc -p tsconfig.json
# One file at a time per core; each end-to-end test starts its own proxy and peers on loopback.
node --test --test-concurrency=2 --test-timeout=120000 $(find dist/test -name '*.test.js' | sort)
