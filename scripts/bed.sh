#!/usr/bin/env bash
# The Windows side of the test bed: a Debian 13 (trixie) root, made with debootstrap under the state folder,
# holding Wine 10 (64-bit and, through i386 multiarch, 32-bit), the Samba 4.22 AD DC, winbind (Samba's
# ntlm_auth, which Wine's NTLM provider runs) and MIT Kerberos. Debian 12's Wine 8 cannot run the Schannel
# server side nor Windows Node 24/26, and Samba/winbind/Wine must come from one release (a 4.22 ntlm_auth
# cannot talk to a 4.17 winbindd), so everything Windows-side runs in here.
#
#   scripts/bed.sh make              make the root once (debootstrap + packages); later runs return at once
#   scripts/bed.sh run CMD [ARG...]  run CMD inside the root, with the caller's environment and working folder
#   scripts/bed.sh path              print the root's folder
#   scripts/bed.sh remove            delete the root (the next `make` starts over)
#
# `run` makes its mounts (proc, sys, dev, dev/pts, dev/shm, and this repository at its own path, so every
# path under the repo means the same inside and out) in a private mount namespace of its own (unshare): the
# host's mount table never sees them, and they are gone when the last process started in that namespace ends
# (for a daemon such as samba, when it stops). Paths outside the repository (and the state folder) are the
# root's own: its /tmp is not the host's. The network, process IDs and users are the host's: the domain
# listens on the host's 127.0.0.1, and Linux peers on the host (curl, MIT GSSAPI) reach it.
#
# The host needs nothing but debootstrap (this script installs it). The mirror is the one the host's apt uses
# (override: SSPI_DEBIAN_MIRROR). State: ${SSPI_STATE_DIR:-<repo>/.state}/trixie.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/state.sh
. "$root/scripts/state.sh"
bed=$state/trixie
SUITE=trixie

# What the root holds. wine32:i386 (with i386 Kerberos and GnuTLS, which Wine's 32-bit kerberos.dll and
# schannel load at run time) runs the 32-bit node.exe. Changing this list re-runs the install on the next make.
PACKAGES=(
  wine wine64 wine32:i386 libkrb5-3:i386 libgssapi-krb5-2:i386 libgnutls30t64:i386
  winbind krb5-user
  samba samba-ad-dc samba-ad-provision samba-dsdb-modules samba-vfs-modules
)
ready=$bed/.sspi-ready

say() { echo "bed: $*" >&2; }

die_log() {
  say "error: $2"
  [ -f "$1" ] && tail -n 30 "$1" >&2
  exit 1
}

# The first deb822 or one-line entry of the host's apt sources for Debian's main archive.
host_mirror() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -E '/debian/?$' | head -n 1)
  [ -n "$uri" ] || uri=$(grep -hsE '^deb\s+(\[[^]]*\]\s+)?\S+/debian/?\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | sed -E 's/^deb\s+(\[[^]]*\]\s+)?(\S+).*/\2/' | head -n 1)
  echo "${uri:-http://deb.debian.org/debian}"
}

# enter CWD [DIR...] -- CMD...: runs CMD chrooted in the root, in working folder CWD (/ if the root has none),
# in a private mount namespace holding proc, sys, dev, dev/pts, dev/shm and each host folder DIR bound at its
# own path.
enter() {
  unshare --mount --propagation private -- bash -c '
    set -e
    r=$1 cwd=$2; shift 2
    mount -t proc proc "$r/proc"
    mount --bind /sys "$r/sys"
    mount --bind /dev "$r/dev"
    mount --bind /dev/pts "$r/dev/pts"
    [ -d /dev/shm ] && mount --bind /dev/shm "$r/dev/shm"
    while [ "$1" != -- ]; do mkdir -p "$r$1"; mount --bind "$1" "$r$1"; shift; done
    shift
    exec chroot "$r" /bin/sh -c "cd \"\$0\" 2>/dev/null || cd /; exec \"\$@\"" "$cwd" "$@"' bash "$bed" "$@"
}

# apt and dpkg in the root, with a clean environment.
in_root() {
  enter / -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

package_list_id() { printf '%s\n' "${PACKAGES[@]}" | sha256sum | cut -c1-16; }

# Wine's NTLM provider (dlls/msv1_0/unixlib.c, ntlm_fork) starts one `ntlm_auth` per context, found on PATH,
# with pipes for its stdin/stdout. Wine 10's build makes them with pipe() and sets FD_CLOEXEC afterwards
# (msv1_0.so imports pipe, not pipe2): a context created on one thread while another thread forks its own
# helper in between can hand that helper a copy of the first context's pipe, which then survives exec. The
# first helper never sees end-of-file on its stdin, and DeleteSecurityContext, which closes the pipe and
# waits for the helper (waitpid), waits until the other context is deleted too. With both deletions on
# node.exe's JavaScript thread (dispose), that is a deadlock: seen once in the queue tests (24 concurrent
# NTLM AcceptSecurityContext calls on 2 queue threads; the JavaScript thread blocked, 8 ntlm_auth helpers
# idle on their stdin). This wrapper, first on the root's PATH, closes every descriptor but stdin, stdout
# and stderr before it runs Samba's ntlm_auth, so no helper keeps another's pipe. It fixes the test bed,
# not the library: Microsoft's NTLM runs in LSASS and has no helper processes.
NTLM_AUTH_WRAPPER='#!/bin/bash
# Written by scripts/bed.sh (see the comment there): closes inherited descriptors, then runs ntlm_auth.
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  case $fd in 0|1|2|255) ;; *) eval "exec $fd>&-" 2>/dev/null ;; esac
done
exec /usr/bin/ntlm_auth "$@"
'

# Installs the wrapper above as /usr/local/bin/ntlm_auth (idempotent; atomic for processes already running).
install_ntlm_auth_wrapper() {
  local target=$bed/usr/local/bin/ntlm_auth
  [ "$(cat "$target" 2>/dev/null)" = "${NTLM_AUTH_WRAPPER%$'\n'}" ] && return 0
  mkdir -p "$bed/usr/local/bin"
  printf '%s' "$NTLM_AUTH_WRAPPER" >"$target.new" && chmod 755 "$target.new" && mv -f "$target.new" "$target"
}

cmd_make() {
  local log=$state/bed-make.log t0=$SECONDS
  if [ -f "$ready" ] && [ "$(cat "$ready")" = "$(package_list_id)" ]; then install_ntlm_auth_wrapper; return 0; fi
  if [ "$(id -u)" != 0 ]; then
    say "error: making the Debian 13 root needs root (debootstrap, chroot, mount)"
    exit 1
  fi
  mkdir -p "$state"
  exec 8>>"$state/.bed.lock"
  flock 8                              # parallel makes: one builds, the others wait and reuse it
  if [ -f "$ready" ] && [ "$(cat "$ready")" = "$(package_list_id)" ]; then return 0; fi
  : >"$log"
  if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap on the host"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; } >>"$log" 2>&1 \
      || die_log "$log" "apt-get install debootstrap failed"
  fi
  if [ ! -x "$bed/usr/bin/apt-get" ] || [ ! -f "$bed/.sspi-debootstrapped" ]; then
    local mirror
    mirror=${SSPI_DEBIAN_MIRROR:-$(host_mirror)}
    say "debootstrap $SUITE from $mirror into $bed (~30 s)"
    rm -rf "$bed"
    debootstrap --variant=minbase "$SUITE" "$bed" "$mirror" >>"$log" 2>&1 || die_log "$log" "debootstrap failed"
    touch "$bed/.sspi-debootstrapped"
  fi
  # No service starts inside the root when its package is installed (samba, winbind): the scripts start
  # what they need with their own configuration.
  printf '#!/bin/sh\nexit 101\n' >"$bed/usr/sbin/policy-rc.d"
  chmod 755 "$bed/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$bed/etc/resolv.conf" 2>/dev/null || true
  say "installing Wine 10, Samba 4.22, winbind, MIT Kerberos in the root (~1-2 min)"
  in_root dpkg --add-architecture i386 >>"$log" 2>&1 || die_log "$log" "dpkg --add-architecture i386 failed"
  in_root apt-get update -q >>"$log" 2>&1 || die_log "$log" "apt-get update in the root failed"
  # A make that was killed half way may have left dpkg mid-install.
  in_root dpkg --configure -a >>"$log" 2>&1 || die_log "$log" "dpkg --configure -a in the root failed"
  in_root apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >>"$log" 2>&1 \
    || die_log "$log" "apt-get install in the root failed"
  in_root apt-get clean >>"$log" 2>&1 || true
  install_ntlm_auth_wrapper
  package_list_id >"$ready"
  say "root ready after $((SECONDS - t0)) s: $(in_root wine --version 2>/dev/null), $(in_root samba --version 2>/dev/null)"
}

cmd_run() {
  [ $# -gt 0 ] || { echo "usage: $0 run CMD [ARG...]" >&2; exit 2; }
  cmd_make
  local binds=("$root")
  # A state folder outside the repository (SSPI_STATE_DIR) must be seen at its own path too.
  case "$state/" in "$root"/*) ;; *) binds+=("$state") ;; esac
  mkdir -p "$bed/run/user/0"
  chmod 700 "$bed/run/user/0"
  # PATH and HOME are the root's own; everything else the caller exported comes along (KRB5_*, SSPI_*,
  # WINE*). XDG_RUNTIME_DIR: Wine 10 complains on every start without a private one.
  enter "$(pwd)" "${binds[@]}" -- env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    XDG_RUNTIME_DIR=/run/user/0 SSPI_IN_BED=1 "$@"
}

case "${1:-}" in
  make) cmd_make ;;
  run) shift; cmd_run "$@" ;;
  path) echo "$bed" ;;
  remove)
    # A domain still running in the root would keep using the files about to go.
    [ -f "$ready" ] && bash "$root/scripts/domain.sh" stop >/dev/null 2>&1 || true
    say "removing $bed"
    rm -rf "$bed"
    ;;
  *)
    echo "usage: $0 {make|run CMD [ARG...]|path|remove}" >&2
    exit 2
    ;;
esac
