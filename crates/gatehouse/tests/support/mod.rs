//! Test harness: a real origin process (`origin.py`), a real `gatehouse serve` process on
//! loopback with ephemeral ports, config directories written on the fly, and `curl`.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The gatehouse binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_gatehouse")
}

/// A running `origin.py`.
pub struct Origin {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Origin {
    /// Starts a plain HTTP origin.
    pub fn start() -> Self {
        Self::start_args(&[])
    }

    /// Starts an HTTPS origin with the given PEM files.
    pub fn start_tls(cert: &Path, key: &Path) -> Self {
        Self::start_args(&[
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ])
    }

    fn start_args(args: &[&str]) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/origin.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 must be installed to run the test origin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("origin did not start: {line:?}"));
        Origin { child, port }
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config directory under construction.
pub struct ConfigDir {
    /// Keeps the directory alive.
    pub tmp: tempfile::TempDir,
}

impl ConfigDir {
    /// An empty directory with `distributions/`.
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("distributions")).unwrap();
        ConfigDir { tmp }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `gatehouse.toml`. Listeners default to ephemeral loopback ports when the text
    /// has no `[listen]` table.
    pub fn toml(&self, text: &str) -> &Self {
        let text = if text.contains("[listen]") {
            text.to_string()
        } else {
            format!("[listen]\nhttp = [\"127.0.0.1:0\"]\n\n{text}")
        };
        std::fs::write(self.path().join("gatehouse.toml"), text).unwrap();
        self
    }

    /// Writes `distributions/<id>.json` with the get-distribution-config wrapper.
    pub fn distribution(&self, id: &str, config: Value) -> &Self {
        let doc = json!({"ETag": "ETEST", "DistributionConfig": config});
        self.raw_distribution(id, &serde_json::to_string_pretty(&doc).unwrap())
    }

    /// Writes a distribution file verbatim.
    pub fn raw_distribution(&self, id: &str, text: &str) -> &Self {
        std::fs::write(
            self.path().join("distributions").join(format!("{id}.json")),
            text,
        )
        .unwrap();
        self
    }

    /// Writes any file relative to the directory.
    pub fn file(&self, rel: &str, contents: &[u8]) -> PathBuf {
        let p = self.path().join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }
}

/// A custom origin item (http-only on `port` of `domain`).
pub fn custom_origin(id: &str, domain: &str, port: u16) -> Value {
    json!({
        "Id": id, "DomainName": domain, "OriginPath": "",
        "CustomHeaders": {"Quantity": 0},
        "CustomOriginConfig": {"HTTPPort": port, "HTTPSPort": 443,
            "OriginProtocolPolicy": "http-only", "OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5},
        "ConnectionAttempts": 1, "ConnectionTimeout": 2
    })
}

/// A cache behaviour (pass `None` as pattern for the default behaviour).
pub fn behavior(pattern: Option<&str>, origin: &str, policy: &str, methods: &[&str]) -> Value {
    let mut b = json!({
        "TargetOriginId": origin,
        "TrustedSigners": {"Enabled": false, "Quantity": 0},
        "TrustedKeyGroups": {"Enabled": false, "Quantity": 0},
        "ViewerProtocolPolicy": policy,
        "AllowedMethods": {"Quantity": methods.len(), "Items": methods,
            "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}},
        "Compress": false,
        "OriginRequestPolicyId": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
        "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    });
    if let Some(p) = pattern {
        b["PathPattern"] = json!(p);
    }
    b
}

/// GET and HEAD.
pub const GET_HEAD: &[&str] = &["GET", "HEAD"];
/// All seven methods.
pub const ALL: &[&str] = &["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"];

/// A distribution config with `origins`, a default behaviour and `behaviors`.
pub fn distribution(
    aliases: &[&str],
    origins: Vec<Value>,
    default: Value,
    behaviors: Vec<Value>,
) -> Value {
    json!({
        "CallerReference": "test",
        "Aliases": if aliases.is_empty() { json!({"Quantity": 0}) } else { json!({"Quantity": aliases.len(), "Items": aliases}) },
        "DefaultRootObject": "",
        "Origins": {"Quantity": origins.len(), "Items": origins},
        "DefaultCacheBehavior": default,
        "CacheBehaviors": if behaviors.is_empty() { json!({"Quantity": 0}) } else { json!({"Quantity": behaviors.len(), "Items": behaviors}) },
        "CustomErrorResponses": {"Quantity": 0},
        "Comment": "",
        "Enabled": true
    })
}

/// A running `gatehouse serve`.
pub struct Gatehouse {
    child: Option<Child>,
    /// First HTTP listener.
    pub http: Option<SocketAddr>,
    /// First HTTPS listener.
    pub https: Option<SocketAddr>,
    /// The admin (`/metrics`) listener, if configured.
    pub admin: Option<SocketAddr>,
    stderr_path: PathBuf,
    _logs: tempfile::TempDir,
}

impl Gatehouse {
    /// Starts `gatehouse serve --config dir` and waits until it listens.
    pub fn start(dir: &Path) -> Self {
        Self::start_with(dir, &[])
    }

    /// Same with extra arguments (e.g. `--watch`).
    pub fn start_with(dir: &Path, extra: &[&str]) -> Self {
        Self::start_with_env(dir, extra, &[])
    }

    /// Same with extra arguments and environment variables for the process.
    pub fn start_with_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let logs = tempfile::tempdir().unwrap();
        let stderr_path = logs.path().join("stderr.log");
        let mut child = Command::new(bin())
            .args(["serve", "--config"])
            .arg(dir)
            .args(extra)
            .env("RUST_LOG", "debug")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (mut http, mut https, mut admin) = (None, None, None);
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    if let Some(a) = line.strip_prefix("gatehouse: listening http ") {
                        http.get_or_insert(a.parse().unwrap());
                    } else if let Some(a) = line.strip_prefix("gatehouse: listening admin ") {
                        admin.get_or_insert(a.parse().unwrap());
                    } else if let Some(a) = line.strip_prefix("gatehouse: listening https ") {
                        https.get_or_insert(a.parse().unwrap());
                    }
                    seen.push(line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if http.is_some() || https.is_some() {
                        break;
                    }
                    if let Ok(Some(status)) = child.try_wait() {
                        let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                        panic!("gatehouse exited early ({status}): {err}");
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        assert!(
            http.is_some() || https.is_some(),
            "gatehouse did not report a listener: {seen:?} {}",
            std::fs::read_to_string(&stderr_path).unwrap_or_default()
        );
        Gatehouse {
            child: Some(child),
            http,
            https,
            admin,
            stderr_path,
            _logs: logs,
        }
    }

    /// `http://127.0.0.1:port`.
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{}", self.http.expect("no http listener"), path)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends a signal (`HUP`, `TERM`…).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut().unwrap();
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return s.code();
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the edge logged so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for Gatehouse {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A response as curl saw it.
#[derive(Debug)]
pub struct CurlResponse {
    /// Status code (0 if curl failed).
    pub status: u16,
    /// Status line's HTTP version (`HTTP/1.1`, `HTTP/2`).
    pub version: String,
    /// Headers in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Raw body bytes.
    pub body: Vec<u8>,
    /// curl's exit code.
    pub exit: i32,
    /// curl's stderr.
    pub stderr: String,
}

impl CurlResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let n = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }
}

/// Runs curl with `args` (plus `-sS`), capturing headers and body separately.
pub fn curl(args: &[&str]) -> CurlResponse {
    let tmp = tempfile::tempdir().unwrap();
    let hdr = tmp.path().join("h");
    let body = tmp.path().join("b");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "30", "-D"])
        .arg(&hdr)
        .arg("-o")
        .arg(&body)
        .args(args)
        .output()
        .expect("curl must be installed");
    let head = std::fs::read_to_string(&hdr).unwrap_or_default();
    // With redirects or 100-continue there may be several blocks; keep the last.
    let block = head
        .trim_end()
        .rsplit("\r\n\r\n")
        .next()
        .unwrap_or("")
        .to_string();
    let mut lines = block.lines();
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.split_whitespace();
    let version = parts.next().unwrap_or("").to_string();
    let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut b = Vec::new();
    if let Ok(mut f) = std::fs::File::open(&body) {
        f.read_to_end(&mut b).unwrap();
    }
    CurlResponse {
        status,
        version,
        headers,
        body: b,
        exit: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// CloudFront's error page, written out from the template in cloudfront.md §1.1 (independent
/// of the edge's own builder, so a change on either side shows).
pub fn expected_error_page(status: u16, reason: &str, request_id: &str) -> String {
    format!(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \"http://www.w3.org/TR/html4/loose.dtd\">\n\
<HTML><HEAD><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=iso-8859-1\">\n\
<TITLE>ERROR: The request could not be satisfied</TITLE>\n\
</HEAD><BODY>\n\
<H1>{status} ERROR</H1>\n\
<H2>The request could not be satisfied.</H2>\n\
<HR noshade size=\"1px\">\n\
{reason}\n\
We can't connect to the server for this app or website at this time. There might be too much traffic or a configuration error. Try again later, or contact the app or website owner.\n\
<BR clear=\"all\">\n\
If you provide content to customers through CloudFront, you can find steps to troubleshoot and help prevent this error by reviewing the CloudFront documentation.\n\
<BR clear=\"all\">\n\
<HR noshade size=\"1px\">\n\
<PRE>\n\
Generated by cloudfront (CloudFront)\n\
Request ID: {request_id}\n\
</PRE>\n\
<ADDRESS>\n\
</ADDRESS>\n\
</BODY></HTML>"
    )
}

/// The nginx-style redirect / status page (CRLF, final CRLF).
pub fn expected_status_page(title: &str) -> String {
    format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>CloudFront</center>\r\n</body>\r\n</html>\r\n"
    )
}

/// A distribution for `www.example.com` with one origin `o` (127.0.0.1:`origin_port`), a
/// default behaviour allowing GET and HEAD over any protocol, and `behaviors`.
pub fn www_distribution(origin_port: u16, behaviors: Vec<Value>) -> Value {
    distribution(
        &["www.example.com"],
        vec![custom_origin("o", "127.0.0.1", origin_port)],
        behavior(None, "o", "allow-all", GET_HEAD),
        behaviors,
    )
}

/// Runs `cmd`, which must succeed; returns its stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `openssl` with `args`, which must succeed; returns its stdout.
pub fn openssl(args: &[&str]) -> String {
    run_ok(Command::new("openssl").args(args))
}

/// Generates a P-256 key pair with openssl into `dir` (`ec.pem`, SEC1, and `ec.pub`); returns
/// the public key's PEM.
pub fn ec_key_pair(dir: &Path) -> String {
    let k = |f: &str| dir.join(f).to_str().unwrap().to_string();
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        &k("ec.pem"),
    ]);
    openssl(&["ec", "-in", &k("ec.pem"), "-pubout", "-out", &k("ec.pub")]);
    std::fs::read_to_string(k("ec.pub")).unwrap()
}

/// Generates a self-signed certificate for `names` into `dir`, returns (cert, key) paths.
pub fn self_signed(dir: &Path, stem: &str, names: &[&str]) -> (PathBuf, PathBuf) {
    let c =
        rcgen::generate_simple_self_signed(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    let cert = dir.join(format!("{stem}.pem"));
    let key = dir.join(format!("{stem}.key"));
    std::fs::write(&cert, c.cert.pem()).unwrap();
    std::fs::write(&key, c.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

/// A response read off a raw TCP connection ([`raw_request`]).
#[derive(Debug)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Headers in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body bytes (de-chunked).
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let n = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }
}

/// Opens a TCP connection to `addr`, writes `bytes` as they are (e.g. a PROXY protocol header
/// followed by an HTTP/1.1 request) and reads one response: up to its `Content-Length`, or to
/// the end of the connection (send `Connection: close`). Everything is bounded by `timeout`.
/// Returns the connection's local address (the viewer's source port) and the response.
pub fn raw_request(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> (SocketAddr, RawResponse) {
    use std::io::Write;
    let deadline = Instant::now() + timeout;
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout).unwrap();
    let local = s.local_addr().unwrap();
    s.write_all(bytes).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = |b: &[u8]| b.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no complete response within {timeout:?}: {:?}",
            String::from_utf8_lossy(&buf)
        );
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                continue
            }
            Err(e) if !buf.is_empty() => {
                eprintln!("raw_request: read ended with {e}");
                break;
            }
            Err(e) => panic!("raw_request: {e}"),
        }
        if let Some(end) = head_end(&buf) {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if len.is_some_and(|n| buf.len() >= end + n) {
                break;
            }
        }
    }
    let end = head_end(&buf)
        .unwrap_or_else(|| panic!("no response head: {:?}", String::from_utf8_lossy(&buf)));
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = buf[end..].to_vec();
    let find = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    if let Some(n) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.truncate(n);
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(p) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = std::str::from_utf8(&rest[..p])
                .ok()
                .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
                .unwrap_or(0);
            if size == 0 || rest.len() < p + 2 + size {
                break;
            }
            out.extend_from_slice(&rest[p + 2..p + 2 + size]);
            rest = &rest[(p + 4 + size).min(rest.len())..];
        }
        body = out;
    }
    (
        local,
        RawResponse {
            status,
            headers,
            body,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Helpers added for tests/viewer.rs: raw sockets, polling, atomic rewrites, one-shot runs.

/// How a raw TCP exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawEnd {
    /// The peer closed the connection (read returned 0).
    Eof,
    /// The read failed (e.g. connection reset).
    Error(std::io::ErrorKind),
    /// Nothing ended the exchange before the timeout: the peer kept the connection open.
    TimedOut,
}

/// What a raw TCP exchange produced.
#[derive(Debug)]
pub struct RawOutcome {
    /// Every byte read.
    pub data: Vec<u8>,
    /// How it ended.
    pub end: RawEnd,
    /// Time from sending the bytes to the end.
    pub elapsed: Duration,
}

impl RawOutcome {
    /// The bytes read, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// Connects to `addr`, sends `bytes` (nothing if empty), then reads until the peer closes,
/// a read fails, or `timeout` passes.
pub fn raw_exchange(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> RawOutcome {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    if !bytes.is_empty() {
        s.write_all(bytes).unwrap();
    }
    let start = Instant::now();
    let deadline = start + timeout;
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break RawEnd::TimedOut;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => break RawEnd::Eof,
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                break RawEnd::TimedOut
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break RawEnd::Error(e.kind()),
        }
    };
    RawOutcome {
        data,
        end,
        elapsed: start.elapsed(),
    }
}

/// Calls `f` every 100 ms until it returns true or `timeout` passes; returns the last result.
pub fn poll_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl ConfigDir {
    /// Replaces a file atomically (write a temporary file, then rename it into place), so a
    /// watcher never reads it half-written.
    pub fn replace_file(&self, rel: &str, contents: &[u8]) {
        let p = self.path().join(rel);
        let tmp = p.with_extension("tmp-replace");
        std::fs::write(&tmp, contents).unwrap();
        std::fs::rename(&tmp, &p).unwrap();
    }

    /// Replaces `distributions/<id>.json` atomically with the get-distribution-config wrapper.
    pub fn replace_distribution(&self, id: &str, config: Value) {
        let doc = json!({"ETag": "ETEST", "DistributionConfig": config});
        self.replace_file(
            &format!("distributions/{id}.json"),
            serde_json::to_string_pretty(&doc).unwrap().as_bytes(),
        );
    }
}

/// What a one-shot run of the gatehouse binary produced.
#[derive(Debug)]
pub struct BinRun {
    /// Exit code; `None` if it was killed (signal, or still running at the timeout).
    pub code: Option<i32>,
    /// Whether it was still running at the timeout (and was killed).
    pub timed_out: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
}

/// Runs the gatehouse binary with `args`, killing it after `timeout`.
pub fn run_bin(args: &[&str], timeout: Duration) -> BinRun {
    let logs = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (logs.path().join("out"), logs.path().join("err"));
    let start = Instant::now();
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let mut timed_out = false;
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if start.elapsed() > timeout {
            timed_out = true;
            let _ = child.kill();
            break child.wait().unwrap().code();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    BinRun {
        code,
        timed_out,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        elapsed: start.elapsed(),
    }
}

/// A PROXY protocol v2 PROXY/TCP header.
pub fn proxy_v2(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    h.push(0x21); // version 2, PROXY
    let mut addrs = Vec::new();
    match (src, dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            h.push(0x11); // TCP over IPv4
            addrs.extend_from_slice(&s.ip().octets());
            addrs.extend_from_slice(&d.ip().octets());
        }
        (SocketAddr::V6(s), SocketAddr::V6(d)) => {
            h.push(0x21); // TCP over IPv6
            addrs.extend_from_slice(&s.ip().octets());
            addrs.extend_from_slice(&d.ip().octets());
        }
        _ => panic!("mixed address families"),
    }
    addrs.extend_from_slice(&src.port().to_be_bytes());
    addrs.extend_from_slice(&dst.port().to_be_bytes());
    h.extend_from_slice(&(addrs.len() as u16).to_be_bytes());
    h.extend_from_slice(&addrs);
    h
}

/// Connects to `addr`, sends `request` as it is and reads one response ([`read_response`]):
/// the connection's local address, the response head as sent on the wire, and the body.
pub fn exchange(addr: SocketAddr, request: &str) -> (SocketAddr, String, Vec<u8>) {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let local = s.local_addr().unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let (head, body) = read_response(&mut s);
    (local, head, body)
}

/// `GET path` from `host` on the kept-alive `s`, with `extra` header lines (each ending in
/// CRLF): the response's status and head.
pub fn keep_alive_get(
    s: &mut std::net::TcpStream,
    host: &str,
    path: &str,
    extra: &str,
) -> (u16, String) {
    use std::io::Write;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n").as_bytes())
        .unwrap();
    let (head, _) = read_response(s);
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head)
}

/// Reads one HTTP/1.1 response (by its Content-Length) from `s`; returns the head as sent on
/// the wire, and the body.
pub fn read_response(s: &mut std::net::TcpStream) -> (String, Vec<u8>) {
    use std::io::Read;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length").then(|| v.trim())
                })
                .unwrap_or_else(|| panic!("no Content-Length: {head}"))
                .parse()
                .unwrap();
            if data.len() >= end + 4 + len {
                assert_eq!(data.len(), end + 4 + len, "more than one response");
                return (head, data[end + 4..].to_vec());
            }
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&data));
        data.extend_from_slice(&buf[..n]);
    }
}

/// A loopback port nothing listens on (bound, then released).
pub fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
