#!/usr/bin/env bash
# `npm test`: installs what the tests need, builds, and runs every test once.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
bash scripts/ensure-system-deps.sh
npx tsc -p tsconfig.json
node scripts/proxy-bundle.mjs
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# One file at a time per core; each end-to-end test starts its own proxy and peers on loopback.
set +e
node --test --test-concurrency=2 --test-timeout=120000 $(find dist/test -name '*.test.js' | sort) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
  # The TAP stream is long; repeat each failure (with its diagnostics) at the end, where CI logs are read.
  echo "# ---- failed tests ----"
  awk '/^ *not ok /{p=1} p{print} p&&/^ *\.\.\.$/{p=0}' "$log" | head -n 400
fi
exit "$rc"
