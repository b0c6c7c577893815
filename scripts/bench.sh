#!/usr/bin/env bash
# `npm run bench`: handshake throughput inside Windows node.exe under Wine, against the embedded
# domain. Prints figures and ratios; asserts nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/testbed.sh
. scripts/testbed.sh
testbed_up
testbed_tickets bench
bash scripts/wine-node.sh dist/bench/handshake.bench.js

# Side by side (bench/compare.bench.ts): the C floor, built here with MinGW-w64, and node-expose-sspi
# 0.1.60 from the npm registry, installed outside this package (a benchmark-only peer: its "os": ["win32"]
# would stop `npm ci` on Linux, and its build scripts are not run; its tarball ships the x64 binary).
out=$state/bench
mkdir -p "$out"
x86_64-w64-mingw32-gcc -O2 -Wall -o "$out/floor.exe" bench/floor.c -lsecur32
nes=$out/node-expose-sspi
if [ ! -f "$nes/node_modules/node-expose-sspi/lib/api.js" ]; then
  mkdir -p "$nes"
  echo '{"name":"sspi-bench-peers","private":true}' >"$nes/package.json"
  (cd "$nes" && npm install --no-audit --no-fund --force --ignore-scripts node-expose-sspi@0.1.60 >/dev/null 2>&1) \
    || { echo "bench: node-expose-sspi could not be installed; comparing without it" >&2; rm -rf "$nes"; }
fi
peer=""
[ -f "$nes/node_modules/node-expose-sspi/lib/api.js" ] && peer=$nes/node_modules/node-expose-sspi
rm -f "$out/compare.md"
bash scripts/wine-node.sh dist/bench/compare.bench.js "$out/floor.exe" "$peer" "$out" || true
cat "$out/compare.md"
