//! Reading access logs back: standard logs (gzip or plain, `#Fields` in any order, CloudFront's
//! own files or ours) and Gatehouse's JSON lines. Used by tests and by the doctor.
//!
//! The standard reader reuses one line buffer and hands out borrowed [`Line`]s (no allocation
//! per field). Malformed lines come back as [`ParseError`]s naming the file and line; reading
//! goes on with the next line.

use crate::encode;
use crate::standard::FIELDS;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// A malformed line or unreadable file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line number (0 for the file itself).
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// Opens a log file, gunzipping it (all members) when it starts with the gzip magic.
pub fn open(path: &Path) -> std::io::Result<Box<dyn BufRead + Send>> {
    let mut f = BufReader::new(std::fs::File::open(path)?);
    let gz = f.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::bufread::MultiGzDecoder::new(f),
        ))
    } else {
        Box::new(f)
    })
}

/// Field names by position, from the last `#Fields:` line (CloudFront's 33 by default).
#[derive(Debug, Clone)]
struct Fields {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Fields {
    fn new(names: Vec<String>) -> Self {
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        Fields { names, index }
    }
}

/// One data line of a standard log.
pub struct Line<'a> {
    text: &'a str,
    ranges: &'a [(usize, usize)],
    fields: &'a Fields,
    /// 1-based line number.
    pub number: u64,
}

impl<'a> Line<'a> {
    /// The raw (still URL-encoded) value of `name`; `None` if the file has no such field.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        let i = *self.fields.index.get(name)?;
        self.ranges.get(i).map(|&(a, b)| &self.text[a..b])
    }

    /// The decoded value of `name`; `-` (empty) is `None`.
    pub fn decoded(&self, name: &str) -> Option<Cow<'a, [u8]>> {
        self.get(name).filter(|v| *v != "-").map(encode::decode)
    }

    /// The decoded value as text (lossy).
    pub fn text(&self, name: &str) -> Option<String> {
        self.decoded(name)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// All `(name, raw value)` pairs in file order.
    pub fn pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.fields
            .names
            .iter()
            .zip(self.ranges.iter())
            .map(|(n, &(a, b))| (n.as_str(), &self.text[a..b]))
    }

    /// The whole line.
    pub fn raw(&self) -> &'a str {
        self.text
    }
}

/// Streams the data lines of one standard log.
pub struct StandardReader<R> {
    input: R,
    file: PathBuf,
    number: u64,
    buf: Vec<u8>,
    ranges: Vec<(usize, usize)>,
    fields: Fields,
    /// A read error ended the input (a truncated gzip file keeps failing): nothing follows.
    failed: bool,
}

impl StandardReader<Box<dyn BufRead + Send>> {
    /// Opens `path` (gzip or plain).
    pub fn open(path: &Path) -> Result<Self, ParseError> {
        let input = open(path).map_err(|e| ParseError {
            file: path.to_path_buf(),
            line: 0,
            reason: format!("cannot open: {e}"),
        })?;
        Ok(StandardReader::new(input, path))
    }
}

impl<R: BufRead> StandardReader<R> {
    /// Reads from `input`; `file` names it in errors.
    pub fn new(input: R, file: &Path) -> Self {
        StandardReader {
            input,
            file: file.to_path_buf(),
            number: 0,
            buf: Vec::with_capacity(1024),
            ranges: Vec::with_capacity(40),
            fields: Fields::new(FIELDS.iter().map(|s| s.to_string()).collect()),
            failed: false,
        }
    }

    fn err(&self, reason: impl Into<String>) -> ParseError {
        ParseError {
            file: self.file.clone(),
            line: self.number,
            reason: reason.into(),
        }
    }

    /// The next data line, or a parse error for a bad one; `None` at the end. A read error
    /// (e.g. a truncated gzip file) is reported once, on the line being read, and ends the
    /// input.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Result<Line<'_>, ParseError>> {
        loop {
            if self.failed {
                return None;
            }
            self.buf.clear();
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.failed = true;
                    self.number += 1;
                    return Some(Err(self.err(format!("read error: {e}"))));
                }
            }
            self.number += 1;
            while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
                self.buf.pop();
            }
            if self.buf.is_empty() {
                continue;
            }
            if self.buf[0] == b'#' {
                if let Some(rest) = self.buf.strip_prefix(b"#Fields:") {
                    let names: Vec<String> = String::from_utf8_lossy(rest)
                        .split_whitespace()
                        .map(str::to_string)
                        .collect();
                    if names.is_empty() {
                        return Some(Err(self.err("#Fields line names no fields")));
                    }
                    self.fields = Fields::new(names);
                }
                continue;
            }
            if std::str::from_utf8(&self.buf).is_err() {
                return Some(Err(
                    self.err("line is not UTF-8 (values must be URL-encoded)")
                ));
            }
            self.ranges.clear();
            let mut start = 0;
            for i in memchr::memchr_iter(b'\t', &self.buf) {
                self.ranges.push((start, i));
                start = i + 1;
            }
            self.ranges.push((start, self.buf.len()));
            let expected = self.fields.names.len();
            if self.ranges.len() != expected {
                let got = self.ranges.len();
                return Some(Err(self.err(format!(
                    "{got} tab-separated values, but #Fields names {expected}"
                ))));
            }
            let text = std::str::from_utf8(&self.buf).expect("checked above");
            return Some(Ok(Line {
                text,
                ranges: &self.ranges,
                fields: &self.fields,
                number: self.number,
            }));
        }
    }
}

/// Reads Gatehouse JSON log lines (gzip or plain), calling `f` for each parsed object.
pub fn read_json(
    path: &Path,
    mut f: impl FnMut(u64, serde_json::Map<String, serde_json::Value>),
    mut on_error: impl FnMut(ParseError),
) -> Result<(), ParseError> {
    let input = open(path).map_err(|e| ParseError {
        file: path.to_path_buf(),
        line: 0,
        reason: format!("cannot open: {e}"),
    })?;
    read_json_from(input, path, &mut f, &mut on_error);
    Ok(())
}

fn read_json_from(
    mut input: impl BufRead,
    path: &Path,
    f: &mut dyn FnMut(u64, serde_json::Map<String, serde_json::Value>),
    on_error: &mut dyn FnMut(ParseError),
) {
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        match input.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                on_error(ParseError {
                    file: path.to_path_buf(),
                    line: n + 1,
                    reason: format!("read error: {e}"),
                });
                break;
            }
        }
        n += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<serde_json::Value>(&buf) {
            Ok(serde_json::Value::Object(m)) => f(n, m),
            Ok(_) => on_error(ParseError {
                file: path.to_path_buf(),
                line: n,
                reason: "not a JSON object".into(),
            }),
            Err(e) => on_error(ParseError {
                file: path.to_path_buf(),
                line: n,
                reason: format!("invalid JSON: {e}"),
            }),
        }
    }
}
