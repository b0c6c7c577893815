#!/usr/bin/env bash
# `npm run bench`: handshake throughput inside Windows node.exe under Wine, against the embedded
# domain. Prints figures and ratios; asserts nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
state=${SSPI_STATE_DIR:-$root/.state}
export SSPI_STATE_DIR=$state
bash scripts/setup.sh
npm run --silent build
bash scripts/wine-node.sh --prepare
bash scripts/domain.sh start
# shellcheck disable=SC1090
eval "$(bash scripts/domain.sh env)"
KRB5CCNAME=FILE:$state/domain/ccache-bench
export KRB5CCNAME
bash scripts/domain.sh kinit "$SSPI_USER" >/dev/null
export SSPI_TEST_CONFIG=$state/bench-config.json
node scripts/test-config.js >"$SSPI_TEST_CONFIG"
bash scripts/wine-node.sh dist/bench/handshake.bench.js
