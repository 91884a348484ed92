//! Who the viewer is: the TCP peer, the PROXY protocol source, or — when the peer is a
//! trusted proxy — the client named in `X-Forwarded-For`.
//!
//! `X-Forwarded-For` is walked from the right, skipping trusted proxies; the first untrusted
//! address is the viewer. A malformed entry stops the walk (the last trusted hop is used).

use gatehouse_model::settings::Cidr;
use http::HeaderMap;
use std::net::IpAddr;

/// Resolves the viewer's IP from the connection's IP and the request headers.
pub fn viewer_ip(connection_ip: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> (IpAddr, bool) {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(connection_ip) {
        return (connection_ip, false);
    }
    let mut current = connection_ip;
    let mut via_header = false;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(s) = value.to_str() else { break };
        for part in s.rsplit(',') {
            let part = part.trim();
            let Some(ip) = parse_entry(part) else {
                return (current, via_header);
            };
            current = ip;
            via_header = true;
            if !is_trusted(ip) {
                return (ip, true);
            }
        }
    }
    (current, via_header)
}

fn parse_entry(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    // "[2001:db8::1]:443" or "192.0.2.1:80"
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    s.rsplit_once(':').and_then(|(h, _)| h.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_from_the_right() {
        let trusted: Vec<Cidr> = vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 8.8.8.8, 10.1.1.1".parse().unwrap(),
        );
        assert_eq!(
            viewer_ip("127.0.0.1".parse().unwrap(), &h, &trusted).0,
            "8.8.8.8".parse::<IpAddr>().unwrap()
        );
        // untrusted peer: header ignored
        assert_eq!(
            viewer_ip("1.2.3.4".parse().unwrap(), &h, &trusted).0,
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        let mut v6 = HeaderMap::new();
        v6.insert("x-forwarded-for", "2001:db8::7".parse().unwrap());
        assert_eq!(
            viewer_ip("::1".parse().unwrap(), &v6, &["::1".parse().unwrap()]).0,
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
    }
}
