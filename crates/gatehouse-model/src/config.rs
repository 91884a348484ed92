//! Loading a config directory: `gatehouse.toml` plus `distributions/*.json`.
//!
//! Loading never stops at the first problem: every problem found is returned, each with the
//! file, the JSON path and the reason, so `gatehouse check` can list them all and `serve`
//! can refuse to start (or keep its previous config on reload).

use crate::aws::distribution::{DistributionConfig, DistributionDocument};
use crate::settings::Settings;
use crate::validate;
use std::fmt;
use std::path::{Path, PathBuf};

/// One thing wrong with a config directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file it is in.
    pub file: PathBuf,
    /// The JSON (or TOML) path inside the file, `$` for the whole document.
    pub path: String,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file.display(), self.path, self.reason)
    }
}

/// All problems of a config directory; loading fails if there is at least one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} problem(s) in the configuration:\n{}", .0.len(), display_all(.0))]
pub struct ConfigErrors(pub Vec<Problem>);

fn display_all(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A loaded, validated distribution.
#[derive(Debug, Clone)]
pub struct Distribution {
    /// Distribution id (from `get-distribution`'s `Id`, else the file name).
    pub id: String,
    /// ARN when known.
    pub arn: Option<String>,
    /// Default domain: `get-distribution`'s `DomainName`, else `<id lowercased>.<suffix>`.
    pub domain_name: String,
    /// The `ETag` wrapper value, if any.
    pub etag: Option<String>,
    /// The file it came from.
    pub file: PathBuf,
    /// Where the config sits in that file (`$.DistributionConfig`).
    pub json_root: String,
    /// The configuration.
    pub config: DistributionConfig,
}

/// A loaded public key (`public-keys/<Id>.json`).
#[derive(Debug, Clone)]
pub struct PublicKeyEntry {
    /// Key id.
    pub id: String,
    /// Name.
    pub name: String,
    /// PEM.
    pub encoded_key: String,
    /// The file.
    pub file: PathBuf,
}

/// A loaded key group (`key-groups/<Id>.json`).
#[derive(Debug, Clone)]
pub struct KeyGroupEntry {
    /// Key group id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Public key ids.
    pub items: Vec<String>,
    /// The file.
    pub file: PathBuf,
}

/// A whole loaded config directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// The directory (paths in settings are relative to it).
    pub dir: PathBuf,
    /// `gatehouse.toml`.
    pub settings: Settings,
    /// Distributions, sorted by id.
    pub distributions: Vec<Distribution>,
    /// Public keys, sorted by id.
    pub public_keys: Vec<PublicKeyEntry>,
    /// Key groups, sorted by id.
    pub key_groups: Vec<KeyGroupEntry>,
}

impl Config {
    /// Resolves a path from `gatehouse.toml` against the config directory.
    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }
}

/// The name of the settings file inside a config directory.
pub const SETTINGS_FILE: &str = "gatehouse.toml";

/// Loads and validates a config directory.
pub fn load_dir(dir: &Path) -> Result<Config, ConfigErrors> {
    let mut problems = Vec::new();
    let settings_path = dir.join(SETTINGS_FILE);
    let settings_text = match std::fs::read_to_string(&settings_path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            problems.push(Problem {
                file: settings_path.clone(),
                path: "$".into(),
                reason: format!("cannot read: {e}"),
            });
            None
        }
    };
    if !dir.is_dir() {
        return Err(ConfigErrors(vec![Problem {
            file: dir.to_path_buf(),
            path: "$".into(),
            reason: "not a directory".into(),
        }]));
    }
    let docs = read_json_dir(dir, "distributions", true, &mut problems);
    let key_docs = read_json_dir(dir, "public-keys", false, &mut problems);
    let group_docs = read_json_dir(dir, "key-groups", false, &mut problems);
    let (public_keys, key_groups) = crate::keyfiles::load(&key_docs, &group_docs, &mut problems);
    match load_parts(dir, &settings_path, settings_text.as_deref(), &docs) {
        Ok(mut cfg) => {
            cfg.public_keys = public_keys;
            cfg.key_groups = key_groups;
            crate::keyfiles::validate_references(&cfg, &mut problems);
            if problems.is_empty() {
                Ok(cfg)
            } else {
                Err(ConfigErrors(problems))
            }
        }
        Err(ConfigErrors(mut more)) => {
            problems.append(&mut more);
            Err(ConfigErrors(problems))
        }
    }
}

/// Reads every `*.json` file of `dir/sub`, sorted. A missing folder is a problem only when
/// `required`.
fn read_json_dir(
    dir: &Path,
    sub: &str,
    required: bool,
    problems: &mut Vec<Problem>,
) -> Vec<(PathBuf, String)> {
    let folder = dir.join(sub);
    let entries = match std::fs::read_dir(&folder) {
        Ok(e) => e,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            problems.push(Problem {
                file: folder.clone(),
                path: "$".into(),
                reason: format!("cannot read the {sub} directory: {e}"),
            });
            return Vec::new();
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let mut docs = Vec::new();
    for path in paths {
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => docs.push((path, text)),
            Err(e) => problems.push(Problem {
                file: path,
                path: "$".into(),
                reason: format!("cannot read: {e}"),
            }),
        }
    }
    docs
}

/// Loads a config from texts already in memory (the demo, tests). `docs` are
/// `(file path, JSON text)`; the file stem is the distribution id unless the document says.
pub fn load_parts(
    dir: &Path,
    settings_path: &Path,
    settings_text: Option<&str>,
    docs: &[(PathBuf, String)],
) -> Result<Config, ConfigErrors> {
    let mut problems = Vec::new();
    let settings = match settings_text {
        None => Settings::default(),
        Some(text) => match parse_settings(text) {
            Ok(s) => s,
            Err((path, reason)) => {
                problems.push(Problem {
                    file: settings_path.to_path_buf(),
                    path,
                    reason,
                });
                Settings::default()
            }
        },
    };
    validate::settings(dir, settings_path, &settings, &mut problems);

    let mut distributions = Vec::new();
    for (file, text) in docs {
        if let Some(d) = parse_distribution(file, text, &settings, &mut problems) {
            distributions.push(d);
        }
    }
    distributions.sort_by(|a, b| a.id.cmp(&b.id));
    validate::across_distributions(&distributions, &mut problems);

    if problems.is_empty() {
        Ok(Config {
            dir: dir.to_path_buf(),
            settings,
            distributions,
            public_keys: Vec::new(),
            key_groups: Vec::new(),
        })
    } else {
        Err(ConfigErrors(problems))
    }
}

/// Parses `gatehouse.toml`; on error returns `(path, reason)`. The path is the TOML key path
/// (`clients.trusted_proxies[1]`) when known, with the line in the reason; a syntax error has
/// no key path, so its path is `line N`.
fn parse_settings(text: &str) -> Result<Settings, (String, String)> {
    let de = toml::Deserializer::parse(text)
        .map_err(|e| (toml_span_path(text, e.span()), e.message().to_string()))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let line = toml_span_path(text, inner.span());
        if path == "." || path.is_empty() {
            (line, inner.message().to_string())
        } else if line == "$" {
            (path, inner.message().to_string())
        } else {
            (path, format!("{} ({line})", inner.message()))
        }
    })
}

fn toml_span_path(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(r) => {
            let line = text[..r.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}")
        }
        None => "$".into(),
    }
}

fn parse_distribution(
    file: &Path,
    text: &str,
    settings: &Settings,
    problems: &mut Vec<Problem>,
) -> Option<Distribution> {
    let problem = |path: String, reason: String| Problem {
        file: file.to_path_buf(),
        path,
        reason,
    };
    let doc: DistributionDocument = parse_json(file, text, problems)?;
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string();
    let (config, id, arn, domain, root) = match (doc.distribution_config, doc.distribution) {
        (Some(c), None) => (c, stem, None, None, "$.DistributionConfig"),
        (None, Some(env)) => (
            env.distribution_config,
            env.id.unwrap_or(stem),
            env.arn,
            env.domain_name,
            "$.Distribution.DistributionConfig",
        ),
        (Some(_), Some(_)) => {
            problems.push(problem(
                "$".into(),
                "has both DistributionConfig and Distribution; keep one".into(),
            ));
            return None;
        }
        (None, None) => {
            problems.push(problem(
                "$".into(),
                "expected the output of `aws cloudfront get-distribution-config` (DistributionConfig) or `get-distribution` (Distribution)".into(),
            ));
            return None;
        }
    };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        problems.push(problem(
            "$".into(),
            format!("distribution id {id:?} (from the file name) must be alphanumeric"),
        ));
        return None;
    }
    let domain_name = domain.map(|d| d.to_ascii_lowercase()).unwrap_or_else(|| {
        format!(
            "{}.{}",
            id.to_ascii_lowercase(),
            settings.edge.default_domain_suffix
        )
    });
    let before = problems.len();
    validate::distribution(file, root, &config, problems);
    if problems.len() != before {
        return None;
    }
    Some(Distribution {
        id,
        arn,
        domain_name,
        etag: doc.etag,
        file: file.to_path_buf(),
        json_root: root.to_string(),
        config,
    })
}

/// Parses a JSON document; on failure records a problem with the JSON path of the error.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let de = &mut serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize(de) {
        Ok(d) => Some(d),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            // A syntax error inside an object before its key was read ends in an unknown
            // segment (`DistributionConfig.?`); drop it.
            let path = path.trim_end_matches(".?").trim_end_matches('?');
            let path = if path == "." || path.is_empty() {
                "$".to_string()
            } else {
                format!("$.{path}")
            };
            let reason = if inner.is_syntax() || inner.is_eof() {
                format!(
                    "invalid JSON at line {} column {}: {}",
                    inner.line(),
                    inner.column(),
                    strip_position(&inner.to_string())
                )
            } else {
                strip_position(&inner.to_string())
            };
            problems.push(Problem {
                file: file.to_path_buf(),
                path,
                reason,
            });
            None
        }
    }
}

/// serde_json appends " at line X column Y"; the path already says where.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}
