"""Azure Key Vault data-plane contract server (secrets) plus the Entra ID token endpoint.

Checks what the real service checks, with its error shapes:
- every /secrets request carries ?api-version= of a supported version (else 400 BadParameter);
- Authorization: Bearer <token issued here or seeded> (else 401 with the challenge header
  WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/{tenant}",
  resource="https://vault.azure.net");
- secret names ^[0-9a-zA-Z-]{1,127}$; Set Secret bodies only {value, contentType, tags,
  attributes}, value a string, at most 15 tags of string values;
- each Set Secret creates a new 32-hex version; tags are per version; a disabled current
  version answers 403 Forbidden/SecretDisabled; lists page with nextLink.
Token endpoint: POST /{tenant}/oauth2/v2.0/token, form-encoded client_credentials with
scope https://vault.azure.net/.default.
"""

import re
import secrets as rnd
import time
from urllib.parse import parse_qs

from common import Handler, Reply, json_body, serve

API_VERSIONS = {"7.4", "7.5", "7.6"}
NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
TENANT = "72f98000-86f1-41af-91ab-2d7cd011db47"


def kv_error(status, code, message, inner=None, headers=None):
    err = {"code": code, "message": message}
    if inner:
        err["innererror"] = {"code": inner}
    return Reply(status, {"error": err}, headers)


class Azure(Handler):
    def error_body(self, status, code, message):
        return {"error": {"code": "Throttled" if status == 429 else code, "message": message}}

    def seed(self, data):
        st = self.server.state
        st["tokens"].update(data.get("tokens", []))
        st["clients"].extend(data.get("clients", []))
        for name, versions in data.get("secrets", {}).items():
            for v in versions:
                self.add_version(name, v.get("value", ""), v.get("contentType"), v.get("tags", {}), v.get("enabled", True))

    def dump(self):
        return {"secrets": self.server.state["secrets"]}

    def add_version(self, name, value, content_type, tags, enabled=True):
        now = int(time.time())
        v = {"version": rnd.token_hex(16), "value": value, "contentType": content_type,
             "tags": tags, "enabled": enabled, "created": now, "updated": now}
        self.server.state["secrets"].setdefault(name, []).append(v)
        return v

    def route(self, method, path, query, body):
        st = self.server.state
        m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", path)
        if m and method == "POST":
            return self.token(m.group(1), body)
        if not path.startswith("/secrets"):
            raise kv_error(404, "NotFound", "no such route")
        api = query.get("api-version", [None])[0]
        if api is None or api not in API_VERSIONS:
            raise kv_error(400, "BadParameter", "The request URI contains an invalid or missing api-version.")
        tok = self.bearer()
        if tok is None or tok not in st["tokens"]:
            msg = "AKV10000: Request is missing a Bearer or PoP token." if tok is None else "AKV10032: Invalid issuer."
            raise kv_error(401, "Unauthorized", msg, headers={
                "WWW-Authenticate": f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", resource="https://vault.azure.net"'})
        base = self.base_url()
        parts = path.strip("/").split("/")
        if parts == ["secrets"] and method == "GET":
            items = [self.item(base, n, vs[-1], with_version=False) for n, vs in sorted(st["secrets"].items())]
            return self.page(base, "/secrets", items, query, api)
        if len(parts) < 2 or not NAME.match(parts[1]):
            raise kv_error(400, "BadParameter", "Invalid secret name.")
        name = parts[1]
        versions = st["secrets"].get(name)
        if len(parts) == 2 and method == "PUT":
            return self.set_secret(base, name, body)
        if versions is None:
            raise kv_error(404, "SecretNotFound", f"A secret with (name/id) {name} was not found in this key vault.")
        if len(parts) == 2 and method == "GET":
            return self.bundle(base, name, versions[-1])
        if len(parts) == 3 and parts[2] == "versions" and method == "GET":
            items = [self.item(base, name, v) for v in reversed(versions)]
            return self.page(base, f"/secrets/{name}/versions", items, query, api)
        if len(parts) == 3:
            v = next((v for v in versions if v["version"] == parts[2]), None)
            if v is None:
                raise kv_error(404, "SecretNotFound", f"A secret with (name/id) {name}/{parts[2]} was not found in this key vault.")
            if method == "GET":
                return self.bundle(base, name, v)
            if method == "PATCH":
                upd = json_body(body, lambda m: kv_error(400, "BadParameter", m))
                if "enabled" in upd.get("attributes", {}):
                    v["enabled"] = bool(upd["attributes"]["enabled"])
                if "tags" in upd:
                    v["tags"] = upd["tags"]
                out = self.item(base, name, v)
                return out
        raise kv_error(405, "MethodNotAllowed", "method not allowed")

    def token(self, tenant, body):
        if (self.headers.get("Content-Type") or "").split(";")[0] != "application/x-www-form-urlencoded":
            raise Reply(400, {"error": "invalid_request", "error_description": "AADSTS900144: The request body must be form-encoded."})
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        if form.get("grant_type") != "client_credentials":
            raise Reply(400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003: grant_type not supported."})
        if form.get("scope") != "https://vault.azure.net/.default":
            raise Reply(400, {"error": "invalid_scope", "error_description": "AADSTS70011: The provided value for the input parameter 'scope' is not valid."})
        for c in self.server.state["clients"]:
            if c["tenant"] == tenant and c["client_id"] == form.get("client_id"):
                if c["secret"] != form.get("client_secret"):
                    raise Reply(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."})
                tok = "eyJ0eXAiOiJKV1Qi." + rnd.token_urlsafe(24)
                self.server.state["tokens"].add(tok)
                return {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok}
        raise Reply(400, {"error": "unauthorized_client", "error_description": f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not found in the directory '{tenant}'."})

    def set_secret(self, base, name, body):
        if (self.headers.get("Content-Type") or "").split(";")[0] != "application/json":
            raise kv_error(400, "BadParameter", "Content-Type must be application/json.")
        req = json_body(body, lambda m: kv_error(400, "BadParameter", m))
        extra = set(req) - {"value", "contentType", "tags", "attributes"}
        if extra:
            raise kv_error(400, "BadParameter", f"Unknown properties: {sorted(extra)}")
        if not isinstance(req.get("value"), str):
            raise kv_error(400, "BadParameter", "Property 'value' is required and must be a string.")
        tags = req.get("tags", {})
        if not isinstance(tags, dict) or len(tags) > 15 or not all(isinstance(v, str) for v in tags.values()):
            raise kv_error(400, "BadParameter", "Tags must be at most 15 string values.")
        ct = req.get("contentType")
        v = self.add_version(name, req["value"], ct, tags, req.get("attributes", {}).get("enabled", True))
        return self.bundle(base, name, v)

    def attrs(self, v):
        return {"enabled": v["enabled"], "created": v["created"], "updated": v["updated"],
                "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}

    def item(self, base, name, v, with_version=True):
        out = {"id": f"{base}/secrets/{name}" + (f"/{v['version']}" if with_version else ""),
               "attributes": self.attrs(v), "tags": v["tags"]}
        if v["contentType"]:
            out["contentType"] = v["contentType"]
        return out

    def bundle(self, base, name, v):
        if not v["enabled"]:
            raise kv_error(403, "Forbidden", "Operation get is not allowed on a disabled secret.", inner="SecretDisabled")
        out = self.item(base, name, v)
        out["value"] = v["value"]
        return out

    def page(self, base, path, items, query, api):
        size = int(query.get("maxresults", ["25"])[0])
        if not 1 <= size <= 25:
            raise kv_error(400, "BadParameter", "maxresults must be between 1 and 25.")
        skip = int(query.get("$skiptoken", ["0"])[0])
        chunk = items[skip:skip + size]
        nxt = None
        if skip + size < len(items):
            nxt = f"{base}{path}?api-version={api}&$skiptoken={skip + size}&maxresults={size}"
        return {"value": chunk, "nextLink": nxt}


def start(srv, args):
    srv.state = {"tokens": set(), "clients": [], "secrets": {}}
    return {"tenant": TENANT}


if __name__ == "__main__":
    serve(Azure, on_start=start)
