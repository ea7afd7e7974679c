//! Loading the vendors' fixture files, embedded or from `--fixtures DIR`.
//!
//! Each vendor module knows its own fixture format; this module finds the
//! files, parses them with precise error places, and refuses to produce
//! anything at all when any file has a problem: a half-loaded world is never
//! served.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostics::{FileProblem, SourceFile, StartupError};
use crate::store::Baseline;
use crate::vendors::{self, Vendor};

/// Everything the fixtures define: the vendors (with their static worlds)
/// and the mutable records they start with.
pub(crate) struct World {
    pub vendors: Vec<Arc<dyn Vendor>>,
    pub baseline: Baseline,
    /// Each vendor's fixture document as parsed (for snapshots).
    pub documents: Vec<(&'static str, serde_json::Value)>,
}

/// Loads every vendor's fixture: from `dir` when given, where a vendor with
/// no `<vendor>.json` keeps its embedded default, else all embedded.
pub(crate) fn load(
    dir: Option<&Path>,
    rate_limited: &[String],
    limits: &Limits,
) -> Result<World, StartupError> {
    let (files, problems) = read(dir, rate_limited)?;
    build(&files, problems, rate_limited, limits)
}

/// The limits every vendor's fixture is loaded with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_record_bytes: usize,
    pub max_issued_tokens: usize,
}

/// The fixture file each vendor loads from (a path under `dir`, or
/// `<embedded>/<vendor>.json`), for `usermock check` to name.
pub(crate) fn labels(dir: Option<&Path>) -> Vec<String> {
    match read(dir, &[]) {
        Ok((files, _)) => files.into_iter().map(|(_, file)| file.label).collect(),
        Err(_) => Vec::new(),
    }
}

type Files = Vec<(&'static vendors::VendorSpec, SourceFile<'static>)>;

/// Each vendor's fixture text, and the problems of the folder's other files.
fn read(
    dir: Option<&Path>,
    rate_limited: &[String],
) -> Result<(Files, Vec<FileProblem>), StartupError> {
    if let Some(unknown) = rate_limited
        .iter()
        .find(|name| !vendors::ALL.iter().any(|s| s.name == name.as_str()))
    {
        return Err(StartupError::UnknownVendor {
            option: "--rate-limit",
            name: unknown.clone(),
            known: vendors::names(),
        });
    }
    let mut files: Files = vendors::ALL
        .iter()
        .map(|spec| {
            let file = SourceFile {
                label: format!("<embedded>/{}.json", spec.name),
                text: spec.embedded_fixture.into(),
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
            // A FIFO or device named like a fixture would block startup
            // forever (or never end): only regular files are read.
            if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                problems.push(FileProblem {
                    file: label,
                    line_column: None,
                    pointer: None,
                    message: "not a regular file".to_owned(),
                });
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    slot.1 = SourceFile {
                        label,
                        text: text.into(),
                    }
                }
                Err(err) => problems.push(FileProblem {
                    file: label,
                    line_column: None,
                    pointer: None,
                    message: format!("cannot read: {err}"),
                }),
            }
        }
    }

    Ok((files, problems))
}

/// Loads each vendor from its file; every problem of every file is listed.
fn build(
    files: &Files,
    mut problems: Vec<FileProblem>,
    rate_limited: &[String],
    limits: &Limits,
) -> Result<World, StartupError> {
    let mut world = World {
        vendors: Vec::new(),
        baseline: Baseline::default(),
        documents: Vec::new(),
    };
    for (spec, file) in files {
        let options = vendors::LoadOptions {
            rate_limit: rate_limited.iter().any(|name| name == spec.name),
            max_record_bytes: limits.max_record_bytes,
            max_issued_tokens: limits.max_issued_tokens,
        };
        match (spec.load)(file, &options) {
            Ok(loaded) => {
                tracing::info!(vendor = spec.name, file = %file.label, records = loaded.records.len(), "fixture loaded");
                world.baseline.extend(spec.name, loaded.records);
                for (kind, id, record) in loaded.other_kinds {
                    world.baseline.insert(kind, id, record);
                }
                world.vendors.push(loaded.vendor);
                match serde_json::from_str::<WithoutUsers>(&file.text) {
                    // Kept for snapshots, without its users: a snapshot
                    // takes them from the state.
                    Ok(WithoutUsers(document)) => world.documents.push((spec.name, document)),
                    Err(err) => problems.push(file.problem("", format!("cannot re-read: {err}"))),
                }
            }
            Err(mut found) => problems.append(&mut found),
        }
    }
    if problems.is_empty() {
        Ok(world)
    } else {
        Err(StartupError::files(problems))
    }
}

/// A fixture document with its `users` skipped while parsing (an empty list
/// in their place): the users are the state's, and a large fixture's would
/// otherwise be parsed into a JSON tree once more just to be dropped.
struct WithoutUsers(serde_json::Value);

impl<'de> serde::Deserialize<'de> for WithoutUsers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = WithoutUsers;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a fixture object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<WithoutUsers, A::Error> {
                let mut members = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "users" {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        members.insert(key, serde_json::Value::Array(Vec::new()));
                    } else {
                        members.insert(key, map.next_value()?);
                    }
                }
                Ok(WithoutUsers(serde_json::Value::Object(members)))
            }
        }
        deserializer.deserialize_map(Members)
    }
}
