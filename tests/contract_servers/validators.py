"""Contract server for the live-validation requests (`leaksweep scan --validate`).

One server answers for every HTTP provider. The test points each provider at
`http://127.0.0.1:PORT/<provider-id>` with --validate-endpoint, and the first path segment
selects the provider's contract. For each provider the server checks the documented
request exactly, and answers 400 {"contract": "..."} (recorded as a violation) otherwise:
- the method and the path;
- where the credential goes (Authorization Bearer / Basic / a named header / the path,
  for Telegram, whose API demands it) and that it appears nowhere else: not in the query
  string, not in another header, not in the body;
- the fixed headers the API requires (GitHub's Accept and API version, anthropic-version,
  Notion-Version, the Heroku and PagerDuty Accept types) and the body where there is one.

What the credential gets depends on how the test seeded it (POST /_ctl/seed
{"credentials": {"<credential>" | "<first>:<second>": {"answer": ..., "identity": ...}}}):
  live        the provider's success shape, with `identity` where it shows one
  throttle    429 with Retry-After: <retry_after, default 1> for the first <count, default 1>
              requests, then live
  throttle_forever  429 with Retry-After every time
  error       500 every time
  slow        sleeps <delay, default 3> seconds, then live
  echo        the provider's refusal, with the credential echoed in the body
anything else (never issued, revoked): the provider's refusal shape.
Three contracts are code, not table rows:
  azure       POST /azure/<tenant>/oauth2/v2.0/token, the client-credentials form (exact
              fields, form content type, nothing in the query or an Authorization header);
              credentials are seeded as "<tenant>:<client id>:<secret>" with answer live
              (an unsigned JWT carrying appid, tid and the seeded `roles`) or expired;
              otherwise the AADSTS code of an unknown tenant, an unknown app or a wrong
              secret, in Entra ID's error shape
  github orgs GET /github/user/orgs?per_page=100 with the token of /github/user: the seeded
              `orgs` (a list of logins), or 403 when the seed has none (no read:org)
  origin      GET / (a server whose URL held user:password, when allow-listed): 200 for a
              seeded "<user>:<password>", 401 with WWW-Authenticate otherwise and without
              credentials; seeded {"public": true} at "<anonymous>" answers 200 to all
A self-managed GitLab (/api/v4/...) and a Vault (/v1/auth/token/...) are served at the
root too, as a real server serves them.
GET /_ctl/violations lists contract violations; /_ctl/requests every request (method,
path, status). Nothing logged carries a credential, except the path of a Telegram
request, which holds the token as its API demands.
"""

import base64
import json
import threading
import time
from urllib.parse import parse_qs

from common import Handler, serve

# provider id -> (method, path, auth, required headers, body or None, live(identity) ->
# (status, body, headers), refusal (status, body))
GH = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
ANT = {"anthropic-version": "2023-06-01"}


def ok(body, headers=None):
    return lambda ident: (200, body(ident), headers or {})


def denied(status=401, body=None):
    return (status, body if body is not None else {"error": "unauthorized"})


C = {
    "github": ("GET", "/user", ("bearer",), GH, None,
               lambda i: (200, {"login": i, "type": "User"}, {"X-OAuth-Scopes": "repo, read:org"}),
               denied(401, {"message": "Bad credentials"})),
    "github-app": ("GET", "/installation/repositories?per_page=1", ("bearer",), GH, None,
                   ok(lambda i: {"total_count": 3, "repositories": []}),
                   denied(401, {"message": "Bad credentials"})),
    "gitlab": ("GET", "/api/v4/personal_access_tokens/self", ("header", "PRIVATE-TOKEN"), {}, None,
               ok(lambda i: {"id": 4, "name": i, "revoked": False, "scopes": ["api", "read_user"],
                             "user_id": 24, "active": True, "expires_at": "2027-01-01"}),
               denied(401, {"message": "401 Unauthorized"})),
    "slack": ("POST", "/api/auth.test", ("bearer",), {}, None,
              lambda i: (200, {"ok": True, "user": i, "team": "Acme", "team_id": "T0001"},
                         {"x-oauth-scopes": "chat:write,users:read"}),
              (200, {"ok": False, "error": "invalid_auth"})),
    "stripe": ("GET", "/v1/balance", ("basic_user",), {}, None,
               ok(lambda i: {"object": "balance", "livemode": False}),
               denied(401, {"error": {"type": "invalid_request_error"}})),
    "openai": ("GET", "/v1/models", ("bearer",), {}, None, ok(lambda i: {"data": []}),
               denied(401, {"error": {"code": "invalid_api_key"}})),
    "openai-admin": ("GET", "/v1/organization/projects?limit=1", ("bearer",), {}, None,
                     ok(lambda i: {"data": []}), denied(401)),
    "anthropic": ("GET", "/v1/models", ("header", "x-api-key"), ANT, None, ok(lambda i: {"data": []}),
                  denied(401, {"type": "error", "error": {"type": "authentication_error"}})),
    "anthropic-admin": ("GET", "/v1/organizations/me", ("header", "x-api-key"), ANT, None,
                        ok(lambda i: {"id": "org", "name": i}), denied(401)),
    "google-api-key": ("GET", "/v1beta/models?pageSize=1", ("header", "x-goog-api-key"), {}, None,
                       ok(lambda i: {"models": []}),
                       denied(400, {"error": {"status": "INVALID_ARGUMENT", "details": [{"reason": "API_KEY_INVALID"}]}})),
    "sendgrid": ("GET", "/v3/scopes", ("bearer",), {}, None,
                 ok(lambda i: {"scopes": ["mail.send", "user.profile.read"]}),
                 denied(401, {"errors": [{"message": "authorization required"}]})),
    "twilio": ("GET", "/2010-04-01/Accounts.json", ("basic_pair",), {}, None,
               ok(lambda i: {"accounts": [{"sid": "AC" + "0" * 32, "friendly_name": i}]}),
               denied(401, {"code": 20003, "message": "Authenticate"})),
    "npm": ("GET", "/-/whoami", ("bearer",), {}, None, ok(lambda i: {"username": i}), denied(401)),
    "datadog": ("GET", "/api/v2/validate_keys", ("header_pair", "DD-API-KEY", "DD-APPLICATION-KEY"), {}, None,
                ok(lambda i: {"status": "ok"}), denied(403, {"errors": ["Forbidden"]})),
    "datadog-v1": ("GET", "/api/v1/validate", ("header", "DD-API-KEY"), {}, None,
                   ok(lambda i: {"valid": True}), denied(403, {"errors": ["Forbidden"]})),
    "vault": ("GET", "/v1/auth/token/lookup-self", ("header", "X-Vault-Token"), {}, None,
              ok(lambda i: {"data": {"display_name": i, "policies": ["default", "app"], "ttl": 3600}}),
              denied(403, {"errors": ["permission denied"]})),
    "grafana": ("GET", "/api/org", ("bearer",), {}, None, ok(lambda i: {"id": 1, "name": i}),
                denied(401, {"message": "Unauthorized"})),
    "heroku": ("GET", "/account", ("bearer",), {"Accept": "application/vnd.heroku+json; version=3"}, None,
               ok(lambda i: {"email": i}), denied(401, {"id": "unauthorized"})),
    "digitalocean": ("GET", "/v2/account", ("bearer",), {}, None,
                     ok(lambda i: {"account": {"email": i, "status": "active"}}), denied(401)),
    "mailgun": ("GET", "/v3/domains?limit=1", ("basic_with", "api"), {}, None,
                ok(lambda i: {"items": []}), denied(401)),
    "postman": ("GET", "/me", ("header", "X-Api-Key"), {}, None,
                ok(lambda i: {"user": {"username": i}}), denied(401)),
    "huggingface": ("GET", "/api/whoami-v2", ("bearer",), {}, None,
                    ok(lambda i: {"name": i, "auth": {"accessToken": {"role": "read"}}}), denied(401)),
    "discord": ("GET", "/api/v10/users/@me", ("prefixed", "Authorization", "Bot "), {}, None,
                ok(lambda i: {"username": i}), denied(401, {"message": "401: Unauthorized", "code": 0})),
    "telegram": ("GET", "/bot{secret}/getMe", ("path",), {}, None,
                 ok(lambda i: {"ok": True, "result": {"username": i}}),
                 denied(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})),
    "shopify": ("GET", "/admin/api/2024-10/shop.json", ("header", "X-Shopify-Access-Token"), {}, None,
                ok(lambda i: {"shop": {"myshopify_domain": i}}), denied(401)),
    "cloudflare": ("GET", "/client/v4/user/tokens/verify", ("bearer",), {}, None,
                   ok(lambda i: {"success": True, "result": {"status": "active"}}),
                   denied(401, {"success": False, "errors": [{"code": 1000}]})),
    "linear": ("POST", "/graphql", ("header", "Authorization"), {"Content-Type": "application/json"},
               b'{"query":"{ viewer { id name email } }"}',
               ok(lambda i: {"data": {"viewer": {"id": "u1", "email": i}}}), denied(400)),
    "notion": ("GET", "/v1/users/me", ("bearer",), {"Notion-Version": "2022-06-28"}, None,
               ok(lambda i: {"object": "user", "name": i}), denied(401)),
    "figma": ("GET", "/v1/me", ("header", "X-Figma-Token"), {}, None, ok(lambda i: {"email": i}), denied(403)),
    "asana": ("GET", "/api/1.0/users/me", ("bearer",), {}, None, ok(lambda i: {"data": {"email": i}}), denied(401)),
    "airtable": ("GET", "/v0/meta/whoami", ("bearer",), {}, None,
                 ok(lambda i: {"id": "usr1", "email": i, "scopes": ["data.records:read"]}), denied(401)),
    "netlify": ("GET", "/api/v1/user", ("bearer",), {}, None, ok(lambda i: {"email": i}), denied(401)),
    "vercel": ("GET", "/v2/user", ("bearer",), {}, None, ok(lambda i: {"user": {"username": i}}), denied(403)),
    "fastly": ("GET", "/current_user", ("header", "Fastly-Key"), {}, None, ok(lambda i: {"login": i}), denied(401)),
    "circleci": ("GET", "/api/v2/me", ("header", "Circle-Token"), {}, None, ok(lambda i: {"login": i}), denied(401)),
    "pagerduty": ("GET", "/abilities", ("prefixed", "Authorization", "Token token="),
                  {"Accept": "application/vnd.pagerduty+json;version=2"}, None,
                  ok(lambda i: {"abilities": ["teams", "sso"]}), denied(401)),
    "groq": ("GET", "/openai/v1/models", ("bearer",), {}, None, ok(lambda i: {"data": []}), denied(401)),
    "mistral": ("GET", "/v1/models", ("bearer",), {}, None, ok(lambda i: {"data": []}), denied(401)),
    "openrouter": ("GET", "/api/v1/key", ("bearer",), {}, None, ok(lambda i: {"data": {"label": i}}), denied(401)),
    "replicate": ("GET", "/v1/account", ("bearer",), {}, None, ok(lambda i: {"username": i}), denied(401)),
    "postmark": ("GET", "/server", ("header", "X-Postmark-Server-Token"), {"Accept": "application/json"}, None,
                 ok(lambda i: {"Name": i}), denied(401)),
    "brevo": ("GET", "/v3/account", ("header", "api-key"), {}, None, ok(lambda i: {"email": i}), denied(401)),
    "terraform-cloud": ("GET", "/api/v2/account/details", ("bearer",), {}, None,
                        ok(lambda i: {"data": {"attributes": {"username": i}}}), denied(401)),
    "linode": ("GET", "/v4/profile", ("bearer",), {}, None, ok(lambda i: {"username": i}), denied(401)),
    "sentry": ("GET", "/api/0/", ("bearer",), {}, None,
               ok(lambda i: {"user": {"email": i}, "auth": {"scopes": ["org:read"]}}), denied(401)),
    "doppler": ("GET", "/v3/me", ("bearer",), {}, None,
                ok(lambda i: {"name": i, "workplace": {"name": "acme"}}), denied(401)),
    "hubspot": ("GET", "/account-info/v3/details", ("bearer",), {}, None, ok(lambda i: {"portalId": 42}), denied(401)),
    "buildkite": ("GET", "/v2/access-token", ("bearer",), {}, None, ok(lambda i: {"scopes": ["read_builds"]}), denied(401)),
    "neon": ("GET", "/api/v2/users/me", ("bearer",), {}, None, ok(lambda i: {"email": i}), denied(401)),
}


def b64(s):
    return base64.b64encode(s.encode()).decode()


class Validators(Handler):
    def seed(self, data):
        st = self.server.state
        for k, v in data.get("credentials", {}).items():
            st["creds"][k] = dict(v)
            st["seen"][k] = 0

    def dump(self):
        return {"seen": self.server.state["seen"]}

    def control(self, method, path, body):
        if path == "/_ctl/violations":
            with self.server.lock:
                return 200, list(self.server.state["violations"]), {}
        return super().control(method, path, body)

    def provider(self, method, path, query, body):
        # The answer for a "slow" credential waits outside the server lock.
        status, obj, hdrs, delay = self.answer(method, path, body)
        if delay:
            time.sleep(delay)
        return status, obj, hdrs

    def count(self, key):
        with self.server.lock:
            st = self.server.state
            st["seen"][key] = st["seen"].get(key, 0) + 1
            return st["creds"].get(key)

    def origin(self, method, query, body):
        """GET / with basic auth, as a server whose URL carried user:password."""
        if method != "GET" or query or body:
            return self.violation("origin", f"{method} with query {query!r} / a body: documented a plain GET /")
        authz = self.headers.get("Authorization") or ""
        challenge = {"WWW-Authenticate": 'Basic realm="leaksweep-test"'}
        public = self.server.state["creds"].get("<anonymous>", {}).get("public")
        if not authz:
            self.count("<anonymous>")
            return (200, {"public": True}, {}, 0) if public else (401, {"error": "login"}, challenge, 0)
        if not authz.startswith("Basic "):
            return self.violation("origin", "credentials not in a Basic authorization")
        cred = base64.b64decode(authz[6:]).decode()
        spec = self.count(cred)
        if spec is not None or public:
            return 200, {"hello": cred.split(":")[0]}, {}, 0
        return 401, {"error": "login"}, challenge, 0

    def github_orgs(self, method, query, body):
        if method != "GET" or query != "per_page=100" or body:
            return self.violation("github", "orgs: documented GET /user/orgs?per_page=100")
        for k, v in GH.items():
            if self.headers.get(k) != v:
                return self.violation("github", f"orgs: header {k}")
        authz = self.headers.get("Authorization") or ""
        if not authz.startswith("Bearer "):
            return self.violation("github", "orgs: no Bearer authorization")
        cred = authz[7:]
        with self.server.lock:
            st = self.server.state
            st["seen"]["orgs:" + cred] = st["seen"].get("orgs:" + cred, 0) + 1
            spec = st["creds"].get(cred)
        if spec is None:
            return 401, {"message": "Bad credentials"}, {}, 0
        if "orgs" not in spec:
            return 403, {"message": "Resource not accessible by personal access token"}, {}, 0
        return 200, [{"login": o, "id": n} for n, o in enumerate(spec["orgs"])], {}, 0

    def azure(self, method, rest, query, body):
        """Entra ID's token endpoint, client credentials (Microsoft identity platform)."""
        pid = "azure"
        seg = rest.split("/")
        if len(seg) != 5 or seg[2:] != ["oauth2", "v2.0", "token"] or not seg[1]:
            return self.violation(pid, f"path /{'/'.join(seg[1:])}, documented /<tenant>/oauth2/v2.0/token")
        tenant = seg[1]
        if method != "POST":
            return self.violation(pid, f"method {method}, documented POST")
        if query:
            return self.violation(pid, "a query string on the token request")
        if self.headers.get("Authorization"):
            return self.violation(pid, "an Authorization header (documented: the secret in the form)")
        if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
            return self.violation(pid, "content type is not application/x-www-form-urlencoded")
        form = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True)
        if sorted(form) != ["client_id", "client_secret", "grant_type", "scope"] or any(len(v) != 1 for v in form.values()):
            return self.violation(pid, f"form fields {sorted(form)}")
        f = {k: v[0] for k, v in form.items()}
        if f["grant_type"] != "client_credentials":
            return self.violation(pid, "grant_type is not client_credentials")
        if f["scope"] != "https://graph.microsoft.com/.default":
            return self.violation(pid, "scope is not https://graph.microsoft.com/.default")
        key = f"{tenant}:{f['client_id']}:{f['client_secret']}"

        def aad(status, code, error, text):
            return status, {"error": error, "error_description": f"AADSTS{code}: {text}",
                            "error_codes": [code], "timestamp": "2026-12-03 10:00:00Z",
                            "trace_id": "t", "correlation_id": "c"}, {}, 0
        with self.server.lock:
            st = self.server.state
            st["seen"][key] = st["seen"].get(key, 0) + 1
            creds = dict(st["creds"])
        if not any(k.startswith(tenant + ":") for k in creds):
            return aad(400, 90002, "invalid_request", f"Tenant '{tenant}' not found.")
        if not any(k.startswith(f"{tenant}:{f['client_id']}:") for k in creds):
            return aad(400, 700016, "unauthorized_client", "Application not found in the directory.")
        spec = creds.get(key)
        if spec is None:
            return aad(401, 7000215, "invalid_client", "Invalid client secret provided.")
        if spec.get("answer") == "expired":
            return aad(401, 7000222, "invalid_client", "The provided client secret keys are expired.")
        claims = {"aud": "https://graph.microsoft.com", "appid": f["client_id"], "tid": tenant,
                  "roles": spec.get("roles", []), "idtyp": "app"}
        seg64 = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).decode().rstrip("=")
        token = f"{seg64({'alg': 'RS256', 'typ': 'JWT'})}.{seg64(claims)}.c2lnbmF0dXJl"
        return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                     "access_token": token}, {}, 0

    def violation(self, pid, what):
        with self.server.lock:
            self.server.state["violations"].append(f"{pid}: {what}")
        return 400, {"contract": what}, {}, 0

    def answer(self, method, full_path, body):
        query = self.path.split("?", 1)[1] if "?" in self.path else ""
        if full_path == "/":
            return self.origin(method, query, body)
        if full_path.startswith("/api/v4/"):
            full_path = "/gitlab" + full_path
        if full_path.startswith("/v1/auth/token/"):
            full_path = "/vault" + full_path
        if full_path.startswith("/azure/"):
            return self.azure(method, full_path[len("/azure"):], query, body)
        if full_path == "/github/user/orgs":
            return self.github_orgs(method, query, body)
        parts = full_path.split("/", 2)
        pid = parts[1] if len(parts) > 1 else ""
        rest = "/" + (parts[2] if len(parts) > 2 else "")
        if pid == "datadog" and rest == "/api/v1/validate":
            pid_c = "datadog-v1"
        else:
            pid_c = pid
        if pid_c not in C:
            return 404, {"error": "no such provider"}, {}, 0
        m, p, auth, need, want_body, live, refusal = C[pid_c]
        want_path, _, want_query = p.partition("?")
        if method != m:
            return self.violation(pid, f"method {method}, documented {m}")
        cred = None
        kind = auth[0]
        h = self.headers
        authz = h.get("Authorization") or ""
        if kind == "path":
            pre, post = want_path.split("{secret}")
            if not (rest.startswith(pre) and rest.endswith(post)) or len(rest) <= len(pre) + len(post):
                return self.violation(pid, "path")
            cred = rest[len(pre):len(rest) - len(post)]
        else:
            if rest != want_path:
                return self.violation(pid, "path")
            if kind == "bearer":
                if not authz.startswith("Bearer "):
                    return self.violation(pid, "no Bearer authorization")
                cred = authz[7:]
            elif kind == "header":
                cred = h.get(auth[1])
            elif kind == "prefixed":
                v = h.get(auth[1]) or ""
                if not v.startswith(auth[2]):
                    return self.violation(pid, f"{auth[1]} without {auth[2]!r}")
                cred = v[len(auth[2]):]
            elif kind in ("basic_user", "basic_with", "basic_pair"):
                if not authz.startswith("Basic "):
                    return self.violation(pid, "no Basic authorization")
                user, _, pw = base64.b64decode(authz[6:]).decode().partition(":")
                if kind == "basic_user":
                    if pw:
                        return self.violation(pid, "Basic with a password (documented: key as user, empty password)")
                    cred = user
                elif kind == "basic_with":
                    if user != auth[1]:
                        return self.violation(pid, f"Basic user {user!r}, documented {auth[1]!r}")
                    cred = pw
                else:
                    cred = f"{user}:{pw}"
            elif kind == "header_pair":
                a, b = h.get(auth[1]), h.get(auth[2])
                cred = f"{a}:{b}" if a and b else None
            if not cred:
                return self.violation(pid, "no credential where the API documents it")
        if query != want_query:
            return self.violation(pid, f"query {query!r}, documented {want_query!r}")
        for k, v in need.items():
            if h.get(k) != v:
                return self.violation(pid, f"header {k} is {h.get(k)!r}, documented {v!r}")
        if want_body is not None and body != want_body:
            return self.violation(pid, "body differs from the documented one")
        if want_body is None and body:
            return self.violation(pid, "a body on a call that takes none")
        # The credential appears only where documented.
        for part in cred.split(":") if kind in ("basic_pair", "header_pair") else [cred]:
            if part and part in query:
                return self.violation(pid, "credential in the query string")
            if part and body and part.encode() in body:
                return self.violation(pid, "credential in the body")
        with self.server.lock:
            st = self.server.state
            spec = st["creds"].get(cred)
            st["seen"][cred] = st["seen"].get(cred, 0) + 1
            n = st["seen"][cred]
        if spec is None:
            return refusal[0], refusal[1], {}, 0
        answer = spec.get("answer", "live")
        ident = spec.get("identity", "someone")
        if answer == "throttle" and n <= spec.get("count", 1):
            return 429, {"error": "rate limited"}, {"Retry-After": str(spec.get("retry_after", 1))}, 0
        if answer == "throttle_forever":
            return 429, {"error": "rate limited"}, {"Retry-After": str(spec.get("retry_after", 1))}, 0
        if answer == "error":
            return 500, {"error": "internal"}, {}, 0
        if answer == "echo":
            status, obj = refusal
            obj = dict(obj) if isinstance(obj, dict) else {}
            obj["echo"] = f"the token {cred} is not valid"
            if pid == "slack":
                obj["error"] = f"invalid_auth for {cred}"
            return status, obj, {}, 0
        if answer in ("invalid", "revoked"):
            return refusal[0], refusal[1], {}, 0
        status, obj, hdrs = live(ident)
        return status, obj, hdrs, spec.get("delay", 3) if answer == "slow" else 0


def on_start(srv, args):
    srv.state = {"creds": {}, "seen": {}, "violations": []}


if __name__ == "__main__":
    serve(Validators, on_start=on_start)
