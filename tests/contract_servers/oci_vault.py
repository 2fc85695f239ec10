"""OCI Vault contract server: management API (/20180608) and secret retrieval (/20190301)
on one port, with REAL request-signature verification (needs `cryptography`).

At start it makes an API key (PKCS#8, or PKCS#1 with --pkcs1), writes it (0600) and an
OCI config file (profile DEFAULT) into its working directory, and verifies every request:
- Authorization: Signature version="1",keyId="<tenancy>/<user>/<fingerprint>",
  algorithm="rsa-sha256",headers="...",signature="<base64>";
- the signed headers include date (or x-date), (request-target) and host; for PUT/POST
  also content-length, content-type and x-content-sha256 (checked against the body);
- the signing string is rebuilt from the received headers and verified with the public
  key (RSASSA-PKCS1-v1_5 SHA-256); date within 5 minutes.
Failures answer 401 {"code": "NotAuthenticated", ...} like the service.

UpdateSecret takes only the documented fields; secretContent must be contentType BASE64
(PLAIN is refused), valid base64, optional name unique per secret (409), stage CURRENT or
PENDING; if-match is checked (412 NoEtagMatch); the secret is UPDATING for
--updating-polls GETs after an update (409 IncorrectState on updates meanwhile). Secrets
seeded with "content_forbidden" answer 403 on their bundle, as when `use keys` is missing.
"""

import base64
import hashlib
import json
import os
import re
import secrets as rnd
import time
from email.utils import parsedate_to_datetime

import rsakeys
from common import Handler, Reply, json_body, serve

TENANCY = "ocid1.tenancy.oc1..aaaaaaaatenancyleaksweep"
USER = "ocid1.user.oc1..aaaaaaaauserleaksweep"
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaacompartmentleaksweep"
VAULT = "ocid1.vault.oc1.iad.aaaaaaaavaultleaksweep"


def oci_error(status, code, message):
    return Reply(status, {"code": code, "message": message},
                 {"opc-request-id": rnd.token_hex(16).upper()})


CODES = {400: "InvalidParameter", 401: "NotAuthenticated", 403: "NotAuthorized", 404: "NotAuthorizedOrNotFound",
         409: "IncorrectState", 412: "NoEtagMatch", 429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}


class Oci(Handler):
    def error_body(self, status, code, message):
        return {"code": CODES.get(status, code), "message": message}

    def seed(self, data):
        st = self.server.state
        for s in data.get("secrets", []):
            sid = "ocid1.vaultsecret.oc1.iad." + s["name"]
            st["secrets"][sid] = {"id": sid, "name": s["name"], "compartment": s.get("compartment", COMPARTMENT),
                                  "state": s.get("state", "ACTIVE"), "forbidden": s.get("content_forbidden", False),
                                  "etag": rnd.token_hex(16), "updating": 0,
                                  "versions": [{"n": 1, "content": s["content"].encode(), "name": None,
                                                "stages": ["CURRENT", "LATEST"]}]}

    def dump(self):
        out = {}
        for sid, s in self.server.state["secrets"].items():
            out[sid] = [{"n": v["n"], "content": v["content"].decode("utf-8", "replace"), "name": v["name"],
                         "stages": v["stages"]} for v in s["versions"]]
        return {"secrets": out}

    # --- signature -----------------------------------------------------------------
    def check_signature(self, method, body):
        def unauth(msg):
            return oci_error(401, "NotAuthenticated", msg)
        h = self.headers.get("Authorization") or ""
        if not h.startswith("Signature "):
            raise unauth("The required information to complete authentication was not provided.")
        params = dict(re.findall(r'(\w+)="([^"]*)"', h))
        if params.get("version") != "1" or params.get("algorithm") != "rsa-sha256":
            raise unauth("Unsupported signature version or algorithm.")
        if params.get("keyId") != self.server.key_id:
            raise unauth("The keyId is not a known API key (tenancy/user/fingerprint).")
        names = params.get("headers", "").split()
        need = {"(request-target)", "host"}
        if method in ("PUT", "POST", "PATCH"):
            need |= {"content-length", "content-type", "x-content-sha256"}
        if not need <= set(names) or not ({"date", "x-date"} & set(names)):
            raise unauth("Missing required signed headers: need " + " ".join(sorted(need)) + " and date|x-date")
        lines = []
        for n in names:
            if n == "(request-target)":
                lines.append(f"(request-target): {method.lower()} {self.path}")
            else:
                v = self.headers.get(n)
                if v is None:
                    raise unauth(f"Signed header {n} is missing from the request.")
                lines.append(f"{n}: {v}")
        if "x-content-sha256" in names:
            if self.headers.get("x-content-sha256") != base64.b64encode(hashlib.sha256(body).digest()).decode():
                raise unauth("x-content-sha256 does not match the body.")
            if int(self.headers.get("content-length", "-1")) != len(body):
                raise unauth("content-length does not match the body.")
        try:
            when = parsedate_to_datetime(self.headers.get("x-date") or self.headers.get("date")).timestamp()
        except (TypeError, ValueError):
            raise unauth("The date header is not an HTTP date.")
        if abs(when - time.time()) > 300:
            raise unauth("The request date is more than 5 minutes off the server clock.")
        try:
            sig = base64.b64decode(params.get("signature", ""), validate=True)
        except ValueError:
            raise unauth("The signature is not base64.")
        if not rsakeys.verify(self.server.public, sig, "\n".join(lines).encode()):
            raise unauth("The required information to complete authentication was not provided or was incorrect.")

    # --- routes --------------------------------------------------------------------
    def route(self, method, path, query, body):
        self.check_signature(method, body)
        st = self.server.state
        q = {k: v[0] for k, v in query.items()}
        m = re.fullmatch(r"/20180608/secrets(?:/([A-Za-z0-9._-]+)(/versions)?)?", path)
        if m:
            sid, versions = m.group(1), m.group(2)
            if sid is None:
                return self.list_secrets(q)
            s = st["secrets"].get(sid)
            if s is None:
                raise oci_error(404, "NotAuthorizedOrNotFound", f"Authorization failed or requested resource not found.")
            if versions:
                items = [{"secretId": sid, "versionNumber": v["n"], "name": v["name"], "stages": v["stages"],
                          "contentType": "BASE64", "timeCreated": "2026-11-23T07:50:13.000Z"} for v in reversed(s["versions"])]
                return self.paged(items, q)
            if method == "GET":
                out = self.secret_json(s)
                if s["updating"] > 0:
                    s["updating"] -= 1
                return 200, out, {"etag": s["etag"], "opc-request-id": rnd.token_hex(16).upper()}
            if method == "PUT":
                return self.update(s, body)
        m = re.fullmatch(r"/20190301/secretbundles/([A-Za-z0-9._-]+)", path)
        if m and method == "GET":
            s = st["secrets"].get(m.group(1))
            if s is None:
                raise oci_error(404, "NotAuthorizedOrNotFound", "Authorization failed or requested resource not found.")
            if s["forbidden"]:
                raise oci_error(403, "NotAuthorized", "Not authorized to use the key that encrypts this secret.")
            stage = q.get("stage", "CURRENT")
            if "versionNumber" in q:
                v = next((v for v in s["versions"] if str(v["n"]) == q["versionNumber"]), None)
            else:
                v = next((v for v in s["versions"] if stage in v["stages"]), None)
            if v is None:
                raise oci_error(404, "NotAuthorizedOrNotFound", "No such secret version.")
            return {"secretId": s["id"], "versionNumber": v["n"], "versionName": v["name"], "stages": v["stages"],
                    "secretBundleContent": {"contentType": "BASE64", "content": base64.b64encode(v["content"]).decode()}}
        raise oci_error(404, "NotAuthorizedOrNotFound", "no such route")

    def list_secrets(self, q):
        if "compartmentId" not in q:
            raise oci_error(400, "MissingParameter", "Missing compartmentId.")
        if q["compartmentId"] != COMPARTMENT:
            raise oci_error(404, "NotAuthorizedOrNotFound", "Authorization failed or requested resource not found.")
        items = [self.secret_json(s) for s in self.server.state["secrets"].values()
                 if s["compartment"] == q["compartmentId"]
                 and q.get("lifecycleState", s["state"]) == s["state"]]
        return self.paged(items, q)

    def paged(self, items, q):
        limit = min(int(q.get("limit", "100")), 5)  # small pages so tests cross a boundary
        start = int(q.get("page", "0"))
        hdrs = {"opc-request-id": rnd.token_hex(16).upper()}
        if start + limit < len(items):
            hdrs["opc-next-page"] = str(start + limit)
        return 200, items[start:start + limit], hdrs

    def secret_json(self, s):
        cur = next(v["n"] for v in s["versions"] if "CURRENT" in v["stages"])
        state = "UPDATING" if s["updating"] > 0 else s["state"]
        return {"id": s["id"], "compartmentId": s["compartment"], "vaultId": VAULT,
                "keyId": "ocid1.key.oc1.iad.aaaaaaaakeyleaksweep", "secretName": s["name"],
                "lifecycleState": state, "currentVersionNumber": cur, "timeCreated": "2026-11-23T07:50:13.000Z"}

    def update(self, s, body):
        if (self.headers.get("Content-Type") or "").split(";")[0] != "application/json":
            raise oci_error(400, "InvalidParameter", "Content-Type must be application/json.")
        req = json_body(body, lambda m: oci_error(400, "InvalidParameter", m))
        allowed = {"currentVersionNumber", "definedTags", "description", "freeformTags", "metadata",
                   "secretContent", "secretRules"}
        if set(req) - allowed:
            raise oci_error(400, "InvalidParameter", f"Unknown fields {sorted(set(req) - allowed)}.")
        im = self.headers.get("if-match")
        if im is not None and im != s["etag"]:
            raise oci_error(412, "NoEtagMatch", "The resource's etag does not match the if-match header.")
        if s["updating"] > 0 or s["state"] != "ACTIVE":
            raise oci_error(409, "IncorrectState", f"The secret is in state {'UPDATING' if s['updating'] else s['state']}.")
        c = req.get("secretContent")
        if not isinstance(c, dict):
            raise oci_error(400, "InvalidParameter", "secretContent is required for a new version.")
        if set(c) - {"contentType", "content", "name", "stage"}:
            raise oci_error(400, "InvalidParameter", "Unknown secretContent fields.")
        if c.get("contentType") != "BASE64":
            raise oci_error(400, "InvalidParameter", "secretContent.contentType must be BASE64 (PLAIN is deprecated).")
        try:
            content = base64.b64decode(c.get("content", ""), validate=True)
        except ValueError:
            raise oci_error(400, "InvalidParameter", "secretContent.content is not valid base64.")
        stage = c.get("stage", "CURRENT")
        if stage not in ("CURRENT", "PENDING"):
            raise oci_error(400, "InvalidParameter", "stage must be CURRENT or PENDING.")
        name = c.get("name")
        if name is not None and any(v["name"] == name for v in s["versions"]):
            raise oci_error(409, "Conflict", "A secret version with this name already exists.")
        n = max(v["n"] for v in s["versions"]) + 1
        for v in s["versions"]:
            drop = {"LATEST"} | ({"PREVIOUS"} if stage == "CURRENT" else set())
            was_current = "CURRENT" in v["stages"]
            v["stages"] = [x for x in v["stages"] if x not in drop]
            if stage == "CURRENT" and was_current:
                v["stages"] = [x for x in v["stages"] if x != "CURRENT"] + ["PREVIOUS"]
        s["versions"].append({"n": n, "content": content, "name": name,
                              "stages": ["CURRENT", "LATEST"] if stage == "CURRENT" else ["PENDING", "LATEST"]})
        s["etag"] = rnd.token_hex(16)
        s["updating"] = self.server.args.updating_polls
        out = self.secret_json(s)
        out["lifecycleState"] = "UPDATING" if s["updating"] else "ACTIVE"
        return 200, out, {"etag": s["etag"], "opc-request-id": rnd.token_hex(16).upper()}


def start(srv, args):
    key = rsakeys.generate("oci_api_key.pem", pkcs1=args.pkcs1)
    fp = rsakeys.fingerprint(key)
    srv.public = key.public_key()
    srv.key_id = f"{TENANCY}/{USER}/{fp}"
    srv.state = {"secrets": {}}
    cfg = os.path.abspath("oci_config")
    with open(cfg, "w") as f:
        f.write(f"[DEFAULT]\nuser={USER}\nfingerprint={fp}\nkey_file={os.path.abspath('oci_api_key.pem')}\n"
                f"tenancy={TENANCY}\nregion=us-ashburn-1\n")
    return {"config_file": cfg, "key_file": os.path.abspath("oci_api_key.pem"), "tenancy": TENANCY, "user": USER,
            "fingerprint": fp, "compartment": COMPARTMENT}


if __name__ == "__main__":
    serve(Oci, extra_args=[(["--pkcs1"], {"action": "store_true"}),
                           (["--updating-polls"], {"type": int, "default": 0})], on_start=start)
