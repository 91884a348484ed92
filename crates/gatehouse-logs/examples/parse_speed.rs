//! Reader and writer speed of the standard access log, in lines per second.
//!
//! ```text
//! cargo run --release -p gatehouse-logs --example parse_speed -- [--runs R] [--write N] FILE...
//! ```
//!
//! For each FILE (standard log, gzip or plain), `R` runs (default 3) of:
//!
//! * `parse`: [`StandardReader`] over the whole file, reading four fields of every line
//!   (`sc-status` parsed as a number, `cs-uri-stem` URL-decoded, `x-edge-detailed-result-type`
//!   compared, `time-taken` parsed as seconds), as a report over the log would;
//! * `lines`: the floor under that, reading the same input line by line with no parsing
//!   (`reader::open` and `read_until`: file reads, and gunzip for `.gz`).
//!
//! With `--write N` (N > 0), also `R` runs of formatting N records (cycling through 4096
//! generated ones) with `standard::write_line` and with `standard::write_json` into a buffer,
//! of both at once (`standard::write_both`), and of the whole writer ([`LogSink`]) writing N
//! records in the standard and JSON formats to a temporary directory: `sink` is `log` (the
//! request path's part: both lines formatted into a batch) plus `flush` (the writer thread
//! appending the batches to plain files); `gzip` is `shutdown`, which compresses the files
//! (the compressor's part, deferred to idle CPU in the edge), in records per second.
//!
//! Prints a table, then one `RESULT` line per measurement for scripts:
//! `RESULT <what> <file|-> lines=<n> best=<lines/s> median=<lines/s> runs=<lines/s,...>`.

#[path = "support/mod.rs"]
mod support;

use gatehouse_logs::reader::{self, StandardReader};
use gatehouse_logs::sink::{CompressPriority, Formats, LogSink, SinkConfig};
use gatehouse_logs::{standard, LogRecord};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

struct Args {
    runs: usize,
    write: u64,
    files: Vec<PathBuf>,
}

fn parse_args() -> Option<Args> {
    let mut a = Args {
        runs: 3,
        write: 0,
        files: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--runs" => a.runs = it.next()?.parse().ok().filter(|&n| n > 0)?,
            "--write" => a.write = it.next()?.parse().ok()?,
            s if s.starts_with('-') => return None,
            s => a.files.push(PathBuf::from(s)),
        }
    }
    (!a.files.is_empty() || a.write > 0).then_some(a)
}

/// One measurement: lines handled and time taken per run.
struct Measure {
    what: &'static str,
    file: String,
    lines: u64,
    bytes: u64,
    runs: Vec<Duration>,
}

impl Measure {
    fn rates(&self) -> Vec<f64> {
        self.runs
            .iter()
            .map(|d| self.lines as f64 / d.as_secs_f64())
            .collect()
    }

    fn best_median(&self) -> (f64, f64) {
        let mut r = self.rates();
        r.sort_by(f64::total_cmp);
        let median = if r.len() % 2 == 1 {
            r[r.len() / 2]
        } else {
            (r[r.len() / 2 - 1] + r[r.len() / 2]) / 2.0
        };
        (r[r.len() - 1], median)
    }
}

/// What the `parse` run computes, so that nothing is optimised away and runs can be compared.
#[derive(Debug, Default, PartialEq)]
struct Summary {
    lines: u64,
    errors: u64,
    status_sum: u64,
    uri_bytes: u64,
    hits: u64,
    time_taken_ms: u64,
}

fn parse_file(path: &Path) -> Result<Summary, String> {
    let mut rd = StandardReader::open(path).map_err(|e| e.to_string())?;
    let mut s = Summary::default();
    while let Some(line) = rd.next() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                if s.errors < 5 {
                    eprintln!("{e}");
                }
                s.errors += 1;
                continue;
            }
        };
        s.lines += 1;
        s.status_sum += line
            .get("sc-status")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        s.uri_bytes += line.decoded("cs-uri-stem").map_or(0, |v| v.len() as u64);
        if line.get("x-edge-detailed-result-type") == Some("Hit") {
            s.hits += 1;
        }
        if let Some(t) = line.get("time-taken").and_then(|v| v.parse::<f64>().ok()) {
            s.time_taken_ms += (t * 1000.0).round() as u64;
        }
    }
    Ok(s)
}

/// Data lines (not `#`) and uncompressed bytes, reading without parsing.
fn read_lines(path: &Path) -> std::io::Result<(u64, u64)> {
    let mut input = reader::open(path)?;
    let mut buf = Vec::with_capacity(1024);
    let (mut lines, mut bytes) = (0, 0);
    loop {
        buf.clear();
        let n = input.read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok((lines, bytes));
        }
        bytes += n as u64;
        if buf[0] != b'#' {
            lines += 1;
        }
    }
}

fn measure_file(path: &Path, runs: usize) -> Result<Vec<Measure>, String> {
    let name = path.display().to_string();
    let err = |e: std::io::Error| format!("{name}: {e}");
    let mut base = Measure {
        what: "lines",
        file: name.clone(),
        lines: 0,
        bytes: 0,
        runs: Vec::new(),
    };
    let mut parse = Measure {
        what: "parse",
        file: name.clone(),
        lines: 0,
        bytes: 0,
        runs: Vec::new(),
    };
    let mut first: Option<Summary> = None;
    for run in 0..runs {
        let t = Instant::now();
        let (lines, bytes) = read_lines(path).map_err(err)?;
        base.runs.push(t.elapsed());
        base.lines = lines;
        base.bytes = bytes;
        parse.bytes = bytes;

        let t = Instant::now();
        let s = parse_file(path)?;
        parse.runs.push(t.elapsed());
        parse.lines = s.lines + s.errors;
        eprintln!(
            "  run {}: {name}: lines {:.3} s, parse {:.3} s ({} lines, {} errors, {} hits)",
            run + 1,
            base.runs[run].as_secs_f64(),
            parse.runs[run].as_secs_f64(),
            s.lines,
            s.errors,
            s.hits
        );
        match &first {
            None => first = Some(s),
            Some(f) if *f != s => return Err(format!("{name}: runs disagree: {f:?} vs {s:?}")),
            Some(_) => {}
        }
    }
    let s = first.expect("runs > 0");
    if s.lines != base.lines {
        return Err(format!(
            "{name}: the reader returned {} lines, the file has {} data lines",
            s.lines, base.lines
        ));
    }
    eprintln!(
        "  {name}: {} lines, {} malformed, {} hits, status sum {}, decoded uri bytes {}, time-taken {} ms",
        s.lines, s.errors, s.hits, s.status_sum, s.uri_bytes, s.time_taken_ms
    );
    Ok(vec![base, parse])
}

/// `standard::write_both`, the JSON line into a buffer of its own (its bytes not counted).
fn write_both(r: &LogRecord, out: &mut Vec<u8>) {
    thread_local! {
        static JSON: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(2 << 20));
    }
    JSON.with_borrow_mut(|j| {
        standard::write_both(r, out, j);
        if j.len() >= 1 << 20 {
            j.clear();
        }
    });
}

fn measure_format(
    what: &'static str,
    pool: &[LogRecord],
    n: u64,
    runs: usize,
    f: fn(&LogRecord, &mut Vec<u8>),
) -> Measure {
    let mut m = Measure {
        what,
        file: "-".into(),
        lines: n,
        bytes: 0,
        runs: Vec::new(),
    };
    let mut buf = Vec::with_capacity(2 << 20);
    for _ in 0..runs {
        let mut bytes = 0;
        let t = Instant::now();
        for i in 0..n {
            f(&pool[(i % pool.len() as u64) as usize], &mut buf);
            if buf.len() >= 1 << 20 {
                bytes += buf.len() as u64;
                buf.clear();
            }
        }
        m.runs.push(t.elapsed());
        bytes += buf.len() as u64;
        buf.clear();
        m.bytes = bytes;
    }
    m
}

/// The whole writer: `n` records formatted into the sink's batches and written by its writer
/// thread into plain files, in both formats, then the gzip of those files at shutdown (a
/// measure of its own); counted in records (each makes two lines). Logged in rounds of
/// `BATCH` records, each followed by a flush.
fn measure_sink(pool: &[LogRecord], n: u64, runs: usize) -> Result<[Measure; 2], String> {
    const BATCH: u64 = 32_768;
    let mut m = Measure {
        what: "sink",
        file: "-".into(),
        lines: n,
        bytes: 0,
        runs: Vec::new(),
    };
    let mut gz = Measure {
        what: "gzip",
        file: "-".into(),
        lines: n,
        bytes: 0,
        runs: Vec::new(),
    };
    for run in 0..runs {
        let dir = std::env::temp_dir().join(format!(
            "gatehouse-parse-speed-{}-{run}",
            std::process::id()
        ));
        let sink = LogSink::start(SinkConfig {
            directory: dir.clone(),
            formats: Formats {
                standard: true,
                json: true,
            },
            max_file_bytes: 64 * 1024 * 1024,
            flush_interval: Duration::from_millis(1000),
            // One thread logs into one shard: room for a whole round in it.
            capacity: BATCH as usize * 64,
            compress: CompressPriority::Normal,
        })
        .map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut elapsed = Duration::ZERO;
        let mut done = 0;
        while done < n {
            let k = BATCH.min(n - done);
            let t = Instant::now();
            for i in done..done + k {
                sink.log(&pool[(i % pool.len() as u64) as usize]);
            }
            sink.flush();
            elapsed += t.elapsed();
            done += k;
        }
        let t = Instant::now();
        sink.shutdown();
        gz.runs.push(t.elapsed());
        let c = sink.counters();
        let written = c.written.load(std::sync::atomic::Ordering::Relaxed);
        let dropped = c.dropped.load(std::sync::atomic::Ordering::Relaxed);
        let _ = std::fs::remove_dir_all(&dir);
        if dropped != 0 || written != 2 * n {
            return Err(format!(
                "sink: {written} lines written and {dropped} dropped for {n} records in two formats"
            ));
        }
        m.runs.push(elapsed);
    }
    Ok([m, gz])
}

fn main() -> ExitCode {
    let Some(args) = parse_args() else {
        eprintln!("usage: parse_speed [--runs R] [--write N] FILE...   (R defaults to 3)");
        return ExitCode::from(2);
    };
    let mut results = Vec::new();
    for f in &args.files {
        eprintln!("reading {}", f.display());
        match measure_file(f, args.runs) {
            Ok(m) => results.extend(m),
            Err(e) => {
                eprintln!("parse_speed: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if args.write > 0 {
        let mut gen = support::Records::new(7, 50);
        let pool: Vec<LogRecord> = (0..4096).map(|_| gen.next_record()).collect();
        eprintln!("formatting {} records", args.write);
        results.push(measure_format(
            "write_line",
            &pool,
            args.write,
            args.runs,
            standard::write_line,
        ));
        results.push(measure_format(
            "write_json",
            &pool,
            args.write,
            args.runs,
            standard::write_json,
        ));
        results.push(measure_format(
            "write_both",
            &pool,
            args.write,
            args.runs,
            write_both,
        ));
        eprintln!("writing {} records through LogSink", args.write);
        match measure_sink(&pool, args.write, args.runs) {
            Ok(m) => results.extend(m),
            Err(e) => {
                eprintln!("parse_speed: {e}");
                return ExitCode::FAILURE;
            }
        }
    }

    println!(
        "{:<11} {:<40} {:>10} {:>14} {:>14} {:>10}",
        "what", "file", "lines", "best lines/s", "median lines/s", "MB/s (med)"
    );
    for m in &results {
        let (best, median) = m.best_median();
        let mbps = if m.bytes == 0 {
            "-".to_string()
        } else {
            format!("{:.1}", m.bytes as f64 * median / m.lines as f64 / 1e6)
        };
        println!(
            "{:<11} {:<40} {:>10} {:>14.0} {:>14.0} {:>10}",
            m.what, m.file, m.lines, best, median, mbps
        );
    }
    for m in &results {
        let (best, median) = m.best_median();
        let runs: Vec<String> = m.rates().iter().map(|r| format!("{r:.0}")).collect();
        println!(
            "RESULT {} {} lines={} bytes={} best={best:.0} median={median:.0} runs={}",
            m.what,
            m.file,
            m.lines,
            m.bytes,
            runs.join(",")
        );
    }
    ExitCode::SUCCESS
}
