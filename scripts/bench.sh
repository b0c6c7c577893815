#!/usr/bin/env bash
# `npm run bench`: issue 10's figures inside Windows node.exe under Wine, against the embedded domain
# (handshakes, message protection, HTTP, the event loop, memory). Prints figures and ratios; asserts
# nothing. SSPI_BENCH_SECONDS (default 2) per contender per round, SSPI_BENCH_ROUNDS (default 3),
# SSPI_BENCH_RSS_HANDSHAKES (default 100000); about 6 minutes at the defaults.
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
# The floor and the tables go to this clone's own folder (clones may share one state folder); the peer
# is installed once for all.
out=$state/bench$clone_tag
mkdir -p "$out"
x86_64-w64-mingw32-gcc -O2 -Wall -o "$out/floor.exe" bench/floor.c -lsecur32 -lpsapi
nes=$state/bench/node-expose-sspi
if [ ! -f "$nes/node_modules/node-expose-sspi/lib/api.js" ]; then
  mkdir -p "$nes"
  echo '{"name":"sspi-bench-peers","private":true}' >"$nes/package.json"
  (cd "$nes" && npm install --no-audit --no-fund --force --ignore-scripts node-expose-sspi@0.1.60 >/dev/null 2>&1) \
    || { echo "bench: node-expose-sspi could not be installed; comparing without it" >&2; rm -rf "$nes"; }
fi
peer=""
[ -f "$nes/node_modules/node-expose-sspi/lib/api.js" ] && peer=$nes/node_modules/node-expose-sspi
rm -f "$out/compare.md"
# --expose-gc: the memory part reads RSS after gc().
bash scripts/wine-node.sh --expose-gc dist/bench/compare.bench.js "$out/floor.exe" "$peer" "$out" || true
# Where the time goes (bench/pieces.bench.ts), in a fresh node.exe: the pieces BENCHMARKS.md reasons from
# (a handshake call by call beside the floor's, marshalling alone, one queue hop, the event loop by thread count).
rm -f "$out/pieces.md"
if [ -z "${SSPI_BENCH_ONLY:-}" ] || [[ ",$SSPI_BENCH_ONLY," == *,pieces,* ]]; then
  bash scripts/wine-node.sh dist/bench/pieces.bench.js "$out/floor.exe" "$out" >"$out/pieces.md" || true
fi
cat "$out/compare.md"
[ -f "$out/pieces.md" ] && { echo; cat "$out/pieces.md"; }
true
