//! Viewer TLS: certificates from `[[tls.certificates]]`, chosen by SNI from their SANs.
//!
//! A connection without SNI, or with a name no certificate covers, is refused at the handshake
//! (CloudFront's `sni-only` behaviour). Which certificate a connection got decides which
//! distributions it may reach: a Host whose distribution the certificate does not cover is
//! answered 421 (domain fronting, `cloudfront.md` §6).

use gatehouse_model::Config;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::fmt;
use std::sync::Arc;

/// Errors loading certificates.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// File unreadable or not PEM.
    #[error("{path}: {detail}")]
    File {
        /// The file.
        path: String,
        /// What failed.
        detail: String,
    },
}

struct Entry {
    key: Arc<CertifiedKey>,
    leaf: CertificateDer<'static>,
}

/// The viewer certificates of one configuration.
#[derive(Default)]
pub struct CertStore {
    entries: Vec<Entry>,
}

impl fmt::Debug for CertStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertStore({} certificates)", self.entries.len())
    }
}

impl CertStore {
    /// Loads every `[[tls.certificates]]` entry of `config`.
    pub fn load(config: &Config) -> Result<Self, TlsError> {
        let provider = rustls::crypto::ring::default_provider();
        let mut entries = Vec::new();
        for c in &config.settings.tls.certificates {
            let cert_path = config.resolve_path(&c.cert);
            let key_path = config.resolve_path(&c.key);
            let err = |p: &std::path::Path, detail: String| TlsError::File {
                path: p.display().to_string(),
                detail,
            };
            let pem = std::fs::read(&cert_path).map_err(|e| err(&cert_path, e.to_string()))?;
            let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut pem.as_slice())
                .collect::<Result<_, _>>()
                .map_err(|e| err(&cert_path, e.to_string()))?;
            if chain.is_empty() {
                return Err(err(&cert_path, "no certificate in the file".into()));
            }
            let kpem = std::fs::read(&key_path).map_err(|e| err(&key_path, e.to_string()))?;
            let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut kpem.as_slice())
                .map_err(|e| err(&key_path, e.to_string()))?
                .ok_or_else(|| err(&key_path, "no private key in the file".into()))?;
            let signing = provider
                .key_provider
                .load_private_key(key)
                .map_err(|e| err(&key_path, e.to_string()))?;
            let leaf = chain[0].clone();
            entries.push(Entry {
                key: Arc::new(CertifiedKey::new(chain, signing)),
                leaf,
            });
        }
        Ok(CertStore { entries })
    }

    /// Whether certificate `i` is valid for `name`.
    fn covers(&self, i: usize, name: &str) -> bool {
        let Ok(sn) = ServerName::try_from(name) else {
            return false;
        };
        let Ok(ee) = webpki::EndEntityCert::try_from(&self.entries[i].leaf) else {
            return false;
        };
        ee.verify_is_valid_for_subject_name(&sn).is_ok()
    }

    /// The first certificate valid for `sni`.
    pub fn select(&self, sni: &str) -> Option<usize> {
        (0..self.entries.len()).find(|&i| self.covers(i, sni))
    }

    /// For each certificate, whether it covers at least one of `names` (a wildcard alias
    /// `*.example.com` is probed with a name inside it).
    pub fn coverage(&self, names: &[String]) -> Vec<bool> {
        (0..self.entries.len())
            .map(|i| {
                names.iter().any(|n| match n.strip_prefix("*.") {
                    Some(rest) => self.covers(i, &format!("gatehouse-probe.{rest}")),
                    None => self.covers(i, n),
                })
            })
            .collect()
    }

    /// Whether there are no certificates.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The rustls resolver: reads the current store on every handshake, so a reload takes effect
/// for new connections.
pub struct SniResolver {
    /// Where the current state lives.
    pub edge: Arc<crate::Edge>,
}

impl fmt::Debug for SniResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SniResolver")
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let sni = hello.server_name()?;
        let state = self.edge.state();
        let i = state.certs.select(sni)?;
        Some(state.certs.entries[i].key.clone())
    }
}

/// The server config for HTTPS listeners (ALPN h2 and http/1.1).
pub fn server_config(edge: Arc<crate::Edge>) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SniResolver { edge }));
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(cfg)
}
