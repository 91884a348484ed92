//! Public keys and key groups, as `aws cloudfront get-public-key(-config)` and
//! `get-key-group(-config)` print them.

use serde::Deserialize;

/// A `public-keys/<Id>.json` file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKeyDocument {
    /// `ETag` wrapper.
    #[serde(default, rename = "ETag")]
    pub etag: Option<String>,
    /// `get-public-key-config` shape.
    #[serde(default)]
    pub public_key_config: Option<PublicKeyConfig>,
    /// `get-public-key` shape.
    #[serde(default)]
    pub public_key: Option<PublicKeyEnvelope>,
}

/// The `PublicKey` object of `get-public-key`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKeyEnvelope {
    /// Key id (`K2JCJMDEHXQW5F`).
    #[serde(default)]
    pub id: Option<String>,
    /// The configuration.
    pub public_key_config: PublicKeyConfig,
}

/// `PublicKeyConfig`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKeyConfig {
    /// Idempotency token.
    #[serde(default)]
    pub caller_reference: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// The PEM public key (SubjectPublicKeyInfo).
    pub encoded_key: String,
    /// Free text.
    #[serde(default)]
    pub comment: String,
}

/// A `key-groups/<Id>.json` file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyGroupDocument {
    /// `ETag` wrapper.
    #[serde(default, rename = "ETag")]
    pub etag: Option<String>,
    /// `get-key-group-config` shape.
    #[serde(default)]
    pub key_group_config: Option<KeyGroupConfig>,
    /// `get-key-group` shape.
    #[serde(default)]
    pub key_group: Option<KeyGroupEnvelope>,
}

/// The `KeyGroup` object of `get-key-group`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyGroupEnvelope {
    /// Key group id.
    #[serde(default)]
    pub id: Option<String>,
    /// The configuration.
    pub key_group_config: KeyGroupConfig,
}

/// `KeyGroupConfig` (its `Items` is a plain list of public key ids).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyGroupConfig {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Public key ids.
    pub items: Vec<String>,
    /// Free text.
    #[serde(default)]
    pub comment: String,
}
