#!/usr/bin/env bash
# Installs the Debian packages the build and the test bed need, once: MinGW-w64 (cross build),
# Wine (runs Windows node.exe), Samba AD DC + MIT Kerberos client + winbind (the domain, and the
# ntlm_auth helper Wine's NTLM uses), curl and MIT GSSAPI for Python (outside peers).
# Idempotent: returns at once when everything is installed.
set -euo pipefail
packages=(
  g++-mingw-w64-x86-64-posix mingw-w64-tools cmake
  wine wine64
  samba samba-ad-dc samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind krb5-user
  curl python3-gssapi
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "setup: missing Debian packages (${missing[*]}); run as root or install them" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${missing[@]}" >/tmp/sspi-apt.log 2>&1 || {
  tail -30 /tmp/sspi-apt.log >&2
  exit 1
}
