#!/usr/bin/env bash
# Issue #9: the full-size adversarial corpus. Builds each case under a scratch directory,
# runs the release binary on it under /usr/bin/time, and prints one Markdown table row per
# case: case, exit code, outcome (findings, skipped by reason), wall time, peak RSS.
# `cargo test --test hardening_adversarial` runs scaled-down versions with asserted
# outcomes; this script is for the numbers in the README (it asserts nothing).
#
#   cargo build --release && bash tests/adversarial/run.sh [SCRATCH_DIR]
#   LEAKSWEEP_BIN=target/debug/leaksweep bash tests/adversarial/run.sh   # another binary
#
# Needs python3, git and GNU time (/usr/bin/time). Uses ~1.5 GB of disk in SCRATCH_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${LEAKSWEEP_BIN:-$PWD/target/release/leaksweep}"
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time" >&2; exit 1; }
S="${1:-$(mktemp -d)}"
mkdir -p "$S"
trap 'rm -rf "$S"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
g() { git -c user.name=Ada -c user.email=ada@corp.invalid -c commit.gpgsign=false "$@"; }

# A GitHub PAT with a valid checksum (generated, never a real token).
pat() { python3 - "$1" <<'PY'
import sys, random, zlib
r = random.Random(int(sys.argv[1]))
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
body = "".join(r.choice(A) for _ in range(30))
n, t = zlib.crc32(body.encode()), ""
while n: t = A[n % 62] + t; n //= 62
print("ghp_" + body + t.rjust(6, "0"))
PY
}

row() { # case dir args...
  local name=$1 dir=$2; shift 2
  local out="$S/out.json" err="$S/err.txt" tm="$S/time.txt" rc=0
  ( cd "$dir" && /usr/bin/time -f "%e %M" -o "$tm" "$BIN" "$@" -f json -o "$out" 2>"$err" ) || rc=$?
  local outcome
  outcome=$(python3 - "$out" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    s = d["summary"]
    sk = ", ".join(f"{k} {v}" for k, v in s["skipped"].items()) or "none"
    print(f"{s['findings']} findings, {s.get('files_scanned')} scanned, skipped: {sk}")
except Exception as e:
    print(f"no report ({e.__class__.__name__})")
PY
)
  read -r secs kb < <(tail -n 1 "$tm")
  printf '| %s | %s | %s | %s s | %s MiB |\n' "$name" "$rc" "$outcome" "$secs" "$((kb / 1024))"
}

echo "| case | exit | outcome | time | peak RSS |"
echo "|---|---|---|---|---|"

mkdir -p "$S/flood"
python3 -c "
import sys
w = b'ghp_ AKIA password= token: secret=\"\" xoxb- sk_live_ key '
sys.stdout.buffer.write(w * (100 * 2**20 // len(w)))" > "$S/flood/flood.txt"
row "keyword flood, 100 MiB, ~16M keyword hits, no secret" "$S/flood" scan .
rm -rf "$S/flood"

mkdir -p "$S/run"
python3 -c "import sys; sys.stdout.write('A' * (100 * 2**20))" > "$S/run/run.txt"
row "100 MiB run of one key character (no newline)" "$S/run" scan .
rm -rf "$S/run"

mkdir -p "$S/dump"
python3 - "$S/dump/dump.txt" <<'PY'
import sys, random
r = random.Random(1)
B = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
with open(sys.argv[1], "w") as f:
    for i in range(1_000_000):
        f.write("aws_access_key_id = AKIA" + "".join(r.choice(B) for _ in range(16)) + "\n")
PY
row "1M secrets in one file (cap 1000)" "$S/dump" scan .
row "1M secrets in one file, --max-findings-per-file 0" "$S/dump" scan . --max-findings-per-file 0
row "1M secrets in one file, --file-timeout 0.5" "$S/dump" scan . --max-findings-per-file 0 --file-timeout 0.5
rm -rf "$S/dump"

mkdir -p "$S/line"
P=$(pat 1)
python3 -c "import sys; sys.stdout.write('x' * (100 * 2**20) + ' $P\n')" > "$S/line/line.txt"
row "one 100 MiB line, secret at its end (walked: over --max-file-size)" "$S/line" scan .
row "one 100 MiB line, secret at its end (named)" "$S/line" scan line.txt
rm -rf "$S/line"

mkdir -p "$S/deep"
python3 - "$S/deep" "$(pat 2)" <<'PY'
import os, sys
os.chdir(sys.argv[1])
for i in range(1000):
    os.mkdir("d")
    os.chdir("d")
open("k.env", "w").write("t=" + sys.argv[2] + "\n")
PY
row "1000 nested directories, secret at the bottom" "$S/deep" scan .
rm -rf "$S/deep"

mkdir -p "$S/many"
python3 - "$S/many" "$(pat 3)" <<'PY'
import os, sys
for d in range(100):
    os.makedirs(f"{sys.argv[1]}/d{d}")
    for f in range(1000):
        open(f"{sys.argv[1]}/d{d}/f{f}.txt", "w").write("ok\n" if f else f"t={sys.argv[2]}\n")
PY
row "100k tiny files" "$S/many" scan .
rm -rf "$S/many"

mkdir -p "$S/odd/a"
ln -s .. "$S/odd/a/up"; ln -s /dev/zero "$S/odd/zero"; mkfifo "$S/odd/pipe"
python3 -c "import os,sys; open(os.path.join(sys.argv[1].encode(), b'bad-\xff-name.env'), 'w').write('t=' + sys.argv[2] + '\n')" "$S/odd" "$(pat 4)"
row "symlink loop, FIFO, /dev/zero link, non-UTF-8 name (-L)" "$S/odd" scan . -L
rm -rf "$S/odd"

mkdir -p "$S/wide" && (cd "$S/wide" && g init -q -b main . && python3 - "$(pat 5)" <<'PY'
import os, sys
for d in range(100):
    os.makedirs(f"d{d}")
    for f in range(1000):
        open(f"d{d}/f{f}.txt", "w").write(f"line {d} {f}\n")
open("k.env", "w").write("t=" + sys.argv[1] + "\n")
PY
g add -A && g commit -q -m wide)
row "git: one commit with a 100k-file tree" "$S/wide" git . --no-progress
H=$(cd "$S/wide" && git rev-parse HEAD)
(cd "$S/wide" && for i in $(seq 1 20000); do echo "create refs/tags/t$i $H"; done | git update-ref --stdin)
row "git: same, plus 20k refs" "$S/wide" git . --no-progress
rm -rf "$S/wide"

mkdir -p "$S/gz"
python3 - "$S/gz/app.log.gz" "$(pat 6)" "$(pat 7)" <<'PY'
# A multi-member gzip: a secret, 16 GiB of spaces (one full-flushed deflate block of 1 MiB,
# repeated: the inflated data is never written), a secret after it.
import gzip, sys, zlib
def member(f, data):
    f.write(gzip.compress(data))
block = b" " * (1 << 20)
reps = 16 << 10
with open(sys.argv[1], "wb") as f:
    member(f, b"10:00:01 WARN token=" + sys.argv[2].encode() + b"\n")
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush()
    crc = 0
    f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + first)
    crc = zlib.crc32(block, crc)
    for _ in range(reps - 1):
        f.write(again)
        crc = zlib.crc32(block, crc)
    f.write(tail + crc.to_bytes(4, "little") + ((len(block) * reps) % 2**32).to_bytes(4, "little"))
    member(f, b"10:00:03 WARN token=" + sys.argv[3].encode() + b"\n")
PY
row "gzip bomb: 16 MiB multi-member gzip inflating to 16 GiB (default cap 2G)" "$S/gz" scan .
row "same, --max-decompressed-size 64M" "$S/gz" scan . --max-decompressed-size 64M
rm -rf "$S/gz"

mkdir -p "$S/enc"
python3 - "$S/enc" "$(pat 8)" <<'PY'
# A token under 5 layers of base64; nesting far past any limit; 100 MiB of dense encodings.
import base64, os, sys
d, pat = sys.argv[1], sys.argv[2]
t = "export GITHUB_TOKEN=" + pat
for _ in range(5):
    t = base64.b64encode(t.encode()).decode()
deep = "export GITHUB_TOKEN=" + pat
for _ in range(12):
    deep = base64.b64encode(deep.encode()).decode()
open(os.path.join(d, "deep.log"), "w").write(
    "a msg=" + t + "\nb msg=" + deep + "\nc %" + "25" * 3000 + "41\nd " + "\\\\" * 2000 + "\\\"\n")
blob = base64.b64encode(b"lorem ipsum dolor sit amet, " * 100).decode()
url = "GET /cb?q=" + "".join("%%%02X" % b for b in b"a/b?c=d&e " * 300) + " HTTP/1.1"
js = '{"body":"' + '{\\"k\\":\\"v\\\\n\\"}' * 300 + '"}'
with open(os.path.join(d, "huge.log"), "w") as f:
    n = 0
    while n < 100 * 2**20:
        s = "x=" + blob + "\n" + url + "\n" + js + "\n"
        f.write(s)
        n += len(s)
PY
row "token under 5x base64, 12x base64, 3000-level %25, --max-decode-depth 2" "$S/enc" scan deep.log
row "same, --max-decode-depth 5" "$S/enc" scan deep.log --max-decode-depth 5
row "same, --max-decode-depth 255" "$S/enc" scan deep.log --max-decode-depth 255
row "100 MiB of base64 blobs, %XX URLs, escaped JSON (depth 2)" "$S/enc" scan huge.log
row "same, --max-decode-depth 255" "$S/enc" scan huge.log --max-decode-depth 255
rm -rf "$S/enc"
