//! Writes a realistic standard access log of N lines, with Gatehouse's own writer
//! (`standard::header` and `standard::write_line`): varied paths and queries, user agents with
//! spaces, `%` and non-ASCII bytes, cookies, every status and result type the edge writes
//! (`000` included), IPv4 and IPv6 viewers, HTTP and HTTPS. Deterministic for a given seed.
//!
//! ```text
//! cargo run --release -p gatehouse-logs --example gen_log -- [--lines N] [--seed S]
//!     [--member-lines M] [--json] OUT
//! ```
//!
//! `OUT` ending in `.gz` is gzip-compressed at the level the log compressor uses
//! (`Compression::fast`), with a new gzip member every `--member-lines` lines (default 10000:
//! readers must take multi-member files, as any gzip file written in pieces is); anything else
//! is written plain. `--json` writes Gatehouse's JSON lines instead.

#[path = "support/mod.rs"]
mod support;

use flate2::write::GzEncoder;
use flate2::Compression;
use gatehouse_logs::standard;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

struct Args {
    lines: u64,
    seed: u64,
    member_lines: u64,
    json: bool,
    out: PathBuf,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: gen_log [--lines N] [--seed S] [--member-lines M] [--json] OUT(.gz)\n\
         defaults: --lines 1000000 --seed 1 --member-lines 10000"
    );
    ExitCode::from(2)
}

fn parse_args() -> Option<Args> {
    let mut a = Args {
        lines: 1_000_000,
        seed: 1,
        member_lines: 10_000,
        json: false,
        out: PathBuf::new(),
    };
    let mut out = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--lines" => a.lines = it.next()?.parse().ok()?,
            "--seed" => a.seed = it.next()?.parse().ok()?,
            "--member-lines" => a.member_lines = it.next()?.parse().ok()?,
            "--json" => a.json = true,
            s if s.starts_with('-') => return None,
            s => {
                if out.replace(PathBuf::from(s)).is_some() {
                    return None;
                }
            }
        }
    }
    a.out = out?;
    Some(a)
}

fn main() -> ExitCode {
    let Some(args) = parse_args() else {
        return usage();
    };
    match run(&args) {
        Ok(bytes) => {
            eprintln!(
                "wrote {} lines ({} bytes uncompressed) to {}",
                args.lines,
                bytes,
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_log: {}: {e}", args.out.display());
            ExitCode::FAILURE
        }
    }
}

/// Writes the file; returns the uncompressed size.
fn run(args: &Args) -> std::io::Result<u64> {
    let gz = args.out.extension().is_some_and(|e| e == "gz");
    let mut file = BufWriter::with_capacity(1 << 20, std::fs::File::create(&args.out)?);
    // About 20 lines a second (one per 50 ms): a million lines cover a bit over 13 hours.
    let mut records = support::Records::new(args.seed, 50);
    let mut chunk = Vec::with_capacity(1 << 20);
    let mut total = 0u64;
    if !args.json {
        chunk.extend_from_slice(standard::header().as_bytes());
    }
    let member_lines = if gz {
        args.member_lines.max(1)
    } else {
        u64::MAX
    };
    let mut written = 0;
    while written < args.lines || !chunk.is_empty() {
        let n = member_lines.min(args.lines - written);
        for _ in 0..n {
            let r = records.next_record();
            if args.json {
                standard::write_json(&r, &mut chunk);
            } else {
                standard::write_line(&r, &mut chunk);
            }
            if !gz && chunk.len() >= 1 << 20 {
                file.write_all(&chunk)?;
                total += chunk.len() as u64;
                chunk.clear();
            }
        }
        written += n;
        total += chunk.len() as u64;
        if gz {
            let mut enc = GzEncoder::new(&mut file, Compression::fast());
            enc.write_all(&chunk)?;
            enc.finish()?;
        } else {
            file.write_all(&chunk)?;
        }
        chunk.clear();
    }
    file.flush()?;
    Ok(total)
}
