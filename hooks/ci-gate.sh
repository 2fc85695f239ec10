#!/bin/sh
# leaksweep CI gate: scans only the commits that a push or merge request adds, writes SARIF for
# code-scanning UIs, and fails only on new findings (a baseline keeps old, accepted ones quiet).
#
# Works in GitHub Actions, GitLab CI and any shell. The base of the range comes from, in order:
#   LEAKSWEEP_BASE                          set it yourself (a commit id or a ref)
#   CI_MERGE_REQUEST_DIFF_BASE_SHA          GitLab merge request pipelines
#   GITHUB_BASE_REF                         GitHub pull requests: merge base with origin/<base>
#   CI_COMMIT_BEFORE_SHA                    GitLab push pipelines (all zeros on a new branch)
#   the merge base with the remote's default branch (origin/HEAD), else the whole history.
# Other settings:
#   LEAKSWEEP             the binary (default: leaksweep on PATH)
#   LEAKSWEEP_BASELINE    baseline file (default: .leaksweep-baseline.json when it exists)
#   LEAKSWEEP_SARIF       SARIF output path (default: leaksweep.sarif)
# Exit: 0 no new findings, 1 new findings, 2 error (the pipeline should fail on both 1 and 2).
# A shallow clone must contain the base commit: fetch with enough depth (GitHub: fetch-depth: 0).
set -u

LEAKSWEEP=${LEAKSWEEP:-leaksweep}
SARIF=${LEAKSWEEP_SARIF:-leaksweep.sarif}
ZERO=0000000000000000000000000000000000000000

base=${LEAKSWEEP_BASE:-}
if [ -z "$base" ] && [ -n "${CI_MERGE_REQUEST_DIFF_BASE_SHA:-}" ]; then
    base=$CI_MERGE_REQUEST_DIFF_BASE_SHA
fi
if [ -z "$base" ] && [ -n "${GITHUB_BASE_REF:-}" ]; then
    git fetch --quiet --no-tags origin "$GITHUB_BASE_REF" 2>/dev/null || true
    base=$(git merge-base HEAD "origin/$GITHUB_BASE_REF" 2>/dev/null || true)
fi
if [ -z "$base" ] && [ -n "${CI_COMMIT_BEFORE_SHA:-}" ] && [ "$CI_COMMIT_BEFORE_SHA" != "$ZERO" ]; then
    base=$CI_COMMIT_BEFORE_SHA
fi
if [ "$base" = "$ZERO" ]; then
    base=""
fi
if [ -z "$base" ]; then
    base=$(git merge-base HEAD origin/HEAD 2>/dev/null || true)
fi
if [ -n "$base" ] && ! git cat-file -e "$base^{commit}" 2>/dev/null; then
    git fetch --quiet --no-tags origin "$base" 2>/dev/null || true
    if ! git cat-file -e "$base^{commit}" 2>/dev/null; then
        echo "leaksweep: base commit $base is not in this clone; fetch more history (GitHub: fetch-depth: 0)" >&2
        exit 2
    fi
fi

set -- --format sarif --output "$SARIF"
baseline=${LEAKSWEEP_BASELINE:-}
if [ -z "$baseline" ] && [ -f .leaksweep-baseline.json ]; then
    baseline=.leaksweep-baseline.json
fi
if [ -n "$baseline" ]; then
    set -- "$@" --baseline "$baseline"
fi
if [ -n "$base" ]; then
    echo "leaksweep: scanning the commits in $base..HEAD" >&2
    set -- --range "$base..HEAD" "$@"
else
    echo "leaksweep: no base commit found; scanning the whole history of HEAD" >&2
fi

"$LEAKSWEEP" git "$@"
status=$?
if [ "$status" -eq 1 ]; then
    # Show the same findings for people in the job log (redacted).
    "$LEAKSWEEP" git ${base:+--range "$base..HEAD"} ${baseline:+--baseline "$baseline"} --format text >&2
    echo "leaksweep: new secrets in this change (SARIF: $SARIF). Remove and rotate them, mark test data with leaksweep:allow, or accept with leaksweep ignore add." >&2
fi
exit "$status"
