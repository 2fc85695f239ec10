"""Kubernetes core/v1 Secrets contract server (the parts a rotation touches).

Chosen over the kmock emulator because it checks more of the real API (see
tests/contract_servers/README.md): bearer-token authentication (401 Status), RBAC per verb
and namespace (403 with the apiserver's message), metadata.resourceVersion and 409
Conflict on a stale one, stringData merged into base64 data on writes (write-only),
immutable Secrets (422), data values must be base64 (422), merge patches only with
Content-Type application/merge-patch+json (415 otherwise), list paging with
limit/continue, and Status bodies with the real reasons (NotFound, Conflict, Forbidden,
Unauthorized, Invalid, TooManyRequests).

Seed: {"users": {"<token>": {"name": "system:serviceaccount:ci:rotator",
          "rules": {"<namespace>|*": ["get", "list", "patch"]},
          "cluster_list_secrets": bool, "list_namespaces": bool}},
       "namespaces": ["a", "b"],
       "secrets": [{"namespace", "name", "data": {"k": "plain"}, "stringData": {...},
                    "keep_string_data": bool, "annotations": {...}, "immutable": bool}]}
"keep_string_data" stores stringData as a field instead of merging it (as kmock does), to
test that clients honour it.
"""

import base64
import binascii
import copy
import json
import re

from common import Handler, Reply, serve


def status(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return Reply(code, body)


REASONS = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable"}
KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def merge(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(out.get(k), v)
    return out


class Kube(Handler):
    def error_body(self, code, _code, message):
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": REASONS.get(code, "Unknown"), "code": code}

    def seed(self, data):
        st = self.server.state
        st["users"].update(data.get("users", {}))
        for ns in data.get("namespaces", []):
            if ns not in st["namespaces"]:
                st["namespaces"].append(ns)
        for s in data.get("secrets", []):
            ns = s["namespace"]
            if ns not in st["namespaces"]:
                st["namespaces"].append(ns)
            obj = {"apiVersion": "v1", "kind": "Secret", "type": s.get("type", "Opaque"),
                   "metadata": {"name": s["name"], "namespace": ns,
                                "uid": f"00000000-0000-4000-8000-{len(st['secrets']):012d}",
                                "creationTimestamp": "2026-11-23T07:50:13Z"},
                   "data": {k: base64.b64encode(v.encode()).decode() for k, v in s.get("data", {}).items()}}
            if s.get("annotations"):
                obj["metadata"]["annotations"] = s["annotations"]
            if s.get("immutable"):
                obj["immutable"] = True
            if s.get("stringData"):
                if s.get("keep_string_data"):
                    obj["stringData"] = s["stringData"]
                else:
                    for k, v in s["stringData"].items():
                        obj["data"][k] = base64.b64encode(v.encode()).decode()
            self.bump(obj)
            st["secrets"][(ns, s["name"])] = obj

    def dump(self):
        out = {}
        for (ns, name), obj in self.server.state["secrets"].items():
            o = copy.deepcopy(obj)
            o["decoded"] = {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in o.get("data", {}).items()}
            out[f"{ns}/{name}"] = o
        return {"secrets": out}

    def bump(self, obj):
        self.server.state["rv"] += 1
        obj["metadata"]["resourceVersion"] = str(self.server.state["rv"])

    def user(self):
        tok = self.bearer()
        u = self.server.state["users"].get(tok) if tok else None
        peer = getattr(self.connection, "getpeercert", lambda: None)()
        if u is None and peer:
            cn = dict(x[0] for x in peer.get("subject", ())).get("commonName")
            u = self.server.state["users"].get(f"cert:{cn}")
        if u is None:
            raise status(401, "Unauthorized", "Unauthorized")
        return u

    def allow(self, u, verb, ns, name=None):
        rules = u.get("rules", {})
        verbs = set(rules.get(ns, [])) | set(rules.get("*", []))
        if verb not in verbs:
            what = f'secrets "{name}"' if name else "secrets"
            raise status(403, "Forbidden",
                         f'{what} is forbidden: User "{u["name"]}" cannot {verb} resource "secrets" in API group "" in the namespace "{ns}"',
                         {"name": name or "", "kind": "secrets"})

    def route(self, method, path, query, body):
        st = self.server.state
        if path == "/version":
            return {"major": "1", "minor": "31", "gitVersion": "v1.31.0-contract"}
        u = self.user()
        q = {k: v[0] for k, v in query.items()}
        if path == "/api/v1/secrets" and method == "GET":
            if not u.get("cluster_list_secrets"):
                raise status(403, "Forbidden", f'secrets is forbidden: User "{u["name"]}" cannot list resource "secrets" in API group "" at the cluster scope')
            items = [o for _, o in sorted(st["secrets"].items())]
            return self.page(items, q, "SecretList")
        if path == "/api/v1/namespaces" and method == "GET":
            if not u.get("list_namespaces"):
                raise status(403, "Forbidden", f'namespaces is forbidden: User "{u["name"]}" cannot list resource "namespaces" in API group "" at the cluster scope')
            items = [{"metadata": {"name": n}} for n in st["namespaces"]]
            return {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {"resourceVersion": str(st["rv"])}, "items": items}
        m = re.fullmatch(r"/api/v1/namespaces/([a-z0-9.-]+)/secrets(?:/([a-z0-9.-]+))?", path)
        if not m:
            raise status(404, "NotFound", "the server could not find the requested resource")
        ns, name = m.group(1), m.group(2)
        if name is None:
            if method != "GET":
                raise status(405, "MethodNotAllowed", "only list is served")
            self.allow(u, "list", ns)
            items = [o for (n, _), o in sorted(st["secrets"].items()) if n == ns]
            return self.page(items, q, "SecretList")
        obj = st["secrets"].get((ns, name))
        if method == "GET":
            self.allow(u, "get", ns, name)
            if obj is None:
                raise status(404, "NotFound", f'secrets "{name}" not found', {"name": name, "kind": "secrets"})
            return obj
        if method == "PATCH":
            self.allow(u, "patch", ns, name)
            if obj is None:
                raise status(404, "NotFound", f'secrets "{name}" not found', {"name": name, "kind": "secrets"})
            return self.patch(obj, body, name)
        raise status(405, "MethodNotAllowed", "method not allowed")

    def patch(self, obj, body, name):
        ct = (self.headers.get("Content-Type") or "").split(";")[0]
        if ct != "application/merge-patch+json":
            raise status(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml; got {ct}")
        try:
            p = json.loads(body)
        except ValueError:
            raise status(400, "BadRequest", "error decoding patch: invalid JSON")
        want_rv = (p.get("metadata") or {}).get("resourceVersion")
        if want_rv is not None and want_rv != obj["metadata"]["resourceVersion"]:
            raise status(409, "Conflict", f'Operation cannot be fulfilled on secrets "{name}": the object has been modified; please apply your changes to the latest version and try again', {"name": name, "kind": "secrets"})
        new = merge(obj, p)
        keep_sd = "stringData" in obj
        if "stringData" in new and not keep_sd:
            for k, v in new.pop("stringData").items():
                new.setdefault("data", {})[k] = base64.b64encode(v.encode()).decode()
        for k, v in (new.get("data") or {}).items():
            if not KEY.match(k):
                raise status(422, "Invalid", f'Secret "{name}" is invalid: data[{k}]: Invalid value: "{k}": a valid config key must consist of alphanumeric characters, \'-\', \'_\' or \'.\'')
            try:
                base64.b64decode(v, validate=True)
            except (binascii.Error, ValueError, TypeError):
                raise status(422, "Invalid", f'Secret "{name}" is invalid: data[{k}]: Invalid value: "<secret contents redacted>": illegal base64 data')
        if obj.get("immutable") and (new.get("data") != obj.get("data") or new.get("stringData") != obj.get("stringData")):
            raise status(422, "Invalid", f'Secret "{name}" is invalid: data: Forbidden: field is immutable when `immutable` is set')
        for f in ("name", "namespace", "uid", "creationTimestamp"):
            new["metadata"][f] = obj["metadata"][f]
        self.bump(new)
        obj.clear()
        obj.update(new)
        return obj

    def page(self, items, q, kind):
        limit = int(q.get("limit", "0") or 0)
        start = int(q.get("continue", "0") or 0)
        # Pages of at most 4 so that tests cross a page boundary with few Secrets.
        size = min(limit, 4) if limit else len(items)
        meta = {"resourceVersion": str(self.server.state["rv"])}
        if start + size < len(items):
            meta["continue"] = str(start + size)
        return {"kind": kind, "apiVersion": "v1", "metadata": meta, "items": items[start:start + size]}


def start(srv, args):
    srv.state = {"users": {}, "namespaces": ["default"], "secrets": {}, "rv": 1000}
    if not args.tls:
        return {}
    # TLS with a test CA; client certificates are optional (verified when sent) and map to
    # the seeded user "cert:<CN>", as the apiserver maps a client certificate's CN.
    import os
    import ssl
    import rsakeys
    files = rsakeys.tls_files(os.getcwd())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(files["server_cert"], files["server_key"])
    ctx.load_verify_locations(files["ca"])
    ctx.verify_mode = ssl.CERT_OPTIONAL
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    return dict(files, base=f"https://127.0.0.1:{srv.server_address[1]}")


if __name__ == "__main__":
    serve(Kube, extra_args=[(["--tls"], {"action": "store_true"})], on_start=start)
