//! Fixes written against the user's own configuration: which distribution, which behaviour,
//! which JSON path, what to change.

use gatehouse_model::aws::distribution::{CacheBehavior, GeoRestrictionType, ViewerProtocolPolicy};
use gatehouse_model::{Cause, Config, Distribution};

/// What is known about the refused request.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    /// Host (without port).
    pub host: Option<String>,
    /// Path.
    pub path: Option<String>,
    /// Method.
    pub method: Option<String>,
}

fn host_matches(d: &Distribution, host: &str) -> bool {
    d.domain_name == host
        || d.config.aliases.items.iter().any(|a| {
            a == host
                || a.strip_prefix("*.")
                    .is_some_and(|s| host.ends_with(&format!(".{s}")))
        })
}

/// The distribution serving `host`, if any.
pub fn distribution_for<'a>(cfg: &'a Config, host: &str) -> Option<&'a Distribution> {
    cfg.distributions.iter().find(|d| host_matches(d, host))
}

/// The behaviour for `path` and its JSON path.
pub fn behavior_for<'a>(d: &'a Distribution, path: &str) -> (&'a CacheBehavior, String) {
    for (i, b) in d.config.cache_behaviors.items.iter().enumerate() {
        if let Some(p) = &b.path_pattern {
            let pat = if p.starts_with('/') || p.starts_with('*') {
                p.clone()
            } else {
                format!("/{p}")
            };
            if gatehouse_model::glob::matches(pat.as_bytes(), path.as_bytes()) {
                return (b, format!("{}.CacheBehaviors.Items[{i}]", d.json_root));
            }
        }
    }
    (
        &d.config.default_cache_behavior,
        format!("{}.DefaultCacheBehavior", d.json_root),
    )
}

/// A fix for `cause`, as specific as the config and the request allow.
pub fn fix(cause: Cause, cfg: Option<&Config>, req: &RequestFacts) -> String {
    let generic = cause.fix().to_string();
    let Some(cfg) = cfg else { return generic };
    let host = req.host.as_deref().unwrap_or("");
    if cause == Cause::AliasNotConfigured {
        if host.is_empty() {
            return generic;
        }
        if let Some(d) = distribution_for(cfg, host) {
            return format!(
                "`{host}` is already an alias of {} ({}: {}.Aliases) in this config: if this config is the one deployed, the refusal is not a missing alias; check that DNS for `{host}` points at this distribution{}",
                d.id,
                d.file.display(),
                d.json_root,
                if d.config.enabled { "" } else { ", and note that the distribution is disabled (Enabled: false)" }
            );
        }
        // Suggest the distribution whose aliases share the longest suffix with the host.
        let best = cfg.distributions.iter().max_by_key(|d| {
            d.config
                .aliases
                .items
                .iter()
                .map(|a| common_suffix_labels(a.trim_start_matches("*."), host))
                .max()
                .unwrap_or(0)
        });
        return match best {
            Some(d) => format!(
                "add `{host}` to Aliases of {} ({}: {}.Aliases) and cover it with the distribution's certificate; its aliases today: [{}]",
                d.id,
                d.file.display(),
                d.json_root,
                d.config.aliases.items.join(", ")
            ),
            None => generic,
        };
    }
    let Some(d) = distribution_for(cfg, host) else {
        return generic;
    };
    let path = req.path.as_deref().unwrap_or("/");
    let (b, bpath) = behavior_for(d, path);
    let where_ = format!("{} ({}: {bpath})", d.id, d.file.display());
    let pattern = b.path_pattern.as_deref().unwrap_or("* (default)");
    match cause {
        Cause::DistributionDisabled => format!(
            "set Enabled to true in {} ({}: {}.Enabled), then deploy it",
            d.id,
            d.file.display(),
            d.json_root
        ),
        Cause::HttpsOnly if b.viewer_protocol_policy == ViewerProtocolPolicy::HttpsOnly => format!(
            "behavior `{pattern}` of {where_} has ViewerProtocolPolicy https-only: request https://{host}{path}, or set it to redirect-to-https"
        ),
        Cause::MethodNotAllowed => {
            let allowed: Vec<&str> = b
                .allowed_methods
                .as_ref()
                .map(|a| a.items.iter().map(|m| m.as_str()).collect())
                .unwrap_or_else(|| vec!["GET", "HEAD"]);
            format!(
                "behavior `{pattern}` of {where_} allows only [{}]{}: set its AllowedMethods to all seven methods",
                allowed.join(", "),
                req.method.as_deref().map(|m| format!(", not {m}")).unwrap_or_default()
            )
        }
        Cause::GeoBlocked => match d.config.restrictions.as_ref().map(|r| &r.geo_restriction) {
            Some(g) if g.restriction_type != GeoRestrictionType::None => format!(
                "{} ({}: {}.Restrictions.GeoRestriction) has a {} of [{}]: {} the viewer's country",
                d.id,
                d.file.display(),
                d.json_root,
                if g.restriction_type == GeoRestrictionType::Whitelist { "whitelist" } else { "blacklist" },
                g.items.join(", "),
                if g.restriction_type == GeoRestrictionType::Whitelist { "add" } else { "remove" }
            ),
            _ => generic,
        },
        Cause::SignedMissingKey
        | Cause::SignedUnknownKey
        | Cause::SignedBadSignature
        | Cause::SignedExpired
        | Cause::SignedNotYetValid
        | Cause::SignedIpMismatch
        | Cause::SignedResourceMismatch
        | Cause::SignedMalformedPolicy
        | Cause::SignedMalformedSignature => {
            let groups = b
                .trusted_key_groups
                .as_ref()
                .filter(|t| t.enabled)
                .map(|t| t.items.clone())
                .unwrap_or_default();
            if groups.is_empty() {
                return format!("behavior `{pattern}` of {where_} does not restrict viewer access in this config; the refusal came from another behavior or config");
            }
            let keys: Vec<String> = cfg
                .key_groups
                .iter()
                .filter(|g| groups.contains(&g.id))
                .flat_map(|g| g.items.clone())
                .collect();
            format!(
                "behavior `{pattern}` of {where_} trusts key groups [{}] (keys [{}]). {}",
                groups.join(", "),
                keys.join(", "),
                generic
            )
        }
        Cause::OriginDenied | Cause::OriginErrorStatus | Cause::OriginConnectError | Cause::OriginDnsError | Cause::OriginTimeout | Cause::OriginClosed => {
            let origin = d.config.origins.items.iter().find(|o| o.id == b.target_origin_id);
            match origin {
                Some(o) => format!(
                    "behavior `{pattern}` of {where_} sends to origin `{}` ({}). {}",
                    o.id, o.domain_name, generic
                ),
                None => generic,
            }
        }
        _ => format!("{generic} (distribution {where_})"),
    }
}

/// Narrows the `Bad request.` family (missing alias, disabled distribution, https-only) with
/// the config: whether the Host is an alias, its distribution enabled, the behaviour for the
/// path https-only while the request was http.
pub fn refine(d: &mut crate::Diagnosis, cfg: &Config, req: &RequestFacts, https: Option<bool>) {
    use crate::Confidence;
    let family = [
        Cause::AliasNotConfigured,
        Cause::DistributionDisabled,
        Cause::HttpsOnly,
    ];
    let undecided = d.top().is_some_and(|t| t.confidence != Confidence::Certain)
        && d.candidates.iter().any(|c| family.contains(&c.cause));
    let Some(host) = req.host.as_deref().filter(|_| undecided) else {
        return;
    };
    let Some(dist) = distribution_for(cfg, host) else {
        d.promote(
            Cause::AliasNotConfigured,
            Confidence::Likely,
            format!("config: no distribution has `{host}` as an alias or default domain"),
        );
        return;
    };
    if !dist.config.enabled {
        d.promote(
            Cause::DistributionDisabled,
            Confidence::Likely,
            format!(
                "config: `{host}` is an alias of {}, which is disabled",
                dist.id
            ),
        );
        return;
    }
    let (b, json) = behavior_for(dist, req.path.as_deref().unwrap_or("/"));
    if b.viewer_protocol_policy == ViewerProtocolPolicy::HttpsOnly && https == Some(false) {
        d.promote(
            Cause::HttpsOnly,
            Confidence::Likely,
            format!(
                "config: the request was http and the behavior `{}` of {} ({json}) is https-only",
                b.path_pattern.as_deref().unwrap_or("* (default)"),
                dist.id
            ),
        );
        return;
    }
    d.evidence.push(format!(
        "config: `{host}` is an alias of {}, enabled, and its behavior for this path accepts this protocol",
        dist.id
    ));
    d.candidates.retain(|c| !family.contains(&c.cause));
}

/// The public keys the behaviour serving `host` + `path` trusts (its key groups' keys), for
/// checking a signed URL again; `None` when the behaviour does not restrict viewer access or
/// the host is no alias.
pub fn trusted_keys(
    cfg: &Config,
    host: &str,
    path: &str,
) -> Option<gatehouse_signed::verify::TrustedKeys> {
    let d = distribution_for(cfg, host)?;
    let (b, _) = behavior_for(d, path);
    let groups = b.trusted_key_groups.as_ref().filter(|t| t.enabled)?;
    let mut keys = std::collections::HashMap::new();
    for g in cfg
        .key_groups
        .iter()
        .filter(|g| groups.items.contains(&g.id))
    {
        for id in &g.items {
            if let Some(k) = cfg.public_keys.iter().find(|k| &k.id == id) {
                if let Ok(pk) = gatehouse_signed::PublicKey::from_pem(&k.encoded_key) {
                    keys.insert(id.clone(), std::sync::Arc::new(pk));
                }
            }
        }
    }
    Some(gatehouse_signed::verify::TrustedKeys::new(
        keys,
        groups.items.clone(),
    ))
}

fn common_suffix_labels(a: &str, b: &str) -> usize {
    a.rsplit('.')
        .zip(b.rsplit('.'))
        .take_while(|(x, y)| x == y)
        .count()
}
