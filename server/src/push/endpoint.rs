//! Which push endpoints the server agrees to post to.
//!
//! Clients choose the endpoint, so without limits the server would post
//! wherever they like (server-side request forgery). An endpoint must be an
//! absolute URL on an allowed origin; one allowed only through a wildcard
//! (`https://*.push.apple.com`) must also resolve to public addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

/// Why an endpoint is refused; each reads as the end of "the endpoint …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointRefusal {
    #[error("is not an absolute URL")]
    NotAUrl,
    #[error("must use https")]
    NotHttps,
    #[error("is not on a known push service")]
    NotAllowed,
    #[error("resolves to a private, loopback or link-local address")]
    PrivateAddress,
    #[error("does not resolve")]
    Unresolved,
}

/// One entry of the allow-list: a scheme, a host (or every subdomain of
/// one) and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedOrigin {
    scheme: String,
    host: HostPattern,
    port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    /// `*.example.com`: any host ending in `.example.com`.
    SubdomainsOf(String),
}

/// The allow-list of push-service origins.
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins {
    origins: Vec<AllowedOrigin>,
}

/// An endpoint that passed the checks, with its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedEndpoint {
    /// `scheme://host[:port]`, the VAPID audience.
    pub origin: String,
    pub host: String,
}

impl AllowedOrigins {
    /// Reads entries such as `https://fcm.googleapis.com`,
    /// `https://*.push.apple.com` or `http://127.0.0.1:9000`.
    ///
    /// # Errors
    ///
    /// The entry that is not an origin.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut origins = Vec::new();
        for entry in entries.iter().map(|entry| entry.trim()) {
            if entry.is_empty() {
                continue;
            }
            let invalid = || format!("{entry} is not an origin such as https://host[:port]");
            let (scheme, rest) = entry.split_once("://").ok_or_else(invalid)?;
            if !matches!(scheme, "http" | "https") || rest.contains('/') {
                return Err(invalid());
            }
            let wildcard = rest.strip_prefix("*.");
            let url = Url::parse(&format!("{scheme}://{}", wildcard.unwrap_or(rest)))
                .map_err(|_| invalid())?;
            let host = url.host_str().ok_or_else(invalid)?.to_owned();
            let port = url.port_or_known_default().ok_or_else(invalid)?;
            origins.push(AllowedOrigin {
                scheme: scheme.to_owned(),
                host: match wildcard {
                    Some(_) => HostPattern::SubdomainsOf(host),
                    None => HostPattern::Exact(host),
                },
                port,
            });
        }
        Ok(Self { origins })
    }

    /// Checks `endpoint` against the list and, for an origin allowed through
    /// a wildcard only, that its host resolves to public addresses.
    ///
    /// # Errors
    ///
    /// Why the endpoint is refused.
    pub async fn check(&self, endpoint: &str) -> Result<CheckedEndpoint, EndpointRefusal> {
        let url = Url::parse(endpoint).map_err(|_| EndpointRefusal::NotAUrl)?;
        let host = url.host_str().ok_or(EndpointRefusal::NotAUrl)?.to_owned();
        let port = url
            .port_or_known_default()
            .ok_or(EndpointRefusal::NotAUrl)?;
        let scheme = url.scheme();
        if !matches!(scheme, "http" | "https") || url.cannot_be_a_base() {
            return Err(EndpointRefusal::NotAUrl);
        }
        let matching = self.origins.iter().filter(|allowed| {
            allowed.scheme == scheme && allowed.port == port && allowed.host.matches(&host)
        });
        let mut is_allowed = false;
        let mut is_explicit = false;
        for allowed in matching {
            is_allowed = true;
            is_explicit |= matches!(allowed.host, HostPattern::Exact(_));
        }
        if !is_allowed {
            let is_listed_for_https = scheme == "http"
                && self
                    .origins
                    .iter()
                    .any(|allowed| allowed.scheme == "https" && allowed.host.matches(&host));
            return Err(if is_listed_for_https {
                EndpointRefusal::NotHttps
            } else {
                EndpointRefusal::NotAllowed
            });
        }
        if !is_explicit {
            ensure_public(&host, port).await?;
        }
        Ok(CheckedEndpoint {
            origin: url.origin().ascii_serialization(),
            host,
        })
    }
}

impl AllowedOrigins {
    /// The resolver the HTTP client must use with this list.
    pub fn resolver(&self) -> PublicResolver {
        let explicit_hosts = self
            .origins
            .iter()
            .filter_map(|allowed| match &allowed.host {
                HostPattern::Exact(host) => Some(host.to_ascii_lowercase()),
                HostPattern::SubdomainsOf(_) => None,
            })
            .collect();
        PublicResolver {
            explicit_hosts: Arc::new(explicit_hosts),
        }
    }
}

/// Resolves push-service hosts for the HTTP client, keeping only public
/// addresses unless the host is listed exactly: a name that pointed at the
/// internet when its subscription was made cannot be turned toward the
/// internal network later.
#[derive(Debug, Clone)]
pub struct PublicResolver {
    explicit_hosts: Arc<Vec<String>>,
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let is_explicit = self.explicit_hosts.contains(&host);
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| is_explicit || is_public(address.ip()))
                .collect();
            if addresses.is_empty() {
                return Err(EndpointRefusal::PrivateAddress.into());
            }
            let addresses: Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

impl HostPattern {
    fn matches(&self, host: &str) -> bool {
        match self {
            Self::Exact(exact) => host.eq_ignore_ascii_case(exact),
            Self::SubdomainsOf(parent) => {
                host.len().checked_sub(parent.len() + 1).is_some_and(|cut| {
                    host.as_bytes()[cut] == b'.' && host[cut + 1..].eq_ignore_ascii_case(parent)
                })
            }
        }
    }
}

/// Refuses a host that resolves to any address the public internet cannot
/// reach.
async fn ensure_public(host: &str, port: u16) -> Result<(), EndpointRefusal> {
    let addresses: Vec<IpAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| EndpointRefusal::Unresolved)?
        .map(|address| address.ip())
        .collect();
    if addresses.is_empty() {
        return Err(EndpointRefusal::Unresolved);
    }
    if addresses.iter().any(|address| !is_public(*address)) {
        return Err(EndpointRefusal::PrivateAddress);
    }
    Ok(())
}

/// Whether `address` is a public unicast address.
pub(super) fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(address: Ipv4Addr) -> bool {
    let [first, second, ..] = address.octets();
    let is_shared = first == 100 && (64..128).contains(&second);
    !(address.is_private()
        || address.is_loopback()
        || address.is_link_local()
        || address.is_unspecified()
        || address.is_broadcast()
        || address.is_multicast()
        || address.is_documentation()
        || is_shared
        || first == 0)
}

fn is_public_v6(address: Ipv6Addr) -> bool {
    let first = address.segments()[0];
    let is_unique_local = first & 0xfe00 == 0xfc00;
    let is_link_local = first & 0xffc0 == 0xfe80;
    !(address.is_loopback()
        || address.is_unspecified()
        || address.is_multicast()
        || is_unique_local
        || is_link_local)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entries: &[&str]) -> AllowedOrigins {
        let entries: Vec<String> = entries.iter().map(|entry| (*entry).to_owned()).collect();
        AllowedOrigins::parse(&entries).unwrap()
    }

    #[tokio::test]
    async fn endpoints_must_be_on_an_allowed_origin() {
        let origins = allowed(&["https://fcm.googleapis.com", "http://127.0.0.1:9000"]);

        let fcm = origins
            .check("https://fcm.googleapis.com/fcm/send/abc")
            .await
            .unwrap();
        let local = origins.check("http://127.0.0.1:9000/push/1").await.unwrap();

        assert_eq!(fcm.origin, "https://fcm.googleapis.com");
        assert_eq!(local.origin, "http://127.0.0.1:9000");
        for (endpoint, refusal) in [
            ("not a url", EndpointRefusal::NotAUrl),
            ("http://fcm.googleapis.com/x", EndpointRefusal::NotHttps),
            ("https://evil.example/x", EndpointRefusal::NotAllowed),
            ("http://127.0.0.1:9001/push/1", EndpointRefusal::NotAllowed),
            (
                "https://fcm.googleapis.com.evil.example/x",
                EndpointRefusal::NotAllowed,
            ),
        ] {
            assert_eq!(
                origins.check(endpoint).await.unwrap_err(),
                refusal,
                "{endpoint}"
            );
        }
    }

    #[tokio::test]
    async fn wildcard_origins_must_resolve_to_public_addresses() {
        let origins = allowed(&["http://*.localhost:9000"]);

        let refusal = origins
            .check("http://push.localhost:9000/x")
            .await
            .unwrap_err();

        assert!(
            matches!(
                refusal,
                EndpointRefusal::PrivateAddress | EndpointRefusal::Unresolved
            ),
            "{refusal:?}"
        );
    }

    #[tokio::test]
    async fn the_resolver_keeps_private_addresses_for_listed_hosts_only() {
        let listing = allowed(&["http://localhost:9000"]).resolver();
        let not_listing = allowed(&["https://*.localhost"]).resolver();

        let listed = listing.resolve("localhost".parse().unwrap()).await;
        let unlisted = not_listing.resolve("localhost".parse().unwrap()).await;

        assert!(listed.unwrap().next().is_some());
        let refusal = unlisted.err().unwrap();
        assert_eq!(
            refusal.to_string(),
            EndpointRefusal::PrivateAddress.to_string()
        );
    }

    #[test]
    fn subdomain_patterns_match_subdomains_only() {
        let pattern = HostPattern::SubdomainsOf("push.apple.com".to_owned());

        assert!(pattern.matches("web.push.apple.com"));
        assert!(!pattern.matches("push.apple.com"));
        assert!(!pattern.matches("webpush.apple.com"));
        assert!(!pattern.matches("web.push.apple.com.evil"));
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for private in [
            "10.1.2.3",
            "127.0.0.1",
            "169.254.1.1",
            "192.168.0.1",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        assert!(is_public("142.250.74.10".parse().unwrap()));
        assert!(is_public("2a00:1450:4007::200a".parse().unwrap()));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for entry in ["fcm.googleapis.com", "ftp://x", "https://x/path"] {
            assert!(
                AllowedOrigins::parse(&[entry.to_owned()]).is_err(),
                "{entry}"
            );
        }
    }
}
