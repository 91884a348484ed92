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
pub mod classify;
pub mod evidence;
pub mod logs;
pub mod report;

pub use classify::{Candidate, Confidence, Diagnosis};
pub use evidence::Evidence;

/// Diagnoses pasted text: a log line (standard tab-separated, or a Gatehouse JSON line) or a
/// response (`curl -i` output, an XML or HTML body, or the rendered page).
pub fn explain(text: &str) -> Diagnosis {
    let t = text.trim();
    if t.starts_with('{') {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(t) {
            if m.contains_key("sc-status") || m.contains_key("cause") {
                let get = |k: &str| m.get(k).and_then(|v| v.as_str()).map(str::to_string);
                return classify::from_log(&get);
            }
        }
    }
    if let Some(d) = explain_log_line(t) {
        return d;
    }
    classify::from_response(&Evidence::parse(text))
}

/// A standard log line (33 tab-separated fields, or the same with runs of spaces when pasted).
fn explain_log_line(t: &str) -> Option<Diagnosis> {
    let first = t.lines().find(|l| !l.starts_with('#'))?;
    let parts: Vec<&str> = if first.contains('\t') {
        first.split('\t').collect()
    } else {
        first.split_whitespace().collect()
    };
    if parts.len() != gatehouse_logs::standard::FIELDS.len()
        || !parts[0].chars().all(|c| c.is_ascii_digit() || c == '-')
    {
        return None;
    }
    let get = |k: &str| {
        let i = gatehouse_logs::standard::FIELDS
            .iter()
            .position(|f| *f == k)?;
        let v = parts.get(i)?;
        Some(String::from_utf8_lossy(&gatehouse_logs::encode::decode(v)).into_owned())
    };
    Some(classify::from_log(&get))
}
