//! Startup diagnostics: a fixture or scenario file's text, the problems
//! found in it with their places, and why usermock could not start.
//!
//! Every loader reports through these types, so a mistake always names the
//! file, the place in it (line and column, or a JSON pointer) and what is
//! wrong, and `usermock check` can list them all.

use std::fmt;
use std::path::PathBuf;

use serde::de::DeserializeOwned;

/// Why usermock could not start (or `usermock check` failed).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Fixture or scenario files have problems; every one is listed.
    #[error("{} problem(s) in fixture or scenario files:\n{}", .0.len(), list(.0))]
    Files(Vec<FileProblem>),
    /// An option names a vendor usermock does not emulate.
    #[error("{option}: unknown vendor '{name}' (known: {known})")]
    UnknownVendor {
        /// The option, e.g. `--rate-limit`.
        option: &'static str,
        /// The name given.
        name: String,
        /// The vendor keys that exist, comma-separated.
        known: String,
    },
    /// `--admin-token` was given but empty (it would turn admin auth off).
    #[error("--admin-token is empty: give a token, or leave the option out to run without one")]
    EmptyAdminToken,
    /// `--clock` is not an RFC 3339 timestamp.
    #[error("--clock: '{value}' is not an RFC 3339 timestamp (e.g. 2026-01-01T00:00:00Z)")]
    BadClock {
        /// The value given.
        value: String,
    },
    /// A scenario to activate at startup does not exist.
    #[error("--scenario: no scenario is named '{name}' (see GET /__admin/scenarios or the scenarios folder)")]
    UnknownScenario {
        /// The name given.
        name: String,
    },
    /// The fixture folder cannot be read.
    #[error("cannot read fixtures from {path}: {source}")]
    FixtureDir {
        /// The folder.
        path: PathBuf,
        /// Why it cannot be read.
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
    /// The file's path, or a label naming an embedded file.
    pub file: String,
    /// Line and column (1-based) of syntax and type errors.
    pub line_column: Option<(usize, usize)>,
    /// JSON pointer (RFC 6901) of the offending value; empty for the root.
    pub pointer: Option<String>,
    /// What is wrong.
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
