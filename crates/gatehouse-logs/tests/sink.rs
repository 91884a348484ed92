//! The writer: plain files while open, gzip at rotation and shutdown, leftovers of a previous
//! run compressed at start (but not files another process holds), a removed file replaced.

use gatehouse_logs::reader::{self, StandardReader};
use gatehouse_logs::sink::{
    compressed_name, file_format, CompressPriority, Formats, LogFormat, LogSink, SinkConfig,
};
use gatehouse_logs::{DistLog, LogRecord};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

fn dist(id: &str, prefix: &str) -> Arc<DistLog> {
    Arc::new(DistLog {
        id: Arc::from(id),
        domain: Arc::from("d111111abcdef8.cloudfront.net"),
        enabled: true,
        prefix: Arc::from(prefix),
        include_cookies: false,
    })
}

fn record(d: &Arc<DistLog>, n: usize) -> LogRecord {
    LogRecord {
        dist: d.clone(),
        end: SystemTime::now(),
        edge_location: Arc::from("GH1"),
        sc_bytes: 1234,
        c_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)),
        method: "GET".into(),
        uri_stem: format!("/obj/{n}").into_bytes().into(),
        status: 200,
        referer: None,
        user_agent: Some(b"curl/8.5.0".to_vec().into()),
        query: Some(format!("n={n}").into_bytes().into()),
        cookie: None,
        result_type: "Miss",
        request_id: format!("req-{n:06}").into(),
        host_header: b"www.example.com".to_vec().into(),
        protocol: "http",
        cs_bytes: 80,
        time_taken: Duration::from_millis(3),
        forwarded_for: None,
        ssl_protocol: None,
        ssl_cipher: None,
        response_result_type: "Miss",
        protocol_version: "HTTP/1.1",
        c_port: 40000,
        ttfb: Duration::from_millis(2),
        detailed_result_type: "Miss",
        content_type: Some("text/plain".into()),
        content_len: Some(1024),
        range: None,
        cause: None,
        cause_detail: None,
        country: None,
        path_pattern: Arc::from("*"),
    }
}

fn config(dir: &Path, max_file_bytes: u64) -> SinkConfig {
    SinkConfig {
        directory: dir.to_path_buf(),
        formats: Formats {
            standard: true,
            json: true,
        },
        max_file_bytes,
        flush_interval: Duration::from_millis(50),
        capacity: 100_000,
        compress: CompressPriority::Normal,
    }
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// The request ids in the standard (`json` false) or JSON files under `dir`.
fn ids(dir: &Path, json: bool) -> Vec<String> {
    let mut ids = Vec::new();
    for f in files(dir) {
        let p = dir.join(&f);
        let want = if json {
            LogFormat::Json
        } else {
            LogFormat::Standard
        };
        if file_format(&f) != Some(want) {
            continue;
        }
        if json {
            reader::read_json(
                &p,
                |_, m| ids.push(m["x-edge-request-id"].as_str().unwrap().to_string()),
                |e| panic!("{e}"),
            )
            .unwrap();
        } else {
            let mut r = StandardReader::open(&p).unwrap();
            while let Some(l) = r.next() {
                ids.push(l.unwrap().get("x-edge-request-id").unwrap().to_string());
            }
        }
    }
    ids.sort();
    ids
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn plain_while_open_gzip_once_closed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dist("E1SINK", "cf/");
    let sink = LogSink::start(config(dir.path(), 1 << 30)).unwrap();
    for n in 0..100 {
        sink.log(&record(&d, n));
    }
    sink.flush();
    let open = files(dir.path());
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(open
        .iter()
        .any(|f| f.starts_with("cf/E1SINK.") && f.ends_with(".log")));
    assert!(open
        .iter()
        .any(|f| f.starts_with("cf/E1SINK.") && f.ends_with(".json")));
    let want: Vec<String> = (0..100).map(|n| format!("req-{n:06}")).collect();
    assert_eq!(
        ids(dir.path(), false),
        want,
        "standard lines readable while open"
    );
    assert_eq!(
        ids(dir.path(), true),
        want,
        "JSON lines readable while open"
    );

    sink.shutdown();
    let closed = files(dir.path());
    assert_eq!(closed.len(), 2, "{closed:?}");
    for f in &open {
        let gz = compressed_name(Path::new(f)).unwrap();
        assert!(
            closed.contains(&gz.to_string_lossy().into_owned()),
            "{f} → {gz:?}: {closed:?}"
        );
    }
    assert_eq!(ids(dir.path(), false), want);
    assert_eq!(ids(dir.path(), true), want);
    let c = sink.counters();
    assert_eq!(c.written.load(Ordering::Relaxed), 200);
    assert_eq!(c.dropped.load(Ordering::Relaxed), 0);
    assert_eq!(c.compressed.load(Ordering::Relaxed), 2);
    assert_eq!(c.compress_backlog_bytes.load(Ordering::Relaxed), 0);

    // After the shutdown a line has nowhere to go: dropped, and counted (two formats).
    sink.log(&record(&d, 100));
    assert_eq!(c.dropped.load(Ordering::Relaxed), 2);
    assert_eq!(files(dir.path()), closed);
}

#[test]
fn full_files_rotate_and_are_compressed_while_running() {
    let dir = tempfile::tempdir().unwrap();
    let d = dist("E2SINK", "");
    let sink = LogSink::start(config(dir.path(), 4096)).unwrap();
    for n in 0..300 {
        sink.log(&record(&d, n));
        if n % 10 == 9 {
            // One batch per flush: files pass 4096 bytes and rotate every few batches.
            sink.flush();
        }
    }
    sink.flush();
    let c = sink.counters();
    wait_for("rotated files compressed", || {
        c.compressed.load(Ordering::Relaxed) >= 4
            && c.compress_backlog_bytes.load(Ordering::Relaxed) == 0
    });
    let fs = files(dir.path());
    let gz_std = fs
        .iter()
        .filter(|f| f.ends_with(".gz") && !f.ends_with(".json.gz"))
        .count();
    let gz_json = fs.iter().filter(|f| f.ends_with(".json.gz")).count();
    assert!(gz_std >= 2 && gz_json >= 2, "{fs:?}");
    assert!(fs.iter().all(|f| !f.ends_with(".tmp")), "{fs:?}");
    // Every standard file, rotated or open, starts with the two header lines.
    for f in fs.iter().filter(|f| !f.contains(".json")) {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut reader::open(&dir.path().join(f)).unwrap(), &mut text)
            .unwrap();
        assert!(
            text.starts_with(b"#Version: 1.0\n#Fields: date time "),
            "{f}"
        );
    }
    let want: Vec<String> = (0..300).map(|n| format!("req-{n:06}")).collect();
    assert_eq!(ids(dir.path(), false), want);
    assert_eq!(ids(dir.path(), true), want);
    sink.shutdown();
    assert_eq!(ids(dir.path(), false), want);
    assert!(files(dir.path()).iter().all(|f| f.ends_with(".gz")));
}

#[cfg(unix)]
#[test]
fn leftovers_are_compressed_at_start_unless_another_process_holds_them() {
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    let d = dist("E3SINK", "");
    let mut line = Vec::new();
    gatehouse_logs::standard::write_line(&record(&d, 1), &mut line);
    let text = [gatehouse_logs::standard::header().into_bytes(), line].concat();
    let left: PathBuf = dir.path().join("E3SINK.2026-01-02-03.LEFTOVER001.log");
    let held: PathBuf = dir.path().join("E3SINK.2026-01-02-03.INUSE000001.log");
    let other: PathBuf = dir.path().join("notes.log");
    for p in [&left, &held, &other] {
        std::fs::write(p, &text).unwrap();
    }
    // Another process's writer holds its open file locked.
    let holder = std::fs::File::open(&held).unwrap();
    // SAFETY: flock on a descriptor the test owns.
    assert_eq!(
        unsafe { libc::flock(holder.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );

    let sink = LogSink::start(config(dir.path(), 1 << 30)).unwrap();
    let c = sink.counters();
    wait_for("the leftover compressed", || {
        c.compressed.load(Ordering::Relaxed) == 1
    });
    let fs = files(dir.path());
    assert!(
        fs.contains(&"E3SINK.2026-01-02-03.LEFTOVER001.gz".to_string()),
        "{fs:?}"
    );
    assert!(!left.exists());
    assert!(
        held.exists(),
        "a file another process holds is left alone: {fs:?}"
    );
    assert!(
        other.exists(),
        "a file that is not ours is left alone: {fs:?}"
    );
    let mut gz_text = Vec::new();
    std::io::Read::read_to_end(
        &mut reader::open(&dir.path().join("E3SINK.2026-01-02-03.LEFTOVER001.gz")).unwrap(),
        &mut gz_text,
    )
    .unwrap();
    assert_eq!(
        gz_text, text,
        "the compressed file holds the plain one's bytes"
    );
    drop(holder);
    sink.shutdown();
    assert_eq!(c.errors.load(Ordering::Relaxed), 0);
}

#[test]
fn a_removed_open_file_is_replaced_not_written_into_the_void() {
    let dir = tempfile::tempdir().unwrap();
    let d = dist("E4SINK", "");
    let mut cfg = config(dir.path(), 1 << 30);
    cfg.formats.json = false;
    let sink = LogSink::start(cfg).unwrap();
    sink.log(&record(&d, 1));
    sink.flush();
    let first = files(dir.path());
    assert_eq!(first.len(), 1, "{first:?}");
    std::fs::remove_file(dir.path().join(&first[0])).unwrap();
    sink.log(&record(&d, 2));
    sink.flush();
    let second = files(dir.path());
    assert_eq!(second.len(), 1, "a new file: {second:?}");
    assert_ne!(second, first);
    assert_eq!(ids(dir.path(), false), vec!["req-000002".to_string()]);
    sink.shutdown();
    assert_eq!(sink.counters().dropped.load(Ordering::Relaxed), 0);
}

#[test]
fn flush_after_shutdown_returns() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(LogSink::start(config(dir.path(), 1 << 30)).unwrap());
    sink.log(&record(&dist("E5SINK", ""), 0));
    sink.shutdown();
    let (tx, rx) = std::sync::mpsc::channel();
    let s = sink.clone();
    std::thread::spawn(move || {
        s.flush();
        let _ = tx.send(());
    });
    assert!(
        rx.recv_timeout(Duration::from_secs(10)).is_ok(),
        "flush after shutdown hangs"
    );
    assert_eq!(ids(dir.path(), false).len(), 1);
}

#[test]
fn lines_past_the_capacity_are_dropped_and_counted_then_room_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dist("E4SINK", "");
    let mut cfg = config(dir.path(), 1 << 30);
    cfg.capacity = 4;
    // No timed drain during the test: only `flush` empties the batches.
    cfg.flush_interval = Duration::from_secs(3600);
    let sink = LogSink::start(cfg).unwrap();
    for n in 0..20 {
        sink.log(&record(&d, n));
    }
    sink.flush();
    let c = sink.counters();
    let written = c.written.load(Ordering::Relaxed);
    let dropped = c.dropped.load(Ordering::Relaxed);
    assert_eq!(
        written + dropped,
        40,
        "every line written or counted as dropped"
    );
    // One thread fills one shard, which holds its share of the 4 (at least one record).
    assert!((2..=8).contains(&written), "written {written}");
    assert_eq!(ids(dir.path(), false).len() as u64 * 2, written);
    assert_eq!(ids(dir.path(), true).len() as u64 * 2, written);

    // Once the writer took the batches there is room again.
    sink.log(&record(&d, 20));
    sink.flush();
    assert_eq!(c.written.load(Ordering::Relaxed), written + 2);
    assert_eq!(c.dropped.load(Ordering::Relaxed), dropped);
}

#[test]
fn one_file_per_hour_and_format_when_shards_interleave_hours() {
    let dir = tempfile::tempdir().unwrap();
    let d = dist("E5SINK", "");
    let mut cfg = config(dir.path(), 1 << 30);
    cfg.flush_interval = Duration::from_secs(3600);
    let sink = Arc::new(LogSink::start(cfg).unwrap());
    // Two past hours, 2024-01-01 10:xx and 11:xx UTC, logged in turn by two threads (two
    // shards on a machine with two CPUs or more): the writer meets hour 10, 11, 10, 11.
    let t10 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_103_200);
    let t11 = t10 + Duration::from_secs(3600);
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let (sink, d) = (sink.clone(), d.clone());
            std::thread::spawn(move || {
                for n in 0..10 {
                    let mut r = record(&d, t * 100 + n);
                    r.end = if n % 2 == 0 { t10 } else { t11 };
                    sink.log(&r);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    sink.shutdown();
    let all = files(dir.path());
    for (hour, json) in [("10", false), ("10", true), ("11", false), ("11", true)] {
        let name = format!("E5SINK.2024-01-01-{hour}.");
        let n = all
            .iter()
            .filter(|f| f.starts_with(&name) && f.ends_with(".json.gz") == json)
            .count();
        assert_eq!(n, 1, "hour {hour}, json {json}: {all:?}");
    }
    assert_eq!(all.len(), 4, "{all:?}");
    assert_eq!(ids(dir.path(), false).len(), 20);
    assert_eq!(ids(dir.path(), true).len(), 20);
}
