#!/usr/bin/env bash
# `npm run bench`: handshake throughput inside Windows node.exe under Wine, against the embedded
# domain. Prints figures and ratios; asserts nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/testbed.sh
. scripts/testbed.sh
testbed_up
testbed_tickets bench
bash scripts/wine-node.sh dist/bench/handshake.bench.js
