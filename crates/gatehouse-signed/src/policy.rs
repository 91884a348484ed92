//! Signed-URL policies (`cloudfront.md` §3.2–3.3).
//!
//! A canned policy is rebuilt by the edge from the request URL and `Expires`, byte for byte as
//! AWS's signers write it. A custom policy arrives base64-encoded; it must hold exactly one
//! statement with `DateLessThan` (`AWS:EpochTime`), and may have `Resource`, `DateGreaterThan`
//! and `IpAddress` (`AWS:SourceIp`, IPv4 CIDR).

use serde_json::Value;
use std::fmt::Write as _;

/// A parsed policy statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `Resource` (absent = any URL).
    pub resource: Option<String>,
    /// `DateLessThan` epoch seconds (required).
    pub date_less_than: u64,
    /// `DateGreaterThan` epoch seconds.
    pub date_greater_than: Option<u64>,
    /// `IpAddress` as written.
    pub ip_address: Option<ipnet::Ipv4Net>,
}

/// A policy's conditions that can change between two identical requests: time and viewer IP
/// (what a remembered acceptance still has to check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conditions {
    /// `DateLessThan` epoch seconds.
    pub date_less_than: u64,
    /// `DateGreaterThan` epoch seconds.
    pub date_greater_than: Option<u64>,
    /// `IpAddress`.
    pub ip_address: Option<ipnet::Ipv4Net>,
}

impl Policy {
    /// The time and IP conditions.
    pub fn conditions(&self) -> Conditions {
        Conditions {
            date_less_than: self.date_less_than,
            date_greater_than: self.date_greater_than,
            ip_address: self.ip_address,
        }
    }
}

/// The canned policy CloudFront rebuilds: no whitespace, this key order.
pub fn canned(resource: &str, expires: u64) -> String {
    let mut s = String::with_capacity(resource.len() + 90);
    s.push_str("{\"Statement\":[{\"Resource\":");
    // JSON escaping as serde_json does it (`"`, `\` and control characters); most URLs
    // have none of them, and this runs on every canned-policy request.
    if resource
        .bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\')
    {
        s.push('"');
        s.push_str(resource);
        s.push('"');
    } else {
        s.push_str(&Value::String(resource.to_string()).to_string());
    }
    s.push_str(",\"Condition\":{\"DateLessThan\":{\"AWS:EpochTime\":");
    let _ = write!(s, "{expires}");
    s.push_str("}}}]}");
    s
}

/// Builds a custom policy in botocore's layout (Condition keys `DateLessThan`, `IpAddress`,
/// `DateGreaterThan`).
pub fn custom(
    resource: &str,
    date_less_than: u64,
    date_greater_than: Option<u64>,
    ip: Option<&str>,
) -> String {
    let mut cond = serde_json::Map::new();
    cond.insert(
        "DateLessThan".into(),
        serde_json::json!({"AWS:EpochTime": date_less_than}),
    );
    if let Some(ip) = ip {
        cond.insert("IpAddress".into(), serde_json::json!({"AWS:SourceIp": ip}));
    }
    if let Some(t) = date_greater_than {
        cond.insert(
            "DateGreaterThan".into(),
            serde_json::json!({"AWS:EpochTime": t}),
        );
    }
    let stmt = serde_json::json!({"Resource": resource, "Condition": Value::Object(cond)});
    serde_json::json!({"Statement": [stmt]}).to_string()
}

/// Why a policy was refused (all map to `MalformedPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

fn epoch(v: &Value, what: &str) -> Result<u64, PolicyError> {
    let t = v
        .get("AWS:EpochTime")
        .ok_or_else(|| PolicyError(format!("{what} has no AWS:EpochTime")))?;
    t.as_u64()
        .or_else(|| t.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| {
            PolicyError(format!(
                "{what} AWS:EpochTime is not a non-negative integer"
            ))
        })
}

/// Parses a custom policy's JSON.
pub fn parse(bytes: &[u8]) -> Result<Policy, PolicyError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| PolicyError(format!("policy is not JSON: {e}")))?;
    let stmt = match v.get("Statement") {
        Some(Value::Array(a)) if a.len() == 1 => &a[0],
        Some(Value::Array(a)) => {
            return Err(PolicyError(format!(
                "policy must have exactly one statement, has {}",
                a.len()
            )))
        }
        // The 2023 guide shows an object; accepted (docs/compatibility.md).
        Some(o @ Value::Object(_)) => o,
        _ => return Err(PolicyError("policy has no Statement".into())),
    };
    let resource = match stmt.get("Resource") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(PolicyError("Resource is not a string".into())),
    };
    let cond = stmt
        .get("Condition")
        .and_then(Value::as_object)
        .ok_or_else(|| PolicyError("statement has no Condition".into()))?;
    let dlt = cond
        .get("DateLessThan")
        .ok_or_else(|| PolicyError("Condition has no DateLessThan".into()))?;
    let date_less_than = epoch(dlt, "DateLessThan")?;
    let date_greater_than = cond
        .get("DateGreaterThan")
        .map(|v| epoch(v, "DateGreaterThan"))
        .transpose()?;
    let ip_address = match cond.get("IpAddress") {
        None => None,
        Some(v) => {
            let s = v
                .get("AWS:SourceIp")
                .and_then(Value::as_str)
                .ok_or_else(|| PolicyError("IpAddress has no AWS:SourceIp string".into()))?;
            let net = s
                .parse::<ipnet::Ipv4Net>()
                .or_else(|_| s.parse::<std::net::Ipv4Addr>().map(ipnet::Ipv4Net::from))
                .map_err(|_| {
                    PolicyError(format!("AWS:SourceIp {s:?} is not an IPv4 address or CIDR"))
                })?;
            Some(net)
        }
    };
    Ok(Policy {
        resource,
        date_less_than,
        date_greater_than,
        ip_address,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_matches_botocore_bytes() {
        assert_eq!(
            canned(
                "https://d111111abcdef8.cloudfront.net/image.jpg?size=large",
                1357034400
            ),
            r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/image.jpg?size=large","Condition":{"DateLessThan":{"AWS:EpochTime":1357034400}}}]}"#
        );
    }

    #[test]
    fn canned_escapes_like_serde_json() {
        for r in [
            "https://h/a\"b",
            "https://h/a\\b",
            "https://h/a\nb\u{1}",
            "https://h/é\u{7f}",
        ] {
            let via_serde = format!(
                "{{\"Statement\":[{{\"Resource\":{},\"Condition\":{{\"DateLessThan\":{{\"AWS:EpochTime\":7}}}}}}]}}",
                Value::String(r.into())
            );
            assert_eq!(canned(r, 7), via_serde);
            assert!(serde_json::from_str::<Value>(&canned(r, 7)).is_ok());
        }
    }

    #[test]
    fn custom_policies() {
        let p =
            parse(custom("https://x/*", 100, Some(50), Some("192.0.2.0/24")).as_bytes()).unwrap();
        assert_eq!(p.resource.as_deref(), Some("https://x/*"));
        assert_eq!((p.date_less_than, p.date_greater_than), (100, Some(50)));
        assert_eq!(p.ip_address.unwrap().to_string(), "192.0.2.0/24");
        assert!(parse(br#"{"Statement":[{"Resource":"x","Condition":{}}]}"#).is_err());
        assert!(parse(b"not json").is_err());
        assert!(parse(br#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1}},"Resource":"a"},{"Condition":{}}]}"#).is_err());
        let obj =
            parse(br#"{"Statement":{"Condition":{"DateLessThan":{"AWS:EpochTime":5}}}}"#).unwrap();
        assert_eq!((obj.resource, obj.date_less_than), (None, 5));
        let single = parse(br#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":5},"IpAddress":{"AWS:SourceIp":"10.0.0.1"}}}]}"#).unwrap();
        assert_eq!(single.ip_address.unwrap().to_string(), "10.0.0.1/32");
        assert!(parse(br#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":5},"IpAddress":{"AWS:SourceIp":"2001:db8::/32"}}}]}"#).is_err());
    }
}
