#!/usr/bin/env bash
# Runs one fuzz child (or any script) in Windows node.exe under Wine for the hostile-input suite
# (test/hostile/fuzz.ts), like scripts/wine-node.sh but:
#   - in the Wine prefix $SSPI_HOSTILE_WINEPREFIX when set (made on first use as a copy of this clone's
#     prefix, scripts/wine-node.sh), so that a long fuzz run shares no wineserver with the clone's other
#     Wine processes;
#   - with node.exe's stdout and stderr in files, printed when it exits, while Wine's own debug trace
#     (WINEDEBUG, written to the Unix stderr) streams to ours.
# Exits with node.exe's status.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/state.sh
. "$root/scripts/state.sh"
if [ -z "${SSPI_IN_BED:-}" ]; then
  bash "$root/scripts/wine-node.sh" --prepare
  SSPI_NODE_EXE=$(bash "$root/scripts/wine-node.sh" --path)
  export SSPI_NODE_EXE
  exec bash "$root/scripts/bed.sh" run bash "$root/scripts/hostile-wine.sh" "$@"
fi
prefix=${SSPI_HOSTILE_WINEPREFIX:-$state/wine$clone_tag}
if [ ! -f "$prefix/.sspi-ready" ]; then
  exec 7>>"$state/.wine.lock"
  flock 7
  if [ ! -f "$prefix/.sspi-ready" ]; then
    rm -rf "$prefix.tmp"
    cp -a "$state/wine$clone_tag" "$prefix.tmp"
    mv "$prefix.tmp" "$prefix"
  fi
  exec 7>&-
fi
export WINEPREFIX=$prefix
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
run=$(mktemp -d "$state/run.XXXXXX")
trap 'rm -rf "$run"' EXIT
set +e
# node.exe's own output to files (it cannot write to a pipe under Wine); Wine's trace goes to fd 2 as is.
wine "$SSPI_NODE_EXE" "$@" >"$run/out" 2>"$run/err" </dev/null
rc=$?
set -e
cat "$run/out" "$run/err" >&2
exit $rc
