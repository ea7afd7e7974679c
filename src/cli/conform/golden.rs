//! Goldens (one file per case) and the known divergences beside them.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The file beside the goldens that lists accepted differences.
pub const KNOWN_DIVERGENCES: &str = "known-divergences.json";

/// One case's recorded, normalised answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Golden {
    pub case: String,
    pub vendor: String,
    pub rule: String,
    pub source: String,
    /// When the answers were recorded: the case's "last validated" date
    /// against `target`.
    pub recorded_at: String,
    /// What answered: the vendor's base URL, or a usermock's.
    pub target: String,
    /// The usermock that recorded it (`usermock --version`).
    pub usermock_version: String,
    /// Pointers (into `steps`) whose values differed between two runs.
    #[serde(default)]
    pub volatile: Vec<String>,
    /// Where the recorded answers broke the vendor's published schema.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schema_violations: Vec<String>,
    /// For a golden made by `conform derive`: `examples` when at least one
    /// step's expected answer is a vendor's documented example, `usermock`
    /// when none has one. Absent for a golden recorded from a target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<String>,
    /// Why the steps taken from usermock have no documented example.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_example: Option<String>,
    /// Per step, where its expected answer comes from: the example (name,
    /// source, verbatim or transcribed) or usermock.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derivation: Vec<Value>,
    /// Per step, the pointers its documented example marks as tenant data:
    /// `verify` compares them by shape, besides the case's own `shape`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub example_shape: Vec<Vec<String>>,
    pub steps: Vec<Value>,
}

impl Golden {
    pub fn read(dir: &Path, case: &str) -> Result<Option<Golden>, String> {
        let path = dir.join(format!("{case}.json"));
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(format!("cannot read {}: {err}", path.display())),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn write(&self, dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(format!("{}.json", self.case));
        let mut text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        text.push('\n');
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// A difference the team accepts, with its reason: reported as known,
/// never hidden.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Divergence {
    pub case: String,
    /// A pointer into the case's steps (`/steps/0/status`); a difference at
    /// or below it is known. Without one, every difference of the case is.
    #[serde(default)]
    pub pointer: Option<String>,
    pub reason: String,
}

impl Divergence {
    pub fn covers(&self, case: &str, pointer: &str) -> bool {
        self.case == case
            && self.pointer.as_deref().is_none_or(|p| {
                pointer == p
                    || pointer
                        .strip_prefix(p)
                        .is_some_and(|rest| rest.starts_with('/'))
            })
    }
}

pub fn known_divergences(dir: &Path) -> Result<Vec<Divergence>, String> {
    let path = dir.join(KNOWN_DIVERGENCES);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(err) => Err(format!("cannot read {}: {err}", path.display())),
    }
}
