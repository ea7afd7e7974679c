//! Scenario files: rules that answer instead of the emulation, so a test can
//! make any vendor error or network fault happen on demand.
//!
//! Which scenarios apply to a request: those named in its
//! `X-Usermock-Scenario` header, then those activated for its session
//! (`X-Usermock-Session`), then those activated for everyone. Their rules are
//! tried in that order and the first rule that matches *and fires* answers;
//! a request no rule answers falls through to the emulation. Call counters
//! are kept per session, scenario and rule, so parallel tests with their
//! own sessions never disturb each other's "first call fails" rules.

mod compile;
mod fault;
mod rule;
mod shipped;
mod spec;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use dashmap::DashMap;
use serde_json::{json, Value};

pub(crate) use compile::compile_find;
pub(crate) use fault::BrokenBody;
use rule::Scenario;
pub(crate) use rule::{Action, RuleReply};
pub(crate) use spec::{FaultKind, ScenarioFile};

use crate::diagnostics::{FileProblem, SourceFile};
use crate::http::{headers, Call};
use crate::session::Session;
use crate::vendors::Vendor;

/// Why an uploaded scenario was not loaded.
#[derive(Debug)]
pub(crate) enum UploadError {
    /// The file has problems, each with its place.
    Invalid(Vec<FileProblem>),
    /// `--max-uploaded-scenarios` are loaded already.
    TooMany { limit: usize },
    /// The uploaded scenarios would hold more than
    /// `--max-scenario-bytes` of scenario files in all.
    TooManyBytes { limit: usize },
}

/// What uploads may hold at once: scenarios, and bytes of scenario files
/// (a compiled scenario takes a few times its file's size).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct UploadLimits {
    pub scenarios: usize,
    pub bytes: usize,
}

/// Why a request's `X-Usermock-Scenario` header cannot be honoured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderProblem {
    /// A value that is not visible ASCII.
    NotAscii,
    /// A name no loaded scenario has.
    Unknown(String),
}

/// What a rule decided for a request.
#[derive(Debug)]
pub(crate) struct Decision {
    pub scenario: String,
    pub rule: usize,
    pub answer: RuleReply,
}

/// Counter key: (session, scenario, rule index).
type CounterKey = (Session, String, usize);

#[derive(Debug, Default)]
pub(crate) struct Scenarios {
    by_name: DashMap<String, Arc<Scenario>>,
    /// What a full reset goes back to: the scenarios loaded at startup and
    /// the ones activated then.
    startup: RwLock<(Vec<Arc<Scenario>>, Vec<String>)>,
    /// How many uploaded scenarios, and bytes of them, may exist at once.
    max_uploaded: UploadLimits,
    /// The file size of each uploaded scenario, by name.
    uploaded_bytes: DashMap<String, usize>,
    /// Held from an upload's check of the limits to its insert, so two
    /// uploads at once cannot both fit in the last free room.
    upload_lock: std::sync::Mutex<()>,
    /// Activated for everyone, in activation order.
    global: RwLock<Vec<String>>,
    /// Activated for one session.
    sessions: DashMap<Session, Vec<String>>,
    counters: DashMap<CounterKey, u64>,
    /// The sessions that have a counter, so that knowing whether a
    /// session holds anything here never scans the counters.
    counted: DashMap<Session, ()>,
}

impl Scenarios {
    /// The shipped scenarios, then those under `path` (a file or a folder
    /// of `.json` files), which replace shipped ones of the same name.
    pub fn load(
        path: Option<&Path>,
        vendors: &[&dyn Vendor],
        max_uploaded: UploadLimits,
    ) -> Result<Scenarios, Vec<FileProblem>> {
        let scenarios = Scenarios {
            max_uploaded,
            ..Scenarios::default()
        };
        let mut problems = Vec::new();
        for (name, text) in shipped::SHIPPED {
            let file = SourceFile {
                label: format!("<embedded>/scenarios/{name}.json"),
                text: (*text).into(),
            };
            match compile::compile(&file, "embedded", vendors) {
                Ok(scenario) => {
                    scenarios
                        .by_name
                        .insert(scenario.name.clone(), Arc::new(scenario));
                }
                Err(mut found) => problems.append(&mut found),
            }
        }
        if let Some(path) = path {
            let mut seen = std::collections::HashMap::new();
            for file in files_under(path, &mut problems) {
                let label = file.display().to_string();
                if !std::fs::metadata(&file).is_ok_and(|m| m.is_file()) {
                    problems.push(whole_file_problem(&label, "not a regular file".to_owned()));
                    continue;
                }
                let text = match std::fs::read_to_string(&file) {
                    Ok(text) => text,
                    Err(err) => {
                        problems.push(whole_file_problem(&label, format!("cannot read: {err}")));
                        continue;
                    }
                };
                let source = SourceFile {
                    label: label.clone(),
                    text: text.into(),
                };
                match compile::compile(&source, &label, vendors) {
                    Ok(scenario) => {
                        if let Some(first) = seen.insert(scenario.name.clone(), label.clone()) {
                            problems.push(source.problem(
                                "/name",
                                format!("scenario '{}' is also defined in {first}", scenario.name),
                            ));
                            continue;
                        }
                        tracing::info!(scenario = %scenario.name, file = %label, "scenario loaded");
                        scenarios
                            .by_name
                            .insert(scenario.name.clone(), Arc::new(scenario));
                    }
                    Err(mut found) => problems.append(&mut found),
                }
            }
        }
        if problems.is_empty() {
            Ok(scenarios)
        } else {
            Err(problems)
        }
    }

    /// Remembers the current scenarios and global activations as what a
    /// full reset returns to (called once, after startup activations).
    pub fn mark_startup(&self) {
        let loaded = self.by_name.iter().map(|e| Arc::clone(e.value())).collect();
        let active = self.global.read().map(|g| g.clone()).unwrap_or_default();
        if let Ok(mut startup) = self.startup.write() {
            *startup = (loaded, active);
        }
    }

    /// Back to startup: uploads and deletions undone, runtime activations
    /// (global and per session) dropped, startup activations restored, all
    /// counters at zero.
    pub fn reset_all(&self) {
        let (loaded, active) = self.startup.read().map(|s| s.clone()).unwrap_or_default();
        self.by_name.clear();
        for scenario in loaded {
            self.by_name.insert(scenario.name.clone(), scenario);
        }
        if let Ok(mut global) = self.global.write() {
            *global = active;
        }
        self.sessions.clear();
        self.counters.clear();
        self.counted.clear();
        self.uploaded_bytes.clear();
    }

    /// Forgets a session's activations and counters (its reset or expiry).
    pub fn forget_session(&self, session: &Session) {
        self.sessions.remove(session);
        if self.counted.remove(session).is_some() {
            self.counters.retain(|(s, _, _), _| s != session);
        }
    }

    /// Whether a session has activations or counters here.
    pub fn holds_session(&self, session: &Session) -> bool {
        self.sessions.contains_key(session) || self.counted.contains_key(session)
    }

    /// Adds or replaces a scenario sent to the admin API.
    pub fn upload(&self, body: &[u8], vendors: &[&dyn Vendor]) -> Result<String, UploadError> {
        let file = SourceFile {
            label: "request body".to_owned(),
            text: String::from_utf8_lossy(body),
        };
        if body.len() > self.max_uploaded.bytes {
            return Err(UploadError::TooManyBytes {
                limit: self.max_uploaded.bytes,
            });
        }
        let scenario =
            compile::compile(&file, "uploaded", vendors).map_err(UploadError::Invalid)?;
        let _one_at_a_time = self.upload_lock.lock().unwrap_or_else(|e| e.into_inner());
        let others =
            |e: &dashmap::mapref::multiple::RefMulti<'_, String, usize>| e.key() != &scenario.name;
        let uploaded = self
            .by_name
            .iter()
            .filter(|e| e.value().source == "uploaded" && e.key() != &scenario.name)
            .count();
        if uploaded >= self.max_uploaded.scenarios {
            return Err(UploadError::TooMany {
                limit: self.max_uploaded.scenarios,
            });
        }
        let bytes = self
            .uploaded_bytes
            .iter()
            .filter(others)
            .fold(body.len(), |sum, e| sum.saturating_add(*e.value()));
        if bytes > self.max_uploaded.bytes {
            return Err(UploadError::TooManyBytes {
                limit: self.max_uploaded.bytes,
            });
        }
        self.uploaded_bytes
            .insert(scenario.name.clone(), body.len());
        let name = scenario.name.clone();
        self.by_name.insert(name.clone(), Arc::new(scenario));
        self.forget_counters_of(&name);
        Ok(name)
    }

    pub fn remove(&self, name: &str) -> bool {
        let existed = self.by_name.remove(name).is_some();
        self.uploaded_bytes.remove(name);
        if existed {
            if let Ok(mut global) = self.global.write() {
                global.retain(|n| n != name);
            }
            self.sessions
                .iter_mut()
                .for_each(|mut e| e.value_mut().retain(|n| n != name));
            self.forget_counters_of(name);
        }
        existed
    }

    pub fn exists(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Activates `name` for one session, or for everyone; its counters
    /// start again from zero.
    pub fn activate(&self, name: &str, session: &Session) -> bool {
        if !self.exists(name) {
            return false;
        }
        match session {
            Session::Named(_) => {
                let mut active = self.sessions.entry(session.clone()).or_default();
                if !active.iter().any(|n| n == name) {
                    active.push(name.to_owned());
                }
            }
            Session::Shared => {
                if let Ok(mut global) = self.global.write() {
                    if !global.iter().any(|n| n == name) {
                        global.push(name.to_owned());
                    }
                }
            }
        }
        self.counters
            .retain(|(s, n, _), _| !(s == session && n == name));
        true
    }

    /// True when it was active in that scope.
    pub fn deactivate(&self, name: &str, session: &Session) -> bool {
        match session {
            Session::Named(_) => self.sessions.get_mut(session).is_some_and(|mut active| {
                let before = active.len();
                active.retain(|n| n != name);
                active.len() != before
            }),
            Session::Shared => self.global.write().is_ok_and(|mut global| {
                let before = global.len();
                global.retain(|n| n != name);
                global.len() != before
            }),
        }
    }

    fn forget_counters_of(&self, name: &str) {
        self.counters.retain(|(_, n, _), _| n != name);
    }

    /// `GET /__admin/scenarios`.
    pub fn summaries(&self, session: &Session) -> Vec<Value> {
        let global = self.global.read().map(|g| g.clone()).unwrap_or_default();
        let in_session = self
            .sessions
            .get(session)
            .map(|a| a.clone())
            .unwrap_or_default();
        let mut list: Vec<Value> = self
            .by_name
            .iter()
            .map(|e| {
                let s = e.value();
                let mut summary = json!({
                    "name": s.name,
                    "description": s.description,
                    "source": s.source,
                    "rules": s.rules.len(),
                    "active": global.contains(&s.name),
                });
                if !session.is_shared() {
                    summary["active_in_session"] = json!(in_session.contains(&s.name));
                }
                summary
            })
            .collect();
        list.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        list
    }

    pub fn spec(&self, name: &str) -> Option<ScenarioFile> {
        self.by_name.get(name).map(|s| s.spec.clone())
    }

    /// The first rule that matches `call` and fires, counting the call for
    /// every rule that matches up to it. `Err` names a scenario of the
    /// request's header that does not exist.
    pub fn decide(
        &self,
        vendor: &str,
        call: &Call,
        session: &Session,
    ) -> Result<Option<Decision>, HeaderProblem> {
        let mut names: Vec<String> = Vec::new();
        for value in call.headers.get_all(headers::SCENARIO) {
            let text = value.to_str().map_err(|_| HeaderProblem::NotAscii)?;
            for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if !self.exists(name) {
                    return Err(HeaderProblem::Unknown(name.to_owned()));
                }
                names.push(name.to_owned());
            }
        }
        if let Some(active) = self.sessions.get(session) {
            names.extend(active.iter().cloned());
        }
        if let Ok(global) = self.global.read() {
            names.extend(global.iter().cloned());
        }
        if names.is_empty() {
            return Ok(None);
        }
        let mut tried = std::collections::HashSet::new();
        for name in names {
            if !tried.insert(name.clone()) {
                continue;
            }
            let Some(scenario) = self.by_name.get(&name).map(|s| Arc::clone(s.value())) else {
                continue;
            };
            for (index, rule) in scenario.rules.iter().enumerate() {
                if !rule.matcher.matches(vendor, call) {
                    continue;
                }
                if session.id().is_some() {
                    self.counted.insert(session.clone(), ());
                }
                let count = {
                    let mut counter = self
                        .counters
                        .entry((session.clone(), name.clone(), index))
                        .or_insert(0);
                    *counter = counter.saturating_add(1);
                    *counter
                };
                if let Some(answer) = rule.answer_for(count) {
                    return Ok(Some(Decision {
                        scenario: name,
                        rule: index,
                        answer: answer.clone(),
                    }));
                }
            }
        }
        Ok(None)
    }
}

/// A file, or the `.json` files of a folder in name order.
/// The scenario files `load` reads under `path` (a file, or a folder's
/// `.json` files), for `usermock check` to name; none when it cannot be read.
pub(crate) fn files(path: &Path) -> Vec<PathBuf> {
    files_under(path, &mut Vec::new())
}

/// How many scenarios ship embedded in the binary.
pub(crate) fn shipped_count() -> usize {
    shipped::SHIPPED.len()
}

fn files_under(path: &Path, problems: &mut Vec<FileProblem>) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    match std::fs::read_dir(path) {
        Ok(entries) => {
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
                .collect();
            files.sort();
            files
        }
        Err(err) => {
            problems.push(whole_file_problem(
                &path.display().to_string(),
                format!("cannot read scenarios: {err}"),
            ));
            Vec::new()
        }
    }
}

fn whole_file_problem(label: &str, message: String) -> FileProblem {
    FileProblem {
        file: label.to_owned(),
        line_column: None,
        pointer: None,
        message,
    }
}

/// JSON Schema of a scenario file.
pub(crate) fn schema() -> schemars::schema::RootSchema {
    schemars::schema_for!(ScenarioFile)
}

#[cfg(test)]
mod tests {
    use super::shipped::SHIPPED;

    #[test]
    fn every_file_in_the_scenarios_folder_is_embedded_under_its_name() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("scenarios folder")
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(str::to_owned)
            })
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = SHIPPED.iter().map(|(n, _)| (*n).to_owned()).collect();
        assert_eq!(on_disk, embedded);
        for (name, text) in SHIPPED {
            let parsed: serde_json::Value = serde_json::from_str(text).expect("json");
            assert_eq!(parsed["name"], *name, "file name and scenario name differ");
        }
    }
}
