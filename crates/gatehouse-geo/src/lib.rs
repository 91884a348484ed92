//! Viewer country lookup for Gatehouse, over MaxMind DB (`.mmdb`) files.
//!
//! Two schemas are understood: MaxMind's GeoIP2/GeoLite2 (and DB-IP) with `country.iso_code`,
//! and ip-location-db's with a top-level `country_code`. [`Schema::Auto`] picks by the
//! database's metadata, and falls back to trying both paths.
//!
//! The database is read into memory whole and swapped atomically ([`GeoDb::reload_if_changed`]):
//! a lookup sees the old database or the new one, never a half-written file, and once the swap
//! is done no lookup answers from the old one. A file that fails to parse (for example while it
//! is being copied) is refused and the old database keeps answering.
//!
//! The hot path ([`GeoDb::country`]) does not allocate and takes no lock.

#![warn(missing_docs)]

use arc_swap::ArcSwapOption;
use maxminddb::{path, Reader};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

/// Which record layout the database uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schema {
    /// Decide from the metadata; try both layouts when unsure.
    #[default]
    Auto,
    /// MaxMind GeoIP2 / GeoLite2 / DB-IP: `country.iso_code`, `country.names.en`.
    Geoip2,
    /// ip-location-db: top-level `country_code`.
    IpLocationDb,
}

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses two ASCII letters (any case).
    pub fn new(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        (b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic))
            .then(|| CountryCode([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()]))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII letters")
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the database knows about an address's country (for `CloudFront-Viewer-*`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CountryDetails {
    /// Country code.
    pub country: Option<CountryCode>,
    /// English country name (GeoIP2 databases).
    pub country_name: Option<String>,
    /// First subdivision ISO code (City databases), e.g. `WA`.
    pub region: Option<String>,
    /// First subdivision English name.
    pub region_name: Option<String>,
}

/// Errors opening a database.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// The file could not be read.
    #[error("GeoIP database {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a MaxMind DB.
    #[error("GeoIP database {path} is not a valid MaxMind DB: {detail}")]
    Invalid {
        /// The file.
        path: String,
        /// The parser's message.
        detail: String,
    },
}

struct Loaded {
    reader: Reader<Vec<u8>>,
    schema: Schema,
    stamp: Option<Stamp>,
    /// Unique to this load in the process (see [`CountryMemo`]).
    generation: u64,
}

impl Loaded {
    fn country(&self, ip: IpAddr) -> Option<CountryCode> {
        let result = self.reader.lookup(canonical(ip)).ok()?;
        country_of(self.schema, &result)
    }
}

/// Numbers loads, so that a [`CountryMemo`] filled from one never answers for another.
static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// One remembered lookup, for a viewer connection: its address does not change, so the
/// database is asked once per connection (and again after a reload) instead of once per
/// request. Lock-free; the owner must ask only about one address.
#[derive(Debug, Default)]
pub struct CountryMemo(std::sync::atomic::AtomicU64);

impl CountryMemo {
    /// Bits: the load's generation (never 0, so an empty memo matches none) above bit 17, bit 16 "has a country", the code below.
    fn get(&self, generation: u64) -> Option<Option<CountryCode>> {
        let m = self.0.load(std::sync::atomic::Ordering::Relaxed);
        if m >> 17 != generation {
            return None;
        }
        Some((m & 1 << 16 != 0).then_some(CountryCode([(m >> 8) as u8, m as u8])))
    }

    fn set(&self, generation: u64, c: Option<CountryCode>) {
        let code = c.map_or(0, |c| 1 << 16 | u64::from(c.0[0]) << 8 | u64::from(c.0[1]));
        self.0.store(
            generation << 17 | code,
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}

/// What identifies one version of the file: modification time and size, and on Unix the file
/// itself (device, inode) and its change time. Modification times are coarse (a kernel tick),
/// so a same-size replacement renamed into place within one tick differs only by its inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: SystemTime,
    len: u64,
    #[cfg(unix)]
    file: (u64, u64, i64, i64),
}

/// A country database that can be swapped while serving.
pub struct GeoDb {
    path: Option<PathBuf>,
    schema: Schema,
    current: ArcSwapOption<Loaded>,
}

impl fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeoDb")
            .field("path", &self.path)
            .field("loaded", &self.is_loaded())
            .finish()
    }
}

fn stamp(path: &Path) -> Option<Stamp> {
    let md = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let file = {
        use std::os::unix::fs::MetadataExt;
        (md.dev(), md.ino(), md.ctime(), md.ctime_nsec())
    };
    Some(Stamp {
        modified: md.modified().ok()?,
        len: md.len(),
        #[cfg(unix)]
        file,
    })
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, as dual-stack proxies write them) are the
/// IPv4 viewer: not every database aliases `::ffff:0:0/96` (ip-location-db's do not).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn load(path: &Path, schema: Schema) -> Result<Loaded, GeoError> {
    let before = stamp(path);
    let bytes = std::fs::read(path).map_err(|source| GeoError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let reader = Reader::from_source(bytes).map_err(|e| GeoError::Invalid {
        path: path.display().to_string(),
        detail: e.to_string(),
    })?;
    let schema = match schema {
        Schema::Auto => detect(&reader),
        s => s,
    };
    Ok(Loaded {
        reader,
        schema,
        stamp: before,
        generation: GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    })
}

/// The country code of a lookup result in `schema`'s layout.
fn country_of(
    schema: Schema,
    result: &maxminddb::LookupResult<'_, Vec<u8>>,
) -> Option<CountryCode> {
    let geoip2 = || {
        result
            .decode_path::<&str>(&path!["country", "iso_code"])
            .ok()
            .flatten()
    };
    let flat = || {
        result
            .decode_path::<&str>(&path!["country_code"])
            .ok()
            .flatten()
    };
    let code = match schema {
        Schema::Geoip2 => geoip2(),
        Schema::IpLocationDb => flat(),
        Schema::Auto => flat().or_else(geoip2),
    }?;
    CountryCode::new(code)
}

/// GeoIP2-style metadata names MaxMind and DB-IP use; anything else is tried both ways.
fn detect(reader: &Reader<Vec<u8>>) -> Schema {
    let t = reader.metadata().database_type.to_ascii_lowercase();
    if t.contains("geoip2") || t.contains("geolite2") || t.contains("dbip") || t.contains("db-ip") {
        Schema::Geoip2
    } else {
        Schema::Auto
    }
}

impl GeoDb {
    /// A database that knows nothing: every country is unknown.
    pub fn none() -> Self {
        GeoDb {
            path: None,
            schema: Schema::Auto,
            current: ArcSwapOption::empty(),
        }
    }

    /// Opens `path`.
    pub fn open(path: &Path, schema: Schema) -> Result<Self, GeoError> {
        let loaded = load(path, schema)?;
        Ok(GeoDb {
            path: Some(path.to_path_buf()),
            schema,
            current: ArcSwapOption::from_pointee(loaded),
        })
    }

    /// Whether a database is loaded.
    pub fn is_loaded(&self) -> bool {
        self.current.load().is_some()
    }

    /// The file, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The database's `database_type` metadata.
    pub fn database_type(&self) -> Option<String> {
        self.current
            .load()
            .as_ref()
            .map(|l| l.reader.metadata().database_type.clone())
    }

    /// The country of `ip`, or `None` when the database has no answer.
    pub fn country(&self, ip: IpAddr) -> Option<CountryCode> {
        self.current.load().as_ref()?.country(ip)
    }

    /// [`GeoDb::country`], remembered in `memo`: `memo` must only ever be asked about `ip`
    /// (one memo per viewer connection). A reload, or another database, looks up again.
    pub fn country_memo(&self, ip: IpAddr, memo: &CountryMemo) -> Option<CountryCode> {
        let guard = self.current.load();
        let loaded = guard.as_ref()?;
        if let Some(c) = memo.get(loaded.generation) {
            return c;
        }
        let c = loaded.country(ip);
        memo.set(loaded.generation, c);
        c
    }

    /// Country, name and region of `ip` (allocates; used for origin headers only). All from
    /// the same database, even while it is being swapped.
    pub fn details(&self, ip: IpAddr) -> CountryDetails {
        let guard = self.current.load();
        let Some(loaded) = guard.as_ref() else {
            return CountryDetails::default();
        };
        let Ok(result) = loaded.reader.lookup(canonical(ip)) else {
            return CountryDetails::default();
        };
        let text =
            |p: &[maxminddb::PathElement<'_>]| result.decode_path::<String>(p).ok().flatten();
        CountryDetails {
            country: country_of(loaded.schema, &result),
            country_name: text(&path!["country", "names", "en"])
                .or_else(|| text(&path!["country_name"])),
            region: text(&path!["subdivisions", 0, "iso_code"]),
            region_name: text(&path!["subdivisions", 0, "names", "en"]),
        }
    }

    /// Re-reads the file when it changed: its modification time or size, or (on Unix) another
    /// file renamed into its place. Returns whether a new
    /// database was swapped in. On a parse error the old database stays.
    pub fn reload_if_changed(&self) -> Result<bool, GeoError> {
        let Some(path) = &self.path else {
            return Ok(false);
        };
        let now = stamp(path);
        let old = self.current.load().as_ref().and_then(|l| l.stamp);
        if now.is_none() || now == old {
            return Ok(false);
        }
        let loaded = load(path, self.schema)?;
        self.current.store(Some(Arc::new(loaded)));
        Ok(true)
    }

    /// Polls the file every `every` on a background thread while the database is alive.
    pub fn watch(self: &Arc<Self>, every: Duration) {
        if self.path.is_none() {
            return;
        }
        let weak: Weak<GeoDb> = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("gatehouse-geo-watch".into())
            .spawn(move || loop {
                std::thread::sleep(every);
                let Some(db) = weak.upgrade() else { break };
                match db.reload_if_changed() {
                    Ok(true) => tracing::info!(path = ?db.path, "GeoIP database reloaded"),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "GeoIP database changed but could not be loaded; keeping the previous one"),
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot watch the GeoIP database");
        }
    }
}

/// The file name of the default database (ip-location-db's geo-whois-asn-country, CC BY 4.0).
pub const DEFAULT_DATABASE_FILE: &str = "geo-whois-asn-country.mmdb";

/// Where the default database is looked for when `gatehouse.toml` names none: the
/// `GATEHOUSE_GEOIP_DATABASE` environment variable, then `data/geoip/` under the current
/// directory and under the executable's ancestors (a source checkout), then
/// `/usr/local/share/gatehouse/geoip/`.
pub fn default_database() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GATEHOUSE_GEOIP_DATABASE") {
        return Some(PathBuf::from(p));
    }
    let rel = Path::new("data/geoip").join(DEFAULT_DATABASE_FILE);
    let mut candidates = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        candidates.push(cwd.join(&rel));
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(4) {
            candidates.push(dir.join(&rel));
        }
    }
    candidates.push(Path::new("/usr/local/share/gatehouse/geoip").join(DEFAULT_DATABASE_FILE));
    candidates.into_iter().find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes() {
        assert_eq!(CountryCode::new("gb").unwrap().as_str(), "GB");
        assert!(CountryCode::new("GBR").is_none());
        assert!(CountryCode::new("1A").is_none());
    }

    #[test]
    fn no_database_knows_nothing() {
        let db = GeoDb::none();
        assert!(!db.is_loaded());
        assert_eq!(db.country("8.8.8.8".parse().unwrap()), None);
        assert!(!db.reload_if_changed().unwrap());
    }
}
