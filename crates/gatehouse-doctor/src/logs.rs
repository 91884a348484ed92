//! `doctor logs`: reads many access-log files (standard — ours or CloudFront's, gzip or plain —
//! and Gatehouse's JSON), in parallel across files, and groups 403s and 5xx by cause with
//! counts, time ranges, top paths, IPs and user agents, and `time-taken` against the usual.

use crate::classify::{self, Confidence, Diagnosis};
use gatehouse_logs::reader::{self, ParseError, StandardReader};
use serde::Serialize;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// One group of refused requests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Group {
    /// The most likely cause id.
    pub cause: String,
    /// How sure.
    pub confidence: Option<Confidence>,
    /// Other candidates when the logs cannot decide.
    pub alternatives: Vec<String>,
    /// Why.
    pub why: String,
    /// What would decide.
    pub next_check: Option<String>,
    /// Requests.
    pub count: u64,
    /// Statuses seen.
    pub statuses: HashMap<String, u64>,
    /// First `date time`.
    pub first: String,
    /// Last `date time`.
    pub last: String,
    /// Requests per hour (`YYYY-MM-DD HH` → count), for the report's chart.
    pub per_hour: HashMap<String, u64>,
    /// Paths.
    pub paths: HashMap<String, u64>,
    /// Viewer IPs.
    pub ips: HashMap<String, u64>,
    /// User agents.
    pub user_agents: HashMap<String, u64>,
    /// Sum of time-taken (seconds).
    pub time_taken_sum: f64,
    /// One request id, to look up.
    pub sample_request_id: String,
}

/// The result of reading the logs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Data lines read.
    pub lines: u64,
    /// Lines that could not be parsed.
    pub bad_lines: u64,
    /// The first problems (file:line: reason).
    pub problems: Vec<String>,
    /// Groups by cause id.
    pub groups: HashMap<String, Group>,
    /// Sum and count of time-taken over every line (the distribution's normal).
    pub time_taken_sum: f64,
    /// Lines with a time-taken.
    pub time_taken_count: u64,
    /// For `--request-id`: every field of that request's line(s).
    pub request: Vec<Vec<(String, String)>>,
}

impl Summary {
    fn merge(&mut self, o: Summary) {
        self.files += o.files;
        self.lines += o.lines;
        self.bad_lines += o.bad_lines;
        for p in o.problems {
            if self.problems.len() < 20 {
                self.problems.push(p);
            }
        }
        self.time_taken_sum += o.time_taken_sum;
        self.time_taken_count += o.time_taken_count;
        self.request.extend(o.request);
        for (k, g) in o.groups {
            let e = self.groups.entry(k).or_default();
            if e.count == 0 {
                *e = g;
                continue;
            }
            e.count += g.count;
            e.time_taken_sum += g.time_taken_sum;
            if g.first < e.first {
                e.first = g.first;
            }
            if g.last > e.last {
                e.last = g.last;
            }
            for (m, n) in [
                (&mut e.statuses, g.statuses),
                (&mut e.per_hour, g.per_hour),
                (&mut e.paths, g.paths),
                (&mut e.ips, g.ips),
                (&mut e.user_agents, g.user_agents),
            ] {
                for (k, v) in n {
                    *m.entry(k).or_default() += v;
                }
            }
        }
    }
}

/// Signals that decide a log line's diagnosis (memoised: lines repeat).
#[derive(Hash, PartialEq, Eq, Clone)]
struct Key {
    status: String,
    detailed: String,
    ctype: String,
    len: String,
    protocol: String,
    cause: String,
}

struct Acc {
    s: Summary,
    memo: HashMap<Key, Diagnosis>,
    request_id: Option<String>,
}

impl Acc {
    fn line(&mut self, get: &dyn Fn(&str) -> Option<String>) {
        self.s.lines += 1;
        let tt: Option<f64> = get("time-taken").and_then(|t| t.parse().ok());
        if let Some(t) = tt {
            self.s.time_taken_sum += t;
            self.s.time_taken_count += 1;
        }
        if let Some(want) = &self.request_id {
            if get("x-edge-request-id").as_deref() == Some(want.as_str()) {
                let fields = gatehouse_logs::standard::FIELDS
                    .iter()
                    .chain(
                        [
                            "cause",
                            "cause-detail",
                            "c-country",
                            "cache-behavior-path-pattern",
                        ]
                        .iter(),
                    )
                    .filter_map(|f| get(f).map(|v| (f.to_string(), v)))
                    .collect();
                self.s.request.push(fields);
            }
        }
        let status = get("sc-status").unwrap_or_default();
        let code: u16 = status.parse().unwrap_or(0);
        if code != 403 && code < 500 {
            return;
        }
        let key = Key {
            status: status.clone(),
            detailed: get("x-edge-detailed-result-type").unwrap_or_default(),
            ctype: get("sc-content-type").unwrap_or_default(),
            len: get("sc-content-len").unwrap_or_default(),
            protocol: get("cs-protocol").unwrap_or_default(),
            cause: get("cause").unwrap_or_default(),
        };
        let d = self
            .memo
            .entry(key)
            .or_insert_with(|| classify::from_log(get))
            .clone();
        let (cause, conf, why) = match d.top() {
            Some(c) => (c.cause.id().to_string(), Some(c.confidence), c.why.clone()),
            None => (
                "unknown".to_string(),
                None,
                "no signal in the log line".to_string(),
            ),
        };
        let g = self.s.groups.entry(cause.clone()).or_default();
        if g.count == 0 {
            g.cause = cause;
            g.confidence = conf;
            g.why = why;
            g.next_check = d.next_check.clone();
            g.alternatives = d
                .candidates
                .iter()
                .skip(1)
                .map(|c| c.cause.id().to_string())
                .collect();
            g.sample_request_id = get("x-edge-request-id").unwrap_or_default();
        }
        g.count += 1;
        *g.statuses.entry(status).or_default() += 1;
        let when = format!(
            "{} {}",
            get("date").unwrap_or_default(),
            get("time").unwrap_or_default()
        );
        if g.first.is_empty() || when < g.first {
            g.first = when.clone();
        }
        if when > g.last {
            g.last = when.clone();
        }
        *g.per_hour
            .entry(when.get(..13).unwrap_or(&when).to_string())
            .or_default() += 1;
        let bump = |m: &mut HashMap<String, u64>, v: Option<String>| {
            if let Some(v) = v {
                if m.len() < 10_000 || m.contains_key(&v) {
                    *m.entry(v).or_default() += 1;
                }
            }
        };
        bump(&mut g.paths, get("cs-uri-stem"));
        bump(&mut g.ips, get("c-ip"));
        bump(&mut g.user_agents, get("cs(User-Agent)"));
        g.time_taken_sum += tt.unwrap_or(0.0);
    }

    fn problem(&mut self, e: ParseError) {
        self.s.bad_lines += 1;
        if self.s.problems.len() < 20 {
            self.s.problems.push(e.to_string());
        }
    }
}

fn is_json(path: &Path) -> bool {
    match reader::open(path) {
        Ok(mut r) => r
            .fill_buf()
            .map(|b| b.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

fn read_file(path: &Path, request_id: Option<String>) -> Summary {
    let mut acc = Acc {
        s: Summary {
            files: 1,
            ..Default::default()
        },
        memo: HashMap::new(),
        request_id,
    };
    if is_json(path) {
        let mut lines = Vec::new();
        let mut errors = Vec::new();
        if let Err(e) = reader::read_json(path, |_, m| lines.push(m), |e| errors.push(e)) {
            acc.problem(e);
        }
        for m in lines {
            let get = |k: &str| {
                m.get(k).and_then(|v| v.as_str()).map(|s| {
                    String::from_utf8_lossy(&gatehouse_logs::encode::decode(s)).into_owned()
                })
            };
            acc.line(&get);
        }
        for e in errors {
            acc.problem(e);
        }
        return acc.s;
    }
    let mut r = match StandardReader::open(path) {
        Ok(r) => r,
        Err(e) => {
            acc.problem(e);
            return acc.s;
        }
    };
    while let Some(line) = r.next() {
        match line {
            Ok(l) => {
                let get = |k: &str| l.text(k);
                acc.line(&get);
            }
            Err(e) => acc.problem(e),
        }
    }
    acc.s
}

/// Reads `files` in parallel (one thread per core) and groups the refusals.
pub fn analyze(files: &[PathBuf], request_id: Option<&str>) -> Summary {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut total = Summary::default();
    let parts: Vec<Summary> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Summary::default();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break };
                        mine.merge(read_file(f, request_id.map(str::to_string)));
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    for p in parts {
        total.merge(p);
    }
    total
}
