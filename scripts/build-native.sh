#!/usr/bin/env bash
# Cross-builds the addon for Windows x64 on Linux: cmake-js + MinGW-w64, output in prebuilds/win32-x64/
# under prebuildify's Node-API name (node.napi.node), where node-gyp-build finds it at run time.
# On Windows, use `npx node-gyp rebuild` (MSVC) or `npx cmake-js build` instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! command -v x86_64-w64-mingw32-g++-posix >/dev/null; then
  echo "build-native: MinGW-w64 missing; run: apt-get install g++-mingw-w64-x86-64-posix mingw-w64-tools" >&2
  exit 1
fi

out=build/win32-x64
log=$out.log
mkdir -p build
if ! npx --no-install cmake-js build --out "$out" \
      --CDCMAKE_TOOLCHAIN_FILE="$root/cmake/mingw-w64-x86_64.cmake" --CDCMAKE_BUILD_TYPE=Release >"$log" 2>&1; then
  grep -E "error|Error" "$log" | head -40 >&2 || tail -40 "$log" >&2
  echo "build-native: failed; full log in $log" >&2
  exit 1
fi

built=$(find "$out" -name 'sspi.node' -newer CMakeLists.txt -print -quit)
[ -n "$built" ] || built=$(find "$out" -name 'sspi.node' -print -quit)
mkdir -p prebuilds/win32-x64
cp "$built" prebuilds/win32-x64/node.napi.node

# The only imports allowed are Windows system DLLs and the Node host (node.exe, delay-loaded).
imports=$(x86_64-w64-mingw32-objdump -p prebuilds/win32-x64/node.napi.node | sed -n 's/^\s*DLL Name: //p' | sort -u | tr '\n' ' ')
if echo "$imports" | grep -qiE 'libwinpthread|libstdc\+\+|libgcc'; then
  echo "build-native: the addon imports a MinGW runtime DLL: $imports" >&2
  exit 1
fi
echo "build-native: prebuilds/win32-x64/node.napi.node (imports: ${imports% })"
