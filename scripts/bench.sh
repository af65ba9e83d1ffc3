#!/usr/bin/env bash
# `npm run bench [-- OPTIONS]`: installs the benchmark peers and load generators if missing,
# builds tsmesh into dist/, and runs bench/proxy-compare.ts (tsmesh vs nginx vs haproxy vs
# direct), which prints the tables and writes BENCHMARKS.md. Options go to proxy-compare.ts:
# --quick, --rounds N, --duration S, --no-write, --skip-h2, --base-port P, ... (see its header).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || { echo "bench: node_modules missing; run npm ci first" >&2; exit 1; }
bash scripts/ensure-system-deps.sh

# tsc emits even when some file does not type-check; the proxy then either runs or gets a
# "tsmesh: failed (...)" row, and the peers are measured regardless.
tsc_log="$(mktemp -t tsmesh-bench-tsc.XXXXXX)"
trap 'rm -f "$tsc_log"' EXIT
if ! npx tsc -p tsconfig.json >"$tsc_log" 2>&1; then
  echo "bench: tsc reported $(grep -c 'error TS' "$tsc_log" || true) type errors (first ones below); benchmarking what was built" >&2
  head -n 5 "$tsc_log" >&2
fi

node --import tsx bench/proxy-compare.ts "$@"
