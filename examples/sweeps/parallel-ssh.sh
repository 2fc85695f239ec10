#!/bin/sh
# Sweep repos.txt over several machines with GNU parallel and ssh: shard k of N runs on the
# k-th host (`--shard k/N`), its report is copied back, then all are merged here.
# See docs/sweeps.md.
#
#   HOSTS="scan1 scan2 scan3" ./parallel-ssh.sh repos.txt
#
# Each host needs leaksweep and git on its PATH and read access to the repositories (an
# SSH agent or a git credential helper there; never tokens in URLs). Mirrors and
# checkpoints stay on the hosts, so running the script again fetches and resumes.
set -eu

if [ "${1:-}" = "--one" ]; then
    # One shard on one host (GNU parallel calls this script back with it).
    k=$2 host=$3 n=$4 list=$5 out=$6
    scp -q "$list" "$host:leaksweep-repos.txt"
    rc=0
    ssh "$host" leaksweep git --repos-from leaksweep-repos.txt \
        --clone-dir leaksweep-mirrors --checkpoint "leaksweep-shard-$k.checkpoint" \
        --shard "$k/$n" --progress plain --exit-code 0 \
        --format json --output "leaksweep-shard-$k.json" || rc=$?
    scp -q "$host:leaksweep-shard-$k.json" "$out/shard-$k.json"
    exit "$rc"
fi

list=${1:?usage: HOSTS=\"h1 h2\" $0 repos.txt}
hosts=${HOSTS:?set HOSTS to the machines to use}
n=$(echo "$hosts" | wc -w)
out=${OUT:-leaksweep-shards}
mkdir -p "$out"
# --link pairs index k with the k-th host. A shard that exits 2 (repositories it could not
# sweep) does not stop the others; the merge below then exits 2 as well.
parallel --jobs "$n" --link --halt never "$0" --one {1} {2} "$n" "$list" "$out" \
    ::: $(seq 0 $((n - 1))) ::: $hosts || true
leaksweep merge "$out"/shard-*.json --format json --output "$out/merged.json"
