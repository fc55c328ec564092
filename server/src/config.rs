//! Server configuration, read once at startup from `KINTO_PUSH_*` environment
//! variables or the matching command-line flags (`kinto-push --help`).

use std::net::SocketAddr;

use clap::{Parser, ValueEnum};

/// Everything the server needs to know about its environment.
///
/// Leptos site options (output name, site root, package directory) are not
/// here: they come from the `LEPTOS_*` variables that the build tool sets from
/// the workspace metadata.
#[derive(Debug, Clone, Parser)]
#[command(name = "kinto-push", version, about)]
pub struct Config {
    /// Address and port the HTTP server binds to.
    #[arg(long, env = "KINTO_PUSH_LISTEN", default_value = "127.0.0.1:8888")]
    pub listen: SocketAddr,

    /// Database URL: `sqlite://path/to/file.sqlite3` (created when missing) or
    /// `postgres://user@host/database`.
    #[arg(
        long,
        env = "KINTO_PUSH_DATABASE_URL",
        default_value = "sqlite://data/kinto-push.sqlite3"
    )]
    pub database_url: DatabaseUrl,

    /// Maximum number of pooled database connections.
    #[arg(long, env = "KINTO_PUSH_DATABASE_POOL_SIZE", default_value_t = 8)]
    pub database_pool_size: u32,

    /// Log output: `pretty` for people, `json` for log collectors. The level
    /// filter comes from `RUST_LOG` (default `info`).
    #[arg(long, env = "KINTO_PUSH_LOG_FORMAT", value_enum, default_value_t)]
    pub log_format: LogFormat,

    /// Principals allowed to create buckets, comma-separated: user ids,
    /// `system.Authenticated` (anyone signed in) or `system.Everyone`.
    #[arg(
        long,
        env = "KINTO_PUSH_BUCKET_CREATE_PRINCIPALS",
        value_delimiter = ',',
        default_value = "system.Authenticated"
    )]
    pub bucket_create_principals: Vec<String>,

    /// Key of the HMAC that turns a Basic auth `user:password` into a user
    /// id. Changing it changes every user id. When unset, one is generated on
    /// first start and kept in the database.
    #[arg(long, env = "KINTO_PUSH_USERID_HMAC_SECRET", hide_env_values = true)]
    pub userid_hmac_secret: Option<Secret>,

    #[command(flatten)]
    pub push: PushConfig,
}

/// How changes are pushed to browsers.
#[derive(Debug, Clone, clap::Args)]
pub struct PushConfig {
    /// The VAPID private key, base64url of the raw 32 bytes. Every
    /// subscription is bound to it: changing it orphans them all. When unset,
    /// one is generated on first start and kept in the database.
    #[arg(long, env = "KINTO_PUSH_VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<Secret>,

    /// The contact push services see in every message: a `mailto:` address
    /// or an `https:` URL. Some services (Apple's) refuse messages without a
    /// real one.
    #[arg(long, env = "KINTO_PUSH_VAPID_SUBJECT")]
    pub vapid_subject: Option<VapidSubject>,

    /// Push services that subscriptions may point at, comma-separated
    /// origins (`https://host[:port]`); a host may start with `*.` for any
    /// subdomain. An origin listed here may also be plain `http` and resolve
    /// to a private or loopback address.
    #[arg(
        long,
        env = "KINTO_PUSH_PUSH_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = DEFAULT_PUSH_ORIGINS
    )]
    pub push_allowed_origins: Vec<String>,

    /// How long a push service keeps a message for an offline device, in
    /// seconds, unless the collection's metadata sets `push_ttl`.
    #[arg(long, env = "KINTO_PUSH_PUSH_TTL_SECS", default_value_t = 86_400)]
    pub push_ttl_secs: u32,

    /// How long a message that fails for a passing reason (a 5xx, a timeout)
    /// is retried before it counts as failed, in seconds.
    #[arg(long, env = "KINTO_PUSH_PUSH_RETRY_SECS", default_value_t = 86_400)]
    pub push_retry_secs: u32,

    /// The delay before the first retry of a message that failed for a
    /// passing reason, in milliseconds; each further retry waits about
    /// twice as long, up to an hour.
    #[arg(
        long,
        env = "KINTO_PUSH_PUSH_FIRST_RETRY_MILLIS",
        default_value_t = 10_000
    )]
    pub push_first_retry_millis: u64,

    /// How long to leave a push service alone after it answered 429
    /// without saying for how long, in seconds.
    #[arg(
        long,
        env = "KINTO_PUSH_PUSH_RATE_LIMIT_PAUSE_SECS",
        default_value_t = 60
    )]
    pub push_rate_limit_pause_secs: u32,

    /// Messages in flight at once, over every push service.
    #[arg(long, env = "KINTO_PUSH_PUSH_CONCURRENCY", default_value_t = 64)]
    pub push_concurrency: u16,

    /// Messages in flight at once to any one push service.
    #[arg(long, env = "KINTO_PUSH_PUSH_ORIGIN_CONCURRENCY", default_value_t = 16)]
    pub push_origin_concurrency: u16,

    /// How long one message may take, connection included, in seconds.
    #[arg(long, env = "KINTO_PUSH_PUSH_TIMEOUT_SECS", default_value_t = 15)]
    pub push_timeout_secs: u16,
}

/// The push services of the major browsers: Chrome's (FCM), Firefox's
/// (autopush), Safari's (Apple) and Edge's (WNS).
const DEFAULT_PUSH_ORIGINS: &str = "https://fcm.googleapis.com,\
    https://updates.push.services.mozilla.com,\
    https://*.push.apple.com,\
    https://*.notify.windows.com";

/// A VAPID `sub` claim: `mailto:` and an address, or an `https:` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VapidSubject(String);

impl VapidSubject {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for VapidSubject {
    type Err = String;

    fn from_str(subject: &str) -> Result<Self, Self::Err> {
        let is_plain = !subject.contains(|c: char| c.is_whitespace() || c == '<' || c == '>');
        let is_valid = match subject.split_once(':') {
            Some(("mailto", address)) => address.split_once('@').is_some_and(|(user, host)| {
                !user.is_empty() && !host.is_empty() && host != "localhost"
            }),
            Some(("https", rest)) => rest.starts_with("//") && rest.len() > 2,
            _ => false,
        };
        if is_plain && is_valid {
            Ok(Self(subject.to_owned()))
        } else {
            Err("expected mailto:<address> or an https:// URL".to_owned())
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// A database URL with its credentials kept out of `Debug` output and logs.
#[derive(Clone)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The full URL, credentials included. Pass it to the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Which backend the URL selects.
    pub fn backend(&self) -> Backend {
        if self.0.starts_with("postgres://") || self.0.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let known = ["sqlite:", "postgres://", "postgresql://"];
        if known.iter().any(|scheme| url.starts_with(scheme)) {
            Ok(Self(url.to_owned()))
        } else {
            Err("expected a sqlite: or postgres:// URL".to_owned())
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Print only the scheme: the rest may hold a password.
        let scheme = self.0.split(':').next().unwrap_or_default();
        write!(f, "{scheme}:[redacted]")
    }
}

/// A secret setting, kept out of `Debug` output and logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The secret itself. Hand it only to what needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl std::str::FromStr for Secret {
    type Err = String;

    fn from_str(secret: &str) -> Result<Self, Self::Err> {
        if secret.is_empty() {
            return Err("the secret is empty".to_owned());
        }
        Ok(Self(secret.to_owned()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The storage backends a `DatabaseUrl` can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("kinto-push").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_suit_local_development() {
        let config = parse(&[]).unwrap();

        assert_eq!(config.listen.to_string(), "127.0.0.1:8888");
        assert_eq!(config.database_url.backend(), Backend::Sqlite);
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert_eq!(config.bucket_create_principals, ["system.Authenticated"]);
    }

    #[test]
    fn postgres_url_selects_postgres() {
        let config = parse(&["--database-url", "postgres://me:pw@localhost/db"]).unwrap();

        assert_eq!(config.database_url.backend(), Backend::Postgres);
    }

    #[test]
    fn unknown_database_scheme_is_refused() {
        let error = parse(&["--database-url", "mysql://localhost/db"]).unwrap_err();

        assert!(
            error
                .to_string()
                .contains("expected a sqlite: or postgres:// URL")
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let config = parse(&["--userid-hmac-secret", "hunter2"]).unwrap();

        assert_eq!(config.userid_hmac_secret.unwrap().expose(), "hunter2");
        assert!(!format!("{:?}", parse(&["--userid-hmac-secret", "hunter2"])).contains("hunter2"));
    }

    #[test]
    fn push_defaults_allow_the_browser_push_services() {
        let push = parse(&[]).unwrap().push;

        assert_eq!(push.push_allowed_origins.len(), 4);
        assert_eq!(push.push_allowed_origins[0], "https://fcm.googleapis.com");
        assert_eq!(push.push_ttl_secs, 86_400);
        assert!(push.vapid_subject.is_none());
    }

    #[test]
    fn vapid_subjects_must_be_real_contacts() {
        for good in ["mailto:ops@example.com", "https://example.com/contact"] {
            assert!(good.parse::<VapidSubject>().is_ok(), "{good}");
        }
        for bad in [
            "ops@example.com",
            "mailto: <ops@example.com>",
            "mailto:ops@localhost",
            "https:",
            "http://example.com",
        ] {
            assert!(bad.parse::<VapidSubject>().is_err(), "{bad}");
        }
    }

    #[test]
    fn database_url_debug_hides_credentials() {
        let url: DatabaseUrl = "postgres://me:secret@localhost/db".parse().unwrap();

        assert_eq!(format!("{url:?}"), "postgres:[redacted]");
    }
}
