//! Prometheus metrics on the admin listener (`[admin] listen`), never on the viewer listener.
//!
//! Per distribution: requests by status and cause, and an origin latency histogram; edge-wide:
//! access-log lines written and dropped. Counting is lock-free (fixed arrays of atomics); the
//! registry lock is taken only when a config is compiled and when `/metrics` is read. Counters
//! survive reloads (they are kept by distribution id).

use gatehouse_model::Cause;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The statuses counted separately; anything else is counted under its class (`2xx`…).
const STATUSES: [u16; 19] = [
    200, 204, 206, 301, 302, 304, 307, 400, 403, 404, 405, 413, 416, 421, 500, 502, 503, 504, 0,
];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
/// Histogram bounds in seconds.
const BOUNDS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn status_slot(status: u16) -> usize {
    match STATUSES.iter().position(|&s| s == status) {
        Some(i) => i,
        None => STATUSES.len() + (status / 100).clamp(1, 5) as usize - 1,
    }
}

fn status_label(slot: usize) -> String {
    if slot < STATUSES.len() {
        format!("{:03}", STATUSES[slot])
    } else {
        CLASSES[slot - STATUSES.len()].to_string()
    }
}

const NSTATUS: usize = STATUSES.len() + CLASSES.len();

/// One distribution's counters.
pub struct DistMetrics {
    /// `[cause index + 1 (0 = none)][status slot]`.
    requests: Vec<[AtomicU64; NSTATUS]>,
    latency_buckets: [AtomicU64; BOUNDS.len() + 1],
    latency_sum_us: AtomicU64,
    latency_count: AtomicU64,
}

impl DistMetrics {
    fn new() -> Self {
        DistMetrics {
            requests: (0..=Cause::ALL.len())
                .map(|_| std::array::from_fn(|_| AtomicU64::new(0)))
                .collect(),
            latency_buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            latency_sum_us: AtomicU64::new(0),
            latency_count: AtomicU64::new(0),
        }
    }

    /// Counts one answered request.
    pub fn request(&self, status: u16, cause: Option<Cause>) {
        let c = cause.map_or(0, |c| {
            Cause::ALL.iter().position(|x| *x == c).map_or(0, |i| i + 1)
        });
        self.requests[c][status_slot(status)].fetch_add(1, Ordering::Relaxed);
    }

    /// Records how long the origin took to start its response.
    pub fn origin_latency(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = BOUNDS.iter().position(|&b| s <= b).unwrap_or(BOUNDS.len());
        self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
    }
}

/// All distributions' counters, by id.
#[derive(Default)]
pub struct Metrics {
    dists: Mutex<HashMap<String, Arc<DistMetrics>>>,
}

impl Metrics {
    /// The counters of distribution `id` (created on first use).
    pub fn distribution(&self, id: &str) -> Arc<DistMetrics> {
        self.dists
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.to_string())
            .or_insert_with(|| Arc::new(DistMetrics::new()))
            .clone()
    }

    /// The Prometheus text exposition.
    pub fn render(&self, logs: Option<&gatehouse_logs::sink::Counters>) -> String {
        let dists: Vec<(String, Arc<DistMetrics>)> = {
            let m = self.dists.lock().unwrap_or_else(|p| p.into_inner());
            let mut v: Vec<_> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP gatehouse_requests_total Requests answered, by distribution, status and cause (\"none\" for the object).\n# TYPE gatehouse_requests_total counter\n");
        for (id, d) in &dists {
            for (ci, row) in d.requests.iter().enumerate() {
                let cause = if ci == 0 {
                    "none"
                } else {
                    Cause::ALL[ci - 1].id()
                };
                for (si, n) in row.iter().enumerate() {
                    let n = n.load(Ordering::Relaxed);
                    if n > 0 {
                        let _ = writeln!(
                            out,
                            "gatehouse_requests_total{{distribution=\"{id}\",status=\"{}\",cause=\"{cause}\"}} {n}",
                            status_label(si)
                        );
                    }
                }
            }
        }
        out.push_str("# HELP gatehouse_origin_latency_seconds Time until the origin's response head arrived.\n# TYPE gatehouse_origin_latency_seconds histogram\n");
        for (id, d) in &dists {
            let mut cumulative = 0;
            for (i, b) in d.latency_buckets.iter().enumerate() {
                cumulative += b.load(Ordering::Relaxed);
                let le = BOUNDS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
                let _ = writeln!(
                    out,
                    "gatehouse_origin_latency_seconds_bucket{{distribution=\"{id}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "gatehouse_origin_latency_seconds_sum{{distribution=\"{id}\"}} {}",
                d.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "gatehouse_origin_latency_seconds_count{{distribution=\"{id}\"}} {}",
                d.latency_count.load(Ordering::Relaxed)
            );
        }
        if let Some(c) = logs {
            let unlabelled: [(&str, &str, &str, &AtomicU64); 5] = [
                (
                    "gatehouse_log_lines_written_total",
                    "counter",
                    "Access-log lines written (standard and JSON).",
                    &c.written,
                ),
                (
                    "gatehouse_log_lines_dropped_total",
                    "counter",
                    "Access-log lines dropped (too many waiting, or a write failed).",
                    &c.dropped,
                ),
                (
                    "gatehouse_log_write_errors_total",
                    "counter",
                    "Access-log write, rotation or compression errors.",
                    &c.errors,
                ),
                (
                    "gatehouse_log_files_compressed_total",
                    "counter",
                    "Rotated access-log files gzipped.",
                    &c.compressed,
                ),
                (
                    "gatehouse_log_compress_backlog_bytes",
                    "gauge",
                    "Bytes of rotated plain access-log files waiting for gzip.",
                    &c.compress_backlog_bytes,
                ),
            ];
            for (name, kind, help, v) in unlabelled {
                let _ = writeln!(
                    out,
                    "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                    v.load(Ordering::Relaxed)
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        let d = m.distribution("E1");
        d.request(200, None);
        d.request(403, Some(Cause::GeoBlocked));
        d.request(403, Some(Cause::GeoBlocked));
        d.request(418, None);
        d.origin_latency(Duration::from_millis(30));
        let text = m.render(None);
        assert!(text.contains(
            "gatehouse_requests_total{distribution=\"E1\",status=\"200\",cause=\"none\"} 1"
        ));
        assert!(text.contains(
            "gatehouse_requests_total{distribution=\"E1\",status=\"403\",cause=\"geo-blocked\"} 2"
        ));
        assert!(text.contains("status=\"4xx\",cause=\"none\"} 1"));
        assert!(text.contains(
            "gatehouse_origin_latency_seconds_bucket{distribution=\"E1\",le=\"0.025\"} 0"
        ));
        assert!(text.contains(
            "gatehouse_origin_latency_seconds_bucket{distribution=\"E1\",le=\"0.05\"} 1"
        ));
        assert!(text.contains("gatehouse_origin_latency_seconds_count{distribution=\"E1\"} 1"));
    }
}
