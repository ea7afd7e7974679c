//! The scenario file format (serde + JSON Schema) and its compilation into
//! rules, with every mistake reported at its JSON pointer.

use std::collections::BTreeMap;
use std::str::FromStr;

use bytes::Bytes;
use hyper::header::HeaderName;
use hyper::{Method, StatusCode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diagnostics::{FileProblem, Parsed, SourceFile};
use crate::http::{Call, PathPattern};
use crate::matcher::Matcher;
use crate::vendors::{ErrorRequest, Vendor};

/// One scenario file: a named, ordered list of rules.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// The JSON Schema the file follows, for editors, e.g.
    /// `https://raw.githubusercontent.com/usermock/usermock/main/docs/schemas/scenario.schema.json`
    /// (see docs/fixtures.md); usermock does not read it.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// `<vendor>-<case>` or `any-<case>`, lower case, e.g. `activity-department-not-found`.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Tried in order; the first rule that matches and fires answers.
    pub rules: Vec<RuleSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Conditions on the request; all must hold. Empty matches every request.
    #[serde(default, rename = "match")]
    pub matcher: MatchSpec,
    /// What to answer every time the rule fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerSpec>,
    /// The answers of the 1st, 2nd, … matching call; afterwards the rule no
    /// longer fires and requests fall through (e.g. 503, 503, then emulate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<Vec<AnswerSpec>>,
    /// Fire only on the first N matching calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// Fire only on the Nth matching call (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// `activity`, `awork`, `relesys` or `replay`; defaults to the vendor in
    /// the scenario's name (none for `any-` scenarios).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// One method or several, e.g. `"PATCH"` or `["GET", "PATCH"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<OneOrMany>,
    /// The vendor's own path (as on its real host): exact, with `{param}`,
    /// `*` (one segment) or `**` (any number of segments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Values of `{param}`s of `path`, compared case-insensitively.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub path_params: BTreeMap<String, String>,
    /// Query parameters that must be present with these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, String>,
    /// Headers that must be present with exactly these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodyMatchSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyMatchSpec {
    /// The JSON body contains this value (objects: a subset of members;
    /// arrays: same length, element by element).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// JSON pointer → the exact value found there.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pointers: BTreeMap<String, Value>,
    /// A regular expression that must match somewhere in the raw body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// One answer. Each kind may wait `delay_ms` (plus a random `0..=jitter_ms`)
/// first; the wait never holds a lock.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AnswerSpec {
    /// A literal response.
    Respond(RespondSpec),
    /// An error in the vendor's own format, as the emulation would send it.
    VendorError(VendorErrorSpec),
    /// The normal emulation (useful after a delay).
    Emulate(EmulateSpec),
    /// A network or protocol failure.
    Fault(FaultSpec),
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RespondSpec {
    pub status: u16,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A JSON body (sent as `application/json` unless `headers` says otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// A text body (sent as `text/plain` unless `headers` says otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub jitter_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorErrorSpec {
    /// A status the vendor documents, e.g. 404.
    pub status: u16,
    /// Which error of that status, where a vendor has several (e.g.
    /// `departments_not_found`, `user_not_found`); see docs/scenarios.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// For 429: the `Retry-After` seconds (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub jitter_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmulateSpec {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub jitter_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: FaultKind,
    /// For `timeout`: how long to hold the request before dropping the
    /// connection (default 300000 ms, longer than any sane client timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_ms: Option<u64>,
    /// For `wrong_content_type`: the type to claim (default `text/html; charset=utf-8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub jitter_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Close the connection with a TCP reset, no answer.
    ConnectionReset,
    /// No answer at all until `hold_ms`; then the connection is reset.
    Timeout,
    /// The emulated answer's status and headers (with its full
    /// `Content-Length`), then the connection closes without a body.
    CloseAfterHeaders,
    /// The emulated answer, cut off half-way through its body.
    TruncatedBody,
    /// The emulated answer with only the first half of its JSON body,
    /// complete as far as HTTP goes: the body does not parse.
    MalformedJson,
    /// The emulated answer, claiming a content type that is not JSON.
    WrongContentType,
}

// ------------------------------------------------------------- compiled --

/// A scenario ready to run.
#[derive(Debug)]
pub(crate) struct Scenario {
    pub name: String,
    pub description: String,
    /// Where it came from: `embedded`, a file path, or `uploaded`.
    pub source: String,
    pub rules: Vec<Rule>,
    /// The file as loaded, for `GET /__admin/scenarios/{name}`.
    pub spec: ScenarioFile,
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub matcher: Matcher,
    pub answers: Answers,
    pub limit: Limit,
}

#[derive(Debug)]
pub(crate) enum Answers {
    Always(Answer),
    Sequence(Vec<Answer>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    Always,
    FirstN(u64),
    Nth(u64),
}

impl Rule {
    /// The answer for the `count`-th matching call, if the rule fires then.
    pub fn answer_for(&self, count: u64) -> Option<&Answer> {
        let fires = match self.limit {
            Limit::Always => true,
            Limit::FirstN(n) => count <= n,
            Limit::Nth(n) => count == n,
        };
        if !fires {
            return None;
        }
        match &self.answers {
            Answers::Always(answer) => Some(answer),
            Answers::Sequence(list) => usize::try_from(count - 1).ok().and_then(|i| list.get(i)),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub delay_ms: u64,
    pub jitter_ms: u64,
    pub action: Action,
}

impl Answer {
    /// The fault this answer applies, by its scenario-file name.
    pub fn fault_name(&self) -> Option<&'static str> {
        match &self.action {
            Action::Fault { kind, .. } => Some(match kind {
                FaultKind::ConnectionReset => "connection_reset",
                FaultKind::Timeout => "timeout",
                FaultKind::CloseAfterHeaders => "close_after_headers",
                FaultKind::TruncatedBody => "truncated_body",
                FaultKind::MalformedJson => "malformed_json",
                FaultKind::WrongContentType => "wrong_content_type",
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Action {
    Respond {
        status: StatusCode,
        headers: Vec<(HeaderName, hyper::header::HeaderValue)>,
        body: Bytes,
    },
    VendorError(ErrorRequest),
    Emulate,
    Fault {
        kind: FaultKind,
        hold_ms: u64,
        content_type: String,
    },
}

const DEFAULT_HOLD_MS: u64 = 300_000;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Headers that frame the connection; a rule setting them would corrupt it.
const FRAMING_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
];

/// The most memory one body regex may compile to. A rule's regex runs on
/// every matching request body; a large one costs megabytes each and
/// seconds per match (`\w{200}z` over 1 MiB), so it is refused at load.
pub(crate) const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// Parses and checks one scenario file against the vendors that serve.
pub(crate) fn compile(
    file: &SourceFile,
    source: &str,
    vendors: &[&dyn Vendor],
) -> Result<Scenario, Vec<FileProblem>> {
    let Parsed {
        value: spec,
        mut problems,
        places,
    } = file.parse_records::<ScenarioFile>()?;
    // Rules set aside by the parse do not make the scenario rule-less.
    let all_rules_read = problems.is_empty();
    let mut bad = |pointer: String, message: String| {
        problems.push(file.problem(places.original(&pointer), message))
    };

    let name_vendor = check_name(&spec.name, vendors, &mut bad);
    if spec.rules.is_empty() && all_rules_read {
        bad("/rules".into(), "a scenario needs at least one rule".into());
    }
    let mut rules = Vec::new();
    for (i, rule) in spec.rules.iter().enumerate() {
        let at = format!("/rules/{i}");
        let (matcher, reachable) = compile_matcher(
            &rule.matcher,
            &at,
            name_vendor.as_deref(),
            vendors,
            &mut bad,
        );
        let limit = compile_limit(rule, &at, &mut bad);
        if let Some(answers) = compile_answers(rule, &at, limit, &reachable, &mut bad) {
            rules.push(Rule {
                matcher,
                answers,
                limit,
            });
        }
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Scenario {
        name: spec.name.clone(),
        description: spec.description.clone(),
        source: source.to_owned(),
        rules,
        spec,
    })
}

/// `<vendor>-<case>` or `any-<case>`; returns the vendor it names, if any.
fn check_name(
    name: &str,
    vendors: &[&dyn Vendor],
    bad: &mut impl FnMut(String, String),
) -> Option<String> {
    let prefix = name.split('-').next().unwrap_or_default();
    let name_vendor = vendors
        .iter()
        .find(|v| v.name() == prefix)
        .map(|v| v.name().to_owned());
    let well_formed = name.split('-').count() >= 2
        && name.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !well_formed || (name_vendor.is_none() && prefix != "any") {
        let names: Vec<&str> = vendors.iter().map(|v| v.name()).collect();
        bad(
            "/name".into(),
            format!(
                "'{name}' must be '<vendor>-<case>' or 'any-<case>' in lower case, with <vendor> one of {}",
                names.join(", ")
            ),
        );
    }
    name_vendor
}

/// A rule's `match`, and the vendors the rule can reach.
fn compile_matcher<'v>(
    m: &MatchSpec,
    at: &str,
    name_vendor: Option<&str>,
    vendors: &[&'v dyn Vendor],
    bad: &mut impl FnMut(String, String),
) -> (Matcher, Vec<&'v dyn Vendor>) {
    compile_matcher_with(m, at, name_vendor, vendors, true, bad)
}

/// A matcher for the journal's find and count: the body is a rule's
/// `match` on its own. Paths no route has are allowed (they find the
/// requests that reached no route).
pub(crate) fn compile_find(
    file: &SourceFile,
    vendors: &[&dyn Vendor],
) -> Result<Matcher, Vec<FileProblem>> {
    let spec: MatchSpec = if file.text.trim().is_empty() {
        MatchSpec::default()
    } else {
        file.parse().map_err(|p| vec![p])?
    };
    let mut problems = Vec::new();
    let mut bad = |pointer: String, message: String| problems.push(file.problem(pointer, message));
    let (matcher, _) = compile_matcher_with(&spec, "", None, vendors, false, &mut bad);
    if problems.is_empty() {
        Ok(matcher)
    } else {
        Err(problems)
    }
}

fn compile_matcher_with<'v>(
    m: &MatchSpec,
    at: &str,
    name_vendor: Option<&str>,
    vendors: &[&'v dyn Vendor],
    check_reach: bool,
    bad: &mut impl FnMut(String, String),
) -> (Matcher, Vec<&'v dyn Vendor>) {
    let mut matcher = Matcher::default();
    let vendor = match (&m.vendor, name_vendor) {
        (Some(v), Some(named)) if v != named => {
            bad(
                format!("{at}/match/vendor"),
                format!("'{v}' differs from the scenario's vendor '{named}'"),
            );
            None
        }
        (Some(v), _) if !vendors.iter().any(|x| x.name() == v) => {
            bad(
                format!("{at}/match/vendor"),
                format!("unknown vendor '{v}'"),
            );
            None
        }
        (Some(v), _) => Some(v.clone()),
        (None, named) => named.map(str::to_owned),
    };
    let reachable: Vec<&dyn Vendor> = vendors
        .iter()
        .copied()
        .filter(|v| vendor.as_deref().is_none_or(|name| v.name() == name))
        .collect();
    matcher.vendor = vendor;

    let (methods, listed) = match &m.method {
        None => (vec![], false),
        Some(OneOrMany::One(one)) => (vec![one.clone()], false),
        Some(OneOrMany::Many(many)) => (many.clone(), true),
    };
    for (j, method) in methods.iter().enumerate() {
        let pointer = if listed {
            format!("{at}/match/method/{j}")
        } else {
            format!("{at}/match/method")
        };
        match Method::from_str(&method.to_ascii_uppercase()) {
            Ok(parsed) if method.bytes().all(|b| b.is_ascii_alphabetic()) => {
                matcher.methods.push(parsed)
            }
            _ => bad(pointer, format!("'{method}' is not an HTTP method")),
        }
    }

    match (&m.path, m.path_params.keys().next()) {
        (Some(path), _) => match PathPattern::parse(path) {
            Ok(pattern) => {
                let reaches =
                    |v: &&dyn Vendor| v.route_patterns().iter().any(|r| pattern.overlaps(r));
                if check_reach && !reachable.iter().any(reaches) {
                    let routes: Vec<String> = reachable
                        .iter()
                        .flat_map(|v| {
                            v.route_patterns()
                                .into_iter()
                                .map(move |r| format!("{} {r}", v.name()))
                        })
                        .collect();
                    bad(
                        format!("{at}/match/path"),
                        format!(
                            "'{path}' can never match: the routes are {}",
                            routes.join(", ")
                        ),
                    );
                }
                for name in m
                    .path_params
                    .keys()
                    .filter(|n| !pattern.params().any(|p| p == n.as_str()))
                {
                    bad(
                        format!("{at}/match/path_params/{name}"),
                        format!("'{name}' is not a {{param}} of the path '{path}', so the rule can never match"),
                    );
                }
                matcher.path = Some(pattern);
            }
            Err(err) => bad(format!("{at}/match/path"), err.to_string()),
        },
        (None, Some(name)) => bad(
            format!("{at}/match/path_params/{name}"),
            "path_params need a `path` with {param}s, so the rule can never match".into(),
        ),
        (None, None) => {}
    }
    matcher.path_params = m
        .path_params
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    matcher.query = m
        .query
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (name, value) in &m.headers {
        match HeaderName::from_str(name) {
            Ok(header) => matcher.headers.push((header, value.clone())),
            Err(_) => bad(
                format!("{at}/match/headers/{name}"),
                format!("'{name}' is not a header name"),
            ),
        }
    }
    if let Some(body) = &m.body {
        matcher.body_json.clone_from(&body.json);
        for (pointer, value) in &body.pointers {
            if !pointer.is_empty() && !pointer.starts_with('/') {
                let escaped = pointer.replace('~', "~0").replace('/', "~1");
                bad(
                    format!("{at}/match/body/pointers/{escaped}"),
                    format!("'{pointer}' is not a JSON pointer (it must start with '/')"),
                );
            }
            matcher.body_pointers.push((pointer.clone(), value.clone()));
        }
        if let Some(regex) = &body.regex {
            match regex::bytes::RegexBuilder::new(regex)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
            {
                Ok(compiled) => matcher.body_regex = Some(compiled),
                Err(err) => bad(
                    format!("{at}/match/body/regex"),
                    format!("invalid regex: {err}"),
                ),
            }
        }
    }
    (matcher, reachable)
}

fn compile_limit(rule: &RuleSpec, at: &str, bad: &mut impl FnMut(String, String)) -> Limit {
    match (rule.times, rule.nth) {
        (Some(_), Some(_)) => {
            bad(
                format!("{at}/nth"),
                "use either `times` or `nth`, not both".into(),
            );
            Limit::Always
        }
        (Some(0), None) => {
            bad(format!("{at}/times"), "0 times can never fire".into());
            Limit::Always
        }
        (None, Some(0)) => {
            bad(format!("{at}/nth"), "calls are counted from 1".into());
            Limit::Always
        }
        (Some(n), None) => Limit::FirstN(n),
        (None, Some(n)) => Limit::Nth(n),
        (None, None) => Limit::Always,
    }
}

fn compile_answers(
    rule: &RuleSpec,
    at: &str,
    limit: Limit,
    reachable: &[&dyn Vendor],
    bad: &mut impl FnMut(String, String),
) -> Option<Answers> {
    match (&rule.answer, &rule.sequence) {
        (Some(answer), None) => {
            compile_answer(answer, &format!("{at}/answer"), reachable, bad).map(Answers::Always)
        }
        (None, Some(list)) if !list.is_empty() => {
            if limit != Limit::Always {
                bad(
                    format!("{at}/sequence"),
                    "a sequence already says which call gets what; drop `times`/`nth`".into(),
                );
            }
            let compiled: Vec<Option<Answer>> = list
                .iter()
                .enumerate()
                .map(|(j, a)| compile_answer(a, &format!("{at}/sequence/{j}"), reachable, bad))
                .collect();
            compiled
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(Answers::Sequence)
        }
        (None, Some(_)) => {
            bad(
                format!("{at}/sequence"),
                "an empty sequence never answers".into(),
            );
            None
        }
        (Some(_), Some(_)) => {
            bad(
                at.to_owned(),
                "give either `answer` or `sequence`, not both".into(),
            );
            None
        }
        (None, None) => {
            bad(
                at.to_owned(),
                "a rule needs an `answer` or a `sequence`".into(),
            );
            None
        }
    }
}

fn compile_answer(
    answer: &AnswerSpec,
    at: &str,
    reachable: &[&dyn Vendor],
    bad: &mut impl FnMut(String, String),
) -> Option<Answer> {
    let (delay_ms, jitter_ms, action) = match answer {
        AnswerSpec::Respond(r) => {
            // `from_u16` accepts 100..=999 only; an informational (1xx)
            // status as a final answer would corrupt the connection.
            let Some(status) = StatusCode::from_u16(r.status)
                .ok()
                .filter(|s| !s.is_informational())
            else {
                bad(
                    format!("{at}/respond/status"),
                    format!(
                        "{} is not an HTTP status a rule can answer with (200–999)",
                        r.status
                    ),
                );
                return None;
            };
            let (body, default_type) = match (&r.json, &r.text) {
                (Some(_), Some(_)) => {
                    bad(
                        format!("{at}/respond"),
                        "give either `json` or `text`, not both".into(),
                    );
                    return None;
                }
                (Some(json), None) => (
                    Bytes::from(json.to_string()),
                    Some("application/json; charset=utf-8"),
                ),
                (None, Some(text)) => {
                    (Bytes::from(text.clone()), Some("text/plain; charset=utf-8"))
                }
                (None, None) => (Bytes::new(), None),
            };
            let mut headers = Vec::new();
            for (name, value) in &r.headers {
                match (
                    HeaderName::from_str(name),
                    hyper::header::HeaderValue::from_str(value),
                ) {
                    (Ok(n), _) if FRAMING_HEADERS.contains(&n.as_str()) => bad(
                        format!("{at}/respond/headers/{name}"),
                        format!("'{name}' frames the HTTP connection and is set by usermock itself; use a fault to break the framing"),
                    ),
                    (Ok(n), Ok(v)) => headers.push((n, v)),
                    _ => bad(
                        format!("{at}/respond/headers/{name}"),
                        format!("'{name}: {value}' is not a valid header"),
                    ),
                }
            }
            if let Some(default_type) = default_type {
                if !headers
                    .iter()
                    .any(|(n, _)| n == hyper::header::CONTENT_TYPE)
                {
                    headers.push((
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static(default_type),
                    ));
                }
            }
            (
                r.delay_ms,
                r.jitter_ms,
                Action::Respond {
                    status,
                    headers,
                    body,
                },
            )
        }
        AnswerSpec::VendorError(e) => {
            let request = ErrorRequest {
                status: e.status,
                kind: e.kind.clone(),
                retry_after: e.retry_after,
            };
            let probe = Call::empty();
            for vendor in reachable {
                if vendor.scenario_reply(&request, &probe).is_none() {
                    bad(
                        format!("{at}/vendor_error"),
                        format!(
                            "{} has no documented {} error{}",
                            vendor.name(),
                            e.status,
                            e.kind
                                .as_ref()
                                .map(|k| format!(" of kind '{k}'"))
                                .unwrap_or_default()
                        ),
                    );
                    return None;
                }
            }
            (e.delay_ms, e.jitter_ms, Action::VendorError(request))
        }
        AnswerSpec::Emulate(e) => (e.delay_ms, e.jitter_ms, Action::Emulate),
        AnswerSpec::Fault(f) => {
            if f.hold_ms.is_some() && f.kind != FaultKind::Timeout {
                bad(
                    format!("{at}/fault/hold_ms"),
                    "only a `timeout` fault holds the request".into(),
                );
            }
            if f.content_type.is_some() && f.kind != FaultKind::WrongContentType {
                bad(
                    format!("{at}/fault/content_type"),
                    "only a `wrong_content_type` fault sets a content type".into(),
                );
            }
            let content_type = f
                .content_type
                .clone()
                .unwrap_or_else(|| "text/html; charset=utf-8".to_owned());
            if hyper::header::HeaderValue::from_str(&content_type).is_err() {
                bad(
                    format!("{at}/fault/content_type"),
                    format!("'{content_type}' is not a header value"),
                );
            }
            (
                f.delay_ms,
                f.jitter_ms,
                Action::Fault {
                    kind: f.kind,
                    hold_ms: f.hold_ms.unwrap_or(DEFAULT_HOLD_MS),
                    content_type,
                },
            )
        }
    };
    // A wait longer than any client would hold a request for only ties up
    // a connection; the sum is checked too, so it cannot overflow.
    let waits = [
        ("delay_ms", delay_ms),
        ("jitter_ms", jitter_ms),
        ("hold_ms", action.hold_ms()),
    ];
    for (field, value) in waits {
        if value > MAX_WAIT_MS {
            bad(
                format!("{at}/{field}"),
                format!("{value} ms is longer than the {MAX_WAIT_MS} ms a rule may wait"),
            );
        }
    }
    Some(Answer {
        delay_ms,
        jitter_ms,
        action,
    })
}

/// The longest a rule may delay or hold an answer: 10 minutes.
pub(crate) const MAX_WAIT_MS: u64 = 10 * 60 * 1000;

impl Action {
    fn hold_ms(&self) -> u64 {
        match self {
            Action::Fault { hold_ms, .. } => *hold_ms,
            _ => 0,
        }
    }
}
