//! The corpus: a case is a short, tenant-independent flow of requests, read
//! from `conformance/<vendor>/cases/<name>.json` (embedded at build time, or
//! from `--cases DIR`). The format is documented in `docs/conformance.md`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/conformance_cases.rs"));
}

/// One case: which documented rule it checks, where the rule is written,
/// and the requests that check it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The file name without `.json`; set when loading.
    #[serde(skip)]
    pub name: String,
    /// The rule checked, in a sentence.
    pub rule: String,
    /// The public page that states the rule.
    pub source: String,
    /// Whether the case changes the tenant (runs only with `--allow-writes`).
    #[serde(default)]
    pub writes: bool,
    /// The credential steps use unless they name another.
    #[serde(default = "main_auth")]
    pub auth: String,
    pub steps: Vec<Step>,
    /// Steps that restore what `steps` changed; always sent once a step was
    /// sent, even when a later step failed.
    #[serde(default)]
    pub cleanup: Vec<Step>,
    /// What a writing case cannot remove because the vendor has no route
    /// for it (e.g. Replay invitations), said plainly.
    #[serde(default)]
    pub leaves: Option<String>,
    /// Why the steps that name no documented `example` have none: `derive`
    /// takes their expected answers from usermock and says so in the golden.
    #[serde(default)]
    pub no_example: Option<String>,
}

fn main_auth() -> String {
    "main".to_owned()
}

/// One request and what to keep from its answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub method: String,
    /// Relative to the vendor's base URL, e.g. `/api/v1/users/${user_id}`;
    /// or one captured absolute URL (`${next_url}`), followed as given.
    pub path: String,
    /// Query parameters in order; values may hold `${…}`.
    #[serde(default)]
    pub query: Vec<(String, String)>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body (sent as `application/json` unless `content_type` says
    /// otherwise); strings may hold `${…}`.
    #[serde(default)]
    pub body: Option<Value>,
    /// A form body (`application/x-www-form-urlencoded`).
    #[serde(default)]
    pub form: Option<Vec<(String, String)>>,
    /// A body sent byte for byte (for malformed-body cases).
    #[serde(default)]
    pub raw: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// `main`, `limited`, `none` or `invalid`; the case's `auth` if unset.
    #[serde(default)]
    pub auth: Option<String>,
    /// Values to capture for later steps: name → JSON pointer into the
    /// recorded answer (`/status`, `/headers/x`, `/body/...`).
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    /// Pointers into the answer compared by shape only (kinds and member
    /// names, not values): tenant data such as a listed user.
    #[serde(default)]
    pub shape: Vec<String>,
    /// Pointers left out of the golden: values that depend on the tenant
    /// and have no stable shape (e.g. a count).
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Response headers recorded besides `content-type`.
    #[serde(default)]
    pub record_headers: Vec<String>,
    /// The vendor's documented example this step's answer is derived from
    /// (`conform derive`), and how the flow's own values fill it.
    #[serde(default)]
    pub example: Option<ExampleUse>,
}

/// A step's use of a documented example (`conformance/<vendor>/examples/`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleUse {
    /// The example's file name without `.json`.
    pub name: String,
    /// Pointers into the answer (`/body/id`) whose example value stands for
    /// a value of this flow: `${user_id}`, `conform-${run}`, or
    /// `"$json{ids}"` for a captured list. So "the id created in step 0 is
    /// the id read in step 1" stays checked in a derived golden.
    #[serde(default)]
    pub bind: BTreeMap<String, Value>,
}

impl Step {
    /// `GET /api/v1/users/${user_id}`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The cases of `vendor`, sorted by name: from `dir/<vendor>/cases` when
/// given, else the embedded corpus.
pub fn load(vendor: &str, dir: Option<&Path>) -> Result<Vec<Case>, String> {
    let mut texts: Vec<(String, String)> = Vec::new();
    match dir {
        None => {
            for (v, name, text) in embedded::CASES {
                if *v == vendor {
                    texts.push(((*name).to_owned(), (*text).to_owned()));
                }
            }
        }
        Some(dir) => {
            let cases = dir.join(vendor).join("cases");
            let entries = std::fs::read_dir(&cases)
                .map_err(|e| format!("cannot read {}: {e}", cases.display()))?;
            for entry in entries.flatten() {
                let path = entry.path();
                let Some(name) = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(str::to_owned)
                else {
                    continue;
                };
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                texts.push((name, text));
            }
        }
    }
    texts.sort();
    let mut cases = Vec::with_capacity(texts.len());
    for (name, text) in texts {
        let mut case: Case =
            serde_json::from_str(&text).map_err(|e| format!("case {vendor}/{name}: {e}"))?;
        case.name = name;
        check(&case).map_err(|e| format!("case {vendor}/{}: {e}", case.name))?;
        cases.push(case);
    }
    Ok(cases)
}

/// Mistakes a case author can make that serde does not catch.
fn check(case: &Case) -> Result<(), String> {
    if case.steps.is_empty() {
        return Err("no steps".to_owned());
    }
    if case.writes && case.cleanup.is_empty() && case.leaves.is_none() {
        return Err(
            "a case that writes must restore what it changed (cleanup), or say what it leaves"
                .to_owned(),
        );
    }
    for step in case.steps.iter().chain(&case.cleanup) {
        let bodies = [step.body.is_some(), step.form.is_some(), step.raw.is_some()];
        if bodies.iter().filter(|b| **b).count() > 1 {
            return Err(format!(
                "{}: more than one of body, form, raw",
                step.label()
            ));
        }
        if !step.path.starts_with('/') && !step.path.starts_with("${") {
            return Err(format!(
                "{}: the path must start with / (or be one captured URL)",
                step.label()
            ));
        }
        let auth = step.auth.as_deref().unwrap_or(&case.auth);
        if !matches!(auth, "main" | "limited" | "none" | "invalid") {
            return Err(format!("{}: unknown auth '{auth}'", step.label()));
        }
        for pointer in step.capture.values().chain(&step.shape).chain(&step.ignore) {
            if !pointer.starts_with('/') {
                return Err(format!(
                    "{}: '{pointer}' is not a JSON pointer",
                    step.label()
                ));
            }
        }
    }
    Ok(())
}

/// Whether the case path `template` (with `${…}` values) can reach
/// `pattern` (with `{name}` parameters), and how many literal segments
/// matched: the most literal route wins, as in usermock's router.
pub fn reaches(template: &str, pattern: &str) -> Option<usize> {
    let have: Vec<&str> = template.split('/').collect();
    let want: Vec<&str> = pattern.split('/').collect();
    if have.len() != want.len() {
        return None;
    }
    let mut literals = 0;
    for (h, w) in have.iter().zip(&want) {
        let param = w.starts_with('{') && w.ends_with('}');
        if param {
            continue;
        }
        if h.contains("${") || !h.eq_ignore_ascii_case(w) {
            return None;
        }
        literals += 1;
    }
    Some(literals)
}

/// The route (`METHOD pattern`) `step` reaches among `routes`, if any.
pub fn route_of<'r>(step: &Step, routes: &'r [(String, String)]) -> Option<&'r (String, String)> {
    routes
        .iter()
        .filter(|(method, _)| method.eq_ignore_ascii_case(&step.method))
        .filter_map(|route| reaches(&step.path, &route.1).map(|n| (n, route)))
        .max_by_key(|(n, _)| *n)
        .map(|(_, route)| route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_reaches_the_most_literal_route() {
        let routes = vec![
            ("GET".to_owned(), "/v2/clients/{c}/users/{u}".to_owned()),
            ("GET".to_owned(), "/v2/clients/{c}/users/summary".to_owned()),
        ];
        let step = |path: &str| Step {
            method: "GET".into(),
            path: path.into(),
            query: vec![],
            headers: BTreeMap::new(),
            body: None,
            form: None,
            raw: None,
            content_type: None,
            auth: None,
            capture: BTreeMap::new(),
            shape: vec![],
            ignore: vec![],
            record_headers: vec![],
            example: None,
        };
        assert_eq!(
            route_of(&step("/v2/clients/${client_id}/users/summary"), &routes),
            Some(&routes[1])
        );
        assert_eq!(
            route_of(&step("/v2/clients/${client_id}/users/${id}"), &routes),
            Some(&routes[0])
        );
        assert_eq!(route_of(&step("/v2/clients/${client_id}"), &routes), None);
    }

    #[test]
    fn every_embedded_case_reads() {
        for vendor in ["activity", "awork", "relesys", "replay"] {
            let cases = load(vendor, None).unwrap_or_else(|e| panic!("{e}"));
            assert!(!cases.is_empty(), "{vendor} has cases");
        }
    }
}
