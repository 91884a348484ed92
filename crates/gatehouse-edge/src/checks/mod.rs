//! The checks phase: each check may refuse the request with a [`Denial`].
//!
//! [`ORDER`] is the one place that says in which order CloudFront's checks run. Geo runs
//! before WAF (confirmed); where protocol, methods and signed URLs sit relative to them is
//! UNCONFIRMED (`docs/compatibility.md`) and is changed here in one line.

pub mod geo;
pub mod methods;
pub mod protocol;
pub mod signed;

use crate::response::Denial;
use crate::state::{Behavior, Distribution};
use http::{Method, Version};

/// One of CloudFront's viewer-side checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `ViewerProtocolPolicy`.
    Protocol,
    /// `AllowedMethods`.
    Methods,
    /// `Restrictions.GeoRestriction` (before WAF, confirmed).
    Geo,
    /// `TrustedKeyGroups` / `TrustedSigners`: signed URL, else signed cookies.
    Signed,
}

/// The order in which checks run.
pub const ORDER: &[Check] = &[Check::Protocol, Check::Methods, Check::Geo, Check::Signed];

/// What the checks look at.
pub struct CheckInput<'a> {
    /// The request method.
    pub method: &'a Method,
    /// The viewer's HTTP version.
    pub version: Version,
    /// The Host header as sent.
    pub host: &'a str,
    /// Path and query as received.
    pub path_and_query: &'a str,
    /// The distribution.
    pub distribution: &'a Distribution,
    /// The matched behaviour.
    pub behavior: &'a Behavior,
    /// The viewer's IP (peer, PROXY source or trusted `X-Forwarded-For`).
    pub viewer_ip: std::net::IpAddr,
    /// The GeoIP database.
    pub geo: &'a gatehouse_geo::GeoDb,
    /// The viewer connection.
    pub conn: &'a crate::viewer::Connection,
    /// The viewer's country, once found (shared with the log's `c-country`).
    pub country: &'a crate::viewer::RequestCountry,
    /// The viewer's request headers.
    pub headers: &'a http::HeaderMap,
    /// The signed-URL verification cache.
    pub signed_cache: &'a gatehouse_signed::VerifyCache,
}

/// Runs the checks in [`ORDER`]; the first denial wins.
pub fn run(input: &CheckInput<'_>) -> Option<Denial> {
    for check in ORDER {
        let denial = match check {
            Check::Protocol => protocol::check(input),
            Check::Methods => methods::check(input),
            Check::Geo => geo::check(input),
            Check::Signed => signed::check(input),
        };
        if denial.is_some() {
            return denial;
        }
    }
    None
}
