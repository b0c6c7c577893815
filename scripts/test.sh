#!/usr/bin/env bash
# The test command (`npm test`): builds the addon and the TypeScript, starts the embedded domain,
# then runs
#   1. the unit suite (test/unit) inside the official Windows node.exe under Wine, against Wine's
#      secur32 and the Samba domain, and
#   2. the end-to-end suite (test/e2e) on Linux Node, which starts the HTTP server in Windows
#      node.exe and drives it with curl and MIT GSSAPI,
# and ends with one line "N passed, N failed" over both.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/testbed.sh
. scripts/testbed.sh
testbed_up
testbed_tickets tests

rm -f "$state/unit.json" "$state/e2e.json"
set +e
echo "== unit suite: Windows node.exe under Wine"
SSPI_TEST_SUMMARY=$state/unit.json bash scripts/wine-node.sh --expose-gc node_modules/mocha/bin/mocha.js \
  --no-color --timeout 60000 --reporter test/support/reporter.js 'dist/test/unit/**/*.test.js'
echo "== end-to-end suite: Linux clients against the server in Windows node.exe"
SSPI_TEST_SUMMARY=$state/e2e.json node node_modules/mocha/bin/mocha.js \
  --no-color --timeout 120000 --reporter test/support/reporter.js 'dist/test/e2e/**/*.test.js'
set -e

# A suite that died before reporting (a crash) counts as one failure.
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of process.argv.slice(1)) {
    try { const s = JSON.parse(fs.readFileSync(f, "utf8")); passed += s.passes; failed += s.failures; skipped += s.pending; }
    catch { console.log(`suite summary ${f} missing: the suite crashed`); failed += 1; }
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  process.exit(failed ? 1 : 0);
' "$state/unit.json" "$state/e2e.json"
