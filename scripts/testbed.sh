# Sourced (not run) by test.sh, bench.sh and demo.sh: the test bed they all stand on.
#
#   testbed_up            Debian packages, the build, Windows node.exe + Wine prefix, the domain;
#                         exports the domain's variables (scripts/domain.sh env).
#   testbed_tickets NAME  a TGT for $SSPI_USER in the cache ccache-NAME (exported as KRB5CCNAME), and
#                         the suites' description of the bed in $SSPI_TEST_CONFIG (NAME-config.json).
#
# Expects $root (the repository); sets and exports $state / SSPI_STATE_DIR.
state=${SSPI_STATE_DIR:-$root/.state}
mkdir -p "$state"
export SSPI_STATE_DIR=$state

testbed_up() {
  bash "$root/scripts/setup.sh"
  (cd "$root" && npm run --silent build)
  bash "$root/scripts/wine-node.sh" --prepare
  bash "$root/scripts/domain.sh" start
  eval "$(bash "$root/scripts/domain.sh" env)"
}

testbed_tickets() {
  KRB5CCNAME=FILE:$state/domain/ccache-$1
  export KRB5CCNAME
  bash "$root/scripts/domain.sh" kinit "$SSPI_USER" >/dev/null
  SSPI_TEST_CONFIG=$state/$1-config.json
  export SSPI_TEST_CONFIG
  node "$root/scripts/test-config.js" >"$SSPI_TEST_CONFIG"
}
