"""GCP Secret Manager REST v1 contract server, plus Google's OAuth2 token endpoint.

Checks what the real service checks, with google.rpc.Status error bodies:
- Authorization: Bearer <token> (else 401 UNAUTHENTICATED);
- the project (id or number) must be known (else 403 PERMISSION_DENIED, as Google answers
  for unknown projects); response names carry the project NUMBER;
- addVersion: Content-Type application/json, body exactly {"payload": {"data": base64,
  "dataCrc32c": "<decimal int64>"}}; a CRC32C (Castagnoli) mismatch is 400
  INVALID_ARGUMENT; each call makes version N+1 (no idempotency token);
- access of versions/latest or /N; a disabled latest is 400 FAILED_PRECONDITION; a secret
  without versions is 404 NOT_FOUND; lists page with pageSize/pageToken.
With --service-account, writes sa.json (a service-account key made here) and verifies the
RS256 JWT of the jwt-bearer grant at POST /token (iss, aud, scope, iat/exp, signature).
"""

import base64
import json
import re
import secrets as rnd
import time
from urllib.parse import parse_qs

from common import Handler, Reply, json_body, serve

SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def rpc(code, status, message):
    return Reply(code, {"error": {"code": code, "message": message, "status": status}})


STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
          409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


class Gcp(Handler):
    def error_body(self, status, code, message):
        return {"error": {"code": status, "message": message, "status": STATUS.get(status, "UNKNOWN")}}

    def seed(self, data):
        st = self.server.state
        st["tokens"].update(data.get("tokens", []))
        for sid, versions in data.get("secrets", {}).items():
            s = st["secrets"].setdefault(sid, {"versions": [], "labels": {}})
            for v in versions:
                self.add(s, v["data"].encode(), v.get("state", "ENABLED"))

    def dump(self):
        out = {}
        for sid, s in self.server.state["secrets"].items():
            out[sid] = [{"n": v["n"], "data": v["data"].decode("utf-8", "replace"), "state": v["state"]} for v in s["versions"]]
        return {"secrets": out}

    def add(self, s, data, state="ENABLED"):
        n = len(s["versions"]) + 1
        s["versions"].append({"n": n, "data": data, "state": state, "created": time.time()})
        return n

    def project(self, p):
        st = self.server.state
        if p not in (st["project_id"], st["number"]):
            raise rpc(403, "PERMISSION_DENIED", f"Permission 'secretmanager.secrets.list' denied for resource 'projects/{p}' (or it may not exist).")
        return st["number"]

    def route(self, method, path, query, body):
        st = self.server.state
        if path == "/token" and method == "POST":
            return self.token(body)
        if not path.startswith("/v1/projects/"):
            raise rpc(404, "NOT_FOUND", "no such route")
        if self.bearer() not in st["tokens"]:
            raise rpc(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
        m = re.fullmatch(r"/v1/projects/([^/]+)/secrets(?:/([A-Za-z0-9_-]+)(?::addVersion|/versions(?:/([^/:]+)(:access)?)?)?)?", path)
        if not m:
            raise rpc(404, "NOT_FOUND", "no such route")
        num = self.project(m.group(1))
        sid, ver, access = m.group(2), m.group(3), m.group(4)
        if sid is None:
            if method != "GET":
                raise rpc(400, "INVALID_ARGUMENT", "only list is served here")
            names = sorted(st["secrets"])
            return self.page(query, "secrets", [self.secret(num, n) for n in names])
        s = st["secrets"].get(sid)
        if s is None:
            raise rpc(404, "NOT_FOUND", f"Secret [projects/{num}/secrets/{sid}] not found or has no versions.")
        if path.endswith(":addVersion"):
            if method != "POST":
                raise rpc(400, "INVALID_ARGUMENT", "addVersion is POST")
            return self.add_version(num, sid, s, body)
        if "/versions" not in path:
            return self.secret(num, sid)
        if ver is None:
            vs = [self.version(num, sid, v) for v in reversed(s["versions"])]
            return self.page(query, "versions", vs)
        if not s["versions"]:
            raise rpc(404, "NOT_FOUND", f"Secret [projects/{num}/secrets/{sid}] not found or has no versions.")
        v = s["versions"][-1] if ver == "latest" else next((x for x in s["versions"] if str(x["n"]) == ver), None)
        if v is None:
            raise rpc(404, "NOT_FOUND", f"Secret Version [projects/{num}/secrets/{sid}/versions/{ver}] not found.")
        if not access:
            return self.version(num, sid, v)
        if v["state"] != "ENABLED":
            raise rpc(400, "FAILED_PRECONDITION", f"projects/{num}/secrets/{sid}/versions/{v['n']} is in {v['state']} state.")
        return {"name": f"projects/{num}/secrets/{sid}/versions/{v['n']}",
                "payload": {"data": base64.b64encode(v["data"]).decode(), "dataCrc32c": str(crc32c(v["data"]))}}

    def add_version(self, num, sid, s, body):
        if (self.headers.get("Content-Type") or "").split(";")[0] != "application/json":
            raise rpc(400, "INVALID_ARGUMENT", "Content-Type must be application/json")
        req = json_body(body, lambda m: rpc(400, "INVALID_ARGUMENT", m))
        if set(req) != {"payload"} or not isinstance(req["payload"], dict):
            raise rpc(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unknown name or missing payload.")
        p = req["payload"]
        if not set(p) <= {"data", "dataCrc32c"} or not isinstance(p.get("data"), str):
            raise rpc(400, "INVALID_ARGUMENT", "payload.data is required (base64)")
        try:
            data = base64.b64decode(p["data"], validate=True)
        except ValueError:
            raise rpc(400, "INVALID_ARGUMENT", "Invalid value at 'payload.data' (TYPE_BYTES), Base64 decoding failed")
        if "dataCrc32c" in p:
            if not isinstance(p["dataCrc32c"], str) or not p["dataCrc32c"].isdigit():
                raise rpc(400, "INVALID_ARGUMENT", "Invalid value at 'payload.data_crc32c' (TYPE_INT64)")
            if int(p["dataCrc32c"]) != crc32c(data):
                raise rpc(400, "INVALID_ARGUMENT", "Checksum mismatch: the payload data_crc32c does not match the payload data.")
        n = self.add(s, data)
        out = self.version(num, sid, s["versions"][-1])
        out["clientSpecifiedPayloadChecksum"] = "dataCrc32c" in p
        return out

    def secret(self, num, sid):
        return {"name": f"projects/{num}/secrets/{sid}", "replication": {"automatic": {}},
                "createTime": "2026-11-23T07:49:56.905913Z", "etag": '"4abde457b3d34e"', "labels": {}}

    def version(self, num, sid, v):
        return {"name": f"projects/{num}/secrets/{sid}/versions/{v['n']}", "createTime": "2026-11-23T07:49:57.112021Z",
                "state": v["state"], "replicationStatus": {"automatic": {}}, "etag": '"cf30bb4580784e"'}

    def page(self, query, field, items):
        size = int(query.get("pageSize", ["25"])[0])
        if not 1 <= size <= 25000:
            raise rpc(400, "INVALID_ARGUMENT", "pageSize out of range")
        # Pages of at most 7 so that tests cross a page boundary with few secrets.
        size = min(size, 7)
        start = int(query.get("pageToken", ["0"])[0] or 0)
        out = {field: items[start:start + size], "totalSize": len(items)}
        if start + size < len(items):
            out["nextPageToken"] = str(start + size)
        return out

    def token(self, body):
        sa = self.server.sa
        if sa is None:
            raise Reply(400, {"error": "invalid_grant", "error_description": "no service account"})
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            raise Reply(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})
        import rsakeys
        try:
            h64, c64, s64 = form.get("assertion", "").split(".")
            header, claims = json.loads(rsakeys.b64url_decode(h64)), json.loads(rsakeys.b64url_decode(c64))
            sig = rsakeys.b64url_decode(s64)
        except ValueError:
            raise Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT: malformed"})
        if header.get("alg") != "RS256" or header.get("kid") != sa["private_key_id"]:
            raise Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT: alg must be RS256 and kid the key id"})
        if not rsakeys.verify(sa["public"], sig, f"{h64}.{c64}".encode()):
            raise Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        now = time.time()
        if claims.get("iss") != sa["client_email"] or claims.get("aud") != sa["token_uri"]:
            raise Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT: iss or aud"})
        if SCOPE not in str(claims.get("scope", "")).split():
            raise Reply(400, {"error": "invalid_scope", "error_description": "scope must include cloud-platform"})
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or abs(iat - now) > 300 or not 0 < exp - iat <= 3600:
            raise Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values."})
        tok = "ya29." + rnd.token_urlsafe(32)
        self.server.state["tokens"].add(tok)
        return {"access_token": tok, "expires_in": 3599, "token_type": "Bearer"}


def start(srv, args):
    srv.state = {"tokens": set(), "secrets": {}, "project_id": "leaksweep-test", "number": "123456789012"}
    srv.sa = None
    info = {"project": "leaksweep-test", "number": "123456789012"}
    if args.service_account:
        import rsakeys
        key = rsakeys.generate("sa-key.pem")  # only to write the JSON below
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        sa = {"type": "service_account", "project_id": "leaksweep-test", "private_key_id": rnd.token_hex(20),
              "private_key": rsakeys.pem_text(key), "client_email": "rotator@leaksweep-test.iam.gserviceaccount.com",
              "client_id": "10000000000000000001", "token_uri": base + "/token"}
        import os
        fd = os.open("sa.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(sa, f)
        os.remove("sa-key.pem")
        srv.sa = dict(sa, public=key.public_key())
        info["service_account_file"] = os.path.abspath("sa.json")
    return info


if __name__ == "__main__":
    serve(Gcp, extra_args=[(["--service-account"], {"action": "store_true"})], on_start=start)
