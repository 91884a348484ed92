//! Cost of one viewer-country lookup ([`GeoDb::country`]), the work a geo restriction adds to
//! every request.
//!
//! Two real databases, both installed by `scripts/install-test-data.sh`:
//!
//! - `data/geoip/geo-whois-asn-country.mmdb`: the default database (ip-location-db schema,
//!   top-level `country_code`, IPv4 and IPv6, about 1.3 million nodes);
//! - `data/geoip/test/GeoIP2-Country-Test.mmdb`: MaxMind's test database (GeoIP2 schema,
//!   nested `country.iso_code`).
//!
//! Each benchmark iteration is exactly one lookup, so criterion's time per iteration is the
//! cost per lookup. The `mixed` benchmarks cycle through a fixed list of IPv4 and IPv6
//! addresses, some with a country and some without; the others repeat one address. The
//! expected answers are checked before anything is measured.
//!
//!   cargo bench -p gatehouse-geo --bench lookup
//!
//! Medians are in `target/criterion/<group>/<bench>/new/estimates.json` (`bench/geo.sh` reads
//! them from there).

use criterion::Criterion;
use gatehouse_geo::{GeoDb, Schema};
use std::hint::black_box;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The default database, with what it answers (ip-location-db geo-whois-asn-country
/// 2.3.2026061719, the version `scripts/install-test-data.sh` pins).
const DEFAULT_DB: &str = "data/geoip/geo-whois-asn-country.mmdb";
const DEFAULT_ADDRESSES: &[(&str, Option<&str>)] = &[
    ("81.2.69.160", Some("GB")),
    ("8.8.8.8", Some("US")),
    ("1.1.1.1", Some("AU")),
    ("175.45.176.1", Some("KP")),
    ("5.160.0.1", Some("IR")),
    ("200.160.0.1", Some("BR")),
    ("41.0.0.1", Some("ZA")),
    ("202.12.27.33", Some("JP")),
    ("10.0.0.1", None),
    ("127.0.0.1", None),
    ("192.0.2.1", None),
    ("100.64.0.1", None),
    ("2001:4860:4860::8888", Some("US")),
    ("2a00:1450:4001::1", Some("IE")),
    ("2400:cb00::1", Some("US")),
    ("2001:67c:2e8::1", Some("NL")),
    ("240e::1", Some("CN")),
    ("::1", None),
    ("fe80::1", None),
    ("2c0f:f248::1", None),
    // IPv4-mapped IPv6, as dual-stack proxies write it in X-Forwarded-For: answered as the
    // IPv4 address (libmaxminddb's `mmdblookup` finds nothing for it in this file).
    ("::ffff:81.2.69.160", Some("GB")),
];

/// MaxMind's GeoIP2 country test database.
const MAXMIND_TEST_DB: &str = "data/geoip/test/GeoIP2-Country-Test.mmdb";
const MAXMIND_ADDRESSES: &[(&str, Option<&str>)] = &[
    ("81.2.69.160", Some("GB")),
    ("216.160.83.56", Some("US")),
    ("2.125.160.216", Some("GB")),
    ("89.160.20.112", Some("SE")),
    ("175.16.199.0", Some("CN")),
    ("67.43.156.0", Some("BT")),
    ("202.196.224.0", Some("PH")),
    ("8.8.8.8", None),
    ("10.0.0.1", None),
    ("2001:218::1", Some("JP")),
    ("2a02:cf40::1", Some("NO")),
    ("::1", None),
    ("2001:db8::1", None),
    ("2001:480::1", None),
];

/// `rel` under the workspace root (two levels above this crate).
fn workspace_path(rel: &str) -> PathBuf {
    let krate = Path::new(env!("CARGO_MANIFEST_DIR"));
    krate
        .parent()
        .and_then(Path::parent)
        .unwrap_or(krate)
        .join(rel)
}

/// Opens the database and checks every expected answer; exits with a message otherwise.
fn open_checked(rel: &str, expected: &[(&str, Option<&str>)]) -> (GeoDb, Vec<IpAddr>) {
    let path = workspace_path(rel);
    if !path.is_file() {
        eprintln!(
            "error: GeoIP database {rel} not found (looked at {}).\n\
             Install it with ./scripts/install-test-data.sh, then run the benchmark again.",
            path.display()
        );
        std::process::exit(2);
    }
    let db = GeoDb::open(&path, Schema::Auto).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2);
    });
    let mut ips = Vec::with_capacity(expected.len());
    let mut wrong = Vec::new();
    for &(text, want) in expected {
        let ip: IpAddr = text.parse().expect("address in the benchmark list");
        let got = db.country(ip);
        if got.as_ref().map(|c| c.as_str()) != want {
            wrong.push(format!("{text}: expected {want:?}, got {got:?}"));
        }
        ips.push(ip);
    }
    if !wrong.is_empty() {
        eprintln!(
            "error: {rel} does not give the answers this benchmark expects (a different \
             database version?):\n  {}",
            wrong.join("\n  ")
        );
        std::process::exit(2);
    }
    (db, ips)
}

fn bench_db(c: &mut Criterion, group: &str, db: &GeoDb, ips: &[IpAddr], singles: &[&str]) {
    let mut g = c.benchmark_group(group);
    g.bench_function(format!("mixed-{}", ips.len()), |b| {
        let mut i = 0;
        b.iter(|| {
            let ip = ips[i];
            i += 1;
            if i == ips.len() {
                i = 0;
            }
            db.country(black_box(ip))
        })
    });
    for &name in singles {
        let ip: IpAddr = name.parse().expect("address");
        g.bench_function(name.replace(':', "_"), |b| {
            b.iter(|| db.country(black_box(ip)))
        });
    }
    g.finish();
}

fn main() {
    let (default_db, default_ips) = open_checked(DEFAULT_DB, DEFAULT_ADDRESSES);
    let (maxmind_db, maxmind_ips) = open_checked(MAXMIND_TEST_DB, MAXMIND_ADDRESSES);

    let mut c = Criterion::default().configure_from_args();
    // 81.2.69.160 (GB) is the address bench/geo.sh sends in X-Forwarded-For.
    bench_db(
        &mut c,
        "geo-whois-asn-country",
        &default_db,
        &default_ips,
        &["81.2.69.160", "10.0.0.1", "2001:4860:4860::8888"],
    );
    bench_db(
        &mut c,
        "GeoIP2-Country-Test",
        &maxmind_db,
        &maxmind_ips,
        &["81.2.69.160", "2001:218::1"],
    );
    c.final_summary();
}
