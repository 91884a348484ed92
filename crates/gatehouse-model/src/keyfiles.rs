//! `public-keys/*.json` and `key-groups/*.json`: loading and cross-checking.
//!
//! A key group's items must name loaded public keys; a behaviour's `TrustedKeyGroups` must name
//! loaded key groups. The PEM itself is parsed (and refused if it is not an RSA or P-256 key)
//! when the edge compiles the configuration.

use crate::aws::keys::{KeyGroupDocument, PublicKeyDocument};
use crate::config::{parse_json, Config, KeyGroupEntry, Problem, PublicKeyEntry};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn stem(file: &Path) -> String {
    file.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string()
}

fn problem(file: &Path, path: &str, reason: String) -> Problem {
    Problem {
        file: file.to_path_buf(),
        path: path.into(),
        reason,
    }
}

/// Parses the key files.
pub fn load(
    key_docs: &[(PathBuf, String)],
    group_docs: &[(PathBuf, String)],
    problems: &mut Vec<Problem>,
) -> (Vec<PublicKeyEntry>, Vec<KeyGroupEntry>) {
    let mut keys = Vec::new();
    for (file, text) in key_docs {
        let Some(doc) = parse_json::<PublicKeyDocument>(file, text, problems) else {
            continue;
        };
        let (cfg, id, root) = match (doc.public_key_config, doc.public_key) {
            (Some(c), None) => (c, stem(file), "$.PublicKeyConfig"),
            (None, Some(e)) => (
                e.public_key_config,
                e.id.unwrap_or_else(|| stem(file)),
                "$.PublicKey.PublicKeyConfig",
            ),
            _ => {
                problems.push(problem(file, "$", "expected the output of `aws cloudfront get-public-key-config` (PublicKeyConfig) or `get-public-key` (PublicKey)".into()));
                continue;
            }
        };
        if !cfg.encoded_key.contains("-----BEGIN PUBLIC KEY-----") {
            problems.push(problem(
                file,
                &format!("{root}.EncodedKey"),
                "EncodedKey must be a PEM public key (-----BEGIN PUBLIC KEY-----)".into(),
            ));
            continue;
        }
        keys.push(PublicKeyEntry {
            id,
            name: cfg.name,
            encoded_key: cfg.encoded_key,
            file: file.clone(),
        });
    }
    keys.sort_by(|a, b| a.id.cmp(&b.id));
    let mut groups = Vec::new();
    for (file, text) in group_docs {
        let Some(doc) = parse_json::<KeyGroupDocument>(file, text, problems) else {
            continue;
        };
        let (cfg, id) = match (doc.key_group_config, doc.key_group) {
            (Some(c), None) => (c, stem(file)),
            (None, Some(e)) => (e.key_group_config, e.id.unwrap_or_else(|| stem(file))),
            _ => {
                problems.push(problem(file, "$", "expected the output of `aws cloudfront get-key-group-config` (KeyGroupConfig) or `get-key-group` (KeyGroup)".into()));
                continue;
            }
        };
        groups.push(KeyGroupEntry {
            id,
            name: cfg.name,
            items: cfg.items,
            file: file.clone(),
        });
    }
    groups.sort_by(|a, b| a.id.cmp(&b.id));
    (keys, groups)
}

/// Checks that key groups name known keys and behaviours name known key groups.
pub fn validate_references(cfg: &Config, problems: &mut Vec<Problem>) {
    let key_ids: HashSet<&str> = cfg.public_keys.iter().map(|k| k.id.as_str()).collect();
    for g in &cfg.key_groups {
        let root = "KeyGroupConfig.Items";
        if g.items.is_empty() {
            problems.push(problem(
                &g.file,
                &format!("$.{root}"),
                "a key group needs at least one public key".into(),
            ));
        }
        for (i, item) in g.items.iter().enumerate() {
            if !key_ids.contains(item.as_str()) {
                problems.push(problem(
                    &g.file,
                    &format!("$.{root}[{i}]"),
                    format!("public key {item:?} is not in public-keys/ (add public-keys/{item}.json from `aws cloudfront get-public-key`)"),
                ));
            }
        }
    }
    let group_ids: HashSet<&str> = cfg.key_groups.iter().map(|g| g.id.as_str()).collect();
    for d in &cfg.distributions {
        let c = &d.config;
        let behaviors = std::iter::once((
            "DefaultCacheBehavior".to_string(),
            &c.default_cache_behavior,
        ))
        .chain(
            c.cache_behaviors
                .items
                .iter()
                .enumerate()
                .map(|(i, b)| (format!("CacheBehaviors.Items[{i}]"), b)),
        );
        for (path, b) in behaviors {
            let Some(tkg) = b.trusted_key_groups.as_ref().filter(|t| t.enabled) else {
                continue;
            };
            for (i, g) in tkg.items.iter().enumerate() {
                if !group_ids.contains(g.as_str()) {
                    problems.push(problem(
                        &d.file,
                        &format!("{}.{path}.TrustedKeyGroups.Items[{i}]", d.json_root),
                        format!("key group {g:?} is not in key-groups/ (add key-groups/{g}.json from `aws cloudfront get-key-group`)"),
                    ));
                }
            }
        }
    }
}
