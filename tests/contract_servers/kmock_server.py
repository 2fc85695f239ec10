"""kmock's KubernetesEmulator as a server with the contract servers' ready-file protocol.

An independent, third-party Kubernetes-shaped emulator (PyPI `kmock`), used as a
cross-check of the Kubernetes backend next to kube_api.py: it has no auth, RBAC,
resourceVersion or stringData merging (README.md), so only the happy path runs against it.
"""

import argparse
import asyncio
import json
import os
import signal
import sys

try:
    import kmock
except ImportError:
    print("MISSING_MODULE kmock", file=sys.stderr, flush=True)
    sys.exit(3)


async def main(args):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with kmock.KubernetesEmulator() as k8s, kmock.Server(k8s, host="127.0.0.1", port=args.port) as srv:
        port = int(str(srv.url).rstrip("/").rsplit(":", 1)[1])
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"port": port}, f)
        os.replace(tmp, args.ready_file)
        await stop.wait()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--ready-file", required=True)
    asyncio.run(main(p.parse_args()))
