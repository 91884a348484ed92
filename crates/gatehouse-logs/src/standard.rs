//! The standard (legacy) access log: W3C extended format, 33 tab-separated fields
//! (`cloudfront.md` §2.1–2.2), and the JSON lines with the same field names plus Gatehouse's
//! `cause`, `cause-detail`, `c-country` and `cache-behavior-path-pattern`.

use crate::encode::push_field;
use crate::record::LogRecord;
use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The 33 fields, in CloudFront's order.
pub const FIELDS: [&str; 33] = [
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
];

/// The two header lines of every standard log file.
pub fn header() -> String {
    format!("#Version: 1.0\n#Fields: {}\n", FIELDS.join(" "))
}

/// `(YYYY-MM-DD, HH:MM:SS)` of a time, UTC.
pub fn date_time(t: SystemTime) -> (String, String) {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let (y, m, d) = civil(secs / 86400);
    let s = secs % 86400;
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
    )
}

/// Civil date of a day number (days since 1970-01-01), Howard Hinnant's algorithm.
pub fn civil(days: u64) -> (i64, u32, u32) {
    let z = days as i64 + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn secs3(d: Duration) -> String {
    format!("{}.{:03}", d.as_secs(), d.subsec_millis())
}

fn opt(out: &mut Vec<u8>, v: Option<&[u8]>) {
    push_field(out, v.unwrap_or(b""));
}

/// The 33 values of a record, each already encoded, in order.
fn values(r: &LogRecord) -> [Vec<u8>; 33] {
    let (date, time) = date_time(r.end);
    let mut v: [Vec<u8>; 33] = std::array::from_fn(|_| Vec::new());
    let s = |x: &str| x.as_bytes().to_vec();
    let enc = |x: Option<&[u8]>| {
        let mut o = Vec::new();
        opt(&mut o, x);
        o
    };
    v[0] = s(&date);
    v[1] = s(&time);
    v[2] = enc(Some(r.edge_location.as_bytes()));
    v[3] = s(&r.sc_bytes.to_string());
    v[4] = s(&r.c_ip.to_string());
    v[5] = enc(Some(r.method.as_bytes()));
    v[6] = enc(Some(r.dist.domain.as_bytes()));
    v[7] = enc(Some(&r.uri_stem));
    v[8] = if r.status == 0 {
        s("000")
    } else {
        s(&r.status.to_string())
    };
    v[9] = enc(r.referer.as_deref());
    v[10] = enc(r.user_agent.as_deref());
    v[11] = enc(r.query.as_deref());
    v[12] = enc(if r.dist.include_cookies {
        r.cookie.as_deref()
    } else {
        None
    });
    v[13] = s(r.result_type);
    v[14] = enc(Some(r.request_id.as_bytes()));
    v[15] = enc(Some(&r.host_header));
    v[16] = s(r.protocol);
    v[17] = s(&r.cs_bytes.to_string());
    v[18] = s(&secs3(r.time_taken));
    v[19] = enc(r.forwarded_for.as_deref().map(str::as_bytes));
    v[20] = enc(r.ssl_protocol.map(str::as_bytes));
    v[21] = enc(r.ssl_cipher.map(str::as_bytes));
    v[22] = s(r.response_result_type);
    v[23] = s(r.protocol_version);
    v[24] = s("-");
    v[25] = s("-");
    v[26] = s(&r.c_port.to_string());
    v[27] = s(&secs3(r.ttfb));
    v[28] = s(r.detailed_result_type);
    v[29] = enc(r.content_type.as_deref().map(str::as_bytes));
    v[30] = match r.content_len {
        Some(n) => s(&n.to_string()),
        None => s("-"),
    };
    match r.range {
        Some((a, b)) => {
            v[31] = s(&a.to_string());
            v[32] = s(&b.to_string());
        }
        None => {
            v[31] = s("-");
            v[32] = s("-");
        }
    }
    v
}

/// Appends the record's standard log line (with its newline) to `out`.
pub fn write_line(r: &LogRecord, out: &mut Vec<u8>) {
    for (i, v) in values(r).iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        out.extend_from_slice(v);
    }
    out.push(b'\n');
}

/// Appends the record's JSON line (with its newline) to `out`: the standard fields (values as
/// in the standard log, so encoded the same way), `timestamp`, `timestamp(ms)`,
/// `distribution-id`, and Gatehouse's `cause`, `cause-detail`, `c-country`,
/// `cache-behavior-path-pattern`.
pub fn write_json(r: &LogRecord, out: &mut Vec<u8>) {
    let mut m = serde_json::Map::with_capacity(42);
    let ms = r
        .end
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as u64;
    m.insert("timestamp".into(), (ms / 1000).to_string().into());
    m.insert("timestamp(ms)".into(), ms.to_string().into());
    m.insert("distribution-id".into(), r.dist.id.to_string().into());
    for (name, v) in FIELDS.iter().zip(values(r)) {
        m.insert(
            (*name).into(),
            String::from_utf8(v).unwrap_or_default().into(),
        );
    }
    let dash = |s: Option<String>| serde_json::Value::String(s.unwrap_or_else(|| "-".into()));
    m.insert(
        "c-country".into(),
        dash(r.country.map(|c| String::from_utf8_lossy(&c).into_owned())),
    );
    m.insert(
        "cache-behavior-path-pattern".into(),
        r.path_pattern.to_string().into(),
    );
    m.insert("cause".into(), dash(r.cause.map(str::to_string)));
    m.insert(
        "cause-detail".into(),
        dash(r.cause_detail.as_deref().map(str::to_string)),
    );
    let _ = serde_json::to_writer(&mut *out, &m);
    let _ = out.write_all(b"\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(18243), (2019, 12, 13));
        assert_eq!(civil(11016), (2000, 2, 29));
        let t = UNIX_EPOCH + Duration::from_secs(1_576_276_586);
        assert_eq!(date_time(t), ("2019-12-13".into(), "22:36:26".into()));
    }

    #[test]
    fn header_lines() {
        let h = header();
        assert!(h.starts_with("#Version: 1.0\n#Fields: date time x-edge-location sc-bytes"));
        assert!(h.ends_with("sc-range-start sc-range-end\n"));
    }
}
