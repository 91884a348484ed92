//! AWS JSON shapes, exactly as the AWS CLI prints them.
//!
//! Field names keep AWS's PascalCase; unknown fields are ignored (AWS adds members often) so a
//! newer CLI output still loads. Lists use the XML-derived `{Quantity, Items}` wrapper
//! ([`List`]); an empty list is `{"Quantity": 0}` with no `Items`.

pub mod distribution;
pub mod keys;

use serde::{Deserialize, Serialize};

/// AWS's `{Quantity, Items}` list wrapper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct List<T> {
    /// The count AWS claims; validation checks it equals `items.len()`.
    pub quantity: u32,
    /// The items; absent when the list is empty.
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<T>,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List {
            quantity: 0,
            items: Vec::new(),
        }
    }
}

impl<T> List<T> {
    /// The items.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// Builds a list whose quantity matches its items.
    pub fn from_items(items: Vec<T>) -> Self {
        List {
            quantity: items.len() as u32,
            items,
        }
    }
}

/// An `Enabled` + `{Quantity, Items}` list (`TrustedSigners`, `TrustedKeyGroups`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnabledList {
    /// Whether the restriction is on.
    pub enabled: bool,
    /// The count AWS claims.
    pub quantity: u32,
    /// Account numbers or key group ids.
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
}
