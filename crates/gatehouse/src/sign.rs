//! `gatehouse sign url` and `gatehouse sign cookies`: the same output as `aws cloudfront sign`
//! and `sign-cookies`, with RSA or ECDSA P-256 keys and SHA1 or SHA256.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use gatehouse_signed::sign::{sign_cookies, sign_url, SignRequest};
use gatehouse_signed::{HashAlgorithm, PrivateKey};
use std::io::Write;
use std::path::PathBuf;

/// `gatehouse sign …`.
#[derive(Subcommand)]
pub enum SignCommand {
    /// Print a signed URL (canned policy unless --date-greater-than, --ip-address or
    /// --policy-resource ask for a custom one).
    Url {
        /// The URL to sign.
        url: String,
        #[command(flatten)]
        common: Common,
    },
    /// Print signed cookies as JSON (`CloudFront-*` name → value), as `aws cloudfront sign-cookies` does.
    Cookies {
        /// The resource (URL or wildcard pattern) the cookies cover.
        #[arg(long)]
        resource: String,
        #[command(flatten)]
        common: Common,
    },
}

/// Options shared by URLs and cookies.
#[derive(Args)]
pub struct Common {
    /// The public key id (e.g. K2JCJMDEHXQW5F).
    #[arg(long)]
    key_pair_id: String,
    /// PEM private key: RSA (PKCS#1 or PKCS#8) or EC P-256 (SEC1 or PKCS#8). `file://` optional.
    #[arg(long)]
    private_key: String,
    /// Expiry: epoch seconds, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ` (UTC).
    #[arg(long)]
    date_less_than: String,
    /// Start of validity (custom policy).
    #[arg(long)]
    date_greater_than: Option<String>,
    /// Viewer IPv4 address or CIDR (custom policy).
    #[arg(long)]
    ip_address: Option<String>,
    /// Resource pattern, when it differs from the URL (custom policy).
    #[arg(long)]
    policy_resource: Option<String>,
    /// SHA1 (default for RSA) or SHA256 (required for ECDSA).
    #[arg(long)]
    hash_algorithm: Option<String>,
}

/// Runs the command, printing to stdout.
pub fn run(cmd: SignCommand) -> Result<()> {
    let (target, common, cookies) = match &cmd {
        SignCommand::Url { url, common } => (url.as_str(), common, false),
        SignCommand::Cookies { resource, common } => (resource.as_str(), common, true),
    };
    let path = PathBuf::from(common.private_key.trim_start_matches("file://"));
    let pem = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the private key {}", path.display()))?;
    let key = PrivateKey::from_pem(&pem).with_context(|| format!("{}", path.display()))?;
    let hash = match common.hash_algorithm.as_deref() {
        Some(h) => HashAlgorithm::parse(h)
            .with_context(|| format!("--hash-algorithm {h:?}: expected SHA1 or SHA256"))?,
        None if key.is_ec() => HashAlgorithm::Sha256,
        None => HashAlgorithm::Sha1,
    };
    if let Some(ip) = &common.ip_address {
        if ip.contains(':') {
            bail!("--ip-address {ip}: CloudFront policies take IPv4 addresses only");
        }
    }
    let ip_cidr = common.ip_address.as_ref().map(|ip| {
        if ip.contains('/') {
            ip.clone()
        } else {
            format!("{ip}/32")
        }
    });
    let req = SignRequest {
        url: target,
        key_pair_id: &common.key_pair_id,
        date_less_than: parse_time(&common.date_less_than)?,
        date_greater_than: common
            .date_greater_than
            .as_deref()
            .map(parse_time)
            .transpose()?,
        ip_address: ip_cidr.as_deref(),
        policy_resource: common.policy_resource.as_deref(),
        hash,
    };
    let mut out = std::io::stdout().lock();
    if cookies {
        let map: serde_json::Map<String, serde_json::Value> = sign_cookies(&req, &key)?
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&map)?)?;
    } else {
        // Like `aws cloudfront sign`: the URL, no trailing newline.
        write!(out, "{}", sign_url(&req, &key)?)?;
    }
    Ok(())
}

/// Epoch seconds from `1700000000`, `2033-05-18` or `2033-05-18T10:20:30Z`.
fn parse_time(s: &str) -> Result<u64> {
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    let bad = || anyhow::anyhow!("{s:?} is not epoch seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t.trim_end_matches('Z'))),
        None => (s, None),
    };
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (Some(Ok(y)), Some(Ok(m)), Some(Ok(day)), None) = (d.next(), d.next(), d.next(), d.next())
    else {
        return Err(bad());
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    let secs_of_day = match time {
        None => 0,
        Some(t) => {
            let mut p = t.split(':').map(|x| x.parse::<i64>());
            match (p.next(), p.next(), p.next()) {
                (Some(Ok(h)), Some(Ok(mi)), sec) => {
                    h * 3600 + mi * 60 + sec.and_then(|r| r.ok()).unwrap_or(0)
                }
                _ => return Err(bad()),
            }
        }
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    u64::try_from(days * 86400 + secs_of_day).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    #[test]
    fn times() {
        assert_eq!(super::parse_time("2033-05-18").unwrap(), 1_999_987_200);
        assert_eq!(super::parse_time("1970-01-01T00:01:40Z").unwrap(), 100);
        assert_eq!(super::parse_time("1700000000").unwrap(), 1_700_000_000);
        assert!(super::parse_time("tomorrow").is_err());
    }
}
