//! Semantic validation: what parses as JSON but CloudFront would refuse (or misroute).
//!
//! Each check pushes a [`Problem`] naming the file, the JSON path and the reason. The rules
//! come from the CloudFront API model and developer guide (see `cloudfront.md` §6, §7).

use crate::aws::distribution::{AllowedMethods, CacheBehavior, DistributionConfig, Method};
use crate::aws::List;
use crate::config::{Distribution, Problem};
use crate::settings::Settings;
use std::collections::{HashMap, HashSet};
use std::path::Path;

struct Ctx<'a> {
    file: &'a Path,
    problems: &'a mut Vec<Problem>,
}

impl Ctx<'_> {
    fn push(&mut self, path: String, reason: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_path_buf(),
            path,
            reason: reason.into(),
        });
    }

    fn list<T>(&mut self, path: &str, list: &List<T>) {
        self.quantity(path, list.quantity, list.items.len());
    }

    /// AWS's `Quantity` must equal the number of `Items`.
    fn quantity(&mut self, path: &str, quantity: u32, items: usize) {
        if quantity as usize != items {
            self.push(
                format!("{path}.Quantity"),
                format!("Quantity is {quantity} but Items has {items} element(s)"),
            );
        }
    }
}

/// Checks `gatehouse.toml` values that parse but cannot work.
pub fn settings(dir: &Path, file: &Path, s: &Settings, problems: &mut Vec<Problem>) {
    let mut cx = Ctx { file, problems };
    if let Some(h) = &s.edge.host_id {
        if h.len() != 32
            || !h
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            cx.push(
                "edge.host_id".into(),
                "must be 32 lower-case hex characters",
            );
        }
    }
    if s.edge.location.is_empty() || s.edge.location.contains(char::is_whitespace) {
        cx.push(
            "edge.location".into(),
            "must be a non-empty code without spaces (e.g. FRA56-P6)",
        );
    }
    if !s.listen.https.is_empty() && s.tls.certificates.is_empty() {
        cx.push(
            "listen.https".into(),
            "HTTPS listeners need at least one [[tls.certificates]] entry",
        );
    }
    for (i, c) in s.tls.certificates.iter().enumerate() {
        for (what, p) in [("cert", &c.cert), ("key", &c.key)] {
            let full = if p.is_absolute() {
                p.clone()
            } else {
                dir.join(p)
            };
            if !full.is_file() {
                cx.push(
                    format!("tls.certificates[{i}].{what}"),
                    format!("file {} does not exist", full.display()),
                );
            }
        }
    }
    if let Some(ca) = &s.origins.ca_file {
        let full = if ca.is_absolute() {
            ca.clone()
        } else {
            dir.join(ca)
        };
        if !full.is_file() {
            cx.push(
                "origins.ca_file".into(),
                format!("file {} does not exist", full.display()),
            );
        }
    }
    if let Some(db) = &s.geoip.database {
        if !db.as_os_str().is_empty() {
            let full = if db.is_absolute() {
                db.clone()
            } else {
                dir.join(db)
            };
            if !full.is_file() {
                cx.push(
                    "geoip.database".into(),
                    format!("file {} does not exist", full.display()),
                );
            }
        }
    }
    for (host, url) in &s.origins.endpoints {
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.parse::<http_uri_check::Uri>().is_err()
        {
            cx.push(
                format!("origins.endpoints.\"{host}\""),
                format!("{url:?} is not an http:// or https:// URL"),
            );
        }
    }
}

mod http_uri_check {
    /// A minimal URL shape check (scheme://host[:port][/]) without an HTTP dependency.
    pub struct Uri;
    impl std::str::FromStr for Uri {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let rest = s
                .strip_prefix("http://")
                .or_else(|| s.strip_prefix("https://"))
                .ok_or(())?;
            let authority = rest.split('/').next().unwrap_or("");
            if authority.is_empty() || authority.contains(char::is_whitespace) {
                return Err(());
            }
            if let Some((_, port)) = authority.rsplit_once(':') {
                if !authority.starts_with('[') || authority.contains("]:") {
                    port.parse::<u16>().map_err(|_| ())?;
                }
            }
            Ok(Uri)
        }
    }
}

/// The characters CloudFront allows in a `PathPattern` (besides letters and digits).
const PATH_PATTERN_EXTRA: &[u8] = b"_-.*$/~\"'@:+&?";

/// Checks one distribution config.
pub fn distribution(file: &Path, root: &str, c: &DistributionConfig, problems: &mut Vec<Problem>) {
    let mut cx = Ctx { file, problems };
    cx.list(&format!("{root}.Aliases"), &c.aliases);
    for (i, alias) in c.aliases.items.iter().enumerate() {
        if let Err(reason) = check_alias(alias) {
            cx.push(format!("{root}.Aliases.Items[{i}]"), reason);
        }
    }
    let mut seen_alias = HashSet::new();
    for (i, alias) in c.aliases.items.iter().enumerate() {
        if !seen_alias.insert(alias.to_ascii_lowercase()) {
            cx.push(
                format!("{root}.Aliases.Items[{i}]"),
                format!("alias {alias:?} is listed twice"),
            );
        }
    }
    if c.default_root_object.starts_with('/') {
        cx.push(
            format!("{root}.DefaultRootObject"),
            "must not begin with '/' (write index.html, not /index.html)",
        );
    }

    cx.list(&format!("{root}.Origins"), &c.origins);
    if c.origins.items.is_empty() {
        cx.push(
            format!("{root}.Origins"),
            "a distribution needs at least one origin",
        );
    }
    cx.list(&format!("{root}.OriginGroups"), &c.origin_groups);
    let mut origin_ids = HashSet::new();
    for (i, o) in c.origins.items.iter().enumerate() {
        let p = format!("{root}.Origins.Items[{i}]");
        if o.id.is_empty() {
            cx.push(format!("{p}.Id"), "origin Id must not be empty");
        } else if !origin_ids.insert(o.id.as_str()) {
            cx.push(
                format!("{p}.Id"),
                format!("origin Id {:?} is used twice", o.id),
            );
        }
        if o.domain_name.is_empty() || o.domain_name.contains(['/', ' ', ':']) {
            cx.push(
                format!("{p}.DomainName"),
                format!(
                    "{:?} is not a domain name (no scheme, port or path)",
                    o.domain_name
                ),
            );
        }
        if !o.origin_path.is_empty()
            && (!o.origin_path.starts_with('/') || o.origin_path.ends_with('/'))
        {
            cx.push(
                format!("{p}.OriginPath"),
                "must begin with '/' and must not end with '/'",
            );
        }
        cx.list(&format!("{p}.CustomHeaders"), &o.custom_headers);
        for (j, h) in o.custom_headers.items.iter().enumerate() {
            if h.header_name.is_empty() || !h.header_name.bytes().all(is_token_byte) {
                cx.push(
                    format!("{p}.CustomHeaders.Items[{j}].HeaderName"),
                    format!("{:?} is not a valid header name", h.header_name),
                );
            }
            if h.header_value
                .bytes()
                .any(|b| b == b'\r' || b == b'\n' || b == 0)
            {
                cx.push(
                    format!("{p}.CustomHeaders.Items[{j}].HeaderValue"),
                    "must not contain CR, LF or NUL",
                );
            }
        }
        match (&o.s3_origin_config, &o.custom_origin_config) {
            (None, None) => cx.push(
                p.clone(),
                "an origin needs S3OriginConfig or CustomOriginConfig",
            ),
            (Some(_), Some(_)) => cx.push(
                p.clone(),
                "an origin cannot have both S3OriginConfig and CustomOriginConfig",
            ),
            _ => {}
        }
        if let Some(a) = o.connection_attempts {
            if !(1..=3).contains(&a) {
                cx.push(
                    format!("{p}.ConnectionAttempts"),
                    format!("{a} is outside 1–3"),
                );
            }
        }
        if let Some(t) = o.connection_timeout {
            if !(1..=10).contains(&t) {
                cx.push(
                    format!("{p}.ConnectionTimeout"),
                    format!("{t} is outside 1–10 seconds"),
                );
            }
        }
        if let Some(coc) = &o.custom_origin_config {
            let cp = format!("{p}.CustomOriginConfig");
            for (name, port) in [("HTTPPort", coc.http_port), ("HTTPSPort", coc.https_port)] {
                if !(1..=65535).contains(&port) {
                    cx.push(format!("{cp}.{name}"), format!("{port} is not a TCP port"));
                }
            }
            if let Some(t) = coc.origin_read_timeout {
                if !(1..=180).contains(&t) {
                    cx.push(
                        format!("{cp}.OriginReadTimeout"),
                        format!("{t} is outside 1–180 seconds"),
                    );
                }
            }
            if let Some(t) = coc.origin_keepalive_timeout {
                if !(1..=180).contains(&t) {
                    cx.push(
                        format!("{cp}.OriginKeepaliveTimeout"),
                        format!("{t} is outside 1–180 seconds"),
                    );
                }
            }
            cx.list(
                &format!("{cp}.OriginSslProtocols"),
                &coc.origin_ssl_protocols,
            );
        }
        if let (Some(rct), Some(coc)) = (o.response_completion_timeout, &o.custom_origin_config) {
            if rct < coc.origin_read_timeout.unwrap_or(30) {
                cx.push(
                    format!("{p}.ResponseCompletionTimeout"),
                    "must be at least OriginReadTimeout",
                );
            }
        }
    }

    behavior(
        &mut cx,
        &format!("{root}.DefaultCacheBehavior"),
        &c.default_cache_behavior,
        &origin_ids,
        true,
    );
    cx.list(&format!("{root}.CacheBehaviors"), &c.cache_behaviors);
    let mut patterns = HashSet::new();
    for (i, b) in c.cache_behaviors.items.iter().enumerate() {
        let p = format!("{root}.CacheBehaviors.Items[{i}]");
        behavior(&mut cx, &p, b, &origin_ids, false);
        if let Some(pat) = &b.path_pattern {
            if !patterns.insert(pat.trim_start_matches('/')) {
                cx.push(
                    format!("{p}.PathPattern"),
                    format!("path pattern {pat:?} is used twice"),
                );
            }
        }
    }

    cx.list(
        &format!("{root}.CustomErrorResponses"),
        &c.custom_error_responses,
    );
    let mut codes = HashSet::new();
    for (i, e) in c.custom_error_responses.items.iter().enumerate() {
        let p = format!("{root}.CustomErrorResponses.Items[{i}]");
        if ![400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504].contains(&e.error_code) {
            cx.push(
                format!("{p}.ErrorCode"),
                format!(
                    "{} is not an error code CloudFront can customise",
                    e.error_code
                ),
            );
        }
        if !codes.insert(e.error_code) {
            cx.push(
                format!("{p}.ErrorCode"),
                format!("{} appears twice", e.error_code),
            );
        }
        if !e.response_code.is_empty() {
            match e.response_code.parse::<u16>() {
                Ok(code) if (200..600).contains(&code) => {}
                _ => cx.push(
                    format!("{p}.ResponseCode"),
                    format!("{:?} is not an HTTP status code", e.response_code),
                ),
            }
            if e.response_page_path.is_empty() {
                cx.push(
                    format!("{p}.ResponsePagePath"),
                    "ResponseCode needs a ResponsePagePath",
                );
            }
        }
        if !e.response_page_path.is_empty() && !e.response_page_path.starts_with('/') {
            cx.push(format!("{p}.ResponsePagePath"), "must begin with '/'");
        }
        if !e.response_page_path.is_empty() && e.response_code.is_empty() {
            cx.push(
                format!("{p}.ResponseCode"),
                "ResponsePagePath needs a ResponseCode",
            );
        }
    }

    if let Some(r) = &c.restrictions {
        let g = &r.geo_restriction;
        let p = format!("{root}.Restrictions.GeoRestriction");
        cx.quantity(&p, g.quantity, g.items.len());
        for (i, code) in g.items.iter().enumerate() {
            if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                cx.push(
                    format!("{p}.Items[{i}]"),
                    format!("{code:?} is not an upper-case ISO 3166-1 alpha-2 country code"),
                );
            }
        }
        use crate::aws::distribution::GeoRestrictionType as T;
        match g.restriction_type {
            T::None if !g.items.is_empty() => {
                cx.push(format!("{p}.Items"), "RestrictionType none takes no Items")
            }
            T::Whitelist | T::Blacklist if g.items.is_empty() => cx.push(
                format!("{p}.Items"),
                "whitelist and blacklist need at least one country",
            ),
            _ => {}
        }
    }
}

fn behavior(
    cx: &mut Ctx<'_>,
    p: &str,
    b: &CacheBehavior,
    origin_ids: &HashSet<&str>,
    is_default: bool,
) {
    match (&b.path_pattern, is_default) {
        (Some(_), true) => cx.push(
            format!("{p}.PathPattern"),
            "DefaultCacheBehavior has no PathPattern (it is always *)",
        ),
        (None, false) => cx.push(
            format!("{p}.PathPattern"),
            "a cache behavior needs a PathPattern",
        ),
        (Some(pat), false) => {
            if let Err(reason) = check_path_pattern(pat) {
                cx.push(format!("{p}.PathPattern"), reason);
            }
        }
        (None, true) => {}
    }
    if !origin_ids.contains(b.target_origin_id.as_str()) {
        let known: Vec<&str> = {
            let mut v: Vec<&str> = origin_ids.iter().copied().collect();
            v.sort();
            v
        };
        cx.push(
            format!("{p}.TargetOriginId"),
            format!(
                "{:?} names no origin of this distribution (origins: {})",
                b.target_origin_id,
                known.join(", ")
            ),
        );
    }
    if let Some(am) = &b.allowed_methods {
        allowed_methods(cx, &format!("{p}.AllowedMethods"), am);
    }
    for (name, list) in [
        ("TrustedKeyGroups", &b.trusted_key_groups),
        ("TrustedSigners", &b.trusted_signers),
    ] {
        if let Some(l) = list {
            cx.quantity(&format!("{p}.{name}"), l.quantity, l.items.len());
            if l.enabled && l.items.is_empty() {
                cx.push(
                    format!("{p}.{name}"),
                    "Enabled is true but no items are listed: every request would be refused",
                );
            }
        }
    }
}

fn allowed_methods(cx: &mut Ctx<'_>, p: &str, am: &AllowedMethods) {
    cx.quantity(p, am.quantity, am.items.len());
    let set: HashSet<Method> = am.items.iter().copied().collect();
    use Method::*;
    let allowed_sets: [&[Method]; 3] = [
        &[Get, Head],
        &[Get, Head, Options],
        &[Get, Head, Options, Put, Post, Patch, Delete],
    ];
    // `set.len() == am.items.len()`: a repeated method is not one of the sets either.
    if set.len() != am.items.len()
        || !allowed_sets
            .iter()
            .any(|s| s.len() == set.len() && s.iter().all(|m| set.contains(m)))
    {
        cx.push(
            format!("{p}.Items"),
            "must be exactly [GET, HEAD], [GET, HEAD, OPTIONS] or all seven methods",
        );
    }
    if let Some(cm) = &am.cached_methods {
        cx.list(&format!("{p}.CachedMethods"), cm);
        let cset: HashSet<Method> = cm.items.iter().copied().collect();
        let ok = cset.len() == cm.items.len()
            && ((cset.len() == 2 && cset.contains(&Get) && cset.contains(&Head))
                || (cset.len() == 3
                    && cset.contains(&Get)
                    && cset.contains(&Head)
                    && cset.contains(&Options)));
        if !ok {
            cx.push(
                format!("{p}.CachedMethods.Items"),
                "must be [GET, HEAD] or [GET, HEAD, OPTIONS]",
            );
        } else if !cset.is_subset(&set) {
            cx.push(
                format!("{p}.CachedMethods.Items"),
                "cached methods must be a subset of the allowed methods",
            );
        }
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks an alternate domain name: lower case, valid DNS labels, a wildcard only as a whole
/// first label (`*.example.com`).
pub fn check_alias(alias: &str) -> Result<(), String> {
    if alias.is_empty() {
        return Err("alias must not be empty".into());
    }
    if alias.len() > 253 {
        return Err(format!("alias {alias:?} is longer than 253 characters"));
    }
    if alias.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!("alias {alias:?} must be lower case"));
    }
    let rest = if alias.contains('*') {
        match alias.strip_prefix("*.") {
            Some(r) if !r.contains('*') => r,
            _ => {
                return Err(format!(
                    "invalid wildcard alias {alias:?}: a wildcard must be the whole first label (*.example.com)"
                ))
            }
        }
    } else {
        alias
    };
    if !rest.contains('.') && alias.contains('*') {
        return Err(format!(
            "wildcard alias {alias:?} must cover a domain with at least two labels"
        ));
    }
    for label in rest.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!(
                "alias {alias:?} has an invalid DNS label {label:?}"
            ));
        }
    }
    Ok(())
}

/// Checks a `PathPattern`: at most 255 characters from CloudFront's allowed set.
pub fn check_path_pattern(pat: &str) -> Result<(), String> {
    if pat.is_empty() {
        return Err("PathPattern must not be empty".into());
    }
    if pat.len() > 255 {
        return Err(format!(
            "PathPattern is {} characters; the limit is 255",
            pat.len()
        ));
    }
    if let Some(bad) = pat.chars().find(|c| {
        !(c.is_ascii_alphanumeric() || (c.is_ascii() && PATH_PATTERN_EXTRA.contains(&(*c as u8))))
    }) {
        return Err(format!(
            "PathPattern {pat:?} contains {bad:?}; allowed are A-Z a-z 0-9 _ - . * ? $ / ~ \" ' @ : + &"
        ));
    }
    Ok(())
}

/// Checks what only shows across distributions: the same alias on two distributions.
pub fn across_distributions(ds: &[Distribution], problems: &mut Vec<Problem>) {
    let mut owners: HashMap<String, (&str, usize)> = HashMap::new();
    for d in ds {
        for (i, alias) in d.config.aliases.items.iter().enumerate() {
            let key = alias.to_ascii_lowercase();
            if let Some((other, _)) = owners.get(&key) {
                problems.push(Problem {
                    file: d.file.clone(),
                    path: format!("{}.Aliases.Items[{i}]", d.json_root),
                    reason: format!(
                        "alias {alias:?} is already an alias of distribution {other}; an alternate domain name can belong to one distribution only"
                    ),
                });
            } else {
                owners.insert(key, (&d.id, i));
            }
        }
    }
    let mut domains: HashMap<&str, &str> = HashMap::new();
    for d in ds {
        if let Some(other) = domains.insert(&d.domain_name, &d.id) {
            problems.push(Problem {
                file: d.file.clone(),
                path: "$".into(),
                reason: format!(
                    "default domain {} is also the domain of distribution {other}",
                    d.domain_name
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert!(check_alias("www.example.com").is_ok());
        assert!(check_alias("*.example.com").is_ok());
        assert!(check_alias("*example.com").is_err());
        assert!(check_alias("a.*.example.com").is_err());
        assert!(check_alias("WWW.example.com").is_err());
        assert!(check_alias("*.com").is_err());
        assert!(check_alias("bad_label.example.com").is_err());
    }

    #[test]
    fn path_patterns() {
        assert!(check_path_pattern("/images/*.jpg").is_ok());
        assert!(check_path_pattern("api/v?/*").is_ok());
        assert!(check_path_pattern("/a b").is_err());
        assert!(check_path_pattern("/a%20b").is_err());
        assert!(check_path_pattern(&"a".repeat(256)).is_err());
    }
}
