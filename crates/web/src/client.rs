//! The client's address, for per-client limits: the peer of the connection, unless that
//! peer is a trusted reverse proxy (`--trusted-proxy CIDR`), in which case the address the
//! proxies recorded in `X-Forwarded-For`: the right-most entry that is not itself a trusted
//! proxy (entries further left were written by the client and prove nothing).

use axum::http::HeaderMap;
use std::net::IpAddr;
use std::str::FromStr;

/// An address block, e.g. `10.0.0.0/8` or `::1/128` (a bare address is a block of one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let (addr, prefix) = s.split_once('/').unwrap_or((s, ""));
        let network: IpAddr = addr.trim().parse().map_err(|_| format!("{s:?} is not an address block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            max
        } else {
            prefix.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("{s:?}: bad prefix length"))?
        };
        Ok(Cidr { network, prefix })
    }
}

impl Cidr {
    /// Whether the block holds `ip`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix)) };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().is_some_and(|v4| self.contains(IpAddr::V4(v4))),
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

/// The client's address, given the connection's peer, the request headers and the proxies
/// trusted to say who their client is.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.iter().rev().copied().find(|ip| !is_trusted(*ip)).or_else(|| hops.first().copied()).unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let trusted: Vec<Cidr> = ["127.0.0.1/32", "10.0.0.0/8"].iter().map(|s| s.parse().unwrap()).collect();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(client_ip(ip("203.0.113.5"), &headers(&["1.2.3.4"]), &trusted), ip("203.0.113.5"), "untrusted peer");
        assert_eq!(client_ip(ip("127.0.0.1"), &headers(&["1.2.3.4"]), &trusted), ip("1.2.3.4"));
        assert_eq!(
            client_ip(ip("127.0.0.1"), &headers(&["6.6.6.6, 1.2.3.4, 10.0.0.7"]), &trusted),
            ip("1.2.3.4"),
            "the right-most untrusted hop; the client wrote 6.6.6.6 itself"
        );
        assert_eq!(client_ip(ip("127.0.0.1"), &headers(&["6.6.6.6", "1.2.3.4"]), &trusted), ip("1.2.3.4"));
        assert_eq!(client_ip(ip("127.0.0.1"), &headers(&[]), &trusted), ip("127.0.0.1"));
        assert_eq!(client_ip(ip("127.0.0.1"), &headers(&["garbage"]), &trusted), ip("127.0.0.1"));
        assert_eq!(client_ip(ip("::ffff:10.1.1.1"), &headers(&["1.2.3.4"]), &trusted), ip("1.2.3.4"));
    }

    #[test]
    fn blocks_parse_strictly() {
        assert!("10.0.0.0/8".parse::<Cidr>().is_ok());
        assert!("::1".parse::<Cidr>().is_ok());
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("ten/8".parse::<Cidr>().is_err());
    }
}
