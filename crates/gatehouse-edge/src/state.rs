//! The compiled configuration the request path reads: routing tables, behaviours with compiled
//! patterns, origin clients and precomputed header values.
//!
//! An [`EdgeState`] is immutable; a reload builds a new one and swaps it in atomically
//! (`crate::Edge`), so a request sees either the old or the new config, never a mix.

use crate::routing::behavior::PathPattern;
use crate::routing::host::HostRouter;
use crate::viewer::tls::CertStore;
use gatehouse_geo::{CountryCode, GeoDb, Schema};
use gatehouse_model::aws::distribution::{CacheBehavior, Method as CfMethod, ViewerProtocolPolicy};
use gatehouse_model::settings::{Cidr, GeoipSchema};
use gatehouse_model::Config;
use gatehouse_origin::forward::Forwarding;
use gatehouse_origin::{OriginClient, OriginEnv};
use gatehouse_signed::{PublicKey, TrustedKeys, VerifyCache};
use http::HeaderValue;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// A set of HTTP methods as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodSet(u8);

const ALL_METHODS: [CfMethod; 7] = [
    CfMethod::Get,
    CfMethod::Head,
    CfMethod::Options,
    CfMethod::Put,
    CfMethod::Post,
    CfMethod::Patch,
    CfMethod::Delete,
];

impl MethodSet {
    /// Builds the set from CloudFront's method list.
    pub fn from_methods(methods: &[CfMethod]) -> Self {
        MethodSet(methods.iter().fold(0, |acc, m| acc | bit(*m)))
    }

    /// Whether `m` is in the set (methods outside CloudFront's seven never are).
    pub fn contains(&self, m: &http::Method) -> bool {
        let b = match *m {
            http::Method::GET => bit(CfMethod::Get),
            http::Method::HEAD => bit(CfMethod::Head),
            http::Method::OPTIONS => bit(CfMethod::Options),
            http::Method::PUT => bit(CfMethod::Put),
            http::Method::POST => bit(CfMethod::Post),
            http::Method::PATCH => bit(CfMethod::Patch),
            http::Method::DELETE => bit(CfMethod::Delete),
            _ => return false,
        };
        self.0 & b != 0
    }
}

fn bit(m: CfMethod) -> u8 {
    1 << ALL_METHODS.iter().position(|x| *x == m).unwrap_or(0)
}

impl fmt::Display for MethodSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = ALL_METHODS
            .iter()
            .filter(|m| self.0 & bit(**m) != 0)
            .map(|m| m.as_str())
            .collect();
        f.write_str(&names.join(", "))
    }
}

/// A compiled cache behaviour.
#[derive(Debug)]
pub struct Behavior {
    /// The pattern; `None` for the default behaviour.
    pub pattern: Option<PathPattern>,
    /// Viewer protocol policy.
    pub viewer_protocol_policy: ViewerProtocolPolicy,
    /// Allowed methods.
    pub allowed_methods: MethodSet,
    /// Index of the target origin in [`Distribution::origins`].
    pub origin: usize,
    /// What reaches the origin.
    pub forwarding: Forwarding,
    /// Keys trusted for signed URLs / cookies, when the behaviour restricts viewer access.
    pub trusted: Option<Arc<TrustedKeys>>,
    /// The pattern as logged (`cache-behavior-path-pattern`; `*` for the default).
    pub log_pattern: Arc<str>,
}

impl Behavior {
    fn compile(b: &CacheBehavior, origin_index: &HashMap<&str, usize>, keys: &KeyIndex) -> Self {
        let allowed = b
            .allowed_methods
            .as_ref()
            .map(|a| MethodSet::from_methods(&a.items))
            .unwrap_or(MethodSet::from_methods(&[CfMethod::Get, CfMethod::Head]));
        let forwarding = Forwarding::for_behavior(b);
        Behavior {
            pattern: b.path_pattern.as_deref().map(PathPattern::new),
            viewer_protocol_policy: b.viewer_protocol_policy,
            allowed_methods: allowed,
            origin: origin_index
                .get(b.target_origin_id.as_str())
                .copied()
                .unwrap_or(0),
            forwarding,
            trusted: keys.trusted_for(b),
            log_pattern: Arc::from(b.path_pattern.as_deref().unwrap_or("*")),
        }
    }

    /// The pattern, or `*` for the default behaviour (for messages and logs).
    pub fn name(&self) -> &str {
        self.pattern
            .as_ref()
            .map_or("* (default)", |p| p.source.as_str())
    }
}

/// A custom error response, compiled.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    /// Page path fetched from the origin.
    pub path: String,
    /// Status sent instead (None = keep).
    pub status: Option<http::StatusCode>,
}

/// A compiled distribution.
pub struct Distribution {
    /// Id.
    pub id: String,
    /// Default domain.
    pub domain_name: String,
    /// Whether it serves.
    pub enabled: bool,
    /// Cache behaviours in order.
    pub behaviors: Vec<Behavior>,
    /// Their patterns, in the same order (for [`crate::routing::behavior::select`]).
    pub patterns: Vec<PathPattern>,
    /// The default behaviour.
    pub default_behavior: Behavior,
    /// Origin clients, by origin index.
    pub origins: Vec<OriginClient>,
    /// Custom error responses by status.
    pub error_pages: HashMap<u16, ErrorPage>,
    /// Port appended to redirect `Location`s (`edge.redirect_https_port`).
    pub redirect_https_port: Option<u16>,
    /// For each viewer certificate (by index), whether it covers this distribution.
    pub covered_by_cert: Vec<bool>,
    /// `DefaultRootObject` as `/index.html`, if set.
    pub default_root_object: Option<String>,
    /// `Restrictions.GeoRestriction`.
    pub geo: GeoRule,
    /// `Logging` settings for access logs.
    pub log: Arc<gatehouse_logs::DistLog>,
    /// Request and origin-latency counters (kept across reloads).
    pub metrics: Arc<crate::metrics::DistMetrics>,
}

/// A distribution's geo restriction, compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeoRule {
    /// No restriction.
    None,
    /// Only these countries are served.
    Allow(Vec<CountryCode>),
    /// These countries are refused.
    Deny(Vec<CountryCode>),
}

impl GeoRule {
    fn compile(r: Option<&gatehouse_model::aws::distribution::Restrictions>) -> Self {
        use gatehouse_model::aws::distribution::GeoRestrictionType as T;
        let Some(g) = r.map(|r| &r.geo_restriction) else {
            return GeoRule::None;
        };
        let codes = || g.items.iter().filter_map(|c| CountryCode::new(c)).collect();
        match g.restriction_type {
            T::None => GeoRule::None,
            T::Whitelist => GeoRule::Allow(codes()),
            T::Blacklist => GeoRule::Deny(codes()),
        }
    }
}

impl Distribution {
    /// The behaviour for `path`.
    pub fn behavior_for(&self, path: &str) -> &Behavior {
        match crate::routing::behavior::select(&self.patterns, path) {
            Some(i) => &self.behaviors[i],
            None => &self.default_behavior,
        }
    }
}

/// Everything the request path needs, compiled from one [`Config`].
pub struct EdgeState {
    /// Host routing.
    pub router: HostRouter,
    /// Distributions by index.
    pub distributions: Vec<Distribution>,
    /// Viewer certificates.
    pub certs: Arc<CertStore>,
    /// `Via` to viewers: `1.1 <hex>.<suffix> (CloudFront)`.
    pub via_viewer: HeaderValue,
    /// `Via` to origins for HTTP/1.x viewers.
    pub via_origin_h1: HeaderValue,
    /// `Via` to origins for HTTP/2 viewers.
    pub via_origin_h2: HeaderValue,
    /// `X-Amz-Cf-Pop`.
    pub pop: HeaderValue,
    /// The same, for log records.
    pub log_location: Arc<str>,
    /// Send `X-Gatehouse-Cause`.
    pub cause_header: bool,
    /// Trusted proxies.
    pub trusted_proxies: Vec<Cidr>,
    /// Whether PROXY protocol headers are read from trusted peers.
    pub proxy_protocol: bool,
    /// The GeoIP country database.
    pub geo: Arc<GeoDb>,
    /// Successful signed-URL checks, so repeated URLs skip the signature work.
    pub signed_cache: VerifyCache,
    /// Debug builds only: a path whose request panics on purpose (from the environment
    /// variable `GATEHOUSE_DEBUG_PANIC_PATH`), so tests can prove a panic stays contained.
    #[cfg(debug_assertions)]
    pub debug_panic_path: Option<String>,
}

/// Why a config could not be compiled (files the validation could not see into).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A certificate could not be loaded.
    #[error(transparent)]
    Tls(#[from] crate::viewer::tls::TlsError),
    /// The origin environment could not be built.
    #[error(transparent)]
    Origin(#[from] gatehouse_origin::client::EnvError),
    /// A header value is not valid.
    #[error("{0} is not a valid header value")]
    Header(String),
    /// The GeoIP database could not be opened.
    #[error(transparent)]
    Geo(#[from] gatehouse_geo::GeoError),
    /// The log directory could not be created.
    #[error("access log directory {0}: {1}")]
    Logs(String, std::io::Error),
    /// A public key could not be used.
    #[error("{file}: $.PublicKeyConfig.EncodedKey: {source}")]
    Key {
        /// The key file.
        file: String,
        /// Why.
        source: gatehouse_signed::keys::KeyError,
    },
}

/// Public keys by id and key groups by id, for compiling behaviours.
struct KeyIndex {
    keys: HashMap<String, Arc<PublicKey>>,
    groups: HashMap<String, (String, Vec<String>)>,
}

impl KeyIndex {
    fn build(config: &Config) -> Result<Self, StateError> {
        let mut keys = HashMap::new();
        for k in &config.public_keys {
            let key = PublicKey::from_pem(&k.encoded_key).map_err(|source| StateError::Key {
                file: k.file.display().to_string(),
                source,
            })?;
            keys.insert(k.id.clone(), Arc::new(key));
        }
        let groups = config
            .key_groups
            .iter()
            .map(|g| (g.id.clone(), (g.name.clone(), g.items.clone())))
            .collect();
        Ok(KeyIndex { keys, groups })
    }

    /// The keys a behaviour trusts: its key groups' keys, or with legacy `TrustedSigners`
    /// every public key of the config (docs/compatibility.md).
    fn trusted_for(&self, b: &CacheBehavior) -> Option<Arc<TrustedKeys>> {
        if let Some(tkg) = b.trusted_key_groups.as_ref().filter(|t| t.enabled) {
            let mut keys = HashMap::new();
            let mut names = Vec::new();
            for gid in &tkg.items {
                if let Some((name, items)) = self.groups.get(gid) {
                    names.push(if name.is_empty() {
                        gid.clone()
                    } else {
                        format!("{gid} ({name})")
                    });
                    for kid in items {
                        if let Some(k) = self.keys.get(kid) {
                            keys.insert(kid.clone(), k.clone());
                        }
                    }
                }
            }
            return Some(Arc::new(TrustedKeys::new(keys, names)));
        }
        if b.trusted_signers.as_ref().is_some_and(|t| t.enabled) {
            return Some(Arc::new(TrustedKeys::new(
                self.keys.clone(),
                vec!["TrustedSigners (all public keys)".into()],
            )));
        }
        None
    }
}

/// Opens the configured GeoIP database, or the default one, or none (with a warning).
fn open_geo(config: &Config) -> Result<Arc<GeoDb>, StateError> {
    let g = &config.settings.geoip;
    let schema = match g.schema {
        GeoipSchema::Auto => Schema::Auto,
        GeoipSchema::Geoip2 => Schema::Geoip2,
        GeoipSchema::IpLocationDb => Schema::IpLocationDb,
    };
    let path = match &g.database {
        Some(p) if p.as_os_str().is_empty() => None,
        Some(p) => Some(config.resolve_path(p)),
        None => gatehouse_geo::default_database(),
    };
    let restricted = config.distributions.iter().any(|d| {
        d.config.restrictions.as_ref().is_some_and(|r| {
            r.geo_restriction.restriction_type
                != gatehouse_model::aws::distribution::GeoRestrictionType::None
        })
    });
    let Some(path) = path else {
        if g.database.is_none() {
            tracing::warn!(
                restricted,
                "no GeoIP database configured or installed (see docs/geo.md): viewer countries are unknown and geo restrictions serve everyone"
            );
        }
        return Ok(Arc::new(GeoDb::none()));
    };
    let db = Arc::new(GeoDb::open(&path, schema)?);
    tracing::info!(path = %path.display(), kind = ?db.database_type(), "GeoIP database loaded");
    if g.watch_secs > 0 {
        db.watch(std::time::Duration::from_secs(g.watch_secs));
    }
    Ok(db)
}

impl EdgeState {
    /// Compiles `config`. `host_id` is the 32-hex edge id used in `Via`.
    pub fn build(
        config: &Config,
        host_id: &str,
        metrics: &crate::metrics::Metrics,
    ) -> Result<Self, StateError> {
        let s = &config.settings;
        let certs = Arc::new(CertStore::load(config)?);
        let env = OriginEnv::new(
            &s.origins.resolve,
            &s.origins.endpoints,
            s.origins
                .ca_file
                .as_deref()
                .map(|p| config.resolve_path(p))
                .as_deref(),
        )?;
        let keys = KeyIndex::build(config)?;
        let mut distributions = Vec::with_capacity(config.distributions.len());
        for d in &config.distributions {
            let c = &d.config;
            let origin_index: HashMap<&str, usize> = c
                .origins
                .items
                .iter()
                .enumerate()
                .map(|(i, o)| (o.id.as_str(), i))
                .collect();
            let behaviors: Vec<Behavior> = c
                .cache_behaviors
                .items
                .iter()
                .map(|b| Behavior::compile(b, &origin_index, &keys))
                .collect();
            let patterns = behaviors.iter().filter_map(|b| b.pattern.clone()).collect();
            let mut names: Vec<String> = vec![d.domain_name.clone()];
            names.extend(c.aliases.items.iter().cloned());
            distributions.push(Distribution {
                id: d.id.clone(),
                domain_name: d.domain_name.clone(),
                enabled: c.enabled,
                patterns,
                behaviors,
                default_behavior: Behavior::compile(
                    &c.default_cache_behavior,
                    &origin_index,
                    &keys,
                ),
                origins: c
                    .origins
                    .items
                    .iter()
                    .map(|o| OriginClient::new(o, &env))
                    .collect(),
                error_pages: c
                    .custom_error_responses
                    .items
                    .iter()
                    .filter(|e| !e.response_page_path.is_empty())
                    .map(|e| {
                        (
                            e.error_code,
                            ErrorPage {
                                path: e.response_page_path.clone(),
                                status: e
                                    .response_code
                                    .parse::<u16>()
                                    .ok()
                                    .and_then(|c| http::StatusCode::from_u16(c).ok()),
                            },
                        )
                    })
                    .collect(),
                redirect_https_port: s.edge.redirect_https_port,
                covered_by_cert: certs.coverage(&names),
                default_root_object: (!c.default_root_object.is_empty())
                    .then(|| format!("/{}", c.default_root_object)),
                geo: GeoRule::compile(c.restrictions.as_ref()),
                metrics: metrics.distribution(&d.id),
                log: Arc::new(gatehouse_logs::DistLog {
                    id: Arc::from(d.id.as_str()),
                    domain: Arc::from(d.domain_name.as_str()),
                    enabled: c.logging.as_ref().is_some_and(|l| l.enabled),
                    prefix: Arc::from(c.logging.as_ref().map_or("", |l| l.prefix.as_str())),
                    include_cookies: c.logging.as_ref().is_some_and(|l| l.include_cookies),
                }),
            });
        }
        let router = HostRouter::new(
            config
                .distributions
                .iter()
                .enumerate()
                .map(|(i, d)| (i, d.domain_name.as_str(), d.config.aliases.items.as_slice())),
        );
        let suffix = &s.edge.default_domain_suffix;
        let hv = |v: String| HeaderValue::from_str(&v).map_err(|_| StateError::Header(v));
        Ok(EdgeState {
            router,
            distributions,
            certs,
            via_viewer: hv(format!("1.1 {host_id}.{suffix} (CloudFront)"))?,
            via_origin_h1: hv(format!("1.1 {host_id}.{suffix} (CloudFront)"))?,
            via_origin_h2: hv(format!("2.0 {host_id}.{suffix} (CloudFront)"))?,
            pop: hv(s.edge.location.clone())?,
            log_location: Arc::from(s.edge.location.as_str()),
            cause_header: s.edge.cause_header,
            trusted_proxies: s.clients.trusted_proxies.clone(),
            proxy_protocol: s.listen.proxy_protocol,
            geo: open_geo(config)?,
            signed_cache: VerifyCache::default(),
            #[cfg(debug_assertions)]
            debug_panic_path: std::env::var("GATEHOUSE_DEBUG_PANIC_PATH").ok(),
        })
    }

    /// Whether `ip` is a trusted proxy.
    pub fn is_trusted(&self, ip: std::net::IpAddr) -> bool {
        self.trusted_proxies.iter().any(|c| c.contains(ip))
    }
}
