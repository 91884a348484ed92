//! `gatehouse doctor`: explain, probe, logs and config — the cause of a 403 and its fix.

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use gatehouse_doctor::advice::{self, RequestFacts};
use gatehouse_doctor::{classify, logs, report, Evidence};
use gatehouse_model::{Cause, Config};
use http_body_util::{BodyExt, Empty};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

/// Output formats.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Human text.
    Text,
    /// JSON with the catalogue ids.
    Json,
    /// A self-contained HTML page with charts (`doctor logs` only).
    Html,
}

/// `gatehouse doctor …`.
#[derive(Subcommand)]
pub enum DoctorCommand {
    /// Name the cause of a response someone saw: paste `curl -i` output, an XML or HTML body,
    /// the page as a browser shows it, or an access-log line (standard or JSON).
    Explain {
        /// HTTP status, if not in the pasted text.
        #[arg(long)]
        status: Option<u16>,
        /// File with the response or page text (`-` for standard input).
        #[arg(long)]
        body_file: Option<PathBuf>,
        /// A response header `Name: value` (repeatable).
        #[arg(long = "header")]
        headers: Vec<String>,
        /// An access-log line.
        #[arg(long)]
        log_line: Option<String>,
        /// The request URL, for fixes against the config.
        #[arg(long)]
        url: Option<String>,
        /// Config directory, for fixes against it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Make the request (HTTP/1.1 or HTTP/2) and name the cause of the answer.
    Probe {
        /// The URL.
        url: String,
        /// Config directory, for fixes against it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// `HOST:PORT:ADDR`, like curl's.
        #[arg(long)]
        resolve: Option<String>,
        /// A request header `Name: value` (repeatable); it replaces the default of that name
        /// (Host, User-Agent), and `Name:` without a value removes it, as with curl.
        #[arg(long = "header", short = 'H')]
        headers: Vec<String>,
        /// Method.
        #[arg(long, short = 'X', default_value = "GET")]
        method: String,
        /// Use HTTP/2 (ALPN on https, prior knowledge on http).
        #[arg(long)]
        http2: bool,
        /// Do not verify the server certificate.
        #[arg(long, short = 'k')]
        insecure: bool,
        /// With --config: repeat the request against the behaviour's origin, as CloudFront
        /// would send it, and compare (an origin that also refuses owns the 403).
        #[arg(long)]
        direct_origin: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Read access logs (standard — ours or CloudFront's — or Gatehouse JSON; gzip or plain)
    /// and group 403s and 5xx by cause.
    Logs {
        /// Log files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Config directory, for fixes against it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The full story of one request id.
        #[arg(long)]
        request_id: Option<String>,
        /// AWS WAF log files (JSON lines) to join by request id, naming the blocking rule.
        #[arg(long, num_args = 1..)]
        waf_logs: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Static reasons a request would be refused: which behaviour a path hits and what it
    /// demands; whether a hostname is an alias.
    Config {
        /// Config directory.
        dir: PathBuf,
        /// A hostname to check.
        #[arg(long)]
        host: Option<String>,
        /// A path to check.
        #[arg(long)]
        path: Option<String>,
        /// `aws s3api get-bucket-policy` output (or the policy document) of the S3 origins'
        /// bucket: checks the grant to each distribution's origin access control.
        #[arg(long)]
        bucket_policy: Option<PathBuf>,
    },
}

fn load(cfg: &Option<PathBuf>) -> Result<Option<Config>> {
    cfg.as_ref()
        .map(|d| gatehouse_model::load_dir(d).map_err(|e| anyhow::anyhow!("{e}")))
        .transpose()
}

fn facts_from_url(url: Option<&str>, method: Option<&str>) -> RequestFacts {
    let Some(uri) = url.and_then(|u| u.parse::<http::Uri>().ok()) else {
        return RequestFacts::default();
    };
    RequestFacts {
        host: uri.host().and_then(host_of),
        path: Some(uri.path().to_string()),
        method: method.map(str::to_string),
    }
}

fn print(d: &classify::Diagnosis, cfg: Option<&Config>, facts: &RequestFacts, format: Format) {
    let fix = |c: Cause| advice::fix(c, cfg, facts);
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report::diagnosis_json(d, &fix)).unwrap_or_default()
        ),
        _ => print!("{}", report::diagnosis_text(d, &fix)),
    }
}

/// Narrows a diagnosis with what the caller knows besides the response: the URL (a signed URL's
/// own policy, checked against `now` — the response's Date, else the clock — and, with a
/// config, the behaviour's public keys) and the config (aliases, Enabled, viewer protocol).
fn refine(
    d: &mut classify::Diagnosis,
    cfg: Option<&Config>,
    url: Option<&str>,
    facts: &RequestFacts,
    headers: &[String],
    date: Option<u64>,
) {
    let header = |name: &str| header_arg(headers, name);
    if let Some(url) = url {
        let now = date.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |t| t.as_secs())
        });
        let viewer =
            header("x-forwarded-for").and_then(|x| x.split(',').next_back()?.trim().parse().ok());
        if let Some(mut req) = gatehouse_doctor::signed::SignedRequest::from_url(url, viewer, now) {
            if let Some(h) = header("host") {
                req.host = h.to_string();
            }
            let keys = cfg.zip(facts.host.as_deref()).and_then(|(c, h)| {
                advice::trusted_keys(c, h, facts.path.as_deref().unwrap_or("/"))
            });
            gatehouse_doctor::signed::refine(d, &req, keys.as_ref());
        }
    }
    if let Some(cfg) = cfg {
        let https = url.map(|u| u.to_ascii_lowercase().starts_with("https://"));
        advice::refine(d, cfg, facts, https);
    }
}

/// Runs a doctor command; the exit code is 0 when a cause was named.
pub fn run(cmd: DoctorCommand) -> Result<()> {
    match cmd {
        DoctorCommand::Explain {
            status,
            body_file,
            headers,
            log_line,
            url,
            config,
            format,
        } => {
            let cfg = load(&config)?;
            let facts = facts_from_url(url.as_deref(), None);
            let mut date = None;
            let mut d = if let Some(line) = log_line {
                gatehouse_doctor::explain(&line)
            } else {
                let text = match body_file.as_deref() {
                    Some(p) if p.as_os_str() == "-" => {
                        let mut s = String::new();
                        std::io::stdin().read_to_string(&mut s)?;
                        s
                    }
                    Some(p) => std::fs::read_to_string(p)
                        .with_context(|| format!("reading {}", p.display()))?,
                    None => String::new(),
                };
                if headers.is_empty() && status.is_none() {
                    date = Evidence::parse(&text).date_epoch();
                    gatehouse_doctor::explain(&text)
                } else {
                    let mut e = Evidence::parse(&text);
                    if status.is_some() {
                        e.status = status;
                    }
                    for h in &headers {
                        if let Some((k, v)) = h.split_once(':') {
                            e.header(k.trim(), v.trim());
                        }
                    }
                    date = e.date_epoch();
                    classify::from_response(&e)
                }
            };
            refine(&mut d, cfg.as_ref(), url.as_deref(), &facts, &[], date);
            print(&d, cfg.as_ref(), &facts, format);
            Ok(())
        }
        DoctorCommand::Probe {
            url,
            config,
            resolve,
            headers,
            method,
            http2,
            insecure,
            direct_origin,
            format,
        } => {
            let cfg = load(&config)?;
            if direct_origin && cfg.is_none() {
                bail!("--direct-origin needs --config (to know the behaviour's origin)");
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let e = rt.block_on(probe(
                &url,
                resolve.as_deref(),
                &headers,
                &method,
                http2,
                insecure,
            ))?;
            let mut d = classify::from_response(&e);
            let mut facts = facts_from_url(Some(&url), Some(&method));
            // A Host given with --header is the one the edge saw.
            if let Some(h) = header_arg(&headers, "host") {
                facts.host = host_of(h);
            }
            refine(
                &mut d,
                cfg.as_ref(),
                Some(&url),
                &facts,
                &headers,
                e.date_epoch(),
            );
            let direct = match (direct_origin, cfg.as_ref()) {
                (true, Some(c)) => {
                    let target = origin_target(c, &url, facts.host.as_deref().unwrap_or(""))?;
                    let oe = rt.block_on(probe(
                        &target.url,
                        target.resolve.as_deref(),
                        &target.headers,
                        &method,
                        false,
                        insecure,
                    ))?;
                    Some((target, oe))
                }
                _ => None,
            };
            if let Some((t, oe)) = &direct {
                let (es, os) = (e.status.unwrap_or(0), oe.status.unwrap_or(0));
                let verdict = match (es, os) {
                    (403, 403) => "the origin refuses too: the 403 is the origin's own (origin-denied / S3), not the edge's checks",
                    (403, s) if s < 400 => "the origin serves it: the edge refused (a check: protocol, methods, geo, WAF, signed URL)",
                    (a, b) if a == b => "the origin answers the same",
                    _ => "the origin answers differently",
                };
                d.evidence.push(format!(
                    "directly at origin {} ({}): status {os} — {verdict}",
                    t.origin_id, t.url
                ));
                // An edge-stated (certain) cause stays; otherwise the origin's own refusal leads.
                if es == 403
                    && os == 403
                    && d.top()
                        .is_none_or(|c| c.confidence != classify::Confidence::Certain)
                {
                    d.promote(
                        Cause::OriginDenied,
                        classify::Confidence::Likely,
                        "the origin answers 403 to the same request sent directly".into(),
                    );
                }
            }
            match format {
                Format::Json => {
                    let fix = |c: Cause| advice::fix(c, cfg.as_ref(), &facts);
                    let mut v = report::diagnosis_json(&d, &fix);
                    v["url"] = url.clone().into();
                    v["status"] = e.status.into();
                    v["request_id"] = e.request_id.clone().into();
                    if let Some((t, oe)) = &direct {
                        v["origin"] = serde_json::json!({"id": t.origin_id, "url": t.url, "status": oe.status});
                    }
                    println!("{}", serde_json::to_string_pretty(&v)?);
                }
                _ => {
                    println!(
                        "{} {url} → {}",
                        method,
                        e.status.map_or("-".into(), |s| s.to_string())
                    );
                    print(&d, cfg.as_ref(), &facts, format);
                }
            }
            Ok(())
        }
        DoctorCommand::Logs {
            files,
            config,
            request_id,
            waf_logs,
            format,
        } => {
            let cfg = load(&config)?;
            let waf = (!waf_logs.is_empty()).then(|| {
                let w = gatehouse_doctor::waf::WafIndex::load(&waf_logs);
                for p in &w.problems {
                    eprintln!("gatehouse doctor logs: WAF log {p}");
                }
                Arc::new(w)
            });
            if let (Some(w), Some(id)) = (&waf, &request_id) {
                match w.get(id) {
                    Some((rule, action)) => {
                        eprintln!("WAF log for {id}: action {action}, terminating rule {rule}")
                    }
                    None => eprintln!("WAF log for {id}: no record"),
                }
            }
            use std::io::IsTerminal as _;
            let opts = logs::Options {
                request_id: request_id.clone(),
                waf: waf.clone(),
                progress: std::io::stderr()
                    .is_terminal()
                    .then_some(progress as fn(u64, u64)),
                ..Default::default()
            };
            let s = logs::analyze_with(&files, &opts);
            if opts.progress.is_some() {
                eprint!("\r\x1b[K");
            }
            // Unreadable input goes to stderr whatever the format, so that the report on stdout
            // stays valid JSON or HTML.
            for p in &s.problems {
                eprintln!("gatehouse doctor logs: {p}");
            }
            if s.bad_lines > 0 {
                eprintln!(
                    "gatehouse doctor logs: {} unreadable line(s) in all; the other {} line(s) were read",
                    s.bad_lines, s.lines
                );
            }
            if let Some(id) = &request_id {
                if s.request.is_empty() {
                    eprintln!("gatehouse doctor logs: no line with x-edge-request-id {id}");
                }
            }
            let fix = |id: &str, host: Option<&str>, path: Option<&str>| match Cause::from_id(id) {
                Some(c) => advice::fix(
                    c,
                    cfg.as_ref(),
                    &RequestFacts {
                        host: host.and_then(host_of),
                        path: path.map(str::to_string),
                        method: None,
                    },
                ),
                None => "no known cause: look at the lines themselves (--request-id)".to_string(),
            };
            match format {
                Format::Text => print!("{}", report::logs_text(&s, &fix)),
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&report::logs_json(&s, &fix))?
                ),
                Format::Html => print!("{}", report::logs_html(&s, &fix)),
            }
            Ok(())
        }
        DoctorCommand::Config {
            dir,
            host,
            path,
            bucket_policy,
        } => {
            let cfg = gatehouse_model::load_dir(&dir).map_err(|e| anyhow::anyhow!("{e}"))?;
            config_report(&cfg, host.as_deref(), path.as_deref());
            if let Some(p) = bucket_policy {
                let text = std::fs::read_to_string(&p)
                    .with_context(|| format!("reading {}", p.display()))?;
                let policy = gatehouse_doctor::bucket_policy::parse(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
                bucket_report(&cfg, &policy);
            }
            Ok(())
        }
    }
}

/// The value of `--header NAME: value` (the first non-empty one), trimmed.
fn header_arg<'a>(headers: &'a [String], name: &str) -> Option<&'a str> {
    headers.iter().find_map(|h| {
        let (k, v) = h.split_once(':')?;
        (k.trim().eq_ignore_ascii_case(name) && !v.trim().is_empty()).then(|| v.trim())
    })
}

/// A Host as the edge routes on it (no port or brackets, lower case, no trailing dot).
fn host_of(h: &str) -> Option<String> {
    gatehouse_edge::routing::host::normalize_host(h).map(std::borrow::Cow::into_owned)
}

/// The progress bar on a terminal: `reading logs  42% (1.2 GB of 2.9 GB)`.
fn progress(read: u64, total: u64) {
    let pct = (read * 100).checked_div(total).map_or(100, |p| p.min(100));
    let gb = |b: u64| b as f64 / 1e9;
    let bar: String = (0..30)
        .map(|i| if i * 100 / 30 < pct { '#' } else { '.' })
        .collect();
    eprint!(
        "\rreading logs [{bar}] {pct:3}% ({:.2} GB of {:.2} GB)",
        gb(read),
        gb(total)
    );
}

fn config_report(cfg: &Config, host: Option<&str>, path: Option<&str>) {
    use gatehouse_model::aws::distribution::{GeoRestrictionType as T, ViewerProtocolPolicy as V};
    let host = host.and_then(host_of);
    if let Some(h) = &host {
        match advice::distribution_for(cfg, h) {
            Some(d) if !d.config.enabled => println!(
                "{h}: distribution {} owns it but is disabled ({}: {}.Enabled is false) → 403 distribution-disabled",
                d.id,
                d.file.display(),
                d.json_root
            ),
            Some(d) => println!("{h}: served by distribution {} ({})", d.id, d.file.display()),
            None => println!(
                "{h}: no distribution has it as an alias → 403 alias-not-configured. Fix: {}",
                advice::fix(
                    Cause::AliasNotConfigured,
                    Some(cfg),
                    &RequestFacts {
                        host: Some(h.clone()),
                        ..Default::default()
                    }
                )
            ),
        }
    }
    for d in &cfg.distributions {
        if let Some(h) = &host {
            if advice::distribution_for(cfg, h).map(|x| &x.id) != Some(&d.id) {
                continue;
            }
        }
        println!(
            "\n{} ({}) aliases [{}]{} — {}",
            d.id,
            d.domain_name,
            d.config.aliases.items.join(", "),
            if d.config.enabled { "" } else { " DISABLED" },
            d.file.display()
        );
        if let Some(g) = d.config.restrictions.as_ref().map(|r| &r.geo_restriction) {
            if g.restriction_type != T::None {
                println!(
                    "  geo restriction ({}.Restrictions.GeoRestriction): {} [{}] → {} get 403 geo-blocked",
                    d.json_root,
                    if g.restriction_type == T::Whitelist { "whitelist" } else { "blacklist" },
                    g.items.join(", "),
                    if g.restriction_type == T::Whitelist { "other countries" } else { "these countries" }
                );
            }
        }
        let hit = path.map(|p| advice::behavior_for(d, p));
        if let (Some(p), Some((b, json))) = (path, &hit) {
            println!(
                "  path {p} hits behavior `{}` ({json})",
                b.path_pattern.as_deref().unwrap_or("* (default)")
            );
        }
        let behaviors = std::iter::once(&d.config.default_cache_behavior)
            .chain(d.config.cache_behaviors.items.iter());
        for b in behaviors {
            if hit.as_ref().is_some_and(|(h, _)| !std::ptr::eq(*h, b)) {
                continue;
            }
            let pattern = b.path_pattern.as_deref().unwrap_or("* (default)");
            let methods: Vec<&str> = b
                .allowed_methods
                .as_ref()
                .map(|a| a.items.iter().map(|m| m.as_str()).collect())
                .unwrap_or_else(|| vec!["GET", "HEAD"]);
            let mut notes = vec![
                match b.viewer_protocol_policy {
                    V::AllowAll => "http and https".to_string(),
                    V::RedirectToHttps => {
                        "redirect-to-https: http gets 301/307 redirect-to-https".to_string()
                    }
                    V::HttpsOnly => "https-only: http gets 403 https-only".to_string(),
                },
                format!(
                    "methods [{}]{}",
                    methods.join(", "),
                    if methods.len() < 7 {
                        ": others get 403 method-not-allowed"
                    } else {
                        ""
                    }
                ),
                format!("origin {}", b.target_origin_id),
            ];
            if let Some(t) = b.trusted_key_groups.as_ref().filter(|t| t.enabled) {
                let keys: Vec<&String> = cfg
                    .key_groups
                    .iter()
                    .filter(|g| t.items.contains(&g.id))
                    .flat_map(|g| g.items.iter())
                    .collect();
                let known = t
                    .items
                    .iter()
                    .filter(|g| {
                        cfg.key_groups
                            .iter()
                            .any(|k| &k.id == *g && !k.items.is_empty())
                    })
                    .count();
                notes.push(format!(
                    "signed URLs or cookies required (key groups [{}], keys [{}]): without one 403 signed-missing-key{}",
                    t.items.join(", "),
                    keys.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
                    if known < t.items.len() {
                        "; some key groups have no keys: every request is refused"
                    } else {
                        ""
                    }
                ));
            }
            println!("  behavior `{pattern}`: {}", notes.join("; "));
        }
    }
}

/// No verification (`--insecure`).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &rustls_pki_types::CertificateDer<'_>,
        _: &[rustls_pki_types::CertificateDer<'_>],
        _: &rustls_pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &rustls_pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &rustls_pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

async fn probe(
    url: &str,
    resolve: Option<&str>,
    headers: &[String],
    method: &str,
    http2: bool,
    insecure: bool,
) -> Result<Evidence> {
    let uri: http::Uri = url.parse().with_context(|| format!("{url} is not a URL"))?;
    let https = uri.scheme_str() == Some("https");
    let host = uri.host().context("the URL has no host")?.to_string();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let addr: std::net::SocketAddr = match resolve {
        Some(r) => {
            let mut p = r.splitn(3, ':');
            let (h, pt, a) = (p.next(), p.next(), p.next());
            match (h, pt.and_then(|x| x.parse::<u16>().ok()), a) {
                (Some(h), Some(pt), Some(a)) if h.eq_ignore_ascii_case(&host) && pt == port => {
                    format!("{}:{port}", a.trim_start_matches('[').trim_end_matches(']'))
                        .parse()
                        .or_else(|_| format!("[{a}]:{port}").parse())?
                }
                _ => bail!("--resolve {r}: expected {host}:{port}:ADDRESS"),
            }
        }
        None => tokio::net::lookup_host((host.as_str(), port))
            .await?
            .next()
            .context("no address")?,
    };
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let mut req = http::Request::builder()
        .method(method)
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()));
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .unwrap_or(host.clone());
    if !http2 {
        req = req.header(http::header::HOST, &authority);
    } else {
        req = req.uri(url);
    }
    req = req.header(http::header::USER_AGENT, "gatehouse-doctor");
    let mut req = req.body(Empty::<bytes::Bytes>::new())?;
    // As curl: a header given replaces the default one of that name (Host, User-Agent), and
    // `Name:` with no value removes it.
    let mut given = std::collections::HashSet::new();
    for h in headers {
        let (k, v) = h
            .split_once(':')
            .with_context(|| format!("--header {h:?}: expected Name: value"))?;
        let name = http::HeaderName::from_bytes(k.trim().as_bytes())
            .with_context(|| format!("--header {h:?}: invalid name"))?;
        if given.insert(name.clone()) {
            req.headers_mut().remove(&name);
        }
        let v = v.trim();
        if !v.is_empty() {
            let value = http::HeaderValue::from_str(v)
                .with_context(|| format!("--header {h:?}: invalid value"))?;
            req.headers_mut().append(name, value);
        }
    }
    let resp = if https {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let mut cfg = if insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
                .with_no_client_auth()
        } else {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        cfg.alpn_protocols = if http2 {
            vec![b"h2".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        let name = rustls_pki_types::ServerName::try_from(host.clone())?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(name, tcp)
            .await
            .context("TLS handshake")?;
        send(hyper_util::rt::TokioIo::new(tls), req, http2).await?
    } else {
        send(hyper_util::rt::TokioIo::new(tcp), req, http2).await?
    };
    let mut e = Evidence {
        status: Some(resp.status().as_u16()),
        ..Default::default()
    };
    for (k, v) in resp.headers() {
        if let Ok(v) = v.to_str() {
            e.header(k.as_str(), v);
        }
    }
    let body = resp.into_body().collect().await?.to_bytes();
    e.body = String::from_utf8_lossy(&body[..body.len().min(1 << 20)]).into_owned();
    e.complete();
    Ok(e)
}

async fn send<I>(
    io: I,
    req: http::Request<Empty<bytes::Bytes>>,
    http2: bool,
) -> Result<http::Response<hyper::body::Incoming>>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    if http2 {
        let (mut s, conn) =
            hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io).await?;
        tokio::spawn(conn);
        Ok(s.send_request(req).await?)
    } else {
        let (mut s, conn) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(conn);
        Ok(s.send_request(req).await?)
    }
}

/// Where `--direct-origin` sends the request.
struct OriginTarget {
    origin_id: String,
    url: String,
    resolve: Option<String>,
    headers: Vec<String>,
}

/// The origin request the edge would make for `url`, as the edge builds it
/// ([`gatehouse_origin::OriginClient`]): the behaviour's origin, its protocol policy and ports,
/// `OriginPath`, `CustomHeaders`, the Host it sends, and `gatehouse.toml`'s endpoint overrides
/// and `[origins.resolve]` (as a curl `--resolve`).
fn origin_target(cfg: &Config, url: &str, host: &str) -> Result<OriginTarget> {
    use gatehouse_origin::{OriginClient, OriginEnv};
    let uri: http::Uri = url.parse()?;
    let d = advice::distribution_for(cfg, host)
        .with_context(|| format!("no distribution of the config serves {host}"))?;
    let (b, _) = advice::behavior_for(d, uri.path());
    let o = d
        .config
        .origins
        .items
        .iter()
        .find(|o| o.id == b.target_origin_id)
        .context("the behaviour names no origin")?;
    let s = &cfg.settings.origins;
    let env = OriginEnv::new(&s.resolve, &s.endpoints, None)?;
    let client = OriginClient::new(o, &env);
    let target = client.uri(
        uri.scheme_str() == Some("https"),
        uri.path_and_query().map_or("/", |p| p.as_str()),
    );
    let value = |v: &http::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
    let mut headers: Vec<String> = client
        .custom_headers()
        .iter()
        .map(|(k, v)| format!("{k}: {}", value(v)))
        .collect();
    headers.push(format!("Host: {}", value(client.host_header())));
    headers.push("User-Agent: Amazon CloudFront".into());
    let port = target
        .port_u16()
        .unwrap_or(if target.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    let resolve = target
        .host()
        .and_then(|h| env.resolved(h).map(|ip| format!("{h}:{port}:{ip}")));
    Ok(OriginTarget {
        origin_id: o.id.clone(),
        url: target.to_string(),
        resolve,
        headers,
    })
}

fn bucket_report(cfg: &Config, policy: &serde_json::Value) {
    use gatehouse_doctor::bucket_policy::{bucket_of, grant};
    println!("\nBucket policy:");
    for d in &cfg.distributions {
        for o in &d.config.origins.items {
            if o.s3_origin_config.is_none() {
                continue;
            }
            let Some(bucket) = bucket_of(&o.domain_name) else {
                continue;
            };
            let g = grant(policy, bucket, &d.id);
            let oac = !o.origin_access_control_id.is_empty();
            let mut lines = Vec::new();
            if !oac {
                lines.push("no OriginAccessControlId: requests reach S3 unsigned → s3-access-denied unless objects are public".to_string());
            }
            if !g.get_object {
                lines.push(format!(
                    "no s3:GetObject for cloudfront.amazonaws.com with AWS:SourceArn …:distribution/{} → s3-access-denied. Add: {{\"Effect\":\"Allow\",\"Principal\":{{\"Service\":\"cloudfront.amazonaws.com\"}},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::{bucket}/*\",\"Condition\":{{\"StringEquals\":{{\"AWS:SourceArn\":\"{}\"}}}}}}",
                    d.id,
                    d.arn.clone().unwrap_or_else(|| format!("arn:aws:cloudfront::<account>:distribution/{}", d.id))
                ));
            }
            if g.get_object && !g.list_bucket {
                lines.push("s3:GetObject granted but not s3:ListBucket: a missing object answers 403 AccessDenied, not 404".to_string());
            }
            if lines.is_empty() {
                lines.push(
                    "s3:GetObject and s3:ListBucket granted to this distribution".to_string(),
                );
            }
            for l in lines {
                println!("  {} origin {} (bucket {bucket}): {l}", d.id, o.id);
            }
        }
    }
}
