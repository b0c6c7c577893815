#!/usr/bin/env bash
# Cross-builds the addon for Windows x64 and ia32 on Linux: cmake-js + MinGW-w64, one build directory
# per architecture (build/win32-<arch>, reused between runs; its log is build/win32-<arch>.log), output
# in prebuilds/win32-<arch>/ under prebuildify's Node-API name (node.napi.node), where node-gyp-build
# finds it at run time. Fails if an addon imports anything MinGW's (its runtime DLLs) or node.exe
# statically, or if the delay-load hook is not ours. Prints one line per architecture with its imports.
# On Windows, use `npx node-gyp rebuild` (MSVC) or `npx cmake-js build` instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Node's architecture name, MinGW-w64 triple (for cmake/mingw-w64.cmake), Debian package of the compiler.
targets=(
  "x64  x86_64-w64-mingw32 g++-mingw-w64-x86-64-posix"
  "ia32 i686-w64-mingw32   g++-mingw-w64-i686-posix"
)

# Every toolchain first, so a missing one fails before anything is built.
for target in "${targets[@]}"; do
  read -r arch triple package <<<"$target"
  for tool in "$triple-g++-posix" "$triple-dlltool" "$triple-objdump"; do
    if ! command -v "$tool" >/dev/null; then
      echo "build-native: MinGW-w64 for win32-$arch missing ($tool); run: apt-get install $package mingw-w64-tools" >&2
      exit 1
    fi
  done
done

mkdir -p build
for target in "${targets[@]}"; do
  read -r arch triple package <<<"$target"
  out=build/win32-$arch
  log=$out.log
  if ! npx --no-install cmake-js build --out "$out" \
        --CDCMAKE_TOOLCHAIN_FILE="$root/cmake/mingw-w64.cmake" --CDMINGW_TRIPLE="$triple" --CDCMAKE_BUILD_TYPE=Release >"$log" 2>&1; then
    grep -E "error|Error" "$log" | head -40 >&2 || tail -40 "$log" >&2
    echo "build-native: win32-$arch failed; full log in $log" >&2
    exit 1
  fi

  dest=prebuilds/win32-$arch/node.napi.node
  mkdir -p "${dest%/*}"
  cmp -s "$out/sspi.node" "$dest" || cp "$out/sspi.node" "$dest"

  # The only imports allowed are Windows system DLLs; Node-API comes from the host (node.exe),
  # delay-loaded, so that the hook below can answer with a renamed node.exe.
  imports=$("$triple-objdump" -p "$dest" | sed -n 's/^\s*DLL Name: //p' | sort -u | tr '\n' ' ')
  if echo "$imports" | grep -qiE 'libwinpthread|libstdc\+\+|libgcc|libssp|libatomic'; then
    echo "build-native: $dest imports a MinGW runtime DLL: $imports" >&2
    exit 1
  fi
  if echo "$imports" | grep -qiE '(^| )node\.exe( |$)'; then
    echo "build-native: $dest imports node.exe statically, not delay-loaded: $imports" >&2
    exit 1
  fi
  # The link map names the file defining each symbol above it: the hook variable must come from
  # win_delay_load_hook.cc, not libmingwex's null default (the map drops i386's leading underscore).
  if [ ! -f "$out/sspi.map" ]; then
    echo "build-native: no link map $out/sspi.map; delete $out and build again" >&2
    exit 1
  fi
  hook=$(awk 'NF >= 3 && $(NF-2) ~ /^0x/ && $(NF-1) ~ /^0x/ { file = $NF }
              NF == 2 && $2 == "__pfnDliNotifyHook2" { print file; exit }' "$out/sspi.map")
  if [[ $hook != */win_delay_load_hook.cc.obj ]]; then
    echo "build-native: $dest: __pfnDliNotifyHook2 comes from ${hook:-nowhere}, not win_delay_load_hook.cc (see $out/sspi.map)" >&2
    exit 1
  fi
  echo "build-native: $dest (imports: ${imports% })"
done
