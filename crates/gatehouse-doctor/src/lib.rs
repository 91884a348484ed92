//! The doctor: why did CloudFront (or Gatehouse) answer 403, and how to fix it.
//!
//! * [`evidence`]: the signals of a response or of pasted text (`curl -i`, a body, the page as
//!   a browser renders it);
//! * [`classify`]: signals (or a log line) → ranked causes from the catalogue, with the one
//!   check that would decide when the signals cannot;
//! * [`advice`]: fixes written against the user's own config;
//! * [`logs`]: many log files → 403s and 5xx grouped by cause;
//! * [`report`]: text and JSON output.

#![warn(missing_docs)]

pub mod advice;
pub mod bucket_policy;
pub mod classify;
pub mod evidence;
pub mod logs;
pub mod report;
pub mod signed;
pub mod waf;

pub use classify::{Candidate, Confidence, Diagnosis};
pub use evidence::Evidence;

/// Diagnoses pasted text: a log line (standard tab-separated, or a Gatehouse JSON line) or a
/// response (`curl -i` output, an XML or HTML body, or the rendered page).
pub fn explain(text: &str) -> Diagnosis {
    let t = text.trim();
    if t.starts_with('{') {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(t) {
            if m.contains_key("sc-status") || m.contains_key("cause") {
                let get = |k: &str| {
                    m.get(k)
                        .and_then(|v| v.as_str())
                        .filter(|v| *v != "-")
                        .map(|v| {
                            String::from_utf8_lossy(&gatehouse_logs::encode::decode(v)).into_owned()
                        })
                };
                return classify::from_log_line(&get);
            }
        }
    }
    if let Some(d) = explain_log_line(t) {
        return d;
    }
    classify::from_response(&Evidence::parse(text))
}

/// A standard log line: 33 tab-separated fields, or the same with runs of spaces when pasted.
/// A line that lost or gained a field in the pasting (redacted, a value split on a space) is
/// still read: the first nine fields (`date` … `sc-status`) from the start and the last twenty
/// (`x-edge-result-type` … `sc-range-end`) from the end.
fn explain_log_line(t: &str) -> Option<Diagnosis> {
    use gatehouse_logs::standard::FIELDS;
    let first = t
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let parts: Vec<&str> = if first.contains('\t') {
        first.split('\t').map(str::trim).collect()
    } else {
        first.split_whitespace().collect()
    };
    let is_date = |s: &str| {
        s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
    };
    const HEAD: usize = 9;
    const TAIL: usize = 20;
    if !parts.first().is_some_and(|p| is_date(p)) || parts.len() < HEAD + TAIL {
        return None;
    }
    let n = FIELDS.len();
    let exact = parts.len() == n;
    let get = |k: &str| {
        let i = FIELDS.iter().position(|f| *f == k)?;
        let v = if exact || i < HEAD {
            parts.get(i)?
        } else if i >= n - TAIL {
            parts.get(parts.len() - (n - i))?
        } else {
            return None;
        };
        (*v != "-")
            .then(|| String::from_utf8_lossy(&gatehouse_logs::encode::decode(v)).into_owned())
    };
    let mut d = classify::from_log_line(&get);
    if !exact {
        d.evidence.push(format!(
            "the line has {} fields, not {n}: read the first {HEAD} from the start and the last {TAIL} from the end",
            parts.len()
        ));
    }
    Some(d)
}
