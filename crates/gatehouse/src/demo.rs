//! The built-in demo: one distribution in front of a tiny static origin on loopback, with a
//! path for each behaviour worth seeing (`gatehouse serve` with no `--config`).

use anyhow::{Context, Result};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;

/// The demo distribution's id.
pub const DEMO_ID: &str = "EDEMO1EXAMPLE";
/// The demo's alternate domain name.
pub const DEMO_ALIAS: &str = "demo.gatehouse.test";

/// Starts the demo origin on an ephemeral loopback port and returns its address.
pub async fn start_origin() -> Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), service_fn(origin))
                    .await;
            });
        }
    });
    Ok(addr)
}

async fn origin(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path();
    let (status, ctype, body) = if path.starts_with("/forbidden/") {
        (
            StatusCode::FORBIDDEN,
            "text/html",
            "<html><body><h1>403 Forbidden</h1><p>The demo origin refuses this path itself.</p></body></html>\n".to_string(),
        )
    } else if path == "/errors/404.html" {
        (
            StatusCode::OK,
            "text/html",
            "<html><body><h1>Not here</h1><p>This is the distribution's custom error page.</p></body></html>\n".to_string(),
        )
    } else if path.starts_with("/missing/") {
        (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_string(),
        )
    } else {
        let via = req
            .headers()
            .get("via")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        (
            StatusCode::OK,
            "text/plain",
            format!(
                "Hello from the Gatehouse demo origin.\n{} {}\nVia: {via}\n",
                req.method(),
                req.uri()
            ),
        )
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert("content-type", http::HeaderValue::from_static(ctype));
    resp.headers_mut().insert(
        "server",
        http::HeaderValue::from_static("gatehouse-demo-origin"),
    );
    Ok(resp)
}

/// Writes the demo config directory (distribution, gatehouse.toml, a self-signed certificate).
pub fn write_config(dir: &Path, origin: SocketAddr, http: &str, https: &str) -> Result<()> {
    std::fs::create_dir_all(dir.join("distributions"))?;
    let cert = rcgen::generate_simple_self_signed(vec![
        DEMO_ALIAS.to_string(),
        format!("{}.cloudfront.net", DEMO_ID.to_ascii_lowercase()),
    ])
    .context("generating the demo certificate")?;
    std::fs::write(dir.join("demo-cert.pem"), cert.cert.pem())?;
    std::fs::write(dir.join("demo-key.pem"), cert.signing_key.serialize_pem())?;
    // An ephemeral HTTPS port is unknown until bound: then redirects carry no port.
    let redirect_port = match https.rsplit(':').next() {
        Some("0") | None => String::new(),
        Some(p) => format!("redirect_https_port = {p}\n"),
    };
    std::fs::write(
        dir.join("gatehouse.toml"),
        format!(
            "[listen]\nhttp = [\"{http}\"]\nhttps = [\"{https}\"]\n\n[edge]\nlocation = \"DEMO1-P1\"\n{redirect_port}\n[[tls.certificates]]\ncert = \"demo-cert.pem\"\nkey = \"demo-key.pem\"\n\n[clients]\ntrusted_proxies = [\"127.0.0.1\"]\n"
        ),
    )?;
    let behavior = |pattern: &str, policy: &str, methods: &[&str]| {
        serde_json::json!({
            "PathPattern": pattern,
            "TargetOriginId": "demo-origin",
            "TrustedSigners": {"Enabled": false, "Quantity": 0},
            "TrustedKeyGroups": {"Enabled": false, "Quantity": 0},
            "ViewerProtocolPolicy": policy,
            "AllowedMethods": {"Quantity": methods.len(), "Items": methods,
                "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}},
            "Compress": false,
            "OriginRequestPolicyId": "33f36d7e-f396-46d9-90e0-52428a34d9dc",
            "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
        })
    };
    let all = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"];
    let mut default = behavior("", "allow-all", &all);
    default
        .as_object_mut()
        .expect("object")
        .remove("PathPattern");
    let doc = serde_json::json!({
        "ETag": "EDEMOETAG",
        "DistributionConfig": {
            "CallerReference": "gatehouse-demo",
            "Aliases": {"Quantity": 1, "Items": [DEMO_ALIAS]},
            "DefaultRootObject": "index.html",
            "Origins": {"Quantity": 1, "Items": [{
                "Id": "demo-origin",
                "DomainName": "127.0.0.1",
                "OriginPath": "",
                "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Origin-Secret", "HeaderValue": "demo"}]},
                "CustomOriginConfig": {"HTTPPort": origin.port(), "HTTPSPort": 443,
                    "OriginProtocolPolicy": "http-only", "OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5},
                "ConnectionAttempts": 3, "ConnectionTimeout": 10
            }]},
            "DefaultCacheBehavior": default,
            "CacheBehaviors": {"Quantity": 4, "Items": [
                behavior("/secure/*", "https-only", &all),
                behavior("/redirect/*", "redirect-to-https", &all),
                behavior("/api/*", "allow-all", &["GET", "HEAD"]),
                behavior("/forbidden/*", "allow-all", &["GET", "HEAD"]),
            ]},
            "CustomErrorResponses": {"Quantity": 1, "Items": [
                {"ErrorCode": 404, "ResponsePagePath": "/errors/404.html", "ResponseCode": "404", "ErrorCachingMinTTL": 10}
            ]},
            "Comment": "Gatehouse built-in demo",
            "Enabled": true
        }
    });
    std::fs::write(
        dir.join("distributions").join(format!("{DEMO_ID}.json")),
        serde_json::to_string_pretty(&doc)?,
    )?;
    Ok(())
}

/// The lines printed for a person to try.
pub fn try_these(http: SocketAddr, https: SocketAddr) -> String {
    let h = format!("-H 'Host: {DEMO_ALIAS}'");
    let r = format!("--resolve {DEMO_ALIAS}:{}:127.0.0.1 -k", https.port());
    let hp = https.port();
    let lines = [
        format!("Gatehouse demo: distribution {DEMO_ID} (alias {DEMO_ALIAS}) in front of a built-in origin."),
        "Try:".to_string(),
        format!("  curl -i {h} http://{http}/index.html             # an object: X-Cache: Miss from cloudfront"),
        format!("  curl -i {h} http://{http}/secure/report.txt      # https-only over HTTP: 403"),
        format!("  curl -i {r} https://{DEMO_ALIAS}:{hp}/secure/report.txt   # the same over HTTPS: 200"),
        format!("  curl -i {h} http://{http}/redirect/page.html     # redirect-to-https: 301"),
        format!("  curl -i {h} -X POST http://{http}/redirect/form  # redirect-to-https for POST: 307"),
        format!("  curl -i {h} -X POST http://{http}/api/orders     # AllowedMethods GET, HEAD: 403"),
        format!("  curl -i {h} http://{http}/forbidden/secret.txt   # the origin's own 403, passed through"),
        format!("  curl -i {h} http://{http}/missing/page.html      # origin 404, replaced by the CustomErrorResponses page"),
        format!("  curl -i -H 'Host: shop.example.com' http://{http}/   # not an alias: 403 Bad request."),
        "Every denial carries X-Gatehouse-Cause. Ctrl-C stops.".to_string(),
    ];
    let mut out = lines.join("\n");
    out.push('\n');
    out
}
