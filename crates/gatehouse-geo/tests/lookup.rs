//! `GeoDb` against real MaxMind DB files: databases written here with `mmdb-writer` (both record
//! layouts, IPv4/IPv6, unknown ranges, reloads), the real default database (ip-location-db
//! geo-whois-asn-country) and MaxMind's official test databases (GeoIP2 schema).
//!
//! The real files come from `scripts/install-test-data.sh`; a test that needs one fails (never
//! skips) when it is missing.

use gatehouse_geo::{CountryCode, CountryDetails, CountryMemo, GeoDb, GeoError, Schema};
use ipnet::IpNet;
use mmdb_writer::{Ipv4Aliasing, Value, Writer};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A file under the repository's `data/geoip/`, which must exist.
fn data(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/geoip")
        .join(rel);
    assert!(
        p.is_file(),
        "test data {} is missing: run scripts/install-test-data.sh (from the repository root) \
         to install the GeoIP databases the tests use",
        p.display()
    );
    p
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn cc(s: &str) -> Option<CountryCode> {
    Some(CountryCode::new(s).unwrap())
}

/// A GeoIP2-layout record: `{"country": {"iso_code": .., "names": {"en": ..}}}`.
fn geoip2_record(code: &str, name: &str) -> Value {
    Value::map([(
        "country",
        Value::map([
            ("iso_code", Value::from(code)),
            ("names", Value::map([("en", Value::from(name))])),
        ]),
    )])
}

/// An ip-location-db-layout record: `{"country_code": ..}`.
fn flat_record(code: &str) -> Value {
    Value::map([("country_code", Value::from(code))])
}

/// A database of `database_type` with `entries` (network, record), inserted in order.
fn build(database_type: &str, entries: &[(&str, Value)]) -> Vec<u8> {
    build_with(Writer::new(database_type), entries)
}

fn build_with(mut w: Writer, entries: &[(&str, Value)]) -> Vec<u8> {
    for (n, v) in entries {
        w.insert_value(net(n), v.clone()).unwrap();
    }
    w.to_bytes().unwrap()
}

/// `{"country":{"iso_code":"FR","names":{"en":"France"}}}` on 198.51.100.0/24 and 2001:db8::/32.
fn geoip2_fr() -> Vec<u8> {
    build(
        "GeoIP2-Country",
        &[
            ("198.51.100.0/24", geoip2_record("FR", "France")),
            ("2001:db8::/32", geoip2_record("FR", "France")),
        ],
    )
}

/// `{"country_code":"DE"}` on 198.51.100.0/24 and 2001:db8::/32, with a database type that
/// names no GeoIP2 vendor (as ip-location-db's files do).
fn flat_de() -> Vec<u8> {
    build(
        "ip-location-db-country",
        &[
            ("198.51.100.0/24", flat_record("DE")),
            ("2001:db8::/32", flat_record("DE")),
        ],
    )
}

/// Writes `bytes` to `path` the atomic way: a temporary file in the same directory, renamed.
fn write_atomic(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A temp dir with `geo.mmdb` holding `bytes`.
fn db_file(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("geo.mmdb");
    std::fs::write(&p, bytes).unwrap();
    (dir, p)
}

fn open(bytes: &[u8], schema: Schema) -> (tempfile::TempDir, GeoDb) {
    let (dir, p) = db_file(bytes);
    let db = GeoDb::open(&p, schema).unwrap_or_else(|e| panic!("open {}: {e}", p.display()));
    (dir, db)
}

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

#[test]
fn geoip2_layout_auto_detected_and_explicit() {
    let bytes = geoip2_fr();
    let (_d, auto) = open(&bytes, Schema::Auto);
    assert_eq!(auto.database_type().as_deref(), Some("GeoIP2-Country"));
    assert_eq!(auto.country(ip("198.51.100.7")), cc("FR"));
    assert_eq!(auto.country(ip("2001:db8::7")), cc("FR"));

    let (_d, explicit) = open(&bytes, Schema::Geoip2);
    assert_eq!(explicit.country(ip("198.51.100.7")), cc("FR"));
    assert_eq!(explicit.country(ip("2001:db8:ffff::1")), cc("FR"));

    // The explicit schema is honoured: this layout has no top-level `country_code`.
    let (_d, wrong) = open(&bytes, Schema::IpLocationDb);
    assert!(wrong.is_loaded());
    assert_eq!(wrong.country(ip("198.51.100.7")), None);
    assert_eq!(wrong.country(ip("2001:db8::7")), None);
}

#[test]
fn ip_location_db_layout_auto_detected_and_explicit() {
    let bytes = flat_de();
    let (_d, auto) = open(&bytes, Schema::Auto);
    assert_eq!(auto.country(ip("198.51.100.7")), cc("DE"));
    assert_eq!(auto.country(ip("2001:db8::7")), cc("DE"));

    let (_d, explicit) = open(&bytes, Schema::IpLocationDb);
    assert_eq!(explicit.country(ip("198.51.100.7")), cc("DE"));
    assert_eq!(explicit.country(ip("2001:db8::7")), cc("DE"));

    let (_d, wrong) = open(&bytes, Schema::Geoip2);
    assert_eq!(wrong.country(ip("198.51.100.7")), None);
    assert_eq!(wrong.country(ip("2001:db8::7")), None);
}

#[test]
fn auto_schema_with_an_unknown_database_type_tries_both_layouts() {
    // A GeoIP2-layout database whose type names no known vendor (a self-built one).
    let bytes = build(
        "Acme-Country",
        &[
            ("198.51.100.0/24", geoip2_record("FR", "France")),
            ("203.0.113.0/24", flat_record("DE")),
        ],
    );
    let (_d, db) = open(&bytes, Schema::Auto);
    assert_eq!(db.country(ip("198.51.100.1")), cc("FR"));
    assert_eq!(db.country(ip("203.0.113.1")), cc("DE"));
}

#[test]
fn invalid_country_codes_are_unknown() {
    let bytes = build(
        "GeoIP2-Country",
        &[
            ("198.51.100.0/25", geoip2_record("GBR", "United Kingdom")),
            ("198.51.100.128/25", geoip2_record("", "Nowhere")),
            ("203.0.113.0/24", geoip2_record("gb", "United Kingdom")),
        ],
    );
    let (_d, db) = open(&bytes, Schema::Auto);
    assert_eq!(db.country(ip("198.51.100.1")), None);
    assert_eq!(db.country(ip("198.51.100.200")), None);
    // Lower case is normalised to the ISO upper-case form.
    assert_eq!(db.country(ip("203.0.113.1")).unwrap().as_str(), "GB");
}

// ---------------------------------------------------------------------------------------------
// IPv4, IPv6, unknown ranges
// ---------------------------------------------------------------------------------------------

#[test]
fn ipv4_and_ipv6_lookups_and_unknown_ranges() {
    let bytes = build(
        "GeoIP2-Country",
        &[
            ("198.51.100.0/24", geoip2_record("FR", "France")),
            ("2001:db8::/32", geoip2_record("DE", "Germany")),
            // A more specific network inside the /32 wins.
            ("2001:db8:1::/48", geoip2_record("GB", "United Kingdom")),
            ("203.0.113.128/25", geoip2_record("NO", "Norway")),
        ],
    );
    let (_d, db) = open(&bytes, Schema::Auto);
    assert_eq!(db.country(ip("198.51.100.0")), cc("FR"));
    assert_eq!(db.country(ip("198.51.100.255")), cc("FR"));
    assert_eq!(db.country(ip("198.51.101.0")), None);
    assert_eq!(db.country(ip("198.51.99.255")), None);
    assert_eq!(db.country(ip("203.0.113.127")), None);
    assert_eq!(db.country(ip("203.0.113.128")), cc("NO"));
    assert_eq!(db.country(ip("2001:db8::1")), cc("DE"));
    assert_eq!(db.country(ip("2001:db8:ffff:ffff::1")), cc("DE"));
    assert_eq!(db.country(ip("2001:db8:1::5")), cc("GB"));
    assert_eq!(db.country(ip("2001:db8:2::5")), cc("DE"));
    assert_eq!(db.country(ip("2001:db9::1")), None);
    assert_eq!(db.country(ip("::1")), None);
    assert_eq!(db.country(ip("10.1.2.3")), None);
    assert_eq!(db.country(ip("127.0.0.1")), None);
    assert_eq!(db.details(ip("10.1.2.3")), CountryDetails::default());
}

#[test]
fn ipv4_only_database_answers_ipv4_and_knows_no_ipv6() {
    let w = Writer::builder("GeoIP2-Country")
        .ip_version(mmdb_writer::IpVersion::V4)
        .build();
    let bytes = build_with(w, &[("198.51.100.0/24", geoip2_record("FR", "France"))]);
    let (_d, db) = open(&bytes, Schema::Auto);
    assert_eq!(db.country(ip("198.51.100.9")), cc("FR"));
    assert_eq!(db.country(ip("198.51.101.9")), None);
    assert_eq!(db.country(ip("2001:db8::1")), None);
    // An IPv4-mapped IPv6 address is the IPv4 viewer.
    assert_eq!(db.country(ip("::ffff:198.51.100.9")), cc("FR"));
}

/// ip-location-db's files have no IPv4-mapped alias subtree (`::ffff:0:0/96`); a viewer
/// address written as `::ffff:a.b.c.d` (dual-stack proxies do that) is still the IPv4 viewer.
#[test]
fn ipv4_mapped_addresses_are_looked_up_as_ipv4() {
    let w = Writer::builder("ip-location-db-country")
        .ipv4_aliasing(Ipv4Aliasing::Disabled)
        .build();
    let bytes = build_with(w, &[("198.51.100.0/24", flat_record("DE"))]);
    let (_d, db) = open(&bytes, Schema::Auto);
    assert_eq!(db.country(ip("198.51.100.9")), cc("DE"));
    assert_eq!(db.country(ip("::ffff:198.51.100.9")), cc("DE"));
    assert_eq!(db.details(ip("::ffff:198.51.100.9")).country, cc("DE"));
    assert_eq!(db.country(ip("::ffff:198.51.101.9")), None);
}

// ---------------------------------------------------------------------------------------------
// details()
// ---------------------------------------------------------------------------------------------

#[test]
fn details_from_written_databases() {
    let (_d, db) = open(&geoip2_fr(), Schema::Auto);
    assert_eq!(
        db.details(ip("2001:db8::1")),
        CountryDetails {
            country: cc("FR"),
            country_name: Some("France".into()),
            region: None,
            region_name: None,
        }
    );
    let (_d, db) = open(&flat_de(), Schema::Auto);
    assert_eq!(
        db.details(ip("198.51.100.1")),
        CountryDetails {
            country: cc("DE"),
            ..Default::default()
        }
    );
}

/// Values checked with `mmdblookup -f data/geoip/test/GeoIP2-City-Test.mmdb -i <ip>`.
#[test]
fn details_from_maxmind_city_test_database() {
    let db = GeoDb::open(&data("test/GeoIP2-City-Test.mmdb"), Schema::Auto).unwrap();
    assert_eq!(db.database_type().as_deref(), Some("GeoIP2-City"));
    assert_eq!(
        db.details(ip("216.160.83.56")),
        CountryDetails {
            country: cc("US"),
            country_name: Some("United States".into()),
            region: Some("WA".into()),
            region_name: Some("Washington".into()),
        }
    );
    assert_eq!(
        db.details(ip("81.2.69.160")),
        CountryDetails {
            country: cc("GB"),
            country_name: Some("United Kingdom".into()),
            region: Some("ENG".into()),
            region_name: Some("England".into()),
        }
    );
    // IPv6, a record without subdivisions.
    assert_eq!(
        db.details(ip("2a02:cf40::1")),
        CountryDetails {
            country: cc("NO"),
            country_name: Some("Norway".into()),
            region: None,
            region_name: None,
        }
    );
    assert_eq!(db.details(ip("8.8.8.8")), CountryDetails::default());
}

// ---------------------------------------------------------------------------------------------
// The real default database (ip-location-db geo-whois-asn-country)
// ---------------------------------------------------------------------------------------------

/// Values checked with `mmdblookup -f data/geoip/geo-whois-asn-country.mmdb -i <ip>`.
#[test]
fn default_database_well_known_addresses() {
    let path = data(gatehouse_geo::DEFAULT_DATABASE_FILE);
    for schema in [Schema::Auto, Schema::IpLocationDb] {
        let db = GeoDb::open(&path, schema).unwrap();
        for (addr, want) in [
            ("8.8.8.8", "US"),
            ("1.1.1.1", "AU"),
            ("81.2.69.160", "GB"),
            ("2001:4860:4860::8888", "US"),
            ("2606:4700:4700::1111", "US"),
            // The same viewers written as IPv4-mapped IPv6 addresses.
            ("::ffff:8.8.8.8", "US"),
            ("::ffff:81.2.69.160", "GB"),
        ] {
            assert_eq!(
                db.country(ip(addr)),
                cc(want),
                "{addr} with schema {schema:?}"
            );
            assert_eq!(db.details(ip(addr)).country, cc(want), "{addr}");
        }
        // Checked with mmdblookup: in no network of the database. (Not every private range is
        // unknown there: whois data puts 172.16.0.0/12 and 192.168.0.0/16 in AU.)
        for addr in [
            "10.1.2.3",
            "127.0.0.1",
            "100.64.0.1",
            "192.0.2.1",
            "::1",
            "fe80::1",
            "fc00::1",
        ] {
            assert_eq!(db.country(ip(addr)), None, "{addr} with schema {schema:?}");
        }
        // The default database has country codes only.
        assert_eq!(db.details(ip("8.8.8.8")).country_name, None);
    }
    // Read as GeoIP2, the ip-location-db layout knows no country.
    let db = GeoDb::open(&path, Schema::Geoip2).unwrap();
    assert_eq!(db.country(ip("8.8.8.8")), None);
}

// ---------------------------------------------------------------------------------------------
// MaxMind's test databases (GeoIP2 schema)
// ---------------------------------------------------------------------------------------------

/// Addresses checked against `data/geoip/test/GeoIP2-Country-Test.json` (the source the test
/// databases are built from): `::81.2.69.160/123` GB, `2a02:cf40::/29` NO,
/// `::89.160.20.128/121` SE; 8.8.8.8 is in no network there.
#[test]
fn maxmind_country_test_databases() {
    for file in [
        "test/GeoIP2-Country-Test.mmdb",
        "test/GeoLite2-Country-Test.mmdb",
    ] {
        for schema in [Schema::Auto, Schema::Geoip2] {
            let db = GeoDb::open(&data(file), schema).unwrap();
            assert_eq!(db.country(ip("81.2.69.160")), cc("GB"), "{file}");
            assert_eq!(db.country(ip("2a02:cf40::1")), cc("NO"), "{file}");
            assert_eq!(db.country(ip("89.160.20.128")), cc("SE"), "{file}");
            assert_eq!(db.country(ip("8.8.8.8")), None, "{file}");
            assert_eq!(
                db.details(ip("89.160.20.128")).country_name.as_deref(),
                Some("Sweden"),
                "{file}"
            );
        }
        let db = GeoDb::open(&data(file), Schema::IpLocationDb).unwrap();
        assert_eq!(db.country(ip("81.2.69.160")), None, "{file}");
    }
}

/// Every network of `GeoIP2-Country-Test.json` that has a country: its first and last address
/// answer the country of the most specific network containing them.
#[test]
fn maxmind_country_test_database_agrees_with_its_json_source() {
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data("test/GeoIP2-Country-Test.json")).unwrap(),
    )
    .unwrap();
    // (network, country code or None)
    let mut nets: Vec<(IpNet, Option<String>)> = Vec::new();
    for item in json.as_array().expect("a JSON array") {
        for (k, v) in item.as_object().unwrap() {
            let n: IpNet = k.parse().unwrap_or_else(|e| panic!("{k}: {e}"));
            // IPv4 networks are written as IPv4-compatible IPv6 (`::a.b.c.d/len`, len >= 96).
            let n = match n {
                IpNet::V6(v6) if v6.prefix_len() >= 96 && (u128::from(v6.network()) >> 32) == 0 => {
                    let a = std::net::Ipv4Addr::from(u128::from(v6.network()) as u32);
                    IpNet::V4(ipnet::Ipv4Net::new(a, v6.prefix_len() - 96).unwrap())
                }
                other => other.trunc(),
            };
            let code = v
                .pointer("/country/iso_code")
                .and_then(|c| c.as_str())
                .map(String::from);
            nets.push((n, code));
        }
    }
    let expected = |a: IpAddr| -> Option<String> {
        nets.iter()
            .filter(|(n, _)| n.contains(&a))
            .max_by_key(|(n, _)| n.prefix_len())
            .and_then(|(_, c)| c.clone())
    };
    let db = GeoDb::open(&data("test/GeoIP2-Country-Test.mmdb"), Schema::Geoip2).unwrap();
    let mut checked = 0;
    for (n, code) in &nets {
        if code.is_none() {
            continue;
        }
        for a in [n.network(), n.broadcast()] {
            let want = expected(a);
            assert_eq!(
                db.country(a).map(|c| c.as_str().to_string()),
                want,
                "{a} (in {n})"
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} addresses checked");
    // The three addresses the integration tests rely on.
    assert_eq!(expected(ip("81.2.69.160")).as_deref(), Some("GB"));
    assert_eq!(expected(ip("2a02:cf40::1")).as_deref(), Some("NO"));
    assert_eq!(expected(ip("89.160.20.128")).as_deref(), Some("SE"));
    assert_eq!(expected(ip("8.8.8.8")), None);
}

// ---------------------------------------------------------------------------------------------
// Opening and reloading
// ---------------------------------------------------------------------------------------------

#[test]
fn open_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.mmdb");
    let e = GeoDb::open(&missing, Schema::Auto).unwrap_err();
    assert!(matches!(e, GeoError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("missing.mmdb"), "{e}");

    let garbage = dir.path().join("garbage.mmdb");
    std::fs::write(&garbage, b"this is not a MaxMind DB").unwrap();
    let e = GeoDb::open(&garbage, Schema::Auto).unwrap_err();
    assert!(matches!(e, GeoError::Invalid { .. }), "{e:?}");
    assert!(e.to_string().contains("garbage.mmdb"), "{e}");
}

#[test]
fn no_database() {
    let db = GeoDb::none();
    assert!(!db.is_loaded());
    assert_eq!(db.path(), None);
    assert_eq!(db.database_type(), None);
    assert_eq!(db.country(ip("8.8.8.8")), None);
    assert_eq!(db.details(ip("8.8.8.8")), CountryDetails::default());
    assert!(!db.reload_if_changed().unwrap());
}

/// Two databases that answer 81.2.69.0/24 (and 2001:db8::/32) differently, same layout and
/// (because the codes and names are as long) the same size.
fn gb() -> Vec<u8> {
    build(
        "GeoIP2-Country",
        &[
            ("81.2.69.0/24", geoip2_record("GB", "Britain")),
            ("2001:db8::/32", geoip2_record("GB", "Britain")),
        ],
    )
}

fn us() -> Vec<u8> {
    build(
        "GeoIP2-Country",
        &[
            ("81.2.69.0/24", geoip2_record("US", "America")),
            ("2001:db8::/32", geoip2_record("US", "America")),
        ],
    )
}

#[test]
fn reload_swaps_in_an_atomically_replaced_file() {
    let (_dir, path) = db_file(&gb());
    let db = GeoDb::open(&path, Schema::Auto).unwrap();
    assert_eq!(db.path(), Some(path.as_path()));
    assert_eq!(db.country(ip("81.2.69.160")), cc("GB"));
    // Unchanged file: nothing to do.
    assert!(!db.reload_if_changed().unwrap());

    write_atomic(&path, &us());
    assert!(db.reload_if_changed().unwrap(), "replacement not detected");
    assert_eq!(db.country(ip("81.2.69.160")), cc("US"));
    assert_eq!(db.country(ip("2001:db8::1")), cc("US"));
    assert_eq!(
        db.details(ip("81.2.69.160")).country_name.as_deref(),
        Some("America")
    );
    assert!(!db.reload_if_changed().unwrap());

    // Back, with a different layout this time (schema auto-detection happens per load).
    write_atomic(&path, &flat_de());
    assert!(db.reload_if_changed().unwrap());
    assert_eq!(db.country(ip("81.2.69.160")), None);
    assert_eq!(db.country(ip("198.51.100.1")), cc("DE"));
}

/// File systems keep coarse modification times (a kernel tick): a replacement written right
/// after the previous file can have the same size and the same mtime. A rename still makes it
/// a different file, and the reload must see it.
#[test]
fn reload_sees_a_replacement_with_the_same_size_and_mtime() {
    let (dir, path) = db_file(&gb());
    let db = GeoDb::open(&path, Schema::Auto).unwrap();
    let old = std::fs::metadata(&path).unwrap();
    let new = us();
    assert_eq!(new.len() as u64, old.len(), "test databases differ in size");
    let tmp = dir.path().join("next.mmdb");
    std::fs::write(&tmp, &new).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&tmp)
        .unwrap()
        .set_modified(old.modified().unwrap())
        .unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let now = std::fs::metadata(&path).unwrap();
    assert_eq!(
        (now.modified().unwrap(), now.len()),
        (old.modified().unwrap(), old.len())
    );
    assert!(db.reload_if_changed().unwrap(), "replacement not detected");
    assert_eq!(db.country(ip("81.2.69.160")), cc("US"));
}

#[test]
fn broken_replacements_are_refused_and_old_answers_stay() {
    let (_dir, path) = db_file(&gb());
    let db = GeoDb::open(&path, Schema::Auto).unwrap();
    assert_eq!(db.country(ip("81.2.69.160")), cc("GB"));
    let good = us();

    // Garbage.
    write_atomic(&path, b"definitely not a MaxMind DB file");
    let e = db.reload_if_changed().unwrap_err();
    assert!(matches!(e, GeoError::Invalid { .. }), "{e:?}");
    assert_eq!(db.country(ip("81.2.69.160")), cc("GB"));
    assert_eq!(db.country(ip("2001:db8::1")), cc("GB"));

    // A copy cut short (the first half of a valid file: no metadata section).
    write_atomic(&path, &good[..good.len() / 2]);
    assert!(db.reload_if_changed().is_err());
    assert_eq!(db.country(ip("81.2.69.160")), cc("GB"));

    // A copy missing its last bytes (metadata cut).
    write_atomic(&path, &good[..good.len() - 8]);
    assert!(db.reload_if_changed().is_err());
    assert_eq!(db.country(ip("81.2.69.160")), cc("GB"));

    // Empty file.
    write_atomic(&path, b"");
    assert!(db.reload_if_changed().is_err());
    assert_eq!(db.country(ip("81.2.69.160")), cc("GB"));

    // The file disappears: nothing to load, the old database keeps answering.
    std::fs::remove_file(&path).unwrap();
    assert!(!db.reload_if_changed().unwrap());
    assert_eq!(db.country(ip("81.2.69.160")), cc("GB"));

    // And a good file is then picked up.
    write_atomic(&path, &good);
    assert!(db.reload_if_changed().unwrap());
    assert_eq!(db.country(ip("81.2.69.160")), cc("US"));
}

/// Readers on several threads while the file flips between two databases: every answer is the
/// old one or the new one (never unknown, never a country from one and a name from the other),
/// and once a reload returned, no lookup answers from the database before it.
#[test]
fn concurrent_lookups_during_reloads_see_old_or_new() {
    let (_dir, path) = db_file(&gb());
    let db = Arc::new(GeoDb::open(&path, Schema::Auto).unwrap());
    let (gb_bytes, us_bytes) = (gb(), us());
    let stop = Arc::new(AtomicBool::new(false));
    // Which database was last swapped in: 0 = GB, 1 = US (set after reload_if_changed).
    let generation = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for t in 0..4 {
        let (db, stop) = (db.clone(), stop.clone());
        readers.push(std::thread::spawn(move || {
            let addr = if t % 2 == 0 {
                ip("81.2.69.160")
            } else {
                ip("2001:db8::42")
            };
            let (mut gb, mut us, mut n) = (0u64, 0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let d = db.details(addr);
                match (d.country.map(|c| c.to_string()), d.country_name.as_deref()) {
                    (Some(c), Some("Britain")) if c == "GB" => gb += 1,
                    (Some(c), Some("America")) if c == "US" => us += 1,
                    other => panic!("inconsistent answer for {addr}: {other:?} ({d:?})"),
                }
                let c = db.country(addr);
                assert!(c == cc("GB") || c == cc("US"), "{addr}: {c:?}");
                n += 1;
            }
            (gb, us, n)
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut reloads = 0;
    let mut next_is_us = true;
    while Instant::now() < deadline {
        write_atomic(&path, if next_is_us { &us_bytes } else { &gb_bytes });
        assert!(
            db.reload_if_changed().unwrap(),
            "replacement #{reloads} not detected"
        );
        generation.store(usize::from(next_is_us), Ordering::SeqCst);
        // Right after the swap, this thread must see the new answer.
        let want = if next_is_us { cc("US") } else { cc("GB") };
        assert_eq!(
            db.country(ip("81.2.69.160")),
            want,
            "after reload #{reloads}"
        );
        reloads += 1;
        next_is_us = !next_is_us;
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    let (mut gb_seen, mut us_seen) = (0, 0);
    for r in readers {
        let (g, u, n) = r.join().expect("a reader panicked");
        assert!(n > 0);
        gb_seen += g;
        us_seen += u;
    }
    assert!(reloads >= 20, "only {reloads} reloads in 2 s");
    assert!(
        gb_seen > 0 && us_seen > 0,
        "readers never saw both databases: GB {gb_seen}, US {us_seen}"
    );
    let last = if generation.load(Ordering::SeqCst) == 1 {
        cc("US")
    } else {
        cc("GB")
    };
    assert_eq!(db.country(ip("81.2.69.160")), last);
}

#[test]
fn watch_picks_up_a_change() {
    let (_dir, path) = db_file(&gb());
    let db = Arc::new(GeoDb::open(&path, Schema::Auto).unwrap());
    db.watch(Duration::from_millis(100));
    assert_eq!(db.country(ip("81.2.69.160")), cc("GB"));
    write_atomic(&path, &us());
    let deadline = Instant::now() + Duration::from_secs(5);
    while db.country(ip("81.2.69.160")) != cc("US") {
        assert!(
            Instant::now() < deadline,
            "watch() did not reload the database within 5 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // A broken file is refused by the watcher too; a later good one is picked up.
    write_atomic(&path, b"garbage");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(db.country(ip("81.2.69.160")), cc("US"));
    write_atomic(&path, &flat_de());
    let deadline = Instant::now() + Duration::from_secs(5);
    while db.country(ip("198.51.100.1")) != cc("DE") {
        assert!(
            Instant::now() < deadline,
            "watch() did not reload the database within 5 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(db.country(ip("81.2.69.160")), None);
}

#[test]
fn watching_a_database_without_a_file_is_a_no_op() {
    let db = Arc::new(GeoDb::none());
    db.watch(Duration::from_millis(10));
    std::thread::sleep(Duration::from_millis(50));
    assert!(!db.is_loaded());
}

// ---------------------------------------------------------------------------------------------
// A connection's remembered lookup
// ---------------------------------------------------------------------------------------------

#[test]
fn a_memo_answers_like_the_database_and_forgets_on_reload() {
    let (dir, db) = open(&geoip2_fr(), Schema::Auto);
    let fr = ip("198.51.100.7");
    let memo = CountryMemo::default();
    assert_eq!(db.country_memo(fr, &memo), cc("FR"));
    // The next answer comes from the memo, not the database: asked (against its contract)
    // about an address the database places nowhere, it still says FR.
    assert_eq!(
        db.country_memo(ip("192.0.2.1"), &memo),
        cc("FR"),
        "from the memo"
    );
    // No country is remembered too: asked about FR's address afterwards, still none.
    let nowhere = CountryMemo::default();
    assert_eq!(db.country_memo(ip("192.0.2.1"), &nowhere), None);
    assert_eq!(db.country_memo(fr, &nowhere), None, "from the memo");

    // A reload: the memo is not trusted across it.
    write_atomic(&dir.path().join("geo.mmdb"), &flat_de());
    assert!(db.reload_if_changed().unwrap());
    assert_eq!(db.country_memo(fr, &memo), cc("DE"));
    assert_eq!(db.country(fr), cc("DE"));

    // Nor by another database.
    let (_d2, other) = open(&geoip2_fr(), Schema::Auto);
    assert_eq!(other.country_memo(fr, &memo), cc("FR"));
    // Without a database, nothing, whatever the memo holds.
    assert_eq!(GeoDb::none().country_memo(fr, &memo), None);
}
