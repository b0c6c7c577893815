#!/usr/bin/env bash
# A throw-away Active Directory domain (Samba AD DC) on loopback, for the SSPI tests run under Wine.
#
#   scripts/domain.sh start        provision once (users, SPN, keytab, krb5.conf), start Samba, wait until healthy
#   scripts/domain.sh stop         stop Samba (idempotent)
#   scripts/domain.sh status       one line; exit 0 if running and healthy, 1 otherwise
#   scripts/domain.sh env          print `export` lines: eval "$(scripts/domain.sh env)"
#   scripts/domain.sh kinit USER   TGT for alice or jürgen into $KRB5CCNAME (default <state>/domain/ccache-alice,
#                                  ccache-jurgen); prints the ccache name (FILE:...)
#
# Domain: realm SSPI.TEST, NetBIOS domain SSPI, DC dc1. Users: alice, jürgen (non-ASCII name and password),
# svc-http (SPN HTTP/www.sspi.test, keytab in http.keytab). Test-only passwords: see secrets.env.
#
# Runs inside the Debian 13 root (scripts/bed.sh): Samba 4.22, its winbindd and the ntlm_auth that Wine's NTLM
# provider runs must be one release. Called from the host, it re-runs itself there (`env` needs no root).
#
# State: Samba's own database, sockets and pid files live in the root at /var/lib/sspi-dc (physically
# <state>/trixie/var/lib/sspi-dc), a short fixed path: Samba's Unix sockets must stay under the 108-byte limit
# whatever the clone's path. Everything the tests and clients use (krb5.conf, the keytab, credential caches,
# the replay cache, secrets.env, logs) lives under ${SSPI_STATE_DIR:-<repo>/.state}/domain, at the same path
# inside the root and out. winbindd's socket stays at Samba's default /run/samba/winbindd (in the root), where
# ntlm_auth looks. Nothing listens outside 127.0.0.1 (not even ::1).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/state.sh
. "$root/scripts/state.sh"             # absolute: smb.conf needs absolute paths
dir=$state/domain

if [ -z "${SSPI_IN_BED:-}" ] && [ "${1:-}" != env ]; then
  exec bash "$root/scripts/bed.sh" run bash "$root/scripts/domain.sh" "$@"
fi

REALM=SSPI.TEST
DOMAIN=SSPI
DC_NAME=dc1
HTTP_HOST=www.sspi.test
SPN=HTTP/$HTTP_HOST
SVC_USER=svc-http
USER1=alice
PASS1='Alice-Pa55word!'
USER2='jürgen'
PASS2='Jürgen-Pässwört-2026!'

samba_dir=/var/lib/sspi-dc           # provision --targetdir, inside the root (see the header)
smb_conf=$samba_dir/etc/smb.conf
pid_dir=$samba_dir/run
pid_file=$pid_dir/samba.pid
logs=$dir/logs
krb5_conf=$dir/krb5.conf
keytab=$dir/http.keytab
rcache_dir=$dir/rcache
secrets=$dir/secrets.env
marker=$samba_dir/.provisioned       # with the database: a remade root provisions again
WAIT_SECONDS=${SSPI_DOMAIN_WAIT:-60}

# samba-tool (Python) and Samba's charset code must treat the non-ASCII user name as UTF-8 even when CI runs
# with no locale at all.
export LC_ALL=C.UTF-8
# Every Kerberos client here (kinit, samba-tool, Samba's own winbindd/KDC helpers) must use our krb5.conf:
# the distro /etc/krb5.conf knows nothing of SSPI.TEST, and the provisioned one relies on DNS.
export KRB5_CONFIG=$krb5_conf

say() { echo "domain: $*" >&2; }

# Print the tail of a log and fail.
die_log() {
  local log=$1; shift
  say "error: $*"
  if [ -f "$log" ]; then
    echo "---- last lines of $log ----" >&2
    tail -n 30 "$log" >&2
  fi
  exit 1
}

# A process that exited but was not reaped yet (a zombie) still answers kill -0; count it as gone.
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# Single-quote a value for the shell (works for any bytes, including UTF-8 and quotes).
shq() { local s=$1; printf "'%s'" "${s//\'/\'\\\'\'}"; }

# The domain's ports are the host's (the root shares its network): a KDC or directory already listening on
# loopback (another clone's domain, or a Samba started on the host) would answer in our place, or make ours
# fail to bind. Say so rather than let the tests talk to the wrong domain.
ensure_ports_free() {
  local port hex
  for port in 88 389; do
    hex=$(printf '%04X' "$port")
    if awk -v p=":$hex" '$4 == "0A" && $2 ~ p"$" { found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6; then
      say "error: something else already listens on TCP port $port (another clone's domain? a Samba or KDC on the host?)"
      say "stop it first (in that clone: scripts/domain.sh stop)"
      exit 1
    fi
  done
}

# --- provisioning -------------------------------------------------------------------------------------------

write_krb5_conf() {
  # KDC by address and no DNS or reverse lookups: the domain has no DNS server (--dns-backend=NONE), and
  # www.sspi.test / dc1.sspi.test resolve nowhere. Principals are used exactly as written.
  cat >"$krb5_conf.tmp" <<EOF
[libdefaults]
	default_realm = $REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false

[realms]
	$REALM = {
		kdc = 127.0.0.1
		admin_server = 127.0.0.1
	}

[domain_realm]
	.sspi.test = $REALM
	sspi.test = $REALM
EOF
  mv "$krb5_conf.tmp" "$krb5_conf"
}

random_secret() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20; }

export_keytab() {
  rm -f "$keytab"
  samba-tool domain exportkeytab -s "$smb_conf" "$keytab" --principal="$SPN" >>"$logs/setup.log" 2>&1 \
    || die_log "$logs/setup.log" "exporting the keytab of $SPN failed"
  # Test-only secret; the HTTP test servers may run as another user.
  chmod 0644 "$keytab"
}

provision() {
  local admin_pass
  say "provisioning $REALM (first run, ~10 s)"
  # A previous attempt that died half way left an unusable database: start over (keep its admin password).
  rm -rf "$samba_dir" "$keytab" "$dir"/ccache-*
  mkdir -p "$logs" "$pid_dir" "$rcache_dir"
  : >"$logs/setup.log"

  admin_pass=
  if [ -f "$secrets" ]; then
    # shellcheck disable=SC1090
    admin_pass=$(. "$secrets" && echo "${SSPI_ADMIN_PASSWORD:-}")
  fi
  # Complexity is still on while provisioning: upper, lower, digit and symbol.
  [ -n "$admin_pass" ] || admin_pass="Adm-$(random_secret)-9x"
  (
    umask 077
    {
      echo "# Test-only credentials of the throw-away SSPI.TEST domain (scripts/domain.sh)."
      echo "SSPI_ADMIN_USER=Administrator"
      echo "SSPI_ADMIN_PASSWORD=$(shq "$admin_pass")"
      echo "SSPI_USER=$(shq "$USER1")"
      echo "SSPI_PASSWORD=$(shq "$PASS1")"
      echo "SSPI_USER2=$(shq "$USER2")"
      echo "SSPI_PASSWORD2=$(shq "$PASS2")"
    } >"$secrets.tmp"
    mv "$secrets.tmp" "$secrets"
  )
  chmod 600 "$secrets"
  write_krb5_conf

  # -s <empty file>: otherwise provision copies settings (printers, homes, passwd chat, ...) from the distro's
  # /etc/samba/smb.conf into ours. All state directories go under the target dir; the socket dirs too, except
  # winbindd's (see the header). interfaces = 127.0.0.1 rather than lo: lo also carries ::1.
  # server services: only what the tests need. KDC (Kerberos), winbindd (wbinfo/ntlm_auth: NTLM checked
  # against the local SAM), rpc (netlogon, samr, lsa), ldap + cldap (directory). No dns (no DNS backend), no
  # nbt/wrepl (NetBIOS and WINS would bind broadcast sockets), no s3fs (file server on 445), no
  # drepl/kcc (single DC, nothing to replicate), no ntp_signd, no dnsupdate.
  : >"$dir/provision-base.conf"
  samba-tool domain provision -s "$dir/provision-base.conf" \
    --server-role=dc --dns-backend=NONE \
    --realm="$REALM" --domain="$DOMAIN" --host-name="$DC_NAME" --host-ip=127.0.0.1 \
    --adminpass="$admin_pass" --targetdir="$samba_dir" \
    --option="interfaces = 127.0.0.1" \
    --option="bind interfaces only = yes" \
    --option="server services = rpc, ldap, cldap, kdc, winbindd" \
    --option="pid directory = $pid_dir" \
    --option="ncalrpc dir = $pid_dir/ncalrpc" \
    --option="ntp signd socket directory = $pid_dir/ntp_signd" \
    --option="log file = $logs/log.samba" \
    --option="max log size = 10000" \
    >"$logs/provision.log" 2>&1 || die_log "$logs/provision.log" "samba-tool domain provision failed"
  rm -f "$dir/provision-base.conf"
  # Samba's own copy; the running daemons get ours through KRB5_CONFIG anyway.
  cp "$krb5_conf" "$samba_dir/private/krb5.conf"

  # All of this edits the database files directly (Samba is not running yet).
  local st=(-s "$smb_conf")
  {
    # Fixed test passwords must be accepted and must never expire.
    samba-tool domain passwordsettings set "${st[@]}" --complexity=off --max-pwd-age=0 --min-pwd-age=0 \
      --history-length=0 --account-lockout-threshold=0
    samba-tool user create "${st[@]}" "$USER1" "$PASS1"
    samba-tool user create "${st[@]}" "$USER2" "$PASS2"
    samba-tool user create "${st[@]}" "$SVC_USER" --random-password
    for u in "$USER1" "$USER2" "$SVC_USER"; do samba-tool user setexpiry "${st[@]}" "$u" --noexpiry; done
    samba-tool spn add "${st[@]}" "$SPN" "$SVC_USER"
  } >>"$logs/setup.log" 2>&1 || die_log "$logs/setup.log" "creating users failed"

  # Without msDS-SupportedEncryptionTypes, Samba 4.17 treats the account as RC4-only *as a service*: exporting
  # the keytab by SPN gives only an arcfour-hmac key. Declare RC4+AES128+AES256 (0x1C) so the KDC issues
  # AES256 service tickets and the keytab holds the AES keys too. samba-tool has no command to set it.
  /usr/bin/python3 - "$smb_conf" "$SVC_USER" 28 >>"$logs/setup.log" 2>&1 <<'EOF' \
    || die_log "$logs/setup.log" "setting msDS-SupportedEncryptionTypes failed"
import sys
import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

conf, account, enctypes = sys.argv[1:4]
lp = LoadParm()
lp.load(conf)
db = SamDB(lp=lp, session_info=system_session())
res = db.search(base=db.domain_dn(), scope=ldb.SCOPE_SUBTREE,
                expression="(sAMAccountName=%s)" % ldb.binary_encode(account), attrs=["dn"])
msg = ldb.Message(res[0].dn)
msg["enc"] = ldb.MessageElement(enctypes, ldb.FLAG_MOD_REPLACE, "msDS-SupportedEncryptionTypes")
db.modify(msg)
EOF
  export_keytab
  touch "$marker"
}

# --- daemon -------------------------------------------------------------------------------------------------

samba_pid() {
  local pid
  [ -f "$pid_file" ] || return 1
  pid=$(head -n 1 "$pid_file" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # Guard against a stale pid file whose number now belongs to another program.
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q '^samba' || return 1
  echo "$pid"
}

# Healthy = the KDC issues a TGT and winbindd checks a password (the path ntlm_auth takes). wbinfo reads no
# config of ours: it finds winbindd at the default socket and asks it for the separator.
healthy() {
  printf '%s\n' "$PASS1" | KRB5CCNAME=MEMORY:sspi-probe kinit "$USER1@$REALM" >/dev/null 2>&1 || return 1
  wbinfo -a "$DOMAIN\\$USER1%$PASS1" >/dev/null 2>&1 || return 1
}

wait_healthy() {
  local pid=$1 deadline=$((SECONDS + WAIT_SECONDS))
  while ! healthy; do
    alive "$pid" || die_log "$logs/log.samba" "samba (pid $pid) exited during startup"
    [ "$SECONDS" -lt "$deadline" ] || die_log "$logs/log.samba" "KDC/winbindd not ready after ${WAIT_SECONDS} s"
    sleep 0.3
  done
}

cmd_start() {
  local pid t0=$SECONDS
  mkdir -p "$dir"
  exec 9>>"$dir/.lock"
  flock 9                              # parallel `start`s: one provisions/starts, the others wait
  if pid=$(samba_pid); then
    if ! healthy; then wait_healthy "$pid"; fi    # maybe still starting up
    say "running (pid $pid)"
    return 0
  fi
  ensure_ports_free
  [ -f "$marker" ] || provision
  [ -f "$krb5_conf" ] || write_krb5_conf
  [ -f "$keytab" ] || { mkdir -p "$logs"; export_keytab; }
  mkdir -p "$pid_dir" "$logs" "$rcache_dir"
  # winbindd's socket directory (Samba's compiled-in default, see the header); /run may be a fresh tmpfs.
  mkdir -p /run/samba
  say "starting samba"
  # -l: where samba logs before it has read smb.conf (else /var/log/samba/log.samba; winbindd, which samba
  # spawns, still creates an empty /var/log/samba/log.winbindd that way). 9>&-: the daemon must not inherit
  # (and hold forever) our lock.
  samba -s "$smb_conf" -D -l "$logs" >"$logs/samba-start.log" 2>&1 9>&- \
    || die_log "$logs/samba-start.log" "samba did not start"
  local i
  for ((i = 0; i < 50; i++)); do pid=$(samba_pid) && break; sleep 0.1; done
  [ -n "${pid:-}" ] || die_log "$logs/log.samba" "samba wrote no pid file"
  wait_healthy "$pid"
  say "running (pid $pid), ready after $((SECONDS - t0)) s"
}

cmd_stop() {
  local pid i
  mkdir -p "$dir"
  exec 9>>"$dir/.lock"
  flock 9
  if ! pid=$(samba_pid); then
    say "not running"
    return 0
  fi
  kill "$pid"
  for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then
    say "samba (pid $pid) ignored SIGTERM for 10 s, killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  # The root process takes its children down with it; winbindd is the one that could linger.
  if [ -f "$pid_dir/winbindd.pid" ]; then
    pid=$(head -n 1 "$pid_dir/winbindd.pid" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q "winbindd.*$smb_conf"; then
      kill "$pid" 2>/dev/null || true
    fi
  fi
  say "stopped"
}

cmd_status() {
  local pid
  if ! pid=$(samba_pid); then
    echo "domain: not running"
    return 1
  fi
  if healthy; then
    echo "domain: running (pid $pid, realm $REALM, KDC 127.0.0.1:88)"
  else
    echo "domain: running (pid $pid) but not healthy (KDC or winbindd not answering)"
    return 1
  fi
}

cmd_env() {
  mkdir -p "$rcache_dir"
  local name value
  while read -r name value; do
    printf 'export %s=%s\n' "$name" "$(shq "$value")"
  done <<EOF
KRB5_CONFIG $krb5_conf
KRB5_KTNAME FILE:$keytab
KRB5RCACHEDIR $rcache_dir
SSPI_REALM $REALM
SSPI_DOMAIN $DOMAIN
SSPI_HOST $HTTP_HOST
SSPI_SPN $SPN
SSPI_USER $USER1
SSPI_PASSWORD $PASS1
SSPI_USER2 $USER2
SSPI_PASSWORD2 $PASS2
SSPI_DOMAIN_DIR $dir
EOF
}

cmd_kinit() {
  local user=${1:-} pass file ccache log
  [ -f "$marker" ] || { say "error: not provisioned; run: $0 start"; exit 1; }
  # shellcheck disable=SC1090
  . "$secrets"
  # ASCII file names: the ccache path ends up in environment variables read by Windows programs under Wine.
  case $user in
    "$USER1") pass=$SSPI_PASSWORD file=ccache-alice ;;
    "$USER2") pass=$SSPI_PASSWORD2 file=ccache-jurgen ;;
    Administrator) pass=$SSPI_ADMIN_PASSWORD file=ccache-administrator ;;
    *) say "error: unknown user '$user' (alice, jürgen or Administrator)"; exit 2 ;;
  esac
  ccache=${KRB5CCNAME:-FILE:$dir/$file}
  log=$dir/logs/kinit.log
  mkdir -p "$dir/logs"
  # kinit reads the password from stdin when it is not a terminal; its prompt goes to the log.
  printf '%s\n' "$pass" | kinit -c "$ccache" "$user@$REALM" >"$log" 2>&1 \
    || die_log "$log" "kinit $user@$REALM failed (is the domain running? $0 status)"
  echo "$ccache"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  kinit) shift; cmd_kinit "${1:-}" ;;
  *)
    echo "usage: $0 {start|stop|status|env|kinit USER}" >&2
    exit 2
    ;;
esac
