//! The provider table: which rules each validator covers and the one read-only request it
//! makes, taken from the provider's API documentation (docs/validation.md lists them).
//!
//! Most providers are a row of data ([`HttpSpec`]): method, path on a fixed `https://`
//! base, how the credential is sent, which statuses mean live or invalid, and JSON
//! pointers for identity and scopes. AWS is code (a SigV4-signed STS call). Providers
//! without a safe read-only call, or whose host is not fixed, are rows too ([`Check::None`])
//! so that the report says why they stay `unknown`.

/// How the credential goes into the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <secret>`.
    Bearer,
    /// `<header>: <secret>`.
    Header(&'static str),
    /// `<header>: <prefix><secret>`.
    Prefixed(&'static str, &'static str),
    /// Basic auth, the secret as user name and an empty password.
    BasicUser,
    /// Basic auth with a fixed user name and the secret as password.
    BasicWith(&'static str),
    /// Basic auth `<first half>:<second half>` of a pair.
    BasicPair,
    /// Two headers: the first half of a pair in the first, the second half in the second.
    HeaderPair(&'static str, &'static str),
    /// In the URL path (`{secret}` in the path): only where the API has no other way.
    InPath,
}

/// One documented read-only request and how to read its answer.
#[derive(Debug, Clone, Copy)]
pub struct HttpSpec {
    /// HTTP method.
    pub method: &'static str,
    /// Path (and fixed query) on the base URL; `{secret}` only with [`Auth::InPath`].
    pub path: &'static str,
    /// How the credential is sent.
    pub auth: Auth,
    /// Fixed headers the API requires (versions, accept).
    pub headers: &'static [(&'static str, &'static str)],
    /// Fixed body: (content type, body).
    pub body: Option<(&'static str, &'static str)>,
    /// Statuses that mean the credential works.
    pub live: &'static [u16],
    /// Statuses that mean it authenticated but may not make this call: live, limited.
    pub limited: &'static [u16],
    /// Statuses that mean the provider refused it.
    pub invalid: &'static [u16],
    /// A JSON boolean that must be true on a live status (Slack's `ok`); false: invalid.
    pub ok_pointer: Option<&'static str>,
    /// JSON pointer of the error code when `ok_pointer` is false.
    pub error_pointer: Option<&'static str>,
    /// JSON pointers whose values make up `identity`.
    pub identity: &'static [&'static str],
    /// Response header listing scopes (comma-separated).
    pub scopes_header: Option<&'static str>,
    /// JSON pointer of the scopes (array of strings, or a space-separated string).
    pub scopes_pointer: Option<&'static str>,
    /// Extra facts for `detail`: (label, JSON pointer).
    pub details: &'static [(&'static str, &'static str)],
}

/// A GET with the usual statuses (200 live, 401 invalid), to refine with `..`.
const fn get(path: &'static str, auth: Auth) -> HttpSpec {
    HttpSpec {
        method: "GET",
        path,
        auth,
        headers: &[],
        body: None,
        live: &[200],
        limited: &[],
        invalid: &[401],
        ok_pointer: None,
        error_pointer: None,
        identity: &[],
        scopes_header: None,
        scopes_pointer: None,
        details: &[],
    }
}

/// What a provider does with a credential.
// The variants live in one static table and are read by reference, never moved in bulk:
// their size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// One HTTP request.
    Http(HttpSpec),
    /// AWS STS GetCallerIdentity, SigV4-signed with the key pair.
    Aws,
    /// Google's OAuth2 token endpoint, with a JWT signed by the service-account key read
    /// from the key file the finding is in (`client_email`, `private_key`).
    GcpServiceAccount,
    /// A password in an `http(s)://user:password@host` URL: a GET of the URL's origin
    /// with basic auth, only when the user allow-listed the host (`--validate-allow-host`).
    BasicAuthUrl,
    /// Microsoft Entra ID client credentials: the client secret with the tenant and
    /// client ids written next to it, at the tenant's OAuth2 v2.0 token endpoint.
    AzureClientCredentials,
    /// No validation; the text says why (shown as the `unknown` detail).
    None(&'static str),
}

/// A credential made of two findings (key id + secret, API key + app key).
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    /// Rules that find the first half (the id, or the key that works alone).
    pub first: &'static [&'static str],
    /// Rules that find the second half.
    pub second: &'static [&'static str],
    /// What to do with a first half that has no second half nearby: a check of its own,
    /// or `None` (the finding stays `unknown`).
    pub first_alone: Option<HttpSpec>,
    /// What the pair is, for the `unknown` detail when a half is missing.
    pub what: &'static str,
}

/// A validator.
#[derive(Debug, Clone, Copy)]
pub struct Provider {
    /// Provider id (`--validate-endpoint ID=URL`, reports).
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Rule ids it covers.
    pub rules: &'static [&'static str],
    /// Fixed API base URL (`https://`), or `None` when each user has their own host
    /// (Vault, Shopify, Grafana): then only a configured endpoint or an allow-listed
    /// server named next to the credential is used.
    pub base: Option<&'static str>,
    /// The request.
    pub check: Check,
    /// For credentials in two parts.
    pub pair: Option<Pair>,
}

const GH_HEADERS: &[(&str, &str)] = &[
    ("Accept", "application/vnd.github+json"),
    ("X-GitHub-Api-Version", "2022-11-28"),
];
const ANTHROPIC_HEADERS: &[(&str, &str)] = &[("anthropic-version", "2023-06-01")];

const fn http(
    id: &'static str,
    name: &'static str,
    rules: &'static [&'static str],
    base: &'static str,
    spec: HttpSpec,
) -> Provider {
    Provider {
        id,
        name,
        rules,
        base: Some(base),
        check: Check::Http(spec),
        pair: None,
    }
}

const fn none(
    id: &'static str,
    name: &'static str,
    rules: &'static [&'static str],
    why: &'static str,
) -> Provider {
    Provider {
        id,
        name,
        rules,
        base: None,
        check: Check::None(why),
        pair: None,
    }
}

/// Rules whose credential sits in a URL or connection string: the host comes from the
/// scanned text, so it is never contacted (see docs/validation.md, "Safety").
pub const HOST_FROM_TEXT: &[&str] = &[
    "database-connection-uri",
    "connection-string-password",
    "mongodb-atlas-uri",
    "neon-database-url",
    "redis-cloud-url",
    "cloudamqp-url",
    "aiven-service-uri",
    "cockroachdb-cloud-url",
    "sidekiq-enterprise-url",
    "cloudinary-url",
    "curl-basic-auth",
    "netrc-password",
];

/// Every provider, in listing order.
pub static PROVIDERS: &[Provider] = &[
    Provider {
        id: "aws",
        name: "AWS access key",
        rules: &["aws-access-key-id", "aws-secret-access-key", "aws-secret-access-key-paired"],
        base: Some("https://sts.amazonaws.com"),
        check: Check::Aws,
        pair: Some(Pair {
            first: &["aws-access-key-id"],
            second: &["aws-secret-access-key", "aws-secret-access-key-paired"],
            first_alone: None,
            what: "the access key id and its secret access key",
        }),
    },
    http(
        "github",
        "GitHub token",
        &["github-pat-classic", "github-oauth-token", "github-app-user-token", "github-fine-grained-pat"],
        "https://api.github.com",
        HttpSpec {
            headers: GH_HEADERS,
            identity: &["/login"],
            scopes_header: Some("X-OAuth-Scopes"),
            details: &[("type", "/type")],
            ..get("/user", Auth::Bearer)
        },
    ),
    http(
        "github-app",
        "GitHub App installation token",
        &["github-app-installation-token"],
        "https://api.github.com",
        HttpSpec {
            headers: GH_HEADERS,
            details: &[("repositories", "/total_count")],
            ..get("/installation/repositories?per_page=1", Auth::Bearer)
        },
    ),
    http(
        "gitlab",
        "GitLab personal access token",
        &["gitlab-pat"],
        "https://gitlab.com",
        HttpSpec {
            identity: &["/name"],
            scopes_pointer: Some("/scopes"),
            details: &[("user_id", "/user_id"), ("expires_at", "/expires_at")],
            ..get("/api/v4/personal_access_tokens/self", Auth::Header("PRIVATE-TOKEN"))
        },
    ),
    http(
        "slack",
        "Slack token",
        &["slack-bot-token", "slack-user-token", "slack-legacy-token"],
        "https://slack.com",
        HttpSpec {
            method: "POST",
            ok_pointer: Some("/ok"),
            error_pointer: Some("/error"),
            identity: &["/user", "/team"],
            scopes_header: Some("x-oauth-scopes"),
            details: &[("team_id", "/team_id")],
            ..get("/api/auth.test", Auth::Bearer)
        },
    ),
    http(
        "stripe",
        "Stripe secret or restricted key",
        &["stripe-secret-key-live", "stripe-restricted-key-live", "stripe-secret-key-test", "stripe-restricted-key-test"],
        "https://api.stripe.com",
        HttpSpec {
            limited: &[403],
            details: &[("livemode", "/livemode")],
            ..get("/v1/balance", Auth::BasicUser)
        },
    ),
    http(
        "openai",
        "OpenAI API key",
        &["openai-api-key", "openai-service-account-key"],
        "https://api.openai.com",
        HttpSpec { limited: &[403], ..get("/v1/models", Auth::Bearer) },
    ),
    http(
        "openai-admin",
        "OpenAI admin key",
        &["openai-admin-key"],
        "https://api.openai.com",
        HttpSpec { limited: &[403], ..get("/v1/organization/projects?limit=1", Auth::Bearer) },
    ),
    http(
        "anthropic",
        "Anthropic API key",
        &["anthropic-api-key"],
        "https://api.anthropic.com",
        HttpSpec {
            headers: ANTHROPIC_HEADERS,
            limited: &[403],
            ..get("/v1/models", Auth::Header("x-api-key"))
        },
    ),
    http(
        "anthropic-admin",
        "Anthropic admin key",
        &["anthropic-admin-key"],
        "https://api.anthropic.com",
        HttpSpec {
            headers: ANTHROPIC_HEADERS,
            identity: &["/name"],
            ..get("/v1/organizations/me", Auth::Header("x-api-key"))
        },
    ),
    http(
        "google-api-key",
        "Google API key",
        &["gcp-api-key", "google-gemini-api-key"],
        "https://generativelanguage.googleapis.com",
        HttpSpec {
            limited: &[403],
            invalid: &[400, 401],
            ..get("/v1beta/models?pageSize=1", Auth::Header("x-goog-api-key"))
        },
    ),
    http(
        "sendgrid",
        "SendGrid API key",
        &["sendgrid-api-key"],
        "https://api.sendgrid.com",
        HttpSpec {
            invalid: &[401, 403],
            scopes_pointer: Some("/scopes"),
            ..get("/v3/scopes", Auth::Bearer)
        },
    ),
    Provider {
        id: "twilio",
        name: "Twilio API key",
        rules: &["twilio-api-key", "twilio-auth-token"],
        base: Some("https://api.twilio.com"),
        check: Check::Http(HttpSpec {
            identity: &["/accounts/0/friendly_name"],
            details: &[("account", "/accounts/0/sid")],
            ..get("/2010-04-01/Accounts.json", Auth::BasicPair)
        }),
        pair: Some(Pair {
            first: &["twilio-api-key"],
            second: &["twilio-auth-token"],
            first_alone: None,
            what: "the API key SID (SK...) and its secret",
        }),
    },
    http(
        "npm",
        "npm access token",
        &["npm-access-token"],
        "https://registry.npmjs.org",
        HttpSpec {
            invalid: &[401, 403],
            identity: &["/username"],
            ..get("/-/whoami", Auth::Bearer)
        },
    ),
    Provider {
        id: "datadog",
        name: "Datadog API and application keys",
        rules: &["datadog-api-key", "datadog-app-key"],
        base: Some("https://api.datadoghq.com"),
        check: Check::Http(HttpSpec {
            invalid: &[401, 403],
            ..get("/api/v2/validate_keys", Auth::HeaderPair("DD-API-KEY", "DD-APPLICATION-KEY"))
        }),
        pair: Some(Pair {
            first: &["datadog-api-key"],
            second: &["datadog-app-key"],
            first_alone: Some(HttpSpec {
                invalid: &[401, 403],
                ok_pointer: Some("/valid"),
                ..get("/api/v1/validate", Auth::Header("DD-API-KEY"))
            }),
            what: "an API key next to the application key",
        }),
    },
    Provider {
        id: "vault",
        name: "HashiCorp Vault / OpenBao token",
        rules: &["vault-service-token", "vault-batch-token", "vault-legacy-token"],
        base: None,
        check: Check::Http(HttpSpec {
            invalid: &[401, 403],
            identity: &["/data/display_name"],
            scopes_pointer: Some("/data/policies"),
            details: &[("ttl", "/data/ttl"), ("expire_time", "/data/expire_time")],
            ..get("/v1/auth/token/lookup-self", Auth::Header("X-Vault-Token"))
        }),
        pair: None,
    },
    Provider {
        id: "grafana",
        name: "Grafana service account token",
        rules: &["grafana-service-account-token", "grafana-api-key-legacy"],
        // Each Grafana is its own server (on premises or https://STACK.grafana.net).
        base: None,
        check: Check::Http(HttpSpec {
            identity: &["/name"],
            details: &[("org id", "/id")],
            ..get("/api/org", Auth::Bearer)
        }),
        pair: None,
    },
    http(
        "heroku",
        "Heroku API key",
        &["heroku-api-key", "heroku-api-key-v2"],
        "https://api.heroku.com",
        HttpSpec {
            headers: &[("Accept", "application/vnd.heroku+json; version=3")],
            identity: &["/email"],
            ..get("/account", Auth::Bearer)
        },
    ),
    http(
        "digitalocean",
        "DigitalOcean token",
        &["digitalocean-pat", "digitalocean-oauth-token"],
        "https://api.digitalocean.com",
        HttpSpec {
            identity: &["/account/email"],
            details: &[("status", "/account/status")],
            ..get("/v2/account", Auth::Bearer)
        },
    ),
    http(
        "mailgun",
        "Mailgun API key",
        &["mailgun-api-key", "mailgun-api-key-legacy"],
        "https://api.mailgun.net",
        HttpSpec { limited: &[403], ..get("/v3/domains?limit=1", Auth::BasicWith("api")) },
    ),
    http(
        "postman",
        "Postman API key",
        &["postman-api-key"],
        "https://api.getpostman.com",
        HttpSpec { identity: &["/user/username"], ..get("/me", Auth::Header("X-Api-Key")) },
    ),
    http(
        "huggingface",
        "Hugging Face token",
        &["huggingface-access-token", "huggingface-org-token"],
        "https://huggingface.co",
        HttpSpec {
            identity: &["/name"],
            details: &[("role", "/auth/accessToken/role")],
            ..get("/api/whoami-v2", Auth::Bearer)
        },
    ),
    http(
        "discord",
        "Discord bot token",
        &["discord-bot-token"],
        "https://discord.com",
        HttpSpec {
            identity: &["/username"],
            ..get("/api/v10/users/@me", Auth::Prefixed("Authorization", "Bot "))
        },
    ),
    http(
        "telegram",
        "Telegram bot token",
        &["telegram-bot-token", "telegram-bot-token-in-url"],
        "https://api.telegram.org",
        HttpSpec {
            invalid: &[401, 404],
            ok_pointer: Some("/ok"),
            error_pointer: Some("/description"),
            identity: &["/result/username"],
            ..get("/bot{secret}/getMe", Auth::InPath)
        },
    ),
    Provider {
        id: "shopify",
        name: "Shopify Admin API token",
        rules: &["shopify-access-token", "shopify-custom-app-token", "shopify-private-app-token"],
        base: None,
        check: Check::Http(HttpSpec {
            identity: &["/shop/myshopify_domain"],
            ..get("/admin/api/2024-10/shop.json", Auth::Header("X-Shopify-Access-Token"))
        }),
        pair: None,
    },
    http(
        "cloudflare",
        "Cloudflare API token",
        &["cloudflare-api-token"],
        "https://api.cloudflare.com",
        HttpSpec {
            invalid: &[400, 401, 403],
            ok_pointer: Some("/success"),
            details: &[("status", "/result/status"), ("expires_on", "/result/expires_on")],
            ..get("/client/v4/user/tokens/verify", Auth::Bearer)
        },
    ),
    http(
        "linear",
        "Linear API key",
        &["linear-api-key"],
        "https://api.linear.app",
        HttpSpec {
            method: "POST",
            body: Some(("application/json", r#"{"query":"{ viewer { id name email } }"}"#)),
            invalid: &[400, 401],
            identity: &["/data/viewer/email"],
            ..get("/graphql", Auth::Header("Authorization"))
        },
    ),
    http(
        "notion",
        "Notion integration token",
        &["notion-integration-token"],
        "https://api.notion.com",
        HttpSpec {
            headers: &[("Notion-Version", "2022-06-28")],
            identity: &["/name"],
            ..get("/v1/users/me", Auth::Bearer)
        },
    ),
    http(
        "figma",
        "Figma personal access token",
        &["figma-pat"],
        "https://api.figma.com",
        HttpSpec {
            invalid: &[401, 403],
            identity: &["/email"],
            ..get("/v1/me", Auth::Header("X-Figma-Token"))
        },
    ),
    http(
        "asana",
        "Asana personal access token",
        &["asana-pat"],
        "https://app.asana.com",
        HttpSpec { identity: &["/data/email"], ..get("/api/1.0/users/me", Auth::Bearer) },
    ),
    http(
        "airtable",
        "Airtable personal access token",
        &["airtable-pat"],
        "https://api.airtable.com",
        HttpSpec {
            identity: &["/email", "/id"],
            scopes_pointer: Some("/scopes"),
            ..get("/v0/meta/whoami", Auth::Bearer)
        },
    ),
    http(
        "netlify",
        "Netlify access token",
        &["netlify-access-token", "netlify-access-token-legacy"],
        "https://api.netlify.com",
        HttpSpec { identity: &["/email"], ..get("/api/v1/user", Auth::Bearer) },
    ),
    http(
        "vercel",
        "Vercel access token",
        &["vercel-access-token"],
        "https://api.vercel.com",
        HttpSpec {
            invalid: &[401, 403],
            identity: &["/user/username"],
            ..get("/v2/user", Auth::Bearer)
        },
    ),
    http(
        "fastly",
        "Fastly API token",
        &["fastly-api-token"],
        "https://api.fastly.com",
        HttpSpec {
            invalid: &[401, 403],
            identity: &["/login"],
            ..get("/current_user", Auth::Header("Fastly-Key"))
        },
    ),
    http(
        "circleci",
        "CircleCI personal token",
        &["circleci-personal-token"],
        "https://circleci.com",
        HttpSpec { identity: &["/login"], ..get("/api/v2/me", Auth::Header("Circle-Token")) },
    ),
    http(
        "pagerduty",
        "PagerDuty REST API key",
        &["pagerduty-api-key"],
        "https://api.pagerduty.com",
        HttpSpec {
            headers: &[("Accept", "application/vnd.pagerduty+json;version=2")],
            scopes_pointer: Some("/abilities"),
            ..get("/abilities", Auth::Prefixed("Authorization", "Token token="))
        },
    ),
    http(
        "groq",
        "Groq API key",
        &["groq-api-key"],
        "https://api.groq.com",
        get("/openai/v1/models", Auth::Bearer),
    ),
    http(
        "mistral",
        "Mistral API key",
        &["mistral-api-key"],
        "https://api.mistral.ai",
        get("/v1/models", Auth::Bearer),
    ),
    http(
        "openrouter",
        "OpenRouter API key",
        &["openrouter-api-key"],
        "https://openrouter.ai",
        HttpSpec { identity: &["/data/label"], ..get("/api/v1/key", Auth::Bearer) },
    ),
    http(
        "replicate",
        "Replicate API token",
        &["replicate-api-token"],
        "https://api.replicate.com",
        HttpSpec { identity: &["/username"], ..get("/v1/account", Auth::Bearer) },
    ),
    http(
        "postmark",
        "Postmark server token",
        &["postmark-server-token"],
        "https://api.postmarkapp.com",
        HttpSpec {
            headers: &[("Accept", "application/json")],
            identity: &["/Name"],
            ..get("/server", Auth::Header("X-Postmark-Server-Token"))
        },
    ),
    http(
        "brevo",
        "Brevo API key",
        &["brevo-api-key"],
        "https://api.brevo.com",
        HttpSpec { identity: &["/email"], ..get("/v3/account", Auth::Header("api-key")) },
    ),
    http(
        "terraform-cloud",
        "HCP Terraform token",
        &["terraform-cloud-token"],
        "https://app.terraform.io",
        HttpSpec {
            identity: &["/data/attributes/username"],
            ..get("/api/v2/account/details", Auth::Bearer)
        },
    ),
    http(
        "linode",
        "Linode API token",
        &["linode-api-token"],
        "https://api.linode.com",
        HttpSpec { identity: &["/username"], ..get("/v4/profile", Auth::Bearer) },
    ),
    http(
        "sentry",
        "Sentry auth token",
        &["sentry-user-auth-token", "sentry-org-auth-token"],
        "https://sentry.io",
        HttpSpec {
            identity: &["/user/email"],
            scopes_pointer: Some("/auth/scopes"),
            ..get("/api/0/", Auth::Bearer)
        },
    ),
    http(
        "doppler",
        "Doppler token",
        &["doppler-personal-token", "doppler-service-token", "doppler-service-account-token", "doppler-cli-token"],
        "https://api.doppler.com",
        HttpSpec {
            identity: &["/name"],
            details: &[("workplace", "/workplace/name")],
            ..get("/v3/me", Auth::Bearer)
        },
    ),
    http(
        "hubspot",
        "HubSpot private app token",
        &["hubspot-private-app-token"],
        "https://api.hubapi.com",
        HttpSpec {
            limited: &[403],
            identity: &["/portalId"],
            ..get("/account-info/v3/details", Auth::Bearer)
        },
    ),
    http(
        "buildkite",
        "Buildkite API token",
        &["buildkite-api-token"],
        "https://api.buildkite.com",
        HttpSpec { scopes_pointer: Some("/scopes"), ..get("/v2/access-token", Auth::Bearer) },
    ),
    http(
        "neon",
        "Neon API key",
        &["neon-api-key"],
        "https://console.neon.tech",
        HttpSpec { identity: &["/email"], ..get("/api/v2/users/me", Auth::Bearer) },
    ),
    none(
        "atlassian",
        "Atlassian API token",
        &["atlassian-api-token", "jira-api-token-legacy"],
        "needs the account e-mail and the site (https://SITE.atlassian.net), which the token does not name",
    ),
    none(
        "docker-hub",
        "Docker Hub access token",
        &["docker-hub-pat", "docker-hub-org-access-token"],
        "Docker Hub's token exchange needs the user or organisation name, which the token does not name",
    ),
    Provider {
        id: "azure",
        name: "Microsoft Entra ID (Azure AD) client secret",
        rules: &["azure-ad-client-secret", "azure-ad-client-secret-legacy"],
        base: Some("https://login.microsoftonline.com"),
        check: Check::AzureClientCredentials,
        pair: None,
    },
    Provider {
        id: "gcp-service-account",
        name: "GCP service-account key",
        rules: &["gcp-service-account-key-id"],
        base: Some("https://oauth2.googleapis.com"),
        check: Check::GcpServiceAccount,
        pair: None,
    },
    none(
        "pypi",
        "PyPI API token",
        &["pypi-api-token"],
        "PyPI has no read-only call that authenticates an API token (only uploads)",
    ),
    none(
        "webhook",
        "Incoming webhook URL",
        &["slack-webhook-url", "slack-workflow-webhook-url", "discord-webhook-url", "microsoft-teams-webhook-url", "google-chat-webhook-url", "zapier-webhook-url"],
        "the only way to test a webhook is to post a message: not read-only",
    ),
    Provider {
        id: "basic-auth-url",
        name: "Password in an http(s) URL",
        rules: &["url-basic-auth"],
        base: None,
        check: Check::BasicAuthUrl,
        pair: None,
    },
    none(
        "self-hosted",
        "Credential in a connection string",
        HOST_FROM_TEXT,
        "checking it needs the service's own protocol client (database, broker, cache), not \
         an HTTP request, and its host comes from the scanned text",
    ),
];

/// Providers whose users often run their own server: a URL written next to the token
/// whose host the user allow-listed (`--validate-allow-host`) becomes the base, with this
/// API prefix (GitHub Enterprise serves the REST API under `/api/v3`). A configured
/// endpoint still wins.
pub const SELF_HOSTED: &[(&str, &str)] = &[
    ("github", "/api/v3"),
    ("gitlab", ""),
    ("vault", ""),
    ("shopify", ""),
    ("grafana", ""),
];

/// The API prefix of a self-hostable provider (see [`SELF_HOSTED`]).
pub fn self_hosted(id: &str) -> Option<&'static str> {
    SELF_HOSTED.iter().find(|(p, _)| *p == id).map(|(_, s)| *s)
}

/// Whether the validation of `rule_id` reads the text around the finding: the URL of a
/// password, a self-hosted server's URL, Azure ids, a service-account key's fields. A
/// provider with a fixed host (GitHub, GitLab) reads it only when some host is
/// allow-listed (`allow_hosts`): otherwise its request goes to the fixed host anyway.
pub fn wants_neighbourhood(rule_id: &str, allow_hosts: bool) -> bool {
    for_rule(rule_id).is_some_and(|p| {
        matches!(
            p.check,
            Check::BasicAuthUrl | Check::AzureClientCredentials | Check::GcpServiceAccount
        ) || (self_hosted(p.id).is_some() && (allow_hosts || p.base.is_none()))
    })
}

/// The provider covering `rule_id`, if any.
pub fn for_rule(rule_id: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.rules.contains(&rule_id))
}

/// The provider with id `id`.
pub fn by_id(id: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.id == id)
}

/// Providers that make a request (not [`Check::None`]).
pub fn validating() -> impl Iterator<Item = &'static Provider> {
    PROVIDERS
        .iter()
        .filter(|p| !matches!(p.check, Check::None(_)))
}

/// One line describing the request, for listings and docs (`GET https://api.github.com/user`).
pub fn describe(p: &Provider) -> String {
    let base = p.base.unwrap_or("<configured endpoint>");
    match p.check {
        Check::Http(s) => format!(
            "{} {base}{}",
            s.method,
            s.path.replace("{secret}", "<token>")
        ),
        Check::Aws => format!("POST {base}/ Action=GetCallerIdentity (SigV4)"),
        Check::GcpServiceAccount => {
            format!("POST {base}/token grant_type=jwt-bearer (RS256 JWT from the key file)")
        }
        Check::BasicAuthUrl => "GET <the URL's origin>/ with basic auth (only allow-listed hosts: --validate-allow-host)".to_string(),
        Check::AzureClientCredentials => format!(
            "POST {base}/<tenant>/oauth2/v2.0/token grant_type=client_credentials (tenant and client ids from next to the secret)"
        ),
        Check::None(why) => format!("none: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule id in the table is a built-in rule, no rule has two providers, ids are
    /// unique, and every fixed base is https.
    #[test]
    fn table_is_consistent_with_the_rules() {
        let rules = crate::rules::load_builtin().expect("built-in rules");
        let ids: std::collections::HashSet<&str> =
            rules.iter().map(|r| r.spec.id.as_str()).collect();
        let mut seen_rules = std::collections::HashSet::new();
        let mut seen_ids = std::collections::HashSet::new();
        for p in PROVIDERS {
            assert!(seen_ids.insert(p.id), "duplicate provider id {}", p.id);
            if let Some(b) = p.base {
                assert!(
                    b.starts_with("https://") && !b.ends_with('/'),
                    "{}: {b}",
                    p.id
                );
            }
            for r in p.rules {
                assert!(ids.contains(r), "{}: unknown rule {r}", p.id);
                assert!(seen_rules.insert(*r), "rule {r} has two providers");
            }
            if let Some(pair) = p.pair {
                for r in pair.first.iter().chain(pair.second) {
                    assert!(p.rules.contains(r), "{}: pair rule {r} not in rules", p.id);
                }
            }
            if let Check::Http(s) = p.check {
                assert_eq!(
                    s.path.contains("{secret}"),
                    s.auth == Auth::InPath,
                    "{}",
                    p.id
                );
                assert!(s.path.starts_with('/'), "{}", p.id);
            }
        }
        assert!(validating().count() >= 30, "{}", validating().count());
    }
}
