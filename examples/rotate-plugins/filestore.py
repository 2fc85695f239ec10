#!/usr/bin/env python3
"""A leaksweep rotation plugin (protocol leaksweep-rotate v1): a versioned secret store
kept in a JSON file. It is small on purpose: copy it and replace the four store
functions with calls to your own secret store.

leaksweep config:

    [[rotation.backend]]
    name = "filestore"
    kind = "exec"
    command = ["python3", "examples/rotate-plugins/filestore.py", "--store", "store.json"]

Store file: {"secrets": {"app/db": {"current": 1, "versions": {"1": {"fields": {...}}}}}}

Rules this plugin follows (leaksweep checks them):
- stdout carries protocol lines only, one JSON object per line; logs go to stderr;
- a result never contains a secret value (leaksweep fails the request if it does);
- a dry run changes nothing;
- rotate is idempotent on `idempotency_key`: a repeated request is `already_applied`.
"""
import hmac
import json
import os
import sys
import tempfile

STORE_PATH = None


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def value_of(v):
    """The bytes of a {"encoding": ..., "value": ...} object."""
    if v.get("encoding") == "base64":
        import base64

        return base64.b64decode(v["value"])
    return v["value"].encode("utf-8")


# --- the store: replace these four functions for a real secret store -------------------


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {"secrets": {}}


def save(path, data):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".store-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def current_fields(secret):
    return secret["versions"][str(secret["current"])]["fields"]


# --- protocol operations ----------------------------------------------------------------


def locate(store, req):
    leaked = value_of(req["leaked"])
    found = []
    for path, secret in sorted(store["secrets"].items()):
        for key, val in sorted(current_fields(secret).items()):
            if isinstance(val, str) and hmac.compare_digest(val.encode("utf-8"), leaked):
                found.append({"path": path, "key": key})
    return {"status": "located", "locations": found}


def failed(kind, message):
    return {"status": "failed", "error": {"kind": kind, "message": message}, "retryable": False}


def rotate(store_path, store, req):
    target = req["target"]
    secret = store["secrets"].get(target["path"])
    if secret is None:
        return failed("not_found", "no secret at path %r" % target["path"])
    key = target.get("key")
    fields = current_fields(secret)
    if key is None and len(fields) == 1:
        key = next(iter(fields))
    if key not in fields:
        return failed("not_found", "no field %r in %r" % (key, target["path"]))
    for vid, version in secret["versions"].items():
        if version.get("idempotency_key") == req["idempotency_key"]:
            return {"status": "already_applied", "new_version": vid}
    previous = str(secret["current"])
    if req.get("dry_run"):
        return {"status": "would_rotate", "previous_version": previous}
    new_fields = dict(fields)
    new_fields[key] = value_of(req["new_value"]).decode("utf-8")
    new_id = str(secret["current"] + 1)
    secret["versions"][new_id] = {"fields": new_fields, "idempotency_key": req["idempotency_key"]}
    secret["current"] = secret["current"] + 1
    save(store_path, store)
    return {"status": "rotated", "new_version": new_id, "previous_version": previous}


def describe(store, req):
    """Read-only: does the target exist, which version is current, can we write it."""
    secret = store["secrets"].get(req["target"]["path"])
    if secret is None:
        return {"status": "described", "exists": False}
    return {
        "status": "described",
        "exists": True,
        "current_version": str(secret["current"]),
        "writable": os.access(STORE_PATH, os.W_OK),
    }


def verify(store, req):
    target = req["target"]
    secret = store["secrets"].get(target["path"])
    if secret is None:
        return failed("not_found", "no secret at path %r" % target["path"])
    fields = current_fields(secret)
    key = target.get("key") or (next(iter(fields)) if len(fields) == 1 else None)
    val = fields.get(key)
    if not isinstance(val, str):
        return failed("not_found", "no field %r in %r" % (key, target["path"]))
    still = hmac.compare_digest(val.encode("utf-8"), value_of(req["leaked"]))
    return {"status": "verified", "still_leaked": still}


def main(argv):
    if "--leaksweep-plugin" not in argv or "--store" not in argv:
        sys.stderr.write("usage: filestore.py --store FILE --leaksweep-plugin (run by leaksweep)\n")
        return 2
    global STORE_PATH
    store_path = argv[argv.index("--store") + 1]
    STORE_PATH = store_path
    send({
        "protocol": "leaksweep-rotate",
        "versions": [1],
        "plugin": "filestore-example",
        "plugin_version": "1.0.0",
        "capabilities": {"ops": ["describe", "locate", "rotate", "verify"], "dry_run": True, "idempotency": "native"},
    })
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if req.get("v") != 1:
            result = failed("unsupported", "protocol version %r" % req.get("v"))
        else:
            try:
                store = load(store_path)
                op = req.get("op")
                if op == "locate":
                    result = locate(store, req)
                elif op == "rotate":
                    result = rotate(store_path, store, req)
                elif op == "verify":
                    result = verify(store, req)
                elif op == "describe":
                    result = describe(store, req)
                elif op == "shutdown":
                    return 0
                else:
                    result = failed("unsupported", "unknown op %r" % op)
            except Exception as e:  # never print the exception text: it may quote a value
                result = failed("other", "internal error: %s" % type(e).__name__)
        result.update({"v": 1, "id": req.get("id"), "type": "result"})
        send(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
