#!/bin/sh
# Sweep scale benchmark (issue 15): many repositories, several GB of history, and one
# repository split across shards by blob. Benchmarks, not timed tests: run by hand on a
# quiet machine and copy the numbers into docs/sweeps.md.
#
#   cargo build --release
#   benches/sweep_scale.sh [target/release/leaksweep]
#   MEDIUM_REPO=/path/to/a/medium/repo COPIES=10 benches/sweep_scale.sh
#
# 1. Small repositories (benches/sweep_many.sh): COUNTS (default "10 100 1000") bare
#    repositories of 3 commits; wall time, ms per repository (the slope from the smallest
#    to the largest count, so start-up cancels out) and peak RSS for each count: memory is
#    flat if the RSS barely moves from 100 to 1000 repositories.
# 2. Large history: COPIES (default 10) bare copies of MEDIUM_REPO (hard-linked by
#    `git clone --bare --local`, so the disk holds one pack), swept as one list. Without
#    MEDIUM_REPO a synthetic history is generated (GEN_COMMITS commits x GEN_FILES files of
#    ~GEN_KB KB, each commit rewriting every file, one fake key per file). Reports the
#    bytes scanned (unique blob bytes summed over the copies), wall time, MB/s and peak
#    RSS, next to one copy alone: the sweep stays within the per-repository bound if the
#    RSS of COPIES copies stays near the RSS of one copy times the lanes (-j).
# 3. Blob split: one copy with --shard K/SHARDS (default 2) --shard-by blob, one shard
#    after the other: each shard's wall time and peak RSS, and `leaksweep merge` of them;
#    the merge must report as many findings as the whole run.
# Peak RSS is /usr/bin/time -v's "Maximum resident set size". THREADS (default 0: one per
# core) is passed as -j.
set -eu
bin=$(realpath "${1:-target/release/leaksweep}")
here=$(dirname "$0")
copies=${COPIES:-10}
shards=${SHARDS:-2}
threads=${THREADS:-0}
work=$(mktemp -d "${TMPDIR:-/tmp}/leaksweep-scale-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME="$work"

if [ "${SKIP_SMALL:-0}" != 1 ]; then
    echo "== 1. small repositories" >&2
    COUNTS=${COUNTS:-"10 100 1000"} THREADS=$threads sh "$here/sweep_many.sh" "$bin"
fi

# Runs leaksweep under /usr/bin/time -v; prints "wall_s rss_MB".
timed() {
    /usr/bin/time -v "$bin" "$@" 2>"$work/time.txt" >/dev/null || {
        rc=$?
        if [ "$rc" -ne 1 ]; then cat "$work/time.txt" >&2; exit 1; fi
    }
    awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0;
        for (k = 1; k <= n; k++) s = s * 60 + p[k]; w = s}
        /Maximum resident set size/ {r = $2 / 1024}
        END {printf "%.2f %.1f", w, r}' "$work/time.txt"
}

# A field of the JSON summary of report $1.
field() {
    sed -n "s/.*\"$2\": *\([0-9][0-9.]*\).*/\1/p" "$1" | head -n 1
}

echo "== 2. large history" >&2
if [ -n "${MEDIUM_REPO:-}" ]; then
    src=$MEDIUM_REPO
else
    src="$work/synthetic.git"
    git init -q -b main --bare "$src"
    awk -v C="${GEN_COMMITS:-60}" -v F="${GEN_FILES:-40}" -v KB="${GEN_KB:-40}" 'BEGIN {
        srand(7)
        B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        for (c = 1; c <= C; c++) {
            printf "commit refs/heads/main\ncommitter Bench <bench@invalid> %d +0000\n", 1600000000 + c
            printf "data 6\nbench\n"
            for (f = 1; f <= F; f++) {
                id = ""
                for (k = 0; k < 16; k++) id = id substr(B32, 1 + (f * 31 + k * 7 + int(f / 3) * k) % 32, 1)
                body = sprintf("AWS_ACCESS_KEY_ID = AKIA%s\n", id)
                while (length(body) < KB * 1024) {
                    line = ""
                    for (w = 0; w < 12; w++) line = line sprintf("w%x ", int(rand() * 1e9))
                    body = body line "\n"
                }
                printf "M 100644 inline src/f%03d.txt\ndata %d\n%s\n", f, length(body), body
            }
        }
    }' | git --git-dir="$src" fast-import --quiet
fi
i=1
while [ "$i" -le "$copies" ]; do
    git clone -q --bare --local "$src" "$work/copies/c$i.git"
    echo "$work/copies/c$i.git" >>"$work/copies.txt"
    i=$((i + 1))
done
head -n 1 "$work/copies.txt" >"$work/one.txt"
printf '%8s %10s %10s %8s %12s %9s\n' copies GB_scanned wall_s MB/s peak_rss_MB findings
for list in one copies; do
    set -- $(timed git --repos-from "$work/$list.txt" -j "$threads" -f json \
        -o "$work/$list.json" --progress none)
    n=$(wc -l <"$work/$list.txt")
    bytes=$(field "$work/$list.json" bytes_scanned)
    awk -v n="$n" -v b="$bytes" -v w="$1" -v r="$2" -v f="$(field "$work/$list.json" findings)" \
        'BEGIN {printf "%8d %10.2f %10.2f %8.1f %12.1f %9d\n", n, b / 1e9, w, b / 1e6 / (w > 0 ? w : 1), r, f}'
done

echo "== 3. one repository split by blob into $shards shards" >&2
c1=$(head -n 1 "$work/copies.txt")
printf '%8s %10s %12s %12s %9s\n' shard wall_s peak_rss_MB unique_blobs findings
k=0
while [ "$k" -lt "$shards" ]; do
    set -- $(timed git "$c1" --shard "$k/$shards" --shard-by blob -j "$threads" -f json \
        -o "$work/shard-$k.json" --progress none)
    printf '%8s %10s %12s %12s %9s\n' "$k/$shards" "$1" "$2" \
        "$(field "$work/shard-$k.json" unique_blobs)" "$(field "$work/shard-$k.json" findings)"
    echo "$work/shard-$k.json" >>"$work/shards.txt"
    k=$((k + 1))
done
# shellcheck disable=SC2046
"$bin" merge $(cat "$work/shards.txt") -o "$work/merged.json" -q --exit-code 0
echo "merged: $(field "$work/merged.json" findings) findings; one run: $(field "$work/one.json" findings)"
