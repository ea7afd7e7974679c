//! The scenario file format, as serde reads it and JSON Schema publishes
//! it. `compile.rs` turns a file into rules.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// A request this scenario answers against the default fixtures, sent
    /// with `X-Usermock-Scenario: <name>`; docs/scenarios.md shows it as a
    /// curl line and a test sends it. Every shipped scenario has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<ExampleRequest>,
    /// Tried in order; the first rule that matches and fires answers.
    pub rules: Vec<RuleSpec>,
}

/// A request, as a scenario's `example` gives it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleRequest {
    pub method: String,
    /// On usermock, with the vendor's prefix, e.g. `/relesys/api/v1.3/users`.
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A JSON body, sent with `Content-Type: application/json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
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
    /// A vendor key (`GET /__admin/health` lists them); defaults to the
    /// vendor in the scenario's name (none for `any-` scenarios).
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

fn is_zero(n: &u64) -> bool {
    *n == 0
}
