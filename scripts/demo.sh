#!/usr/bin/env bash
# The main job, end to end (`npm run demo`): builds the addon, starts the embedded Samba AD domain,
# runs `sspi serve` (the integrated-auth HTTP server) inside the official Windows node.exe under
# Wine, and authenticates curl from Linux with Kerberos and with NTLM. Prints what happened.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/testbed.sh
. scripts/testbed.sh
port=${SSPI_DEMO_PORT:-8080}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "setup: Debian packages, build, Windows node.exe, domain"
testbed_up
url="http://$SSPI_HOST:$port/"
resolve=(--resolve "$SSPI_HOST:$port:127.0.0.1")   # the SPN's host name, served on loopback

say "starting: sspi serve --port $port (Windows node.exe under Wine)"
log=$state/demo-server.log
setsid bash scripts/wine-node.sh dist/lib/cli.js serve --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
server=$!
testbed_at_exit 'kill -TERM -- -$server 2>/dev/null || true'
for _ in $(seq 1 600); do
  grep -q 'listening on' "$log" && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
grep -q 'listening on' "$log" || { cat "$log"; echo "demo: the server did not start" >&2; exit 1; }
sed -n 's/^/  server: /p' "$log"

failures=0
expect() { # expect WANT_STATUS LABEL CURL_ARGS...
  local want=$1 label=$2 out status
  shift 2
  out=$(curl -sS "${resolve[@]}" -D - -w '\n%{http_code}' "$@" "$url" 2>&1 || true)
  status=$(tail -n 1 <<<"$out")
  grep -i '^WWW-Authenticate:' <<<"$out" | sed 's/\r$//; s/^/  /' | cut -c1-100
  grep '^{' <<<"$out" | sed 's/^/  body: /' || true
  if [ "$status" = "$want" ]; then
    echo "  -> $status as expected ($label)"
  else
    echo "  -> $status, expected $want ($label)"
    failures=$((failures + 1))
  fi
}

say "1. no credentials: curl $url"
expect 401 "challenge"

say "2. Kerberos: kinit $SSPI_USER@$SSPI_REALM, then curl --negotiate -u :"
KRB5CCNAME=FILE:$state/domain/ccache-demo
export KRB5CCNAME
bash scripts/domain.sh kinit "$SSPI_USER" >/dev/null
klist | sed -n 's/^/  /; /krbtgt/p; /Default principal/p' | head -3
expect 200 "Kerberos through Negotiate" --negotiate -u :

say "3. NTLM: curl --ntlm -u '$SSPI_DOMAIN\\$SSPI_USER:…'"
expect 200 "NTLM" --ntlm -u "$SSPI_DOMAIN\\$SSPI_USER:$SSPI_PASSWORD"

say "4. NTLM with a wrong password"
expect 401 "logon denied" --ntlm -u "$SSPI_DOMAIN\\$SSPI_USER:not-the-password"

say "server log"
sed 's/^/  /' "$log"

if [ "$failures" -eq 0 ]; then
  say "demo: all 4 exchanges behaved as expected"
else
  say "demo: $failures exchange(s) did not behave as expected"
  exit 1
fi
