//! PROXY protocol v1 (text) and v2 (binary) headers from a trusted load balancer.
//!
//! Only read when `listen.proxy_protocol` is on and the TCP peer is a trusted proxy; the
//! header's source address then becomes the viewer's address. A connection from a trusted
//! peer that starts with neither signature is served as a plain connection.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

const V2_SIG: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// Why a PROXY header was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// I/O while reading.
    #[error("reading the PROXY header: {0}")]
    Io(#[from] std::io::Error),
    /// Not a valid header.
    #[error("malformed PROXY header: {0}")]
    Malformed(&'static str),
}

/// Reads a PROXY header if the stream starts with one. Returns the source address it
/// names (`None` for no header, `LOCAL`/`UNKNOWN` or a non-IP family).
pub async fn read_header(tcp: &mut TcpStream) -> Result<Option<SocketAddr>, ProxyError> {
    let mut peek = [0u8; 16];
    let n = tcp.peek(&mut peek).await?;
    if n >= 6 && &peek[..6] == b"PROXY " {
        return read_v1(tcp).await;
    }
    if n >= 12 && &peek[..12] == V2_SIG {
        return read_v2(tcp).await;
    }
    if n < 12
        && (V2_SIG.starts_with(&peek[..n]) || b"PROXY ".starts_with(&peek[..n.min(6)]))
        && n > 0
    {
        // A partial signature: wait for more bytes.
        let mut more = [0u8; 16];
        let m = tcp.peek(&mut more).await?;
        if m >= 6 && &more[..6] == b"PROXY " {
            return read_v1(tcp).await;
        }
        if m >= 12 && &more[..12] == V2_SIG {
            return read_v2(tcp).await;
        }
    }
    Ok(None)
}

async fn read_v1(tcp: &mut TcpStream) -> Result<Option<SocketAddr>, ProxyError> {
    let mut line = Vec::with_capacity(108);
    loop {
        let b = tcp.read_u8().await?;
        line.push(b);
        if line.ends_with(b"\r\n") {
            break;
        }
        if line.len() > 107 {
            return Err(ProxyError::Malformed("v1 line longer than 107 bytes"));
        }
    }
    parse_v1(&line[..line.len() - 2])
}

/// Parses a v1 line without its CRLF.
pub fn parse_v1(line: &[u8]) -> Result<Option<SocketAddr>, ProxyError> {
    let s = std::str::from_utf8(line).map_err(|_| ProxyError::Malformed("v1 not ASCII"))?;
    let mut parts = s.split(' ');
    if parts.next() != Some("PROXY") {
        return Err(ProxyError::Malformed("v1 missing PROXY"));
    }
    match parts.next() {
        Some("UNKNOWN") => Ok(None),
        Some("TCP4") | Some("TCP6") => {
            let src: IpAddr = parts
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or(ProxyError::Malformed("v1 bad source address"))?;
            let _dst: IpAddr = parts
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or(ProxyError::Malformed("v1 bad destination address"))?;
            let sport: u16 = parts
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or(ProxyError::Malformed("v1 bad source port"))?;
            let _dport: u16 = parts
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or(ProxyError::Malformed("v1 bad destination port"))?;
            if parts.next().is_some() {
                return Err(ProxyError::Malformed("v1 trailing fields"));
            }
            Ok(Some(SocketAddr::new(src, sport)))
        }
        _ => Err(ProxyError::Malformed("v1 unknown protocol")),
    }
}

async fn read_v2(tcp: &mut TcpStream) -> Result<Option<SocketAddr>, ProxyError> {
    let mut head = [0u8; 16];
    tcp.read_exact(&mut head).await?;
    let len = u16::from_be_bytes([head[14], head[15]]) as usize;
    let mut rest = vec![0u8; len];
    tcp.read_exact(&mut rest).await?;
    parse_v2(&head, &rest)
}

/// Parses a v2 header: the 16 fixed bytes and the address block.
pub fn parse_v2(head: &[u8; 16], rest: &[u8]) -> Result<Option<SocketAddr>, ProxyError> {
    if &head[..12] != V2_SIG {
        return Err(ProxyError::Malformed("v2 bad signature"));
    }
    let ver_cmd = head[12];
    if ver_cmd >> 4 != 2 {
        return Err(ProxyError::Malformed("v2 bad version"));
    }
    match ver_cmd & 0x0f {
        0 => return Ok(None), // LOCAL
        1 => {}
        _ => return Err(ProxyError::Malformed("v2 bad command")),
    }
    match head[13] >> 4 {
        1 if rest.len() >= 12 => {
            let ip = Ipv4Addr::new(rest[0], rest[1], rest[2], rest[3]);
            let port = u16::from_be_bytes([rest[8], rest[9]]);
            Ok(Some(SocketAddr::new(IpAddr::V4(ip), port)))
        }
        2 if rest.len() >= 36 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(&rest[..16]);
            let port = u16::from_be_bytes([rest[32], rest[33]]);
            Ok(Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(o)), port)))
        }
        1 | 2 => Err(ProxyError::Malformed("v2 address block too short")),
        _ => Ok(None), // UNSPEC / UNIX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1() {
        assert_eq!(
            parse_v1(b"PROXY TCP4 81.2.69.160 127.0.0.1 5555 80").unwrap(),
            Some("81.2.69.160:5555".parse().unwrap())
        );
        assert_eq!(
            parse_v1(b"PROXY TCP6 2001:db8::1 ::1 4444 443").unwrap(),
            Some("[2001:db8::1]:4444".parse().unwrap())
        );
        assert_eq!(parse_v1(b"PROXY UNKNOWN").unwrap(), None);
        assert!(parse_v1(b"PROXY TCP4 nope 127.0.0.1 1 2").is_err());
    }

    #[test]
    fn v2() {
        let mut head = [0u8; 16];
        head[..12].copy_from_slice(V2_SIG);
        head[12] = 0x21;
        head[13] = 0x11;
        head[15] = 12;
        let rest = [8, 8, 8, 8, 127, 0, 0, 1, 0x1f, 0x90, 0, 80];
        assert_eq!(
            parse_v2(&head, &rest).unwrap(),
            Some("8.8.8.8:8080".parse().unwrap())
        );
        head[12] = 0x20;
        assert_eq!(parse_v2(&head, &rest).unwrap(), None);
    }
}
