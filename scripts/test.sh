#!/usr/bin/env bash
# The test command (`npm test`): builds the addons (win32-x64, win32-ia32) and the TypeScript, makes the
# Debian 13 root and starts the embedded domain in it (scripts/testbed.sh), then runs
#   1. the unit suite (test/unit) inside the official Windows node.exe 22 (x64) under Wine 10, against
#      Wine's secur32 and the Samba domain; its TimeStamp and Kerberos files once more with TZ=Asia/Tokyo;
#   2. the end-to-end suite (test/e2e) on Linux Node: the shipped binaries, the CLI, the workflow file, and
#      the HTTP server in Windows node.exe driven by curl and MIT GSSAPI;
#   3. the compatibility suite (test/compat) on Linux Node: the packed tarball installed into an empty
#      folder and exercised in every Windows Node line of scripts/node-lines.json (x64 and ia32);
#   4. the hostile-input suite (test/hostile): HTTP isolation and the soak inside node.exe
#      (test/hostile/wine), then the seeded token fuzz driven from Linux Node in child node.exe processes
#      (CI size; SSPI_HOSTILE=full for the full size, see scripts/hostile.sh and RELIABILITY.md);
# and ends with one line "N passed, N failed" over all of them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/testbed.sh
. scripts/testbed.sh
testbed_up
testbed_tickets tests
# Every Node line the compatibility suite runs, fetched now rather than inside a test's time limit.
for line in $(node -p "require('./scripts/node-lines.json').compat.join(' ')"); do
  SSPI_NODE=$line bash scripts/wine-node.sh --prepare
done

# Each clone's own summaries: clones sharing a state folder (SSPI_STATE_DIR outside this one) may run at once.
sums=$state/summaries$clone_tag
mkdir -p "$sums"
summaries=("$sums/unit.json" "$sums/unit-tz.json" "$sums/e2e.json" "$sums/compat.json" "$sums/hostile-wine.json" "$sums/hostile-fuzz.json")
rm -f "${summaries[@]}"
mocha=(node_modules/mocha/bin/mocha.js --no-color --reporter test/support/reporter.js)

# run_suite SECONDS CMD...: runs one suite in a process group of its own, with a time limit a few times its
# usual run time. mocha's own test timeouts need a free JavaScript thread; a suite whose thread is blocked
# (a native call that never returns: once, a DeleteSecurityContext waiting for an ntlm_auth helper, see
# install_ntlm_auth_wrapper in scripts/bed.sh) would otherwise hang until CI's own limit. On the limit it
# prints the processes (with what each waits on, for the report), stops the whole group, and the missing
# summary counts as a failure below.
suite_pid=
run_suite() {
  local limit=$1 waited=0
  shift
  setsid "$@" &
  suite_pid=$!
  while kill -0 "$suite_pid" 2>/dev/null; do
    if [ "$waited" -ge "$limit" ]; then
      echo "== the suite is still running after $limit s: stopping it. Its processes:"
      ps -eo pid,ppid,pgid,stat,wchan:24,etime,args --sort=pid | awk -v g="$suite_pid" 'NR == 1 || $3 == g || /ntlm_auth|wineserver/'
      kill -TERM -- "-$suite_pid" 2>/dev/null
      sleep 5
      kill -KILL -- "-$suite_pid" 2>/dev/null
      wait "$suite_pid" 2>/dev/null
      suite_pid=
      return 124
    fi
    sleep 1
    waited=$((waited + 1))
  done
  wait "$suite_pid"
  local rc=$?
  suite_pid=
  return "$rc"
}
# Ctrl-C or a stop of `npm test` reaches the suite's group too (it is not in the terminal's).
trap '[ -n "$suite_pid" ] && kill -TERM -- "-$suite_pid" 2>/dev/null; exit 130' INT TERM

set +e
echo "== unit suite: Windows node.exe $(bash scripts/wine-node.sh --version) under $(bash scripts/bed.sh run wine --version) (Debian 13 root)"
SSPI_TEST_SUMMARY=$sums/unit.json run_suite 600 bash scripts/wine-node.sh --expose-gc "${mocha[@]}" \
  --timeout 60000 'dist/test/unit/**/*.test.js'
# SSPI TimeStamps are local time (lib/time.ts). In UTC, the bed's zone, local and UTC coincide and a
# conversion that ignored the zone would pass: the TimeStamp tests and real Kerberos expiries run once more
# nine hours east of UTC (Wine gives node.exe and its Kerberos the zone of TZ).
echo "== unit suite, TimeStamps in another time zone: TZ=Asia/Tokyo"
SSPI_TEST_SUMMARY=$sums/unit-tz.json TZ=Asia/Tokyo run_suite 180 bash scripts/wine-node.sh "${mocha[@]}" \
  --timeout 60000 dist/test/unit/time.test.js dist/test/unit/kerberos.test.js
echo "== end-to-end suite: Linux clients against the server in Windows node.exe"
SSPI_TEST_SUMMARY=$sums/e2e.json run_suite 600 node "${mocha[@]}" --timeout 120000 'dist/test/e2e/**/*.test.js'
echo "== compatibility suite: the packed tarball on every Windows Node line"
SSPI_TEST_SUMMARY=$sums/compat.json run_suite 300 node "${mocha[@]}" --timeout 180000 'dist/test/compat/**/*.test.js'
echo "== hostile-input suite: isolation and soak in Windows node.exe, token fuzz in child node.exe processes"
SSPI_TEST_SUMMARY=$sums/hostile-wine.json run_suite 300 bash scripts/wine-node.sh --expose-gc "${mocha[@]}" \
  --timeout 600000 'dist/test/hostile/wine/**/*.test.js'
SSPI_TEST_SUMMARY=$sums/hostile-fuzz.json run_suite 600 node "${mocha[@]}" --timeout 600000 'dist/test/hostile/*.test.js'
set -e

# A suite that died before reporting (a crash) counts as one failure.
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of process.argv.slice(1)) {
    try { const s = JSON.parse(fs.readFileSync(f, "utf8")); passed += s.passes; failed += s.failures; skipped += s.pending; }
    catch { console.log(`suite summary ${f} missing: the suite crashed`); failed += 1; }
  }
  // Skipped tests (each with its reason in the test) on a line of their own: the last line stays exactly
  // "N passed, N failed".
  if (skipped) console.log(`${skipped} skipped (see the suites above for why)`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
' "${summaries[@]}"
