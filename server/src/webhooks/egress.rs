//! Where install notifications may go: https to public addresses, and nowhere else.
//!
//! A webhook URL is chosen by an app's developer, and the server POSTs to it from inside the
//! operator's network, so an unchecked URL would let any developer reach loopback services,
//! private ranges or a cloud metadata endpoint (169.254.169.254) through the server. The rule
//! is checked twice:
//!
//! - when a developer registers or edits the URL ([`WebhookUrl::parse`]), for a clear error;
//! - where the socket connects, after DNS ([`client`]): a resolver that refuses a name if any
//!   address it resolves to is not public, and a check of IP-literal hosts (which reqwest
//!   connects to without asking the resolver). This is the check that matters: a name can
//!   resolve to anything at send time, and a row may predate the rule. No proxy is used and no
//!   redirect is followed, so the address checked is the address connected to.
//!
//! The operator may allow private destinations (`--allow-private-webhooks`) for development
//! and the local demo; it is off by default.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use url::{Host, Url};

/// The operator's egress setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Egress {
    /// Let webhooks go to loopback, private and other non-public addresses, and use http on
    /// loopback (development and the demo only).
    pub allow_private: bool,
}

/// Why a destination is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    #[error("the webhook URL {0:?} is not a URL")]
    NotAUrl(String),
    #[error("the webhook URL {0:?} must not contain a user name or password")]
    Credentials(String),
    #[error("the webhook URL {0:?} must use https (http only on loopback, for development)")]
    NotHttps(String),
    #[error(
        "the webhook URL {0:?} points to a private, loopback or reserved address; webhooks go \
         only to public https addresses (the server's operator can allow private ones with \
         --allow-private-webhooks)"
    )]
    NotPublic(String),
}

/// A webhook URL that passed the registration check for the server's [`Egress`] setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Validates a URL a developer registers: https to a public host. With `allow_private`,
    /// any host, and http on loopback as well.
    pub fn parse(raw: &str, egress: Egress) -> Result<WebhookUrl, WebhookUrlError> {
        let url = Url::parse(raw).map_err(|_| WebhookUrlError::NotAUrl(raw.into()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookUrlError::Credentials(raw.into()));
        }
        if !matches!(url.scheme(), "https" | "http") {
            return Err(WebhookUrlError::NotHttps(raw.into()));
        }
        if !egress.allow_private && !host_may_be_public(&url) {
            return Err(WebhookUrlError::NotPublic(raw.into()));
        }
        let loopback = crate::domain::redirect::is_loopback_host(&url);
        if url.scheme() == "http" && !(egress.allow_private && loopback) {
            return Err(WebhookUrlError::NotHttps(raw.into()));
        }
        Ok(WebhookUrl(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The registration-time look at a host, without DNS: an IP literal must be public; a name
/// must not be one that only ever means a local or internal machine. Names are resolved, and
/// judged by their addresses, when a notification is sent.
fn host_may_be_public(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            // A single label ("metadata", "intranet") is resolved through the search domains
            // of the server's own network.
            let internal_suffixes = [
                ".localhost",
                ".local",
                ".internal",
                ".localdomain",
                ".home.arpa",
            ];
            name.contains('.')
                && name != "localhost"
                && !internal_suffixes.iter().any(|s| name.ends_with(s))
        }
        None => false,
    }
}

/// The send-time check of a URL itself: the scheme, and an IP-literal host (reqwest does not
/// ask the resolver about those). Names are checked by the resolver of [`client`].
pub fn check_destination(url: &str, egress: Egress) -> Result<(), NotAllowed> {
    let url = Url::parse(url).map_err(|_| NotAllowed)?;
    let literal = match url.host() {
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(Host::Domain(_)) => None,
        None => return Err(NotAllowed),
    };
    if egress.allow_private {
        return match url.scheme() {
            "https" | "http" => Ok(()),
            _ => Err(NotAllowed),
        };
    }
    if url.scheme() != "https" || literal.is_some_and(|ip| !is_public(ip)) {
        return Err(NotAllowed);
    }
    Ok(())
}

/// A destination refused by the egress rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("destination not allowed")]
pub struct NotAllowed;

/// A name that resolved to no address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("name not resolved")]
pub struct Unresolved;

/// Is this an address on the public Internet? Everything else is refused: loopback, private
/// (RFC 1918), CGNAT (100.64/10), link-local (incl. cloud metadata), unique-local, multicast,
/// unspecified, broadcast, documentation, benchmarking and reserved ranges, and the IPv6
/// forms that carry one of those IPv4 addresses (mapped, compatible, NAT64, 6to4).
/// (`IpAddr::is_global` would say this, but is not stable.)
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// IPv4 ranges that are not public: (network, prefix length).
const V4_NOT_PUBLIC: &[(u32, u32)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8: "this network", unspecified
    (0x0A00_0000, 8),  // 10.0.0.0/8: private
    (0x6440_0000, 10), // 100.64.0.0/10: carrier-grade NAT
    (0x7F00_0000, 8),  // 127.0.0.0/8: loopback
    (0xA9FE_0000, 16), // 169.254.0.0/16: link-local, cloud metadata
    (0xAC10_0000, 12), // 172.16.0.0/12: private
    (0xC000_0000, 24), // 192.0.0.0/24: IETF protocol assignments
    (0xC000_0200, 24), // 192.0.2.0/24: documentation
    (0xC058_6300, 24), // 192.88.99.0/24: 6to4 relay anycast
    (0xC0A8_0000, 16), // 192.168.0.0/16: private
    (0xC612_0000, 15), // 198.18.0.0/15: benchmarking
    (0xC633_6400, 24), // 198.51.100.0/24: documentation
    (0xCB00_7100, 24), // 203.0.113.0/24: documentation
    (0xE000_0000, 4),  // 224.0.0.0/4: multicast
    (0xF000_0000, 4),  // 240.0.0.0/4: reserved, and 255.255.255.255 broadcast
];

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    !V4_NOT_PUBLIC
        .iter()
        .any(|&(net, len)| bits >> (32 - len) == net >> (32 - len))
}

/// IPv6 ranges inside global unicast (2000::/3) that are not public.
const V6_NOT_PUBLIC: &[(u128, u32)] = &[
    (0x2001_0000_u128 << 96, 23), // 2001::/23: IETF protocol assignments (Teredo, benchmarking...)
    (0x2001_0db8_u128 << 96, 32), // 2001:db8::/32: documentation
    (0x3fff_0000_u128 << 96, 20), // 3fff::/20: documentation
];

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    // Forms that carry an IPv4 address are judged by that address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4); // ::ffff:a.b.c.d
    }
    if bits >> 32 == 0 {
        return false; // ::a.b.c.d (deprecated "compatible" form), and :: and ::1
    }
    if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
        return is_public_v4(Ipv4Addr::from(bits as u32)); // 64:ff9b::/96: NAT64
    }
    if bits >> 112 == 0x2002 {
        return is_public_v4(Ipv4Addr::from((bits >> 80) as u32)); // 2002::/16: 6to4
    }
    // Only global unicast; this leaves out unique-local fc00::/7, link-local fe80::/10,
    // multicast ff00::/8, discard 100::/64 and local NAT64 64:ff9b:1::/48.
    if bits >> 125 != 0b001 {
        return false;
    }
    !V6_NOT_PUBLIC
        .iter()
        .any(|&(net, len)| bits >> (128 - len) == net >> (128 - len))
}

/// A resolver that refuses a name unless every address it resolves to may be reached.
/// Refusing the whole answer (not filtering it) keeps a name that mixes a public and an
/// internal address from reaching the internal one when the public one fails.
struct GuardedResolver {
    egress: Egress,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let egress = self.egress;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| Box::new(Unresolved) as BoxError)?
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(Unresolved) as BoxError);
            }
            if !egress.allow_private && addrs.iter().any(|a| !is_public(a.ip())) {
                return Err(Box::new(NotAllowed) as BoxError);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The HTTP client of the notification worker: the guarded resolver, no proxy (not even one
/// from the environment: it would connect on our behalf to an address we never checked), no
/// redirects, and a timeout per attempt.
pub fn client(egress: Egress, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver { egress }))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("atrium-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|e| {
            // Only a broken TLS backend fails here; a default client would lose the guards,
            // so the worker sends nothing rather than send unchecked.
            tracing::error!(error = %e, "cannot build the webhook client");
            reqwest::Client::builder()
                .dns_resolver(Arc::new(RefuseAll))
                .no_proxy()
                .build()
                .unwrap_or_default()
        })
}

/// Used only if the real client cannot be built: every name is refused.
struct RefuseAll;

impl reqwest::dns::Resolve for RefuseAll {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async { Err(Box::new(NotAllowed) as BoxError) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn private_loopback_and_reserved_addresses_are_not_public() {
        for s in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a00:1::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "3fff::1",
        ] {
            assert!(!public(s), "{s} should not be public");
        }
    }

    #[test]
    fn public_addresses_and_their_ipv6_forms_are_public() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "93.184.216.34",
            "::ffff:93.184.216.34",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
            "2606:4700:4700::1111",
            "2a00:1450:4007:80e::200e",
        ] {
            assert!(public(s), "{s} should be public");
        }
    }

    #[test]
    fn registration_refuses_non_public_hosts_and_http_unless_allowed() {
        let strict = Egress::default();
        for bad in [
            "http://hooks.example.com/x",
            "https://127.0.0.1/x",
            "https://127.1/x",
            "https://2130706433/x",
            "https://[::1]/x",
            "https://[::ffff:127.0.0.1]:8443/x",
            "https://[::ffff:7f00:1]/x",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.1/x",
            "https://localhost/x",
            "https://LOCALHOST./x",
            "https://api.localhost/x",
            "https://metadata/x",
            "https://db.internal/x",
            "https://printer.local/x",
            "https://user:pw@hooks.example.com/x",
            "ftp://hooks.example.com/x",
            "not a url",
        ] {
            assert!(WebhookUrl::parse(bad, strict).is_err(), "{bad} accepted");
        }
        assert!(WebhookUrl::parse("https://hooks.example.com/x", strict).is_ok());
        assert!(WebhookUrl::parse("https://93.184.216.34:8443/x", strict).is_ok());
        let dev = Egress {
            allow_private: true,
        };
        assert!(WebhookUrl::parse("http://127.0.0.1:8010/webhook", dev).is_ok());
        assert!(WebhookUrl::parse("https://10.0.0.1/x", dev).is_ok());
        assert!(WebhookUrl::parse("http://10.0.0.1/x", dev).is_err());
    }

    #[test]
    fn the_send_time_check_refuses_literals_and_http_that_predate_the_rule() {
        let strict = Egress::default();
        assert_eq!(
            check_destination("http://127.0.0.1:9/x", strict),
            Err(NotAllowed)
        );
        assert_eq!(
            check_destination("https://[::ffff:127.0.0.1]:9/x", strict),
            Err(NotAllowed)
        );
        assert_eq!(
            check_destination("http://hooks.example.com/x", strict),
            Err(NotAllowed)
        );
        assert_eq!(
            check_destination("https://hooks.example.com/x", strict),
            Ok(())
        );
        let dev = Egress {
            allow_private: true,
        };
        assert_eq!(check_destination("http://127.0.0.1:9/x", dev), Ok(()));
    }
}
