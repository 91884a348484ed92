//! The `CloudFront-*` headers that tell an origin about its viewer (`cloudfront.md` §9.1).
//!
//! Added only when the behaviour asks: the managed origin request policy
//! AllViewerAndCloudFrontHeaders-2022-06 asks for all of them, legacy `ForwardedValues.Headers`
//! for the ones it names. Viewers can never set them (the forwarding rules drop any
//! `CloudFront-*` header a viewer sends).

use super::Connection;
use gatehouse_geo::GeoDb;
use gatehouse_origin::forward::Forwarding;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::Version;
use std::net::{IpAddr, SocketAddr};

/// What is known about the viewer.
pub struct Facts<'a> {
    /// The connection.
    pub conn: &'a Connection,
    /// The viewer's IP (after trusted proxies).
    pub viewer_ip: IpAddr,
    /// The viewer's HTTP version.
    pub version: Version,
    /// The viewer's request headers (for `User-Agent`).
    pub viewer_headers: &'a HeaderMap,
    /// The GeoIP database.
    pub geo: &'a GeoDb,
}

/// Adds the requested `CloudFront-*` headers to `out`.
pub fn add(out: &mut HeaderMap, fwd: &Forwarding, f: &Facts<'_>) {
    let wanted =
        |name: &str| fwd.cloudfront_headers || fwd.headers.iter().any(|h| h.as_str() == name);
    let mut put = |name: &'static str, value: Option<HeaderValue>| {
        if let Some(v) = value {
            out.insert(HeaderName::from_static(name), v);
        }
    };
    if wanted("cloudfront-viewer-address") {
        let addr = SocketAddr::new(f.viewer_ip, f.conn.source.port());
        put(
            "cloudfront-viewer-address",
            HeaderValue::from_str(&addr.to_string()).ok(),
        );
    }
    if wanted("cloudfront-forwarded-proto") {
        put(
            "cloudfront-forwarded-proto",
            Some(HeaderValue::from_static(if f.conn.https {
                "https"
            } else {
                "http"
            })),
        );
    }
    if wanted("cloudfront-viewer-http-version") {
        let v = match f.version {
            Version::HTTP_09 => "0.9",
            Version::HTTP_10 => "1.0",
            Version::HTTP_2 => "2.0",
            Version::HTTP_3 => "3.0",
            _ => "1.1",
        };
        put(
            "cloudfront-viewer-http-version",
            Some(HeaderValue::from_static(v)),
        );
    }
    if wanted("cloudfront-viewer-tls") {
        if let Some(tls) = &f.conn.tls {
            put(
                "cloudfront-viewer-tls",
                HeaderValue::from_str(&format!("{}:{}:fullHandshake", tls.protocol, tls.cipher))
                    .ok(),
            );
        }
    }
    let geo_wanted = [
        "cloudfront-viewer-country",
        "cloudfront-viewer-country-name",
        "cloudfront-viewer-country-region",
        "cloudfront-viewer-country-region-name",
    ]
    .iter()
    .any(|n| wanted(n));
    if geo_wanted {
        let d = f.geo.details(f.viewer_ip);
        let hv = |s: Option<String>| s.and_then(|s| HeaderValue::from_str(&s).ok());
        if wanted("cloudfront-viewer-country") {
            put(
                "cloudfront-viewer-country",
                d.country
                    .and_then(|c| HeaderValue::from_str(c.as_str()).ok()),
            );
        }
        if wanted("cloudfront-viewer-country-name") {
            put("cloudfront-viewer-country-name", hv(d.country_name));
        }
        if wanted("cloudfront-viewer-country-region") {
            put("cloudfront-viewer-country-region", hv(d.region));
        }
        if wanted("cloudfront-viewer-country-region-name") {
            put("cloudfront-viewer-country-region-name", hv(d.region_name));
        }
    }
    let ua = f
        .viewer_headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let device = Device::from_user_agent(ua);
    for (name, yes) in [
        ("cloudfront-is-desktop-viewer", device.desktop),
        ("cloudfront-is-mobile-viewer", device.mobile),
        ("cloudfront-is-tablet-viewer", device.tablet),
        ("cloudfront-is-smarttv-viewer", device.smart_tv),
        ("cloudfront-is-android-viewer", device.android),
        ("cloudfront-is-ios-viewer", device.ios),
    ] {
        if wanted(name) {
            put(
                name,
                Some(HeaderValue::from_static(if yes { "true" } else { "false" })),
            );
        }
    }
}

/// The device classes CloudFront derives from the `User-Agent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Device {
    /// A desktop browser (neither mobile, tablet nor smart TV).
    pub desktop: bool,
    /// A phone.
    pub mobile: bool,
    /// A tablet.
    pub tablet: bool,
    /// A smart TV.
    pub smart_tv: bool,
    /// Android.
    pub android: bool,
    /// iOS / iPadOS.
    pub ios: bool,
}

impl Device {
    /// Classifies a `User-Agent` (substring rules; see docs/compatibility.md).
    pub fn from_user_agent(ua: &str) -> Self {
        let has = |s: &str| ua.contains(s);
        let smart_tv = [
            "SmartTV", "SMART-TV", "Smart-TV", "HbbTV", "AppleTV", "GoogleTV", "CrKey", "Tizen",
            "Web0S",
        ]
        .iter()
        .any(|s| has(s));
        let ios = has("iPhone") || has("iPad") || has("iPod");
        let android = has("Android");
        let tablet = has("iPad") || has("Tablet") || (android && !has("Mobile"));
        let mobile = !tablet && (has("iPhone") || has("iPod") || has("Mobile") || has("Mobi"));
        Device {
            desktop: !(mobile || tablet || smart_tv),
            mobile,
            tablet,
            smart_tv,
            android,
            ios,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Device;

    #[test]
    fn classifies_common_agents() {
        let iphone = Device::from_user_agent(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
        );
        assert!(iphone.mobile && iphone.ios && !iphone.desktop && !iphone.tablet);
        let ipad = Device::from_user_agent("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)");
        assert!(ipad.tablet && ipad.ios && !ipad.mobile);
        let pixel = Device::from_user_agent(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36",
        );
        assert!(pixel.mobile && pixel.android);
        let tab = Device::from_user_agent("Mozilla/5.0 (Linux; Android 13; SM-X700) Safari/537.36");
        assert!(tab.tablet && tab.android && !tab.mobile);
        let tv = Device::from_user_agent("Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0)");
        assert!(tv.smart_tv && !tv.desktop);
        let desk = Device::from_user_agent("Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0");
        assert!(desk.desktop && !desk.mobile);
        assert!(Device::from_user_agent("curl/8.0").desktop);
    }
}
