"""Shared scaffolding of the contract servers (Python 3.11 stdlib only).

Each provider script (azure_kv.py, gcp_sm.py, oci_vault.py, kube_api.py) subclasses
Handler, implements route(), and calls serve(). A server:
- listens on 127.0.0.1 only, on --port (0 = a free port), and writes --ready-file
  (JSON: {"port": N, ...}) atomically once it accepts connections;
- keeps all state in memory; the test drives it through /_ctl/ endpoints:
    POST /_ctl/seed      provider-specific initial state (tokens, secrets, ...)
    POST /_ctl/faults    {"method": "PUT"|null, "path": "/prefix", "status": 429,
                          "count": 2, "retry_after": 1, "echo_body": false,
                          "after": false}   (after: the request is processed, then
                          the answer is replaced by the fault: a lost answer)
    GET  /_ctl/requests  [{"method", "path", "status"}] of every provider request
    GET  /_ctl/state     provider-specific dump (values included: the test reads them)
- logs one line per request to stderr: method, path without query, status. Never a
  body or a header value, so the test can grep the log for canary values.
"""

import argparse
import json
import os
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs


class Reply(Exception):
    """Raised by route() to answer at once: Reply(status, body_obj, headers)."""

    def __init__(self, status, body=None, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "contract-server"
    sys_version = ""

    # --- to override -------------------------------------------------------------
    def route(self, method, path, query, body):
        raise Reply(404, {"error": "no route"})

    def error_body(self, status, code, message):
        """The provider's error shape for an injected fault."""
        return {"error": {"code": code, "message": message}}

    def seed(self, data):
        pass

    def dump(self):
        return {}

    # --- plumbing ------------------------------------------------------------------
    def log_message(self, fmt, *args):  # silence the default (it prints the query)
        pass

    def _handle(self):
        method = self.command
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.raw_body = body
        status = 500
        try:
            if path.startswith("/_ctl/"):
                status, obj, hdrs = self.control(method, path, body)
            else:
                status, obj, hdrs = self.provider(method, path, query, body)
        except Exception:  # a server bug: answer 500 and say so on stderr
            traceback.print_exc(file=sys.stderr)
            status, obj, hdrs = 500, {"error": "contract server bug"}, {}
        # Record before answering: a client that got its answer may ask for the request log
        # at once, and must find this request in it.
        if not path.startswith("/_ctl/"):
            with self.server.lock:
                self.server.requests.append({"method": method, "path": path, "status": status})
        self.send(status, obj, hdrs)
        sys.stderr.write(f"{method} {path} {status}\n")
        sys.stderr.flush()

    def provider(self, method, path, query, body):
        lost = None
        with self.server.lock:
            for f in self.server.faults:
                if f["count"] > 0 and path.startswith(f["path"]) and f.get("method") in (None, method):
                    f["count"] -= 1
                    if f.get("after"):  # process the request, then lose the answer
                        lost = f
                        break
                    hdrs = {}
                    if f.get("retry_after") is not None:
                        hdrs["Retry-After"] = str(f["retry_after"])
                    msg = f.get("message", "injected fault")
                    if f.get("echo_body"):
                        msg += ": " + body.decode("utf-8", "replace")
                    return f["status"], self.error_body(f["status"], f.get("code", "Injected"), msg), hdrs
        try:
            with self.server.lock:
                obj = self.route(method, path, query, body)
            result = obj if isinstance(obj, tuple) else (200, obj, {})
        except Reply as r:
            result = (r.status, r.body, r.headers)
        if lost is not None:
            return lost["status"], self.error_body(lost["status"], "Injected", "answer lost after the write"), {}
        return result

    def control(self, method, path, body):
        data = json.loads(body or b"{}")
        with self.server.lock:
            if path == "/_ctl/faults" and method == "POST":
                self.server.faults.append(data)
                return 204, None, {}
            if path == "/_ctl/seed" and method == "POST":
                self.seed(data)
                return 204, None, {}
            if path == "/_ctl/requests":
                return 200, list(self.server.requests), {}
            if path == "/_ctl/state":
                return 200, self.dump(), {}
            if path == "/_ctl/health":
                return 200, {"ok": True}, {}
        return 404, {"error": "unknown control path"}, {}

    def send(self, status, obj, headers):
        data = b"" if obj is None else (obj if isinstance(obj, bytes) else json.dumps(obj).encode())
        self.send_response(status)
        if obj is not None and "Content-Type" not in headers:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def base_url(self):
        return "http://" + (self.headers.get("Host") or "127.0.0.1")

    def bearer(self):
        h = self.headers.get("Authorization") or ""
        return h[7:] if h.startswith("Bearer ") else None

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _handle


def json_body(body, error):
    """Parses a JSON object body or raises error()."""
    try:
        obj = json.loads(body)
    except ValueError:
        raise error("the body is not JSON")
    if not isinstance(obj, dict):
        raise error("the body is not a JSON object")
    return obj


def serve(handler_cls, extra_args=None, on_start=None):
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--ready-file", required=True)
    for a in extra_args or []:
        p.add_argument(*a[0], **a[1])
    args = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), handler_cls)
    srv.daemon_threads = True
    srv.lock = threading.RLock()
    srv.faults = []
    srv.requests = []
    srv.args = args
    info = {"port": srv.server_address[1]}
    if on_start:
        info.update(on_start(srv, args) or {})
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.replace(tmp, args.ready_file)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
