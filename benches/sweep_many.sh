#!/bin/sh
# Sweep benchmark: per-repository overhead and peak memory of `leaksweep git --repos-from`
# over many small repositories (each: 3 commits, 4 files, one secret).
#
#   cargo build --release && benches/sweep_many.sh [target/release/leaksweep]
#   COUNTS="10 100 1000" THREADS=2 benches/sweep_many.sh
#
# For each count N it sweeps the first N repositories under /usr/bin/time -v and prints the
# wall time, the time per repository, and the peak RSS. The per-repository overhead is the
# slope between the smallest and the largest N (start-up and rule compilation cancel out);
# memory is flat in N if the peak RSS barely moves from the smallest to the largest N.
set -eu
bin=$(realpath "${1:-target/release/leaksweep}")
counts=${COUNTS:-"10 100 1000"}
threads=${THREADS:-0}
max=0
for n in $counts; do [ "$n" -gt "$max" ] && max=$n; done
work=$(mktemp -d "${TMPDIR:-/tmp}/leaksweep-sweep-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME="$work"

# A fast-import stream: 3 commits, each adding a file; the second adds a fake AWS key id.
stream() {
    i=$1
    for c in 1 2 3; do
        case $c in
            2) body="AWS_ACCESS_KEY_ID = $(printf 'AKIA%s' "$(printf 'r%s' "$i" | sha256sum | tr a-f0-9 K-Z | cut -c1-16)")" ;;
            *) body="# repository $i, commit $c: nothing to see" ;;
        esac
        len=$(printf '%s\n' "$body" | wc -c)
        printf 'commit refs/heads/main\ncommitter Bench <bench@invalid> %d +0000\n' $((1600000000 + c))
        printf 'data 9\ncommit %d\n' "$c"
        printf 'M 100644 inline file%d.txt\ndata %d\n%s\n\n' "$c" "$len" "$body"
    done
}

echo "creating $max repositories in $work ..." >&2
i=0
while [ "$i" -lt "$max" ]; do
    d="$work/repos/r$(printf '%05d' "$i")"
    git init -q -b main --bare "$d"
    stream "$i" | git --git-dir="$d" fast-import --quiet
    echo "$d" >>"$work/all.txt"
    i=$((i + 1))
done

printf '%8s %10s %14s %12s %9s\n' repos wall_s ms_per_repo peak_rss_MB findings
first_n= first_t=
for n in $counts; do
    head -n "$n" "$work/all.txt" >"$work/list.txt"
    /usr/bin/time -v "$bin" git --repos-from "$work/list.txt" -j "$threads" -f json \
        -o "$work/report.json" --progress none --exit-code 0 2>"$work/time.txt" >/dev/null || {
        cat "$work/time.txt" >&2
        exit 1
    }
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0;
        for (k = 1; k <= n; k++) s = s * 60 + p[k]; print s}' "$work/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$work/time.txt")
    found=$(grep -c '"rule_id"' "$work/report.json" || true)
    per=$(awk -v w="$wall" -v n="$n" 'BEGIN {printf "%.2f", w * 1000 / n}')
    printf '%8d %10.2f %14s %12s %9d\n' "$n" "$wall" "$per" "$rss" "$found"
    if [ -z "$first_n" ]; then first_n=$n first_t=$wall; fi
    last_n=$n last_t=$wall
done
if [ "$last_n" != "$first_n" ]; then
    awk -v a="$first_t" -v b="$last_t" -v m="$first_n" -v n="$last_n" \
        'BEGIN {printf "overhead per repository (slope %d -> %d): %.2f ms\n", m, n, (b - a) * 1000 / (n - m)}'
fi
