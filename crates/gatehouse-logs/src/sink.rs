//! Writing logs without slowing the request path.
//!
//! A request formats its record's lines itself ([`LogSink::log`]), straight into one of a few
//! in-memory batches (one lock per shard, held for the formatting only; no I/O, no waiting),
//! from a borrowed record: no owned copy of it, no queue, no wake-up per record, no memory
//! shared by all requests. The batches are bounded: past `capacity` records waiting (split
//! evenly between the shards, checked under the shard's lock), lines are dropped and counted.
//!
//! One writer thread takes the batches every `flush_interval` (sooner once a shard holds
//! [`BATCH_BYTES`]) and appends them to plain-text files, one per distribution, format and
//! UTC hour:
//! `<dir>/<prefix><DistributionId>.YYYY-MM-DD-HH.<unique>.log` (standard) and `… .json`
//! (JSON). A file is rotated when its UTC hour ends (even with no new line) and when it
//! passes `max_file_bytes`; a rotated file is compressed by the compressor thread into
//! CloudFront's name, `….gz` / `….json.gz`, and the plain file removed.
//!
//! The compressor runs at idle CPU priority by default (`SCHED_IDLE` on Linux): gzip costs
//! more CPU than everything else about a log line, and deferring it to spare CPU keeps it off
//! a busy edge's request path. On a machine that is never idle the plain files wait (counted
//! in `compress_backlog_bytes`); [`CompressPriority::Normal`] compresses at once instead.
//!
//! [`LogSink::flush`] returns once every line logged before it is in its file;
//! [`LogSink::shutdown`] also closes and compresses every open file. Open files are locked
//! (`flock`), so a start that finds plain files left by a crash compresses them, but not
//! those another running Gatehouse is still writing. An unwritable directory or a full disk
//! is logged loudly and counted; lines are then dropped, never the edge.

use crate::record::AsRecord;
use crate::standard;
use flate2::write::GzEncoder;
use flate2::Compression;
use rand::Rng;
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which formats to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// The 33-field standard log.
    pub standard: bool,
    /// JSON lines with causes.
    pub json: bool,
}

/// The CPU priority of the compressor thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CompressPriority {
    /// Only spare CPU (`SCHED_IDLE` on Linux; elsewhere the same as `Normal`): gzip never
    /// takes CPU from requests, and rotated files wait while the machine is busy.
    #[default]
    Idle,
    /// The same priority as the edge: files are compressed as soon as they are rotated.
    Normal,
}

/// Writer settings.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// Where files go.
    pub directory: PathBuf,
    /// Formats.
    pub formats: Formats,
    /// Rotate a file when it passes this many (uncompressed) bytes.
    pub max_file_bytes: u64,
    /// Longest time a line waits before it is written to its file.
    pub flush_interval: Duration,
    /// Records that may wait for the writer (split evenly between the shards); beyond this
    /// their lines are dropped.
    pub capacity: usize,
    /// The compressor's CPU priority.
    pub compress: CompressPriority,
}

/// Counters, readable while running (for `/metrics`).
#[derive(Debug, Default)]
pub struct Counters {
    /// Lines written (per format, so a record in two formats counts twice).
    pub written: AtomicU64,
    /// Lines dropped (too many waiting, or a write failed).
    pub dropped: AtomicU64,
    /// Write, rotation and compression errors.
    pub errors: AtomicU64,
    /// Rotated files compressed.
    pub compressed: AtomicU64,
    /// Bytes of rotated plain files not compressed yet (waiting for the compressor, or being
    /// compressed).
    pub compress_backlog_bytes: AtomicU64,
}

/// A shard's batches are handed to the writer early once they hold this many bytes.
pub const BATCH_BYTES: usize = 128 * 1024;

/// The capacity a new batch buffer starts with. Buffers the writer has emptied are reused
/// (see [`POOL_MAX_CAPACITY`]), so under steady load they keep the size they grew to and
/// requests do not grow (copy) them; with many distributions, quiet ones stay small.
const BATCH_CAPACITY: usize = 32 * 1024;

/// Emptied buffers up to this capacity go back to the pool; larger ones are freed.
const POOL_MAX_CAPACITY: usize = 1024 * 1024;

/// The lines of one distribution and hour from one shard: each record has a line in each
/// buffer of a format written for the distribution (an unused buffer stays unallocated).
struct Batch {
    dist: Arc<crate::record::DistLog>,
    hour: u64,
    standard: Vec<u8>,
    json: Vec<u8>,
    records: u64,
}

/// Batches filled by the requests that map to this shard.
#[derive(Default)]
struct Shard {
    batches: Vec<Batch>,
    bytes: usize,
    records: usize,
}

#[derive(Default)]
struct Mailbox {
    /// A shard passed [`BATCH_BYTES`].
    full: bool,
    flushes: Vec<SyncSender<()>>,
    stop: Option<SyncSender<()>>,
    /// The writer has stopped: nothing will answer a flush.
    stopped: bool,
}

/// What requests and the writer share.
struct Shared {
    formats: Formats,
    shards: Box<[Mutex<Shard>]>,
    /// Records one shard holds at most; past it, lines are dropped.
    shard_capacity: usize,
    counters: Arc<Counters>,
    mailbox: Mutex<Mailbox>,
    bell: Condvar,
    /// Set when a request rang the bell for a full shard, until the writer takes the shards.
    ringing: AtomicBool,
    /// Emptied batch buffers, for reuse.
    free: Mutex<Vec<Vec<u8>>>,
    /// Set by [`LogSink::shutdown`]: later lines are dropped (and counted). Read under a
    /// shard's lock, so a line is either in a shard before the writer's last drain of it or
    /// dropped.
    closed: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

thread_local! {
    /// This thread's shard (modulo a sink's shard count), given out in turn.
    static SHARD: Cell<Option<usize>> = const { Cell::new(None) };
}

fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    SHARD.with(|s| match s.get() {
        Some(i) => i,
        None => {
            let i = NEXT.fetch_add(1, Ordering::Relaxed);
            s.set(Some(i));
            i
        }
    })
}

fn hour_of(t: SystemTime) -> u64 {
    standard::epoch_secs(t) / 3600
}

/// A batch buffer: an emptied one from the pool, or a new one.
fn pooled(free: &Mutex<Vec<Vec<u8>>>) -> Vec<u8> {
    lock(free)
        .pop()
        .unwrap_or_else(|| Vec::with_capacity(BATCH_CAPACITY))
}

impl Shard {
    /// The batch for (`dist`, `hour`), added if missing, with a buffer for each format asked.
    fn batch(
        &mut self,
        free: &Mutex<Vec<Vec<u8>>>,
        dist: &Arc<crate::record::DistLog>,
        hour: u64,
        formats: Formats,
    ) -> &mut Batch {
        let i = match self
            .batches
            .iter()
            .position(|b| b.hour == hour && Arc::ptr_eq(&b.dist, dist))
        {
            Some(i) => i,
            None => {
                self.batches.push(Batch {
                    dist: dist.clone(),
                    hour,
                    standard: Vec::new(),
                    json: Vec::new(),
                    records: 0,
                });
                self.batches.len() - 1
            }
        };
        let b = &mut self.batches[i];
        if formats.standard && b.standard.capacity() == 0 {
            b.standard = pooled(free);
        }
        if formats.json && b.json.capacity() == 0 {
            b.json = pooled(free);
        }
        b
    }
}

/// The handle requests log through.
pub struct LogSink {
    shared: Arc<Shared>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    compressor: Arc<Compressor>,
    compressor_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl LogSink {
    /// Starts the writer and compressor threads, and queues for compression the plain files a
    /// previous run left (not those another running process holds). A directory that cannot
    /// be created is reported (error log, `errors` counter) but does not stop the start: the
    /// writer tries again for each batch and counts the lines it has to drop meanwhile. Only
    /// failing to start a thread is an error.
    pub fn start(cfg: SinkConfig) -> std::io::Result<Self> {
        let counters = Arc::new(Counters::default());
        if let Err(e) = std::fs::create_dir_all(&cfg.directory) {
            counters.errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, directory = %cfg.directory.display(), "access log directory cannot be created; access log lines will be dropped until it can");
        }
        let shards = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 64);
        let shared = Arc::new(Shared {
            formats: cfg.formats,
            shards: (0..shards).map(|_| Mutex::default()).collect(),
            shard_capacity: cfg.capacity.div_ceil(shards).max(1),
            counters: counters.clone(),
            mailbox: Mutex::default(),
            bell: Condvar::new(),
            ringing: AtomicBool::new(false),
            free: Mutex::default(),
            closed: AtomicBool::new(false),
        });
        let compressor = Arc::new(Compressor {
            queue: Mutex::default(),
            bell: Condvar::new(),
            counters: counters.clone(),
        });
        for path in leftovers(&cfg.directory) {
            compressor.push(path);
        }
        let c = compressor.clone();
        let priority = cfg.compress;
        let compressor_thread = std::thread::Builder::new()
            .name("gatehouse-log-gzip".into())
            .spawn(move || c.run(priority))?;
        let writer = Writer {
            cfg,
            shared: shared.clone(),
            compressor: compressor.clone(),
            files: HashMap::new(),
            spare: Vec::new(),
            last_error_report: None,
        };
        let writer = std::thread::Builder::new()
            .name("gatehouse-log-writer".into())
            .spawn(move || writer.run())?;
        Ok(LogSink {
            shared,
            writer: Mutex::new(Some(writer)),
            compressor,
            compressor_thread: Mutex::new(Some(compressor_thread)),
        })
    }

    /// Formats the record's lines into this thread's shard; never waits for I/O. When the
    /// shard already holds its share of `capacity` records, the lines are dropped (counted).
    pub fn log(&self, r: &impl AsRecord) {
        let r = &r.record();
        let s = &*self.shared;
        let formats = Formats {
            standard: s.formats.standard && r.dist.enabled,
            json: s.formats.json,
        };
        if !formats.standard && !formats.json {
            return;
        }
        let hour = hour_of(r.end);
        let mut shard = lock(&s.shards[shard_index() % s.shards.len()]);
        if shard.records >= s.shard_capacity || s.closed.load(Ordering::Relaxed) {
            drop(shard);
            s.counters.dropped.fetch_add(
                u64::from(formats.standard) + u64::from(formats.json),
                Ordering::Relaxed,
            );
            return;
        }
        let b = shard.batch(&s.free, r.dist, hour, formats);
        let before = b.standard.len() + b.json.len();
        match (formats.standard, formats.json) {
            (true, true) => standard::write_both(r, &mut b.standard, &mut b.json),
            (true, false) => standard::write_line(r, &mut b.standard),
            _ => standard::write_json(r, &mut b.json),
        }
        b.records += 1;
        let grown = b.standard.len() + b.json.len() - before;
        shard.bytes += grown;
        shard.records += 1;
        let full = shard.bytes >= BATCH_BYTES;
        drop(shard);
        if full && !s.ringing.swap(true, Ordering::AcqRel) {
            lock(&s.mailbox).full = true;
            s.bell.notify_one();
        }
    }

    /// Waits until every line logged before this call is in its file (at once after
    /// [`LogSink::shutdown`], which wrote them all).
    pub fn flush(&self) {
        let (tx, rx) = mpsc::sync_channel(1);
        {
            let mut m = lock(&self.shared.mailbox);
            if m.stopped {
                return;
            }
            m.flushes.push(tx);
        }
        self.shared.bell.notify_one();
        let _ = rx.recv();
    }

    /// Writes everything logged, closes the files, compresses them (at the caller's
    /// priority, whatever the compressor's) and stops both threads. Later lines are dropped
    /// and counted.
    pub fn shutdown(&self) {
        self.shared.closed.store(true, Ordering::Relaxed);
        let writer = lock(&self.writer).take();
        if let Some(t) = writer {
            let (tx, rx) = mpsc::sync_channel(1);
            lock(&self.shared.mailbox).stop = Some(tx);
            self.shared.bell.notify_one();
            let _ = rx.recv();
            let _ = t.join();
        }
        // Flushes that came after the writer's last look at the mailbox are answered by
        // dropping them: everything was written.
        {
            let mut m = lock(&self.shared.mailbox);
            m.stopped = true;
            m.flushes.clear();
        }
        // The writer has closed its files: everything to compress is queued.
        self.compressor.stop();
        while let Some((path, size)) = self.compressor.pop_now() {
            self.compressor.compress_reporting(&path, size);
        }
        if let Some(t) = lock(&self.compressor_thread).take() {
            let _ = t.join();
        }
    }

    /// The formats written.
    pub fn formats(&self) -> Formats {
        self.shared.formats
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.shared.counters
    }
}

impl Drop for LogSink {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// An open plain file, locked while this process writes it.
struct OpenFile {
    file: File,
    path: PathBuf,
    bytes: u64,
}

/// The file lines go to: distribution id, JSON (or standard), UTC hour.
type FileKey = (Arc<str>, bool, u64);

struct Writer {
    cfg: SinkConfig,
    shared: Arc<Shared>,
    compressor: Arc<Compressor>,
    files: HashMap<FileKey, OpenFile>,
    /// The batches taken from a shard (kept to reuse its allocation).
    spare: Vec<Batch>,
    last_error_report: Option<std::time::Instant>,
}

fn unique_id() -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut r = rand::rng();
    (0..11)
        .map(|_| A[r.random_range(0..A.len())] as char)
        .collect()
}

impl Writer {
    fn run(mut self) {
        let interval = self.cfg.flush_interval;
        loop {
            let (flushes, stop) = {
                let mut m = lock(&self.shared.mailbox);
                if !m.full && m.flushes.is_empty() && m.stop.is_none() {
                    m = self
                        .shared
                        .bell
                        .wait_timeout(m, interval)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                m.full = false;
                // Before taking the shards: a shard filling up meanwhile rings again.
                self.shared.ringing.store(false, Ordering::Release);
                (std::mem::take(&mut m.flushes), m.stop.take())
            };
            self.drain();
            self.close_past_hours();
            for done in flushes {
                let _ = done.send(());
            }
            if let Some(done) = stop {
                self.close_all();
                let _ = done.send(());
                return;
            }
        }
    }

    /// Takes every shard's batches and writes them.
    fn drain(&mut self) {
        let shared = self.shared.clone();
        for shard in shared.shards.iter() {
            {
                let mut s = lock(shard);
                std::mem::swap(&mut s.batches, &mut self.spare);
                s.bytes = 0;
                s.records = 0;
            }
            let mut batches = std::mem::take(&mut self.spare);
            for b in batches.drain(..) {
                for (json, mut buf) in [(false, b.standard), (true, b.json)] {
                    if !buf.is_empty() {
                        let key = (b.dist.id.clone(), json, b.hour);
                        self.write_lines(&b.dist, key, &buf, b.records);
                    }
                    // Back to the pool (the lock requests take for a new batch), unless
                    // never allocated or grown too large.
                    if buf.capacity() == 0 || buf.capacity() > POOL_MAX_CAPACITY {
                        continue;
                    }
                    buf.clear();
                    let mut free = lock(&shared.free);
                    if free.len() < 8 * shared.shards.len() + 8 {
                        free.push(buf);
                    }
                }
            }
            self.spare = batches;
        }
    }

    fn report(&mut self, what: &str, e: &std::io::Error) {
        self.shared.counters.errors.fetch_add(1, Ordering::Relaxed);
        let now = std::time::Instant::now();
        if self
            .last_error_report
            .is_none_or(|t| now.duration_since(t) > Duration::from_secs(10))
        {
            self.last_error_report = Some(now);
            tracing::error!(error = %e, directory = %self.cfg.directory.display(), "access log {what} failed; lines are being dropped");
        }
    }

    /// Appends `lines` lines (`buf`) to the file of `key`, counting them as written or dropped.
    fn write_lines(&mut self, dist: &crate::record::DistLog, key: FileKey, buf: &[u8], lines: u64) {
        let c = self.shared.counters.clone();
        match self.append(dist, key, buf) {
            Ok(()) => c.written.fetch_add(lines, Ordering::Relaxed),
            Err(e) => {
                self.report("write", &e);
                c.dropped.fetch_add(lines, Ordering::Relaxed)
            }
        };
    }

    /// Appends `buf` to the open file of `key`, opening one when there is none, when it has
    /// passed `max_file_bytes` or when someone removed it. (Files of past hours are closed by
    /// [`Writer::close_past_hours`].)
    fn append(
        &mut self,
        dist: &crate::record::DistLog,
        key: FileKey,
        buf: &[u8],
    ) -> std::io::Result<()> {
        let rotate = match self.files.get(&key) {
            // A file someone removed is not written into the void: a new one is opened.
            Some(f) => {
                f.bytes >= self.cfg.max_file_bytes
                    || f.file.metadata().map_or(true, |m| nlink(&m) == 0)
            }
            None => true,
        };
        if rotate {
            if let Some(old) = self.files.remove(&key) {
                self.close(old);
            }
            let f = self.open(dist, key.1, key.2)?;
            self.files.insert(key.clone(), f);
        }
        let f = self.files.get_mut(&key).expect("inserted above");
        if let Err(e) = f.file.write_all(buf) {
            // Whatever part was written stays; the next batch starts a new file.
            if let Some(old) = self.files.remove(&key) {
                self.close(old);
            }
            return Err(e);
        }
        f.bytes += buf.len() as u64;
        Ok(())
    }

    fn open(
        &mut self,
        dist: &crate::record::DistLog,
        json: bool,
        hour: u64,
    ) -> std::io::Result<OpenFile> {
        let (date, _) = standard::date_time(UNIX_EPOCH + Duration::from_secs(hour * 3600));
        let name = format!(
            "{}{}.{}-{:02}.{}{}",
            dist.prefix,
            dist.id,
            date,
            hour % 24,
            unique_id(),
            if json { JSON_OPEN } else { STANDARD_OPEN }
        );
        let path = self.cfg.directory.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        lock_file(&file);
        let mut bytes = 0;
        if !json {
            let h = standard::header();
            file.write_all(h.as_bytes())?;
            bytes = h.len() as u64;
        }
        Ok(OpenFile { file, path, bytes })
    }

    /// Closes a file and hands it to the compressor.
    fn close(&mut self, f: OpenFile) {
        drop(f.file);
        self.compressor.push(f.path);
    }

    /// Closes the files of hours that have ended, with or without new lines.
    fn close_past_hours(&mut self) {
        let now = hour_of(SystemTime::now());
        let past: Vec<_> = self.files.keys().filter(|k| k.2 < now).cloned().collect();
        for k in past {
            if let Some(f) = self.files.remove(&k) {
                self.close(f);
            }
        }
    }

    fn close_all(&mut self) {
        let all: Vec<_> = self.files.drain().map(|(_, f)| f).collect();
        for f in all {
            self.close(f);
        }
    }
}

/// Suffix of an open standard file (compressed: `.gz` instead).
pub const STANDARD_OPEN: &str = ".log";
/// Suffix of an open JSON file (compressed: `.json.gz`).
pub const JSON_OPEN: &str = ".json";

/// Which format a file of the log directory holds, by its name: `….json` (open) and
/// `….json.gz` are JSON, `….log` (open) and `….gz` standard; anything else (a `….tmp` of a
/// compression in progress, say) is not a log file.
pub fn file_format(name: &str) -> Option<LogFormat> {
    if name.ends_with(JSON_OPEN) || name.ends_with(".json.gz") {
        Some(LogFormat::Json)
    } else if name.ends_with(STANDARD_OPEN) || name.ends_with(".gz") {
        Some(LogFormat::Standard)
    } else {
        None
    }
}

/// A log format, as [`file_format`] tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// The 33-field standard log.
    Standard,
    /// JSON lines.
    Json,
}

/// The name a plain log file gets once compressed: `X.log` → `X.gz`, `X.json` → `X.json.gz`.
pub fn compressed_name(open: &Path) -> Option<PathBuf> {
    let name = open.file_name()?.to_str()?;
    let gz = if let Some(stem) = name.strip_suffix(STANDARD_OPEN) {
        format!("{stem}.gz")
    } else if name.ends_with(JSON_OPEN) {
        format!("{name}.gz")
    } else {
        return None;
    };
    Some(open.with_file_name(gz))
}

/// Whether `name` is an open (plain) log file of ours: `….YYYY-MM-DD-HH.<11 of A-Z0-9>` with
/// `.log` or `.json`.
fn is_open_name(name: &str) -> bool {
    let Some(stem) = name
        .strip_suffix(STANDARD_OPEN)
        .or_else(|| name.strip_suffix(JSON_OPEN))
    else {
        return false;
    };
    let mut parts = stem.rsplitn(3, '.');
    let (Some(unique), Some(hour), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let hb = hour.as_bytes();
    unique.len() == 11
        && unique
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && hb.len() == 13
        && hb.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 | 10 => c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// Plain files under `dir` that a previous run left open, and that no running process holds.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => {
                    let ours = p
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(is_open_name);
                    if ours && File::open(&p).is_ok_and(|f| try_lock_file(&f)) {
                        found.push(p);
                    }
                }
                _ => {}
            }
        }
    }
    found.sort();
    found
}

#[cfg(unix)]
fn nlink(m: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(m)
}
#[cfg(not(unix))]
fn nlink(_: &std::fs::Metadata) -> u64 {
    1
}

/// Holds an exclusive lock on an open log file for as long as it is open (advisory: it tells
/// another Gatehouse starting on the same directory that the file is in use).
#[cfg(unix)]
fn lock_file(f: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor this function borrows; no memory is involved.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
}
#[cfg(not(unix))]
fn lock_file(_: &File) {}

/// Whether no other process holds the file's lock (the probe's own lock ends when `f` closes).
#[cfg(unix)]
fn try_lock_file(f: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: as in `lock_file`.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}
#[cfg(not(unix))]
fn try_lock_file(_: &File) -> bool {
    true
}

/// Rotated files waiting for gzip, and the thread that compresses them.
struct Compressor {
    queue: Mutex<CompressQueue>,
    bell: Condvar,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct CompressQueue {
    files: VecDeque<(PathBuf, u64)>,
    stop: bool,
}

/// gzip level of the compressed files: 1, the fastest (`gzip -6` made a generated 134 MB
/// standard log 15% smaller than `gzip -1`, for 1.9 times the CPU).
const GZIP_LEVEL: u32 = 1;

impl Compressor {
    fn push(&self, path: PathBuf) {
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        self.counters
            .compress_backlog_bytes
            .fetch_add(size, Ordering::Relaxed);
        lock(&self.queue).files.push_back((path, size));
        self.bell.notify_one();
    }

    fn stop(&self) {
        lock(&self.queue).stop = true;
        self.bell.notify_all();
    }

    /// The next file and its size, without waiting.
    fn pop_now(&self) -> Option<(PathBuf, u64)> {
        lock(&self.queue).files.pop_front()
    }

    fn run(&self, priority: CompressPriority) {
        if priority == CompressPriority::Idle {
            if let Err(e) = idle_priority() {
                tracing::warn!(error = %e, "cannot lower the log compressor's CPU priority; it runs at the edge's");
            }
        }
        loop {
            {
                let mut q = lock(&self.queue);
                while q.files.is_empty() && !q.stop {
                    q = self.bell.wait(q).unwrap_or_else(PoisonError::into_inner);
                }
                if q.stop {
                    // `shutdown` compresses the rest at its own priority.
                    return;
                }
            }
            if let Some((p, size)) = self.pop_now() {
                self.compress_reporting(&p, size);
            }
        }
    }

    /// Compresses `path` (`size` bytes of the backlog, which it leaves once done).
    fn compress_reporting(&self, path: &Path, size: u64) {
        let result = compress(path);
        self.counters
            .compress_backlog_bytes
            .fetch_sub(size, Ordering::Relaxed);
        match result {
            Ok(_) => {
                self.counters.compressed.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.counters.errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, file = %path.display(), "access log compression failed; the plain file stays");
            }
        }
    }
}

/// Compresses plain log file `path` into [`compressed_name`] (written beside it as `….tmp`,
/// synced, renamed), then removes `path`. Returns the compressed file's path.
pub fn compress(path: &Path) -> std::io::Result<PathBuf> {
    let target = compressed_name(path).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a plain log file name (.log or .json)",
        )
    })?;
    let mut tmp = target.clone().into_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut input = File::open(path)?;
    let out = File::create(&tmp)?;
    let mut enc = GzEncoder::new(
        std::io::BufWriter::with_capacity(256 * 1024, out),
        Compression::new(GZIP_LEVEL),
    );
    let written = std::io::copy(&mut input, &mut enc)
        .and_then(|_| enc.finish())
        .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
        .and_then(|f| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &target)?;
    std::fs::remove_file(path)?;
    Ok(target)
}

#[cfg(target_os = "linux")]
fn idle_priority() -> std::io::Result<()> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is a valid sched_param; pid 0 is the calling thread.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
#[cfg(not(target_os = "linux"))]
fn idle_priority() -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_open_name("cf/E1.2026-11-28-09.ABCDEFGHIJ1.log"));
        assert!(is_open_name("E1.2026-11-28-09.ABCDEFGHIJ1.json"));
        assert!(!is_open_name("E1.2026-11-28-09.ABCDEFGHIJ1.gz"));
        assert!(!is_open_name("E1.2026-11-28-09.abcdefghij1.log"));
        assert!(!is_open_name("E1.2026-11-28.ABCDEFGHIJ1.log"));
        assert!(!is_open_name("notes.log"));
        assert_eq!(
            compressed_name(Path::new("d/E1.2026-11-28-09.ABCDEFGHIJ1.log")),
            Some(PathBuf::from("d/E1.2026-11-28-09.ABCDEFGHIJ1.gz"))
        );
        assert_eq!(
            compressed_name(Path::new("E1.2026-11-28-09.ABCDEFGHIJ1.json")),
            Some(PathBuf::from("E1.2026-11-28-09.ABCDEFGHIJ1.json.gz"))
        );
        assert_eq!(compressed_name(Path::new("x.gz")), None);
        assert_eq!(
            file_format("E1.2026-11-28-09.A.json"),
            Some(LogFormat::Json)
        );
        assert_eq!(
            file_format("E1.2026-11-28-09.A.json.gz"),
            Some(LogFormat::Json)
        );
        assert_eq!(
            file_format("cf/E1.2026-11-28-09.A.log"),
            Some(LogFormat::Standard)
        );
        assert_eq!(
            file_format("E1.2026-11-28-09.A.gz"),
            Some(LogFormat::Standard)
        );
        assert_eq!(file_format("E1.2026-11-28-09.A.gz.tmp"), None);
    }
}
