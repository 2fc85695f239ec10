#!/bin/sh
# Any CI, or by hand: fail if the commits since the target branch add secrets.
#   LEAKSWEEP_BASE=$(git merge-base HEAD origin/main) sh hooks/ci-gate.sh
set -e
LEAKSWEEP_BASE=$(git merge-base HEAD "origin/${TARGET_BRANCH:-main}")
export LEAKSWEEP_BASE
exec sh "$(dirname "$0")/../../hooks/ci-gate.sh"
