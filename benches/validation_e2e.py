#!/usr/bin/env python3
"""End-to-end benchmark of `leaksweep scan --validate` against the local contract server.

Writes 1,000 unique credentials of 15 providers (random, in each rule's shape) into one
file, seeds them all live in tests/contract_servers/validators.py, and times the real
binary with the default limits (4 requests in flight and 20 requests a second per
provider). Prints the wall time, the statuses and the number of requests the server saw.

Usage: python3 benches/validation_e2e.py [path/to/leaksweep] [N]
(default: target/release/leaksweep, N = 1000). Not a test: it only measures.
"""

import json
import os
import random
import string
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def r(alphabet, n, rng):
    return "".join(rng.choice(alphabet) for _ in range(n))


# provider id -> credential generator in the shape of one of its rules
GEN = {
    "stripe": lambda g: "sk_test_" + r(ALNUM, 30, g),
    "sendgrid": lambda g: "SG." + r(ALNUM, 22, g) + "." + r(ALNUM, 43, g),
    "gitlab": lambda g: "glpat-" + r(ALNUM, 20, g),
    "huggingface": lambda g: "hf_" + r(ALNUM, 34, g),
    "digitalocean": lambda g: "dop_v1_" + r(HEX, 64, g),
    "postman": lambda g: "PMAK-" + r(HEX, 24, g) + "-" + r(HEX, 34, g),
    "linear": lambda g: "lin_api_" + r(ALNUM, 40, g),
    "doppler": lambda g: "dp.pt." + r(ALNUM, 43, g),
    "notion": lambda g: "ntn_" + r(ALNUM, 45, g),
    "airtable": lambda g: "pat" + r(ALNUM, 14, g) + "." + r(HEX, 64, g),
    "figma": lambda g: "figd_" + r(ALNUM, 40, g),
    "groq": lambda g: "gsk_" + r(ALNUM, 52, g),
    "replicate": lambda g: "r8_" + r(ALNUM, 37, g),
    "netlify": lambda g: "nfp_" + r(ALNUM, 36, g),
    "slack": lambda g: "xoxp-%s-%s-%s-%s" % (r("123456789", 12, g), r("123456789", 12, g), r("123456789", 12, g), r(HEX, 32, g)),
}


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/leaksweep")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rng = random.Random(20261203)
    ids = sorted(GEN)
    creds = [(ids[i % len(ids)], GEN[ids[i % len(ids)]](rng)) for i in range(n)]
    with tempfile.TemporaryDirectory() as d:
        ready = os.path.join(d, "ready.json")
        srv = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests/contract_servers/validators.py"),
             "--port", "0", "--ready-file", ready],
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                if os.path.exists(ready):
                    break
                time.sleep(0.05)
            base = "http://127.0.0.1:%d" % json.load(open(ready))["port"]
            seed = {"credentials": {c: {"answer": "live"} for _, c in creds}}
            urllib.request.urlopen(urllib.request.Request(
                base + "/_ctl/seed", data=json.dumps(seed).encode(), method="POST"))
            path = os.path.join(d, "leaks.txt")
            with open(path, "w") as f:
                for pid, c in creds:
                    f.write("%s_TOKEN=%s\n" % (pid.upper(), c))
            args = [binary, "scan", path, "--validate", "-f", "json", "--max-findings-per-file", "0"]
            for pid in ids:
                args += ["--validate-endpoint", "%s=%s/%s" % (pid, base, pid)]
            t = time.monotonic()
            out = subprocess.run(args, capture_output=True)
            secs = time.monotonic() - t
            doc = json.loads(out.stdout)
            statuses = {}
            for f in doc["findings"]:
                s = f.get("validation", {}).get("status", "none")
                statuses[s] = statuses.get(s, 0) + 1
            reqs = json.load(urllib.request.urlopen(base + "/_ctl/requests"))
            print("findings: %d, statuses: %s" % (len(doc["findings"]), statuses))
            print("requests seen by the server: %d" % len(reqs))
            print("wall time: %.2f s (%d providers, default limits)" % (secs, len(ids)))
        finally:
            srv.kill()
            srv.wait()


if __name__ == "__main__":
    main()
