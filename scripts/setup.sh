#!/usr/bin/env bash
# Installs the host's Debian packages, once (idempotent: returns at once when all are there).
#
#   scripts/setup.sh         everything `npm test` / `npm run demo` need on the host
#   scripts/setup.sh build   only the cross toolchain `npm run build` needs
#
# build: MinGW-w64 for x86_64 and i686 (posix threads) and cmake, for the win32-x64 and win32-ia32 addons.
# bed:   debootstrap, which makes the Debian 13 root everything Windows-side runs in (scripts/bed.sh: Wine 10,
#        Samba 4.22, winbind), and the Linux peers that talk to it from the host: curl, MIT Kerberos's
#        kinit/klist and MIT GSSAPI for Python, and the real HTTP peers our client is tested against
#        (test/e2e/http-peers.test.ts, each started by the test in the foreground with its own configuration):
#        Apache httpd with mod_auth_gssapi, and Squid with its negotiate_kerberos_auth helper.
set -euo pipefail
build=(g++-mingw-w64-x86-64-posix g++-mingw-w64-i686-posix mingw-w64-tools cmake)
bed=(debootstrap curl krb5-user python3-gssapi apache2 libapache2-mod-auth-gssapi squid)
case "${1:-all}" in
  build) packages=("${build[@]}") ;;
  all) packages=("${build[@]}" "${bed[@]}") ;;
  *) echo "usage: $0 [build]" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup: missing Debian packages (${missing[*]}); run as root" >&2; exit 1; }
  sudo=(sudo)
fi
echo "setup: installing ${missing[*]}" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
{ "${sudo[@]}" apt-get update -q && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
  >"$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }
