//! `DistributionConfig` and the documents that carry it.
//!
//! A distribution file is the output of `aws cloudfront get-distribution-config`
//! (`{"ETag", "DistributionConfig"}`) or `aws cloudfront get-distribution`
//! (`{"ETag", "Distribution": {"Id", "DomainName", "DistributionConfig", …}}`); a bare
//! `DistributionConfig` object is accepted too.

use super::{EnabledList, List};
use serde::{Deserialize, Serialize};

/// A distribution file as the AWS CLI prints it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionDocument {
    /// The `ETag` wrapper value, if present.
    #[serde(default, rename = "ETag")]
    pub etag: Option<String>,
    /// `get-distribution-config` shape.
    #[serde(default)]
    pub distribution_config: Option<DistributionConfig>,
    /// `get-distribution` shape.
    #[serde(default)]
    pub distribution: Option<DistributionEnvelope>,
}

/// The `Distribution` object of `get-distribution` (only the members Gatehouse uses).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionEnvelope {
    /// Distribution id (`E2QWRUHEXAMPLE`).
    #[serde(default)]
    pub id: Option<String>,
    /// ARN of the distribution.
    #[serde(default, rename = "ARN")]
    pub arn: Option<String>,
    /// The default domain (`d111111abcdef8.cloudfront.net`).
    #[serde(default)]
    pub domain_name: Option<String>,
    /// The configuration.
    pub distribution_config: DistributionConfig,
}

/// `DistributionConfig` (CloudFront API 2020-05-31).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionConfig {
    /// Idempotency token (required by AWS, unused by the edge).
    #[serde(default)]
    pub caller_reference: String,
    /// Alternate domain names.
    #[serde(default)]
    pub aliases: List<String>,
    /// Object served for `/` (no leading slash).
    #[serde(default)]
    pub default_root_object: String,
    /// Origins.
    pub origins: List<Origin>,
    /// Failover groups (parsed, not yet used for routing).
    #[serde(default)]
    pub origin_groups: List<serde_json::Value>,
    /// The behaviour for paths no other behaviour matches.
    pub default_cache_behavior: CacheBehavior,
    /// Ordered cache behaviours; first match wins.
    #[serde(default)]
    pub cache_behaviors: List<CacheBehavior>,
    /// Custom error responses.
    #[serde(default)]
    pub custom_error_responses: List<CustomErrorResponse>,
    /// Free text.
    #[serde(default)]
    pub comment: String,
    /// Legacy standard logging.
    #[serde(default)]
    pub logging: Option<LoggingConfig>,
    /// Price class (informational).
    #[serde(default)]
    pub price_class: Option<PriceClass>,
    /// Whether the distribution serves traffic.
    pub enabled: bool,
    /// Viewer certificate settings.
    #[serde(default)]
    pub viewer_certificate: Option<ViewerCertificate>,
    /// Geo restriction.
    #[serde(default)]
    pub restrictions: Option<Restrictions>,
    /// WAF web ACL ARN (or classic id).
    #[serde(default, rename = "WebACLId")]
    pub web_acl_id: String,
    /// Viewer HTTP versions.
    #[serde(default)]
    pub http_version: Option<HttpVersion>,
    /// Whether IPv6 is enabled.
    #[serde(default, rename = "IsIPV6Enabled")]
    pub is_ipv6_enabled: Option<bool>,
}

/// Price class enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum PriceClass {
    /// Cheapest locations.
    #[serde(rename = "PriceClass_100")]
    PriceClass100,
    /// Most locations.
    #[serde(rename = "PriceClass_200")]
    PriceClass200,
    /// All locations.
    #[serde(rename = "PriceClass_All")]
    PriceClassAll,
    /// None (multi-tenant).
    None,
}

/// `HttpVersion` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum HttpVersion {
    /// HTTP/1.1 only.
    #[serde(rename = "http1.1")]
    Http11,
    /// HTTP/2 (default).
    #[serde(rename = "http2")]
    Http2,
    /// HTTP/3.
    #[serde(rename = "http3")]
    Http3,
    /// HTTP/2 and HTTP/3.
    #[serde(rename = "http2and3")]
    Http2And3,
}

/// An origin.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Origin {
    /// Unique id referenced by `TargetOriginId`.
    pub id: String,
    /// The origin's domain name, as AWS has it.
    pub domain_name: String,
    /// Prefix added to every origin request path (`/production`).
    #[serde(default)]
    pub origin_path: String,
    /// Headers added to every origin request.
    #[serde(default)]
    pub custom_headers: List<OriginCustomHeader>,
    /// S3 REST-endpoint origin settings.
    #[serde(default)]
    pub s3_origin_config: Option<S3OriginConfig>,
    /// Custom (HTTP) origin settings.
    #[serde(default)]
    pub custom_origin_config: Option<CustomOriginConfig>,
    /// Connection attempts (1–3, default 3).
    #[serde(default)]
    pub connection_attempts: Option<u32>,
    /// Connection timeout in seconds (1–10, default 10).
    #[serde(default)]
    pub connection_timeout: Option<u32>,
    /// Total response completion timeout in seconds (unset = unlimited).
    #[serde(default)]
    pub response_completion_timeout: Option<u32>,
    /// Origin access control id (S3 SigV4 signing).
    #[serde(default)]
    pub origin_access_control_id: String,
}

impl Origin {
    /// `ConnectionAttempts` with AWS's default.
    pub fn attempts(&self) -> u32 {
        self.connection_attempts.unwrap_or(3)
    }
    /// `ConnectionTimeout` in seconds with AWS's default.
    pub fn connect_timeout_secs(&self) -> u32 {
        self.connection_timeout.unwrap_or(10)
    }
}

/// A `{HeaderName, HeaderValue}` origin custom header.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginCustomHeader {
    /// Header name.
    pub header_name: String,
    /// Header value.
    pub header_value: String,
}

/// `S3OriginConfig`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3OriginConfig {
    /// OAI (`origin-access-identity/cloudfront/ID`) or empty with OAC.
    #[serde(default)]
    pub origin_access_identity: String,
    /// Read timeout in seconds.
    #[serde(default)]
    pub origin_read_timeout: Option<u32>,
}

/// `CustomOriginConfig`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomOriginConfig {
    /// Port for HTTP.
    #[serde(rename = "HTTPPort")]
    pub http_port: u32,
    /// Port for HTTPS.
    #[serde(rename = "HTTPSPort")]
    pub https_port: u32,
    /// Which protocol to use towards the origin.
    pub origin_protocol_policy: OriginProtocolPolicy,
    /// Allowed TLS versions towards the origin.
    #[serde(default)]
    pub origin_ssl_protocols: List<OriginSslProtocol>,
    /// Seconds to wait for the response (1–120, default 30).
    #[serde(default)]
    pub origin_read_timeout: Option<u32>,
    /// Seconds an idle origin connection is kept (1–120, default 5).
    #[serde(default)]
    pub origin_keepalive_timeout: Option<u32>,
    /// Address family.
    #[serde(default)]
    pub ip_address_type: Option<IpAddressType>,
}

/// `OriginProtocolPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OriginProtocolPolicy {
    /// Always HTTP.
    HttpOnly,
    /// The viewer's protocol.
    MatchViewer,
    /// Always HTTPS.
    HttpsOnly,
}

/// `OriginSslProtocols` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum OriginSslProtocol {
    /// SSLv3.
    #[serde(rename = "SSLv3")]
    SslV3,
    /// TLS 1.0.
    #[serde(rename = "TLSv1")]
    TlsV1,
    /// TLS 1.1.
    #[serde(rename = "TLSv1.1")]
    TlsV11,
    /// TLS 1.2.
    #[serde(rename = "TLSv1.2")]
    TlsV12,
}

/// `IpAddressType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IpAddressType {
    /// IPv4 only.
    Ipv4,
    /// IPv6 only.
    Ipv6,
    /// Either.
    Dualstack,
}

/// A cache behaviour (the default one has no `PathPattern`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheBehavior {
    /// Path pattern (absent on the default behaviour).
    #[serde(default)]
    pub path_pattern: Option<String>,
    /// Origin id the behaviour routes to.
    pub target_origin_id: String,
    /// Legacy trusted signers.
    #[serde(default)]
    pub trusted_signers: Option<EnabledList>,
    /// Trusted key groups for signed URLs / cookies.
    #[serde(default)]
    pub trusted_key_groups: Option<EnabledList>,
    /// Viewer protocol policy.
    pub viewer_protocol_policy: ViewerProtocolPolicy,
    /// Allowed methods (default GET, HEAD).
    #[serde(default)]
    pub allowed_methods: Option<AllowedMethods>,
    /// Whether CloudFront compresses.
    #[serde(default)]
    pub compress: Option<bool>,
    /// Cache policy id.
    #[serde(default)]
    pub cache_policy_id: String,
    /// Origin request policy id.
    #[serde(default)]
    pub origin_request_policy_id: String,
    /// Response headers policy id.
    #[serde(default)]
    pub response_headers_policy_id: String,
    /// Legacy forwarded values.
    #[serde(default)]
    pub forwarded_values: Option<serde_json::Value>,
    /// Legacy TTLs.
    #[serde(default, rename = "MinTTL")]
    pub min_ttl: Option<i64>,
    /// Legacy TTLs.
    #[serde(default, rename = "DefaultTTL")]
    pub default_ttl: Option<i64>,
    /// Legacy TTLs.
    #[serde(default, rename = "MaxTTL")]
    pub max_ttl: Option<i64>,
}

/// `ViewerProtocolPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViewerProtocolPolicy {
    /// HTTP or HTTPS.
    AllowAll,
    /// HTTP is redirected (301 / 307).
    RedirectToHttps,
    /// HTTP is refused (403).
    HttpsOnly,
}

/// `AllowedMethods` with its nested `CachedMethods`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AllowedMethods {
    /// Count.
    pub quantity: u32,
    /// Methods.
    #[serde(default)]
    pub items: Vec<Method>,
    /// Cached subset.
    #[serde(default)]
    pub cached_methods: Option<List<Method>>,
}

/// CloudFront's `Method` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// OPTIONS
    Options,
    /// DELETE
    Delete,
}

impl Method {
    /// The method as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Options => "OPTIONS",
            Method::Delete => "DELETE",
        }
    }
}

/// A custom error response.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomErrorResponse {
    /// The error status this entry applies to.
    pub error_code: u16,
    /// Page fetched from the origin instead (`/errors/403.html`).
    #[serde(default)]
    pub response_page_path: String,
    /// Status sent to the viewer, as a string (`"200"`); empty = keep the error code.
    #[serde(default)]
    pub response_code: String,
    /// Minimum seconds the error is cached.
    #[serde(default, rename = "ErrorCachingMinTTL")]
    pub error_caching_min_ttl: Option<i64>,
}

/// Legacy standard logging settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    /// Whether logs are written.
    #[serde(default)]
    pub enabled: bool,
    /// Whether cookies are logged.
    #[serde(default)]
    pub include_cookies: bool,
    /// Destination bucket.
    #[serde(default)]
    pub bucket: String,
    /// File name prefix.
    #[serde(default)]
    pub prefix: String,
}

/// `ViewerCertificate`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ViewerCertificate {
    /// Whether the `*.cloudfront.net` certificate is used.
    #[serde(default)]
    pub cloud_front_default_certificate: Option<bool>,
    /// ACM certificate ARN.
    #[serde(default, rename = "ACMCertificateArn")]
    pub acm_certificate_arn: Option<String>,
    /// IAM certificate id.
    #[serde(default, rename = "IAMCertificateId")]
    pub iam_certificate_id: Option<String>,
    /// SNI support method.
    #[serde(default, rename = "SSLSupportMethod")]
    pub ssl_support_method: Option<SslSupportMethod>,
    /// Minimum viewer TLS version.
    #[serde(default)]
    pub minimum_protocol_version: Option<String>,
}

/// `SSLSupportMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslSupportMethod {
    /// SNI only.
    SniOnly,
    /// Dedicated IPs.
    Vip,
    /// Static IPs.
    StaticIp,
}

/// `Restrictions`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Restrictions {
    /// The geo restriction.
    pub geo_restriction: GeoRestriction,
}

/// `GeoRestriction`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GeoRestriction {
    /// whitelist / blacklist / none.
    pub restriction_type: GeoRestrictionType,
    /// Count.
    pub quantity: u32,
    /// ISO 3166-1 alpha-2 codes.
    #[serde(default)]
    pub items: Vec<String>,
}

/// `GeoRestrictionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GeoRestrictionType {
    /// Only listed countries are served.
    Whitelist,
    /// Listed countries are refused.
    Blacklist,
    /// No restriction.
    None,
}
