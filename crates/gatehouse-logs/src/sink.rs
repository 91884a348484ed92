//! Writing logs without blocking the request path.
//!
//! Requests hand records to a bounded queue ([`LogSink::log`] never waits: a full queue drops
//! the record and counts it). One writer thread turns them into lines and appends them to
//! `<dir>/<prefix><DistributionId>.YYYY-MM-DD-HH.<unique>.gz` (standard) and
//! `… .json.gz` (JSON), rotated every UTC hour and when a file passes `max_file_bytes`.
//!
//! Every flush (at most `flush_interval` after a line) ends a gzip member, so a file is always
//! readable up to its last flush (gzip files may hold several members). [`LogSink::flush`] and
//! [`LogSink::shutdown`] wait until every queued record is on disk. An unwritable directory or a
//! full disk is logged loudly and counted; records are then dropped, never the edge.

use crate::record::LogRecord;
use crate::standard;
use flate2::write::GzEncoder;
use flate2::Compression;
use rand::Rng;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};

/// Which formats to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// The 33-field standard log.
    pub standard: bool,
    /// JSON lines with causes.
    pub json: bool,
}

/// Writer settings.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// Where files go.
    pub directory: PathBuf,
    /// Formats.
    pub formats: Formats,
    /// Rotate a file when it passes this many (compressed) bytes.
    pub max_file_bytes: u64,
    /// Longest time a line waits before it is flushed.
    pub flush_interval: Duration,
    /// Queue length.
    pub capacity: usize,
}

/// Counters, readable while running (for `/metrics`).
#[derive(Debug, Default)]
pub struct Counters {
    /// Lines written (per format, so a record in two formats counts twice).
    pub written: AtomicU64,
    /// Records dropped (queue full, or a write failed).
    pub dropped: AtomicU64,
    /// Write errors.
    pub errors: AtomicU64,
}

enum Msg {
    Record(Box<LogRecord>),
    Flush(SyncSender<()>),
    Stop(SyncSender<()>),
}

/// The handle requests log through.
pub struct LogSink {
    tx: SyncSender<Msg>,
    counters: Arc<Counters>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl LogSink {
    /// Starts the writer thread. A directory that cannot be created is reported (error log,
    /// `errors` counter) but does not stop the start: the writer tries again for each record
    /// and counts the ones it has to drop meanwhile. Only failing to start the thread is an
    /// error.
    pub fn start(cfg: SinkConfig) -> std::io::Result<Self> {
        let counters = Arc::new(Counters::default());
        if let Err(e) = std::fs::create_dir_all(&cfg.directory) {
            counters.errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, directory = %cfg.directory.display(), "access log directory cannot be created; access log lines will be dropped until it can");
        }
        let (tx, rx) = mpsc::sync_channel(cfg.capacity.max(1));
        let c = counters.clone();
        let thread = std::thread::Builder::new()
            .name("gatehouse-log-writer".into())
            .spawn(move || Writer::new(cfg, c).run(rx))?;
        Ok(LogSink {
            tx,
            counters,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues a record; never blocks. A full queue drops it (counted).
    pub fn log(&self, r: impl Into<Box<LogRecord>>) {
        match self.tx.try_send(Msg::Record(r.into())) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Waits until everything queued so far is written and flushed.
    pub fn flush(&self) {
        let (tx, rx) = mpsc::sync_channel(1);
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.recv();
        }
    }

    /// Writes everything queued, closes the files and stops the writer.
    pub fn shutdown(&self) {
        let (tx, rx) = mpsc::sync_channel(1);
        if self.tx.send(Msg::Stop(tx)).is_ok() {
            let _ = rx.recv();
        }
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
}

/// Lines are collected per file and handed to the compressor this many bytes at a time (and at
/// every flush): one compressor call per line costs more than the compression itself for
/// lines of a few hundred bytes (the miniz_oxide backend also zeroes its 32 KiB output buffer
/// on every call).
const CHUNK: usize = 64 * 1024;

/// After a record wakes the writer up, it lets the queue fill for this long before taking
/// every queued record in one go. Under load this makes one wake-up (a futex call on the
/// request path, two context switches) per pause instead of one per record; an idle writer
/// still sleeps in the queue until the next record.
const BATCH_PAUSE: Duration = Duration::from_millis(1);

struct OpenFile {
    enc: Option<GzEncoder<File>>,
    /// Lines not yet handed to `enc` (at most about [`CHUNK`] bytes).
    pending: Vec<u8>,
    file_bytes: u64,
    hour: u64,
    path: PathBuf,
    dirty: bool,
}

struct Writer {
    cfg: SinkConfig,
    counters: Arc<Counters>,
    files: HashMap<(Arc<str>, bool), OpenFile>,
    line: Vec<u8>,
    last_error_report: Option<Instant>,
}

fn unique_id() -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut r = rand::rng();
    (0..11)
        .map(|_| A[r.random_range(0..A.len())] as char)
        .collect()
}

impl Writer {
    fn new(cfg: SinkConfig, counters: Arc<Counters>) -> Self {
        Writer {
            cfg,
            counters,
            files: HashMap::new(),
            line: Vec::with_capacity(1024),
            last_error_report: None,
        }
    }

    fn run(mut self, rx: Receiver<Msg>) {
        let mut deadline: Option<Instant> = None;
        loop {
            let msg = match deadline {
                Some(d) => rx.recv_timeout(d.saturating_duration_since(Instant::now())),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match msg {
                Ok(msg) => {
                    let record = matches!(msg, Msg::Record(_));
                    if !self.handle(msg, &mut deadline) {
                        return;
                    }
                    if record {
                        // Let records queue up, then take all of them (see BATCH_PAUSE),
                        // flushing on time even if the queue never empties.
                        std::thread::sleep(BATCH_PAUSE);
                        while let Ok(msg) = rx.try_recv() {
                            if !self.handle(msg, &mut deadline) {
                                return;
                            }
                            if deadline.is_some_and(|d| Instant::now() >= d) {
                                self.flush_all();
                                deadline = None;
                            }
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.flush_all();
                    deadline = None;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.close_all();
                    return;
                }
            }
        }
    }

    /// Handles one message; `false` once the writer has stopped.
    fn handle(&mut self, msg: Msg, deadline: &mut Option<Instant>) -> bool {
        match msg {
            Msg::Record(r) => {
                self.write(&r);
                deadline.get_or_insert_with(|| Instant::now() + self.cfg.flush_interval);
                true
            }
            Msg::Flush(done) => {
                self.flush_all();
                *deadline = None;
                let _ = done.send(());
                true
            }
            Msg::Stop(done) => {
                // Everything sent before Stop is already received (one queue, in order).
                self.close_all();
                let _ = done.send(());
                false
            }
        }
    }

    fn report(&mut self, what: &str, e: &std::io::Error) {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        if self
            .last_error_report
            .is_none_or(|t| now.duration_since(t) > Duration::from_secs(10))
        {
            self.last_error_report = Some(now);
            tracing::error!(error = %e, directory = %self.cfg.directory.display(), "access log {what} failed; lines are being dropped");
        }
    }

    fn write(&mut self, r: &LogRecord) {
        let hour = r
            .end
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs()
            / 3600;
        for json in [false, true] {
            let wanted = if json {
                self.cfg.formats.json
            } else {
                self.cfg.formats.standard && r.dist.enabled
            };
            if !wanted {
                continue;
            }
            self.line.clear();
            if json {
                standard::write_json(r, &mut self.line);
            } else {
                standard::write_line(r, &mut self.line);
            }
            let line = std::mem::take(&mut self.line);
            match self.append(r, json, hour, &line) {
                Ok(()) => {
                    self.counters.written.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    self.report("write", &e);
                }
            }
            self.line = line;
        }
    }

    fn append(&mut self, r: &LogRecord, json: bool, hour: u64, line: &[u8]) -> std::io::Result<()> {
        let key = (r.dist.id.clone(), json);
        let rotate = match self.files.get(&key) {
            Some(f) => f.hour != hour || f.file_bytes >= self.cfg.max_file_bytes,
            None => true,
        };
        if rotate {
            if let Some(mut old) = self.files.remove(&key) {
                finish(&mut old)?;
            }
            let (date, _) = standard::date_time(UNIX_EPOCH + Duration::from_secs(hour * 3600));
            let name = format!(
                "{}{}.{}-{:02}.{}{}",
                r.dist.prefix,
                r.dist.id,
                date,
                hour % 24,
                unique_id(),
                if json { ".json.gz" } else { ".gz" }
            );
            let path = self.cfg.directory.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let file = OpenOptions::new().create(true).append(true).open(&path)?;
            let mut f = OpenFile {
                enc: Some(GzEncoder::new(file, Compression::fast())),
                pending: Vec::with_capacity(CHUNK + 2048),
                file_bytes: 0,
                hour,
                path,
                dirty: false,
            };
            if !json {
                f.pending.extend_from_slice(standard::header().as_bytes());
            }
            self.files.insert(key.clone(), f);
        }
        let f = self.files.get_mut(&key).expect("inserted above");
        if f.enc.is_none() {
            // The first line after a flush: a new gzip member. Reopening here (not when the
            // lines are handed over) makes a file that went away fail this line.
            let file = OpenOptions::new().append(true).open(&f.path)?;
            f.enc = Some(GzEncoder::new(file, Compression::fast()));
        }
        f.pending.extend_from_slice(line);
        f.dirty = true;
        if f.pending.len() >= CHUNK {
            compress_pending(f)?;
        }
        Ok(())
    }

    fn flush_all(&mut self) {
        let mut errors = Vec::new();
        for f in self.files.values_mut() {
            if f.dirty {
                if let Err(e) = finish(f) {
                    errors.push(e);
                }
            }
        }
        for e in errors {
            self.report("flush", &e);
        }
    }

    fn close_all(&mut self) {
        self.flush_all();
        self.files.clear();
    }
}

/// Hands the collected lines to the compressor (dropped if the file is not open).
fn compress_pending(f: &mut OpenFile) -> std::io::Result<()> {
    let r = match &mut f.enc {
        Some(enc) if !f.pending.is_empty() => enc.write_all(&f.pending),
        _ => Ok(()),
    };
    f.pending.clear();
    r
}

/// Ends the current gzip member and syncs it to the file.
fn finish(f: &mut OpenFile) -> std::io::Result<()> {
    let compressed = compress_pending(f);
    if let Some(enc) = f.enc.take() {
        let mut file = enc.finish()?;
        file.flush()?;
        f.file_bytes = file.metadata().map(|m| m.len()).unwrap_or(f.file_bytes);
    }
    f.dirty = false;
    compressed
}
