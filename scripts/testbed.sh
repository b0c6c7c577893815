# Sourced (not run) by test.sh, bench.sh and demo.sh: the test bed they all stand on.
#
#   testbed_up            host packages, the build, the Debian 13 root (scripts/bed.sh), Windows node.exe and
#                         the Wine prefix, the domain; exports the domain's variables (scripts/domain.sh env).
#                         Stops the domain again when the calling script exits, if it started it.
#   testbed_at_exit CMD   run CMD when the calling script exits (last registered, first run); use it instead
#                         of `trap ... EXIT`, which would replace testbed_up's own.
#   testbed_tickets NAME  a TGT for $SSPI_USER in the cache ccache-NAME (exported as KRB5CCNAME), and
#                         the suites' description of the bed in $SSPI_TEST_CONFIG (NAME-config.json).
#
# Expects $root (the repository); sets $state and $clone_tag (scripts/state.sh).
# shellcheck source=scripts/state.sh
. "$root/scripts/state.sh"

testbed_exit_cmds=()
testbed_at_exit() {
  testbed_exit_cmds+=("$1")
  trap testbed_exit EXIT
}
testbed_exit() {
  local i
  for ((i = ${#testbed_exit_cmds[@]} - 1; i >= 0; i--)); do eval "${testbed_exit_cmds[i]}" || true; done
}

testbed_up() {
  bash "$root/scripts/setup.sh"
  (cd "$root" && npm run --silent build)
  bash "$root/scripts/bed.sh" make
  bash "$root/scripts/wine-node.sh" --prepare
  if ! bash "$root/scripts/domain.sh" status >/dev/null 2>&1; then
    # Samba keeps the root's mounts (its private mount namespace) until it stops.
    testbed_at_exit 'bash "$root/scripts/domain.sh" stop'
  fi
  bash "$root/scripts/domain.sh" start
  eval "$(bash "$root/scripts/domain.sh" env)"
}

testbed_tickets() {
  local name=$1$clone_tag
  KRB5CCNAME=FILE:$state/domain/ccache-$name
  export KRB5CCNAME
  bash "$root/scripts/domain.sh" kinit "$SSPI_USER" >/dev/null
  SSPI_TEST_CONFIG=$state/$name-config.json
  export SSPI_TEST_CONFIG
  node "$root/scripts/test-config.js" >"$SSPI_TEST_CONFIG"
}
