//! AWS WAF logs (`cloudfront.md` §10.3), joined to access logs by request id: for CloudFront,
//! `httpRequest.requestId` is the `x-edge-request-id`, so a 403 the access log only calls
//! `Error` gets the name of the WAF rule that blocked it.

use gatehouse_logs::reader;
use std::collections::HashMap;
use std::path::PathBuf;

/// Terminating rules by request id, from WAF logs.
#[derive(Debug, Default, Clone)]
pub struct WafIndex {
    by_request: HashMap<Vec<u8>, (String, String)>,
    /// Unreadable lines (`file:line: reason`).
    pub problems: Vec<String>,
}

impl WafIndex {
    /// Reads WAF log files (JSON lines, gzip or plain).
    pub fn load(files: &[PathBuf]) -> Self {
        let mut idx = WafIndex::default();
        for f in files {
            let mut problems = Vec::new();
            let mut records = Vec::new();
            let r = reader::read_json(f, |_, m| records.push(m), |e| problems.push(e.to_string()));
            if let Err(e) = r {
                problems.push(e.to_string());
            }
            for m in records {
                let id = m
                    .get("httpRequest")
                    .and_then(|h| h.get("requestId"))
                    .and_then(|v| v.as_str());
                let rule = m.get("terminatingRuleId").and_then(|v| v.as_str());
                let action = m.get("action").and_then(|v| v.as_str());
                if let (Some(id), Some(rule), Some(action)) = (id, rule, action) {
                    idx.by_request.insert(
                        id.as_bytes().to_vec(),
                        (rule.to_string(), action.to_string()),
                    );
                }
            }
            idx.problems.extend(problems);
        }
        idx
    }

    /// The terminating rule of a request the WAF blocked.
    pub fn blocked_by(&self, request_id: &[u8]) -> Option<&str> {
        self.by_request
            .get(request_id)
            .filter(|(_, a)| a == "BLOCK" || a == "CAPTCHA" || a == "CHALLENGE")
            .map(|(r, _)| r.as_str())
    }

    /// The WAF record of a request: `(terminatingRuleId, action)`.
    pub fn get(&self, request_id: &str) -> Option<(&str, &str)> {
        self.by_request
            .get(request_id.as_bytes())
            .map(|(r, a)| (r.as_str(), a.as_str()))
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.by_request.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_request.is_empty()
    }
}
