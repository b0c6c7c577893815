#!/usr/bin/env bash
# The hostile-input suite alone (test/hostile; `npm run hostile`, `npm run hostile:full`): the test bed as
# `npm test` makes it (scripts/testbed.sh), then
#   1. HTTP isolation and the soak inside Windows node.exe (test/hostile/wine);
#   2. the seeded token fuzz driven from Linux Node in child node.exe processes (test/hostile/fuzz.test.ts).
# Size: SSPI_HOSTILE=full (100,000 fuzz cases per package, 100,000 soak handshakes; hours, mostly in the
# NTLM targets: each NTLM context starts a Samba ntlm_auth process under Wine), SSPI_HOSTILE_CASES=N or
# 'asc-NTLM=5000,...' for other sizes; CI size otherwise. Other knobs (seed, parallel children, a private
# Wine prefix) are described in test/hostile/fuzz.test.ts. The fuzz's report (JSON) is written under
# $SSPI_STATE_DIR/hostile-*/; RELIABILITY.md holds the figures of the last full-size run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/testbed.sh
. scripts/testbed.sh
testbed_up
testbed_tickets tests
mocha=(node_modules/mocha/bin/mocha.js --no-color --reporter test/support/reporter.js)
status=0
[ -n "${SSPI_HOSTILE_FUZZ_ONLY:-}" ] || bash scripts/wine-node.sh --expose-gc "${mocha[@]}" --timeout 0 'dist/test/hostile/wine/**/*.test.js' || status=1
node "${mocha[@]}" --timeout 0 'dist/test/hostile/*.test.js' || status=1
exit $status
