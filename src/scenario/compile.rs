//! From a scenario file to rules, with every mistake reported at its JSON
//! pointer, and the bounds that keep a hostile file harmless: regexes of
//! bounded size, no framing headers or 1xx answers, bounded waits.

use std::str::FromStr;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Method, StatusCode};

use super::rule::{Action, Limit, Rule, RuleReplies, RuleReply, Scenario};
use super::spec::{
    AnswerSpec, BodyMatchSpec, FaultKind, FaultSpec, MatchSpec, OneOrMany, RespondSpec, RuleSpec,
    ScenarioFile, VendorErrorSpec,
};
use crate::diagnostics::{FileProblem, Parsed, SourceFile};
use crate::http::{Call, PathPattern};
use crate::matcher::RequestPattern;
use crate::vendors::{ErrorRequest, Vendor};

/// How long a `timeout` fault holds the request unless it says otherwise.
const DEFAULT_HOLD_MS: u64 = 300_000;

/// The longest a rule may delay or hold an answer: 10 minutes.
pub(crate) const MAX_WAIT_MS: u64 = 10 * 60 * 1000;

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

/// Where problems go: `bad(pointer, message)`.
type Bad<'b> = &'b mut dyn FnMut(String, String);

/// Parses and checks one scenario file against the vendors that serve.
pub(crate) fn compile(
    file: &SourceFile,
    source: &str,
    vendors: &[&dyn Vendor],
) -> Result<Scenario, Vec<FileProblem>> {
    // Every rule that does not parse is reported, and the others are still
    // checked (`check` lists every problem of a file).
    let Parsed {
        value: spec,
        mut problems,
        places,
    } = file.parse_records::<ScenarioFile>()?;
    // Rules set aside by the parse do not make the scenario rule-less.
    let all_rules_read = problems.is_empty();
    let mut report = |pointer: String, message: String| {
        problems.push(file.problem(places.original(&pointer), message))
    };
    let bad: Bad<'_> = &mut report;

    let name_vendor = check_name(&spec.name, vendors, bad);
    if spec.rules.is_empty() && all_rules_read {
        bad("/rules".into(), "a scenario needs at least one rule".into());
    }
    let mut rules = Vec::new();
    for (i, rule) in spec.rules.iter().enumerate() {
        let at = format!("/rules/{i}");
        let matching = MatchCompiler {
            at: &at,
            vendors,
            check_reach: true,
        };
        let (matcher, reachable) = matching.compile(&rule.matcher, name_vendor.as_deref(), bad);
        let limit = compile_limit(rule, &at, bad);
        if let Some(answers) = compile_answers(rule, &at, limit, &reachable, bad) {
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

/// A matcher for the journal's find and count: the body is a rule's
/// `match` on its own. Paths no route has are allowed (they find the
/// requests that reached no route).
pub(crate) fn compile_find(
    file: &SourceFile,
    vendors: &[&dyn Vendor],
) -> Result<RequestPattern, Vec<FileProblem>> {
    let spec: MatchSpec = if file.text.trim().is_empty() {
        MatchSpec::default()
    } else {
        file.parse().map_err(|p| vec![p])?
    };
    let mut problems = Vec::new();
    let mut report =
        |pointer: String, message: String| problems.push(file.problem(pointer, message));
    let matching = MatchCompiler {
        at: "",
        vendors,
        check_reach: false,
    };
    let (matcher, _) = matching.compile(&spec, None, &mut report);
    if problems.is_empty() {
        Ok(matcher)
    } else {
        Err(problems)
    }
}

/// `<vendor>-<case>` or `any-<case>`; returns the vendor it names, if any.
fn check_name(name: &str, vendors: &[&dyn Vendor], bad: Bad<'_>) -> Option<String> {
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

// ----------------------------------------------------------------- match --

/// Compiles one `match`; `at` is the rule's pointer.
struct MatchCompiler<'a, 'v> {
    at: &'a str,
    vendors: &'a [&'v dyn Vendor],
    /// Refuse a path no route of the reachable vendors can have (rules
    /// only: such a rule could never fire).
    check_reach: bool,
}

impl<'v> MatchCompiler<'_, 'v> {
    /// The matcher, and the vendors the rule can reach.
    fn compile(
        &self,
        m: &MatchSpec,
        name_vendor: Option<&str>,
        bad: Bad<'_>,
    ) -> (RequestPattern, Vec<&'v dyn Vendor>) {
        let vendor = self.vendor(m, name_vendor, bad);
        let reachable: Vec<&'v dyn Vendor> = self
            .vendors
            .iter()
            .copied()
            .filter(|v| vendor.as_deref().is_none_or(|name| v.name() == name))
            .collect();
        let mut matcher = RequestPattern {
            vendor,
            methods: self.methods(m, bad),
            path_params: m.path_params.clone().into_iter().collect(),
            query: m.query.clone().into_iter().collect(),
            ..RequestPattern::default()
        };
        matcher.path = self.path(m, &reachable, bad);
        for (name, value) in &m.headers {
            match HeaderName::from_str(name) {
                Ok(header) => matcher.headers.push((header, value.clone())),
                Err(_) => bad(
                    format!("{}/match/headers/{name}", self.at),
                    format!("'{name}' is not a header name"),
                ),
            }
        }
        if let Some(body) = &m.body {
            self.body(body, &mut matcher, bad);
        }
        let conditions = crate::matcher::conditions(&matcher);
        if conditions > crate::matcher::MAX_CONDITIONS {
            bad(
                format!("{}/match", self.at),
                format!(
                    "a match holds at most {} conditions (methods, path_params, query and headers entries, body pointers, and each value in body.json), so matching stays fast; this one has {conditions}",
                    crate::matcher::MAX_CONDITIONS
                ),
            );
        }
        (matcher, reachable)
    }

    fn vendor(&self, m: &MatchSpec, name_vendor: Option<&str>, bad: Bad<'_>) -> Option<String> {
        let at = self.at;
        match (&m.vendor, name_vendor) {
            (Some(v), Some(named)) if v != named => {
                bad(
                    format!("{at}/match/vendor"),
                    format!("'{v}' differs from the scenario's vendor '{named}'"),
                );
                None
            }
            (Some(v), _) if !self.vendors.iter().any(|x| x.name() == v) => {
                bad(
                    format!("{at}/match/vendor"),
                    format!("unknown vendor '{v}'"),
                );
                None
            }
            (Some(v), _) => Some(v.clone()),
            (None, named) => named.map(str::to_owned),
        }
    }

    fn methods(&self, m: &MatchSpec, bad: Bad<'_>) -> Vec<Method> {
        let (methods, listed) = match &m.method {
            None => (vec![], false),
            Some(OneOrMany::One(one)) => (vec![one.clone()], false),
            Some(OneOrMany::Many(many)) => (many.clone(), true),
        };
        let mut parsed = Vec::new();
        for (j, method) in methods.iter().enumerate() {
            let pointer = if listed {
                format!("{}/match/method/{j}", self.at)
            } else {
                format!("{}/match/method", self.at)
            };
            match Method::from_str(&method.to_ascii_uppercase()) {
                Ok(p) if method.bytes().all(|b| b.is_ascii_alphabetic()) => parsed.push(p),
                _ => bad(pointer, format!("'{method}' is not an HTTP method")),
            }
        }
        parsed
    }

    fn path(&self, m: &MatchSpec, reachable: &[&dyn Vendor], bad: Bad<'_>) -> Option<PathPattern> {
        let at = self.at;
        let Some(path) = &m.path else {
            if let Some(name) = m.path_params.keys().next() {
                bad(
                    format!("{at}/match/path_params/{name}"),
                    "path_params need a `path` with {param}s, so the rule can never match".into(),
                );
            }
            return None;
        };
        let pattern = match PathPattern::parse(path) {
            Ok(pattern) => pattern,
            Err(err) => {
                bad(format!("{at}/match/path"), err.to_string());
                return None;
            }
        };
        let reaches = |v: &&dyn Vendor| v.route_patterns().iter().any(|r| pattern.overlaps(r));
        if self.check_reach && !reachable.iter().any(reaches) {
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
                format!(
                    "'{name}' is not a {{param}} of the path '{path}', so the rule can never match"
                ),
            );
        }
        Some(pattern)
    }

    fn body(&self, body: &BodyMatchSpec, matcher: &mut RequestPattern, bad: Bad<'_>) {
        let at = self.at;
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
}

// --------------------------------------------------------------- answers --

fn compile_limit(rule: &RuleSpec, at: &str, bad: Bad<'_>) -> Limit {
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
    bad: Bad<'_>,
) -> Option<RuleReplies> {
    match (&rule.answer, &rule.sequence) {
        (Some(answer), None) => {
            compile_answer(answer, &format!("{at}/answer"), reachable, bad).map(RuleReplies::Always)
        }
        (None, Some(list)) if !list.is_empty() => {
            if limit != Limit::Always {
                bad(
                    format!("{at}/sequence"),
                    "a sequence already says which call gets what; drop `times`/`nth`".into(),
                );
            }
            let compiled: Vec<Option<RuleReply>> = list
                .iter()
                .enumerate()
                .map(|(j, a)| compile_answer(a, &format!("{at}/sequence/{j}"), reachable, bad))
                .collect();
            compiled
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(RuleReplies::Sequence)
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
    bad: Bad<'_>,
) -> Option<RuleReply> {
    let (delay_ms, jitter_ms, action) = match answer {
        AnswerSpec::Respond(r) => (r.delay_ms, r.jitter_ms, respond(r, at, bad)?),
        AnswerSpec::VendorError(e) => (
            e.delay_ms,
            e.jitter_ms,
            vendor_error(e, at, reachable, bad)?,
        ),
        AnswerSpec::Emulate(e) => (e.delay_ms, e.jitter_ms, Action::Emulate),
        AnswerSpec::Fault(f) => (f.delay_ms, f.jitter_ms, fault(f, at, bad)),
    };
    // A wait longer than any client would hold a request for only ties up
    // a connection.
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
    Some(RuleReply {
        delay_ms,
        jitter_ms,
        action,
    })
}

fn respond(r: &RespondSpec, at: &str, bad: Bad<'_>) -> Option<Action> {
    // `from_u16` accepts 100..=999 only; an informational (1xx) status as a
    // final answer would corrupt the connection.
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
        (None, Some(text)) => (Bytes::from(text.clone()), Some("text/plain; charset=utf-8")),
        (None, None) => (Bytes::new(), None),
    };
    let mut headers = Vec::new();
    for (name, value) in &r.headers {
        match (HeaderName::from_str(name), HeaderValue::from_str(value)) {
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
        if !headers.iter().any(|(n, _)| n == CONTENT_TYPE) {
            headers.push((CONTENT_TYPE, HeaderValue::from_static(default_type)));
        }
    }
    Some(Action::Respond {
        status,
        headers,
        body,
    })
}

fn vendor_error(
    e: &VendorErrorSpec,
    at: &str,
    reachable: &[&dyn Vendor],
    bad: Bad<'_>,
) -> Option<Action> {
    let request = ErrorRequest {
        status: e.status,
        kind: e.kind.clone(),
        retry_after: e.retry_after,
    };
    let probe = Call::empty();
    if let Some(vendor) = reachable
        .iter()
        .find(|v| v.scenario_reply(&request, &probe).is_none())
    {
        let kind = e
            .kind
            .as_ref()
            .map(|k| format!(" of kind '{k}'"))
            .unwrap_or_default();
        bad(
            format!("{at}/vendor_error"),
            format!(
                "{} has no documented {} error{kind}",
                vendor.name(),
                e.status
            ),
        );
        return None;
    }
    Some(Action::VendorError(request))
}

fn fault(f: &FaultSpec, at: &str, bad: Bad<'_>) -> Action {
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
    if HeaderValue::from_str(&content_type).is_err() {
        bad(
            format!("{at}/fault/content_type"),
            format!("'{content_type}' is not a header value"),
        );
    }
    Action::Fault {
        kind: f.kind,
        hold_ms: f.hold_ms.unwrap_or(DEFAULT_HOLD_MS),
        content_type,
    }
}
