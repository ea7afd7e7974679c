//! The emulated vendors. Each module holds everything about one vendor: its
//! fixture format, routes, validation, permission rules, user model and error
//! body. The shared machinery only sees the [`Vendor`] trait, so adding a
//! vendor means adding one module, one fixture file and one line in [`ALL`].

use std::collections::HashSet;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiError, ErrorRequest};
use crate::fixtures::{FileProblem, SourceFile};
use crate::http::{Call, Reply};
use crate::store::State;

pub(crate) mod activity;
pub(crate) mod awork;
pub(crate) mod relesys;
pub(crate) mod replay;

/// One emulated vendor API, built from its fixture.
pub(crate) trait Vendor: Send + Sync {
    /// The key in paths (`/activity/...`), fixture names and the admin API.
    fn name(&self) -> &'static str;

    /// The real API's host name; a request whose `Host` is this one is
    /// routed here without the `/name` prefix.
    fn real_host(&self) -> &'static str;

    /// The route patterns (relative to the real host) this vendor answers,
    /// e.g. `/api/user/{userId}`; scenario paths are checked against them.
    fn route_patterns(&self) -> &'static [&'static str];

    /// The error a scenario's `vendor_error` asks for, with details taken
    /// from `call` as the emulation would (e.g. the department ids of the
    /// body); `None` when the vendor documents no such error.
    fn scenario_error(&self, request: &ErrorRequest, call: &Call) -> Option<ApiError>;

    /// Answers a call whose path is relative to the real host's root.
    fn handle(&self, call: &Call, state: &State) -> Result<Reply, ApiError>;

    /// Validates a record that the admin API seeds under `id` (the fixture's
    /// user format) and returns it as it will be stored.
    fn check_record(&self, id: &str, record: &Value) -> Result<Value, String>;

    /// Renders an error exactly as this vendor would send it.
    fn render_error(&self, error: &ApiError) -> Reply;

    /// Forgets runtime counters (rate-limit windows) on a full reset.
    /// Users are reset by the store, not here.
    fn reset_counters(&self) {}
}

/// Startup choices that apply to every vendor's fixture.
#[derive(Debug, Clone, Default)]
pub(crate) struct LoadOptions {
    /// Turn the vendor's documented rate limit on, whatever its fixture says.
    pub rate_limit: bool,
}

/// What a fixture file yields: the vendor and its initial records.
pub(crate) struct Loaded {
    pub vendor: Arc<dyn Vendor>,
    pub records: Vec<(String, Value)>,
}

pub(crate) struct VendorSpec {
    pub name: &'static str,
    pub embedded_fixture: &'static str,
    pub load: fn(&SourceFile, &LoadOptions) -> Result<Loaded, Vec<FileProblem>>,
    /// JSON Schema of the fixture file, generated from the Rust types.
    pub fixture_schema: fn() -> schemars::schema::RootSchema,
}

pub(crate) const ALL: &[VendorSpec] = &[activity::SPEC, awork::SPEC, relesys::SPEC, replay::SPEC];

pub(crate) fn names() -> String {
    ALL.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

pub(crate) fn names_as_files() -> String {
    ALL.iter()
        .map(|s| format!("{}.json", s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// True for a UUID in its canonical hyphenated form (8-4-4-4-12 hex digits,
/// any case). Vendors document ids as "uuid"/"guid"; braces, URNs and the
/// bare 32-digit form that the uuid crate also accepts are not what they send.
pub(crate) fn is_hyphenated_uuid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::try_parse(text).is_ok()
}

/// `firstName` → `FirstName`, `user` → `User`.
pub(crate) fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A vendor's stored user type: what its fixture lists and its store holds.
pub(crate) trait StoredUser: Serialize + DeserializeOwned {
    fn id(&self) -> &str;
}

/// Fixture users as store records, keyed by lower-cased id. Duplicate ids
/// and every problem `check` finds (pointers below the user) are reported
/// at `/users/{i}…`.
pub(crate) fn fixture_records<U: StoredUser>(
    users: &[U],
    check: impl Fn(&U) -> Vec<(String, String)>,
    bad: &mut dyn FnMut(String, String),
) -> Vec<(String, Value)> {
    let mut seen = HashSet::new();
    let mut records = Vec::new();
    for (i, user) in users.iter().enumerate() {
        if !seen.insert(user.id().to_ascii_lowercase()) {
            bad(
                format!("/users/{i}/id"),
                format!("duplicate user id '{}'", user.id()),
            );
        }
        for (pointer, message) in check(user) {
            bad(format!("/users/{i}{pointer}"), message);
        }
        match serde_json::to_value(user) {
            Ok(value) => records.push((user.id().to_ascii_lowercase(), value)),
            Err(err) => bad(format!("/users/{i}"), format!("cannot store user: {err}")),
        }
    }
    records
}

/// A record the admin API seeds under `id`: it must read as `U`, carry
/// that id, and pass `check` like a fixture user.
pub(crate) fn seeded_user<U: StoredUser>(
    id: &str,
    record: &Value,
    check: impl Fn(&U) -> Vec<(String, String)>,
) -> Result<U, String> {
    let user: U = serde_json::from_value(record.clone()).map_err(|e| e.to_string())?;
    if !user.id().eq_ignore_ascii_case(id) {
        return Err(format!(
            "the record's id '{}' differs from the path's '{id}'",
            user.id()
        ));
    }
    match check(&user).into_iter().next() {
        Some((pointer, message)) => Err(format!("{pointer}: {message}")),
        None => Ok(user),
    }
}

pub(crate) fn stored(user: &impl Serialize) -> Result<Value, String> {
    serde_json::to_value(user).map_err(|e| e.to_string())
}

/// A fixture credential (bearer token or API key) is sent in a header: it
/// must be non-empty and hold no white space.
pub(crate) fn check_credential(value: &str, pointer: String, bad: &mut dyn FnMut(String, String)) {
    if value.is_empty() || value.contains(char::is_whitespace) {
        bad(
            pointer,
            format!("the credential '{value}' must be non-empty and without white space"),
        );
    }
}
