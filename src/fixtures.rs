//! Loading the vendors' fixture files, embedded or from `--fixtures DIR`.
//!
//! Each vendor module knows its own fixture format; this module finds the
//! files, parses them with precise error places, and refuses to produce
//! anything at all when any file has a problem: a half-loaded world is never
//! served.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::store::Baseline;
use crate::vendors::{self, Vendor};

/// Why usermock could not start (or `usermock check` failed).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{} problem(s) in fixture or scenario files:\n{}", .0.len(), list(.0))]
    Files(Vec<FileProblem>),
    #[error("{option}: unknown vendor '{name}' (known: {})", vendors::names())]
    UnknownVendor { option: &'static str, name: String },
    #[error("--scenario: no scenario is named '{name}' (see GET /__admin/scenarios or the scenarios folder)")]
    UnknownScenario { name: String },
    #[error("cannot read fixtures from {path}: {source}")]
    FixtureDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn list(problems: &[FileProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One mistake in one fixture or scenario file, with the place it is at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    pub file: String,
    pub line_column: Option<(usize, usize)>,
    /// JSON pointer (RFC 6901) of the offending value; empty for the root.
    pub pointer: Option<String>,
    pub message: String,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.line_column {
            write!(f, ":{line}:{column}")?;
        }
        if let Some(pointer) = &self.pointer {
            write!(f, " at {}", if pointer.is_empty() { "/" } else { pointer })?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A fixture or scenario file's text and the name to report it under.
#[derive(Debug)]
pub(crate) struct SourceFile {
    pub label: String,
    pub text: String,
}

impl SourceFile {
    pub fn problem(&self, pointer: impl Into<String>, message: impl Into<String>) -> FileProblem {
        FileProblem {
            file: self.label.clone(),
            line_column: None,
            pointer: Some(pointer.into()),
            message: message.into(),
        }
    }

    /// Parses the whole file into `T`. Syntax and type errors carry the line,
    /// column and JSON pointer at which serde gave up.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, FileProblem> {
        let mut de = serde_json::Deserializer::from_str(&self.text);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let pointer = pointer_of(err.path());
            self.serde_problem(Some(pointer), &err.into_inner())
        })?;
        // Trailing garbage after the document is a mistake too.
        de.end().map_err(|err| self.serde_problem(None, &err))?;
        Ok(value)
    }

    fn serde_problem(&self, pointer: Option<String>, err: &serde_json::Error) -> FileProblem {
        FileProblem {
            file: self.label.clone(),
            line_column: (err.line() > 0).then(|| (err.line(), err.column())),
            pointer,
            message: inner_message(err),
        }
    }
}

/// serde_json appends " at line L column C" to its messages; the place is
/// already reported separately.
fn inner_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

/// A serde path as an RFC 6901 JSON pointer.
pub(crate) fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"))
            }
            Segment::Unknown => pointer.push('?'),
        }
    }
    pointer
}

/// Everything the fixtures define: the vendors (with their static worlds)
/// and the mutable records they start with.
pub(crate) struct World {
    pub vendors: Vec<Arc<dyn Vendor>>,
    pub baseline: Baseline,
}

/// Loads every vendor's fixture: from `dir` when given, where a vendor with
/// no `<vendor>.json` keeps its embedded default, else all embedded.
pub(crate) fn load(dir: Option<&Path>, rate_limited: &[String]) -> Result<World, StartupError> {
    if let Some(unknown) = rate_limited
        .iter()
        .find(|name| !vendors::ALL.iter().any(|s| s.name == name.as_str()))
    {
        return Err(StartupError::UnknownVendor {
            option: "--rate-limit",
            name: unknown.clone(),
        });
    }
    let mut files: Vec<(&'static vendors::VendorSpec, SourceFile)> = vendors::ALL
        .iter()
        .map(|spec| {
            let file = SourceFile {
                label: format!("<embedded>/{}.json", spec.name),
                text: spec.embedded_fixture.to_owned(),
            };
            (spec, file)
        })
        .collect();
    let mut problems = Vec::new();

    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir).map_err(|source| StartupError::FixtureDir {
            path: dir.to_owned(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                tracing::debug!(path = %path.display(), "not a .json file; ignored");
                continue;
            }
            let label = path.display().to_string();
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let Some(slot) = files.iter_mut().find(|(spec, _)| spec.name == stem) else {
                problems.push(FileProblem {
                    file: label,
                    line_column: None,
                    pointer: None,
                    message: format!(
                        "unknown vendor '{stem}' (fixture files are named {})",
                        vendors::names_as_files()
                    ),
                });
                continue;
            };
            match std::fs::read_to_string(&path) {
                Ok(text) => slot.1 = SourceFile { label, text },
                Err(err) => problems.push(FileProblem {
                    file: label,
                    line_column: None,
                    pointer: None,
                    message: format!("cannot read: {err}"),
                }),
            }
        }
    }

    let mut world = World {
        vendors: Vec::new(),
        baseline: Baseline::default(),
    };
    for (spec, file) in &files {
        let options = vendors::LoadOptions {
            rate_limit: rate_limited.iter().any(|name| name == spec.name),
        };
        match (spec.load)(file, &options) {
            Ok(loaded) => {
                tracing::info!(vendor = spec.name, file = %file.label, records = loaded.records.len(), "fixture loaded");
                for (id, record) in loaded.records {
                    world.baseline.insert(spec.name, id, record);
                }
                world.vendors.push(loaded.vendor);
            }
            Err(mut found) => problems.append(&mut found),
        }
    }
    if problems.is_empty() {
        Ok(world)
    } else {
        Err(StartupError::Files(problems))
    }
}
