//! The outbound-address guard: webhooks (and any URL a user gives) may only reach public
//! addresses. Every special-purpose range of the IANA IPv4 and IPv6 special-purpose address
//! registries is refused, as are addresses that embed an internal IPv4 address (IPv4-mapped,
//! NAT64); names are resolved once, checked, and the connection goes to the checked
//! addresses ([`GuardedResolver`]), so a name cannot point elsewhere between check and use
//! (DNS rebinding).

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// IPv4 ranges that are not the public internet (address, prefix length).
const V4_SPECIAL: [([u8; 4], u8); 18] = [
    ([0, 0, 0, 0], 8),       // "this network"
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // shared address space (CGNAT)
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local (cloud metadata)
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
    ([192, 31, 196, 0], 24), // AS112-v4
    ([192, 52, 193, 0], 24), // AMT
    ([192, 88, 99, 0], 24),  // deprecated 6to4 relay anycast
    ([192, 168, 0, 0], 16),  // private
    ([192, 175, 48, 0], 24), // direct delegation AS112
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, and the broadcast address
];

/// IPv6 ranges that are not the public internet (address, prefix length). IPv4-mapped
/// `::ffff:0:0/96` and NAT64 `64:ff9b::/96` are judged by the IPv4 address they embed.
const V6_SPECIAL: [([u16; 8], u8); 13] = [
    ([0, 0, 0, 0, 0, 0, 0, 0], 96), // unspecified, loopback, IPv4-compatible (::a.b.c.d)
    ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), // local-use NAT64
    ([0x100, 0, 0, 0, 0, 0, 0, 0], 64), // discard-only
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), // IETF protocol assignments (Teredo, ORCHID …)
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
    ([0x2002, 0, 0, 0, 0, 0, 0, 0], 16), // 6to4 (deprecated; embeds an IPv4 address)
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), // documentation
    ([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16), // segment routing SIDs
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), // unique local
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), // link-local
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), // site-local (deprecated)
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), // multicast
    ([0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff], 128), // reserved top
];

fn in_v4(ip: Ipv4Addr, (net, len): ([u8; 4], u8)) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn in_v6(ip: Ipv6Addr, (net, len): ([u16; 8], u8)) -> bool {
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

/// Whether an address is not a public internet address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => V4_SPECIAL.iter().any(|r| in_v4(v4, *r)),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            if in_v6(v6, ([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96)) {
                let [.., a, b] = v6.segments();
                return is_internal(IpAddr::V4(Ipv4Addr::from((u32::from(a) << 16) | u32::from(b))));
            }
            V6_SPECIAL.iter().any(|r| in_v6(v6, *r))
        }
    }
}

/// Why a destination is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The URL is not an absolute http(s) URL with a host.
    #[error("{0}")]
    BadUrl(String),
    /// The host is, or resolves to, an internal address.
    #[error("{host} is or resolves to the internal address {ip}; only public addresses are allowed")]
    Internal {
        /// The host as written.
        host: String,
        /// The internal address.
        ip: IpAddr,
    },
    /// The name did not resolve.
    #[error("cannot resolve {0}")]
    Unresolved(String),
}

/// Checks a URL's destination as a send will: the literal address, or every address its
/// name resolves to, must be public.
pub async fn check_url(url: &str) -> Result<(), Refused> {
    let url = reqwest::Url::parse(url).map_err(|e| Refused::BadUrl(format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refused::BadUrl(format!("unsupported URL scheme {:?}", url.scheme())));
    }
    let host = url.host_str().ok_or_else(|| Refused::BadUrl("the URL has no host".into()))?;
    let port = url.port_or_known_default().unwrap_or(443);
    check_host(host, port).await.map(drop)
}

/// The public addresses of `host` (an IP literal, bracketed or not, or a name).
async fn check_host(host: &str, port: u16) -> Result<Vec<SocketAddr>, Refused> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => {
            tokio::net::lookup_host((bare, port)).await.map_err(|_| Refused::Unresolved(host.to_string()))?.collect()
        }
    };
    if let Some(bad) = addrs.iter().find(|a| is_internal(a.ip())) {
        return Err(Refused::Internal { host: host.to_string(), ip: bad.ip() });
    }
    if addrs.is_empty() {
        return Err(Refused::Unresolved(host.to_string()));
    }
    Ok(addrs)
}

/// A resolver for the HTTP client that answers only with checked public addresses, so the
/// client connects to exactly what was checked.
#[derive(Debug, Default)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs = check_host(name.as_str(), 0).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_purpose_addresses_are_internal() {
        for ip in [
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
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
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "2002:7f00:1::",
            "2002:808:808::",
            "3fff::1",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "198.20.0.1",
            "2606:4700::1111",
            "2a00:1450::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn urls_are_checked_literally_and_by_name() {
        for url in ["http://127.0.0.1:9/x", "http://[::127.0.0.1]/x", "https://localhost/x", "http://0x7f000001/x"] {
            assert!(matches!(check_url(url).await, Err(Refused::Internal { .. })), "{url}");
        }
        assert!(matches!(check_url("ftp://example.com/").await, Err(Refused::BadUrl(_))));
        assert!(matches!(check_url("not a url").await, Err(Refused::BadUrl(_))));
        assert!(check_url("https://93.184.215.14/hook").await.is_ok());
        let resolved = GuardedResolver.resolve("localhost".parse().unwrap()).await;
        assert!(resolved.is_err(), "the client's resolver refuses internal names too");
    }
}
