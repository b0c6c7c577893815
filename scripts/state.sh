# Sourced (not run) by the scripts that use the state folder. Expects $root (the repository); sets
#   $state      the state folder: $SSPI_STATE_DIR or <repo>/.state, absolute, created, exported as SSPI_STATE_DIR
#   $clone_tag  "" when the state folder is this clone's own; else "-<8 hex digits>" naming this clone, for
#               what clones sharing one state folder must not share (Wine prefix, tickets, suite summaries)
state=${SSPI_STATE_DIR:-$root/.state}
mkdir -p "$state"
state=$(cd "$state" && pwd)
export SSPI_STATE_DIR=$state
clone_tag=
case "$state/" in "$root"/*) ;; *) clone_tag=-$(printf %s "$root" | sha256sum | cut -c1-8) ;; esac
