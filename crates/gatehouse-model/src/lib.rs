//! Gatehouse's model of the world: AWS's CloudFront JSON shapes, the edge-local settings
//! (`gatehouse.toml`), loading and validating a config directory, and the cause catalogue.
//!
//! This crate has no I/O beyond reading the config directory and no HTTP dependency, so the
//! edge, the doctor and the tools all share it.

#![warn(missing_docs)]

pub mod aws;
pub mod cause;
pub mod config;
pub mod glob;
pub mod keyfiles;
pub mod settings;
pub mod validate;

pub use cause::Cause;
pub use config::{
    load_dir, load_parts, Config, ConfigErrors, Distribution, KeyGroupEntry, Problem,
    PublicKeyEntry,
};
pub use settings::Settings;
