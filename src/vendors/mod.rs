//! The emulated vendors. Each vendor is one folder that holds everything
//! about it: its fixture format and loading, its route table, its request
//! validation and permission rules, its typed records, and its own error
//! enum rendered in its own format. The shared machinery sees a vendor only
//! through the object-safe [`Vendor`] trait, so adding a vendor means adding
//! one folder, one fixture file and one line in [`ALL`]
//! (`docs/adding-a-vendor.md` walks through it).
//!
//! A vendor implements [`Api`]; the blanket `impl Vendor for T: Api` derives
//! from its route table everything the shared layer needs: the 404 for an
//! unknown path, the 405 with `Allow`, the route patterns that scenario
//! rules are checked against, and the body checks (415, "JSON expected"),
//! each rendered through the vendor's own error type.

use std::collections::HashSet;
use std::sync::Arc;

use hyper::header::{HeaderValue, ALLOW};
use hyper::Method;
use serde::de::{Deserialize, DeserializeOwned};
use serde::Serialize;
use serde_json::Value;

use crate::diagnostics::{FileProblem, SourceFile};
use crate::http::{Call, Captures, Note, PathPattern, Reply};
use crate::store::{BrokenRecord, Record, State, StoreFull};

pub(crate) mod snapshot;

pub(crate) use snapshot::{Document, Restored, SnapshotWriter};

/// One emulated vendor API, built from its fixture, as the shared layer
/// (router, scenarios, admin API) sees it. Implemented for every [`Api`].
pub(crate) trait Vendor: Send + Sync {
    /// The key in paths (`/activity/...`), fixture names and the admin API.
    fn name(&self) -> &'static str;

    /// The real API's host name; a request whose `Host` is this one is
    /// routed here without the `/name` prefix.
    fn real_host(&self) -> &'static str;

    /// The path of the vendor's documented base URL on its real host
    /// (see [`Api::BASE_PATH`]).
    fn base_path(&self) -> &'static str;

    /// The route patterns (relative to the real host) this vendor answers,
    /// e.g. `/api/user/{userId}`; scenario paths are checked against them.
    fn route_patterns(&self) -> Vec<PathPattern>;

    /// Every (method, pattern) row of its route table, in table order
    /// (most specific first); `usermock conform` checks each has a case.
    fn route_rows(&self) -> Vec<(Method, String)>;

    /// Whether `path` (relative to the real host) is one of its routes,
    /// whatever the method.
    fn knows_path(&self, path: &str) -> bool;

    /// Every route as (method, pattern), in table order (the snapshot
    /// tests check each write route against it).
    #[cfg(test)]
    fn route_list(&self) -> Vec<(Method, PathPattern)>;

    /// Answers a call whose path is relative to the real host's root,
    /// errors included, in the vendor's own format.
    fn handle(&self, call: &Call, state: &State) -> Reply;

    /// The answer to a scenario's `vendor_error`, with details taken from
    /// `call` as the emulation would (e.g. the department ids of the body);
    /// `None` when the vendor documents no such error.
    fn scenario_reply(&self, request: &ErrorRequest, call: &Call) -> Option<Reply>;

    /// An error the shared layer raised (body too large, …), rendered in
    /// the vendor's format.
    fn render_shared(&self, error: &SharedError) -> Reply;

    /// Seeds a user under `id` for the admin API (the fixture's user
    /// format): checks it as a fixture's user is checked, but against
    /// `state` as it is now (a department, company or group created or
    /// deleted through the API counts), and stores it in the same step, so
    /// no write in between can take away what it refers to. Returns it as
    /// stored.
    fn seed(&self, state: &State, id: &str, record: &Value) -> Result<Value, SeedRefused>;

    /// Deletes user `id` for the admin API, leaving the records around it
    /// as the vendor's own rules allow: a reference the vendor's own delete
    /// clears is cleared, one it cannot clear refuses the delete. The check,
    /// the clearing and the delete are one step of `state`, so no state a
    /// vendor forbids is ever visible, nor left for a snapshot.
    fn unseed(&self, state: &State, id: &str) -> Result<(), UnseedRefused>;

    /// Forgets runtime counters (rate-limit windows, issued tokens) on a full
    /// reset. Users are reset by the store, not here.
    fn reset_counters(&self) {}

    /// The vendor's fixture document as `state` holds it now: every store
    /// kind the vendor keeps (users, departments, companies, …) as its
    /// fixture member, the other members copied from `startup` (the
    /// document it was loaded from). The records are collected now (the
    /// caller holds the state's lock, so every kind is of one instant) and
    /// written later, a batch at a time.
    fn snapshot(&self, state: &State, startup: &Value) -> Document;

    /// Reads a snapshot's document for this vendor into the records of
    /// every store kind it keeps, with the checks its fixture file gets
    /// (against this running vendor: members no API call changes must
    /// equal `startup`'s) and the limits its API applies. No vendor is
    /// built: the records replace a state's, the vendor stays.
    fn restore(&self, file: &SourceFile, startup: &Value) -> Result<Restored, Vec<FileProblem>>;
}

/// Errors the shared layer raises itself; every vendor renders them in its
/// own format through `From<SharedError>` for its error type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SharedError {
    /// The body is larger than `--max-body`.
    PayloadTooLarge { limit: usize },
    /// The path is under a vendor's prefix but names no route of it.
    RouteNotFound { path: String },
    /// The route exists but not for this method; `allow` is the `Allow` value.
    MethodNotAllowed { allow: String },
    /// The body's declared media type is not one the route reads.
    UnsupportedMediaType { declared: Option<String> },
    /// The body is not what the route declares (see [`BodyKind`]), or its
    /// framing is broken.
    BadBody(BodyProblem),
    /// The body did not arrive within `--body-timeout` (a 408).
    BodyTimeout,
    /// Something inside usermock broke; logged, never explained to the client.
    Internal,
    /// A write would pass a store cap (`--max-session-records` and the
    /// like): 507 Insufficient Storage in the vendor's format; nothing was
    /// written.
    StoreFull(StoreFull),
}

impl From<BrokenRecord> for SharedError {
    fn from(_: BrokenRecord) -> SharedError {
        SharedError::Internal
    }
}

impl From<StoreFull> for SharedError {
    fn from(full: StoreFull) -> SharedError {
        SharedError::StoreFull(full)
    }
}

/// What is wrong with a body the route reads as JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BodyProblem {
    /// Nothing but white space.
    Empty,
    /// Not JSON at all; the parser's message.
    NotJson(String),
    /// JSON, but not the kind the route declares.
    WrongKind(BodyKind),
    /// The HTTP framing of the body is broken (e.g. malformed chunks).
    Unreadable,
}

/// What a route reads from the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// Nothing (GET, DELETE).
    None,
    /// A JSON object.
    JsonObject,
    /// A JSON array (e.g. an RFC 6902 JSON Patch document).
    JsonArray,
    /// `application/x-www-form-urlencoded`.
    Form,
}

/// Why a record given to the admin API cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecordProblem {
    /// It does not read as the vendor's record type; serde's message.
    Shape(String),
    /// Its `id` is not the one in the path.
    IdMismatch { record: String, path: String },
    /// It reads, but a fixture check fails at `pointer`.
    Invalid { pointer: String, message: String },
}

impl std::fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordProblem::Shape(message) => f.write_str(message),
            RecordProblem::IdMismatch { record, path } => write!(
                f,
                "the record's id '{record}' differs from the path's '{path}'"
            ),
            RecordProblem::Invalid { pointer, message } => write!(f, "{pointer}: {message}"),
        }
    }
}

/// Why the admin API did not seed a record.
#[derive(Debug)]
pub(crate) enum SeedRefused {
    /// The vendor's checks refuse it.
    Invalid(RecordProblem),
    /// It would take away the last active admin (the user it replaces),
    /// which the vendor's own routes never do.
    LastAdmin { id: String },
    /// A record the check reads is stored but no longer reads as the
    /// vendor's type.
    Broken(BrokenRecord),
    /// The store's caps refuse it.
    Full(StoreFull),
}

impl From<BrokenRecord> for SeedRefused {
    fn from(broken: BrokenRecord) -> SeedRefused {
        SeedRefused::Broken(broken)
    }
}

/// Why the admin API did not delete a user.
#[derive(Debug)]
pub(crate) enum UnseedRefused {
    /// No user has this id.
    NoSuchUser,
    /// Records that no API call changes still name the user, so no vendor
    /// call could clear them either: each one described with its place in
    /// the fixture (`roles[0].user_ids`).
    Referenced(Vec<String>),
    /// A record is stored but no longer reads as the vendor's type.
    Broken(BrokenRecord),
    /// The store's caps refuse a write the delete makes (a reference
    /// cleared); the user is not deleted.
    Full(StoreFull),
}

impl From<StoreFull> for UnseedRefused {
    fn from(full: StoreFull) -> UnseedRefused {
        UnseedRefused::Full(full)
    }
}

impl From<BrokenRecord> for UnseedRefused {
    fn from(broken: BrokenRecord) -> UnseedRefused {
        UnseedRefused::Broken(broken)
    }
}

impl From<RecordProblem> for SeedRefused {
    fn from(problem: RecordProblem) -> SeedRefused {
        SeedRefused::Invalid(problem)
    }
}

impl From<StoreFull> for SeedRefused {
    fn from(full: StoreFull) -> SeedRefused {
        SeedRefused::Full(full)
    }
}

/// The step behind every [`Vendor::seed`]: `check` (which may read
/// `state`) and the write of the record it returns under `id` of `kind`
/// happen in one [`State::transaction`], so a rule that spans records (the
/// user's department exists) still holds when the record is stored.
pub(crate) fn seed_in(
    state: &State,
    kind: &'static str,
    id: &str,
    check: impl FnOnce() -> Result<Value, RecordProblem>,
) -> Result<Value, SeedRefused> {
    state.transaction(|| {
        let record = check()?;
        state.put(kind, id.to_ascii_lowercase(), record.clone())?;
        Ok(record)
    })
}

/// The step behind every [`Vendor::unseed`]: the user `id` of `kind` must
/// exist, then `references` (which may read `state`, refuse, and clear what
/// refers to the user) runs and the user is deleted, all in one
/// [`State::transaction`], so nothing can come to refer to the user in
/// between and no reader sees a reference to a deleted user.
pub(crate) fn unseed_in(
    state: &State,
    kind: &'static str,
    id: &str,
    references: impl FnOnce(&str) -> Result<(), UnseedRefused>,
) -> Result<(), UnseedRefused> {
    let id = id.to_ascii_lowercase();
    state.transaction(|| {
        if state.get(kind, &id).is_none() {
            return Err(UnseedRefused::NoSuchUser);
        }
        references(&id)?;
        if state.delete(kind, &id) {
            Ok(())
        } else {
            Err(UnseedRefused::NoSuchUser)
        }
    })
}

/// A scenario's request for a vendor error: the status, and which error of
/// that status where the vendor has several.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ErrorRequest {
    pub status: u16,
    pub kind: Option<String>,
    /// Seconds for `Retry-After` on a 429.
    pub retry_after: Option<u64>,
}

// ------------------------------------------------------------ the Api trait --

/// A vendor as its folder writes it: a route table, its own error type and
/// how to render it. The shared layer's [`Vendor`] is derived from this.
pub(crate) trait Api: Send + Sync + Sized + 'static {
    /// Exactly the errors the vendor's documentation describes, plus a way
    /// to carry the shared layer's own.
    type Error: From<SharedError> + From<BrokenRecord> + From<StoreFull>;

    /// The vendor key (`/activity/...`, `activity.json`).
    const NAME: &'static str;
    /// The real API's host name.
    const REAL_HOST: &'static str;
    /// The path of the vendor's documented base URL on its real host
    /// (`/api/v1.3` of `https://api.relesysapp.net/api/v1.3`; empty when the
    /// base URL is the host). A client's base URL on usermock is
    /// `/{NAME}{BASE_PATH}`.
    const BASE_PATH: &'static str;

    /// The route table, built once when the fixture loads.
    fn routes(&self) -> &Routes<Self>;

    /// The one place this vendor's errors become replies.
    fn render(&self, error: &Self::Error) -> Reply;

    /// The error a scenario's `vendor_error` asks for, or `None` when the
    /// vendor documents no error of that status and kind.
    fn scenario_error(&self, request: &ErrorRequest, call: &Call) -> Option<Self::Error>;

    /// See [`Vendor::seed`] ([`seed_in`] does the step for it).
    fn seed(&self, state: &State, id: &str, record: &Value) -> Result<Value, SeedRefused>;

    /// See [`Vendor::unseed`] ([`unseed_in`] does the step for it).
    fn unseed(&self, state: &State, id: &str) -> Result<(), UnseedRefused>;

    /// See [`Vendor::reset_counters`].
    fn reset_counters(&self) {}

    /// See [`Vendor::snapshot`].
    fn snapshot(&self, state: &State, startup: &Value) -> Document;

    /// See [`Vendor::restore`].
    fn restore(&self, file: &SourceFile, startup: &Value) -> Result<Restored, Vec<FileProblem>>;
}

/// A route handler: the vendor, the request with its path parameters.
pub(crate) type Handler<V> = fn(&V, &Request<'_>) -> Result<Reply, <V as Api>::Error>;

/// One route: method, path pattern (relative to the real host), what it
/// reads from the body, and its handler.
pub(crate) struct Route<V: Api> {
    method: Method,
    pattern: PathPattern,
    body: BodyKind,
    handler: Handler<V>,
}

/// A vendor's route table. More specific patterns (more literal segments)
/// are tried first, so `/users/summary` is never taken for `/users/{id}`.
pub(crate) struct Routes<V: Api>(Vec<Route<V>>);

impl<V: Api> Routes<V> {
    /// Builds the table from `(method, pattern, body, handler)` rows. The
    /// patterns are the vendor's own constants; a malformed one is a bug in
    /// usermock, caught by the registry test that builds every table.
    pub fn new(rows: &[(Method, &'static str, BodyKind, Handler<V>)]) -> Routes<V> {
        let mut routes: Vec<Route<V>> = rows
            .iter()
            .filter_map(
                |(method, pattern, body, handler)| match PathPattern::parse(pattern) {
                    Ok(pattern) => Some(Route {
                        method: method.clone(),
                        pattern,
                        body: *body,
                        handler: *handler,
                    }),
                    Err(err) => {
                        tracing::error!(vendor = V::NAME, pattern, %err, "malformed route pattern");
                        debug_assert!(false, "malformed route pattern {pattern}: {err}");
                        None
                    }
                },
            )
            .collect();
        routes.sort_by_key(|r| std::cmp::Reverse(r.pattern.literal_count()));
        Routes(routes)
    }

    /// Each distinct pattern once, in table order.
    pub fn patterns(&self) -> Vec<PathPattern> {
        let mut seen = HashSet::new();
        self.0
            .iter()
            .filter(|r| seen.insert(r.pattern.as_str()))
            .map(|r| r.pattern.clone())
            .collect()
    }

    /// The route for `call`, or the 404 / 405 the table implies.
    fn find<'r, 'c>(
        &'r self,
        call: &'c Call,
    ) -> Result<(&'r Route<V>, Captures<'r, 'c>), SharedError> {
        // The routes of the request's method first: the path is then
        // matched against a fraction of the table. Only when none matches
        // are the others walked, for a 405's `Allow` or a 404.
        for route in self.0.iter().filter(|r| r.method == call.method) {
            if let Some(captures) = route.pattern.captures(&call.path) {
                return Ok((route, captures));
            }
        }
        let mut allowed: Vec<&str> = Vec::new();
        for route in &self.0 {
            if route.pattern.matches(&call.path) && !allowed.contains(&route.method.as_str()) {
                allowed.push(route.method.as_str());
            }
        }
        if allowed.is_empty() {
            Err(SharedError::RouteNotFound {
                path: call.path.to_string(),
            })
        } else {
            Err(SharedError::MethodNotAllowed {
                allow: allowed.join(", "),
            })
        }
    }
}

/// `deserialize_with` for an optional member that, when present, must be a
/// `T`: unlike a plain `Option<T>`, a `null` fails to read (with
/// `#[serde(default)]`, an absent member is `None`).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// For tests of a route read both ways: reads each body as a `T` and
/// through `accept` (as [`Request::json_as`] does) and from its JSON tree
/// (`tree`), requires the typed read to agree with the tree on every body
/// it takes and never to take one the tree refuses, and returns how many
/// bodies it took and how many valid ones it left to the tree.
#[cfg(test)]
pub(crate) fn typed_against_tree<T, U, E>(
    bodies: &[String],
    accept: impl Fn(T) -> Option<U>,
    tree: impl Fn(Value) -> Result<U, E>,
) -> (usize, usize)
where
    T: serde::de::DeserializeOwned,
    U: PartialEq + std::fmt::Debug,
{
    let (mut accepted, mut left) = (0, 0);
    for body in bodies {
        let value: Value = serde_json::from_str(body).expect("test bodies are JSON");
        let typed = serde_json::from_str::<T>(body).ok().and_then(&accept);
        match (tree(value), typed) {
            (Ok(expected), Some(typed)) => {
                assert_eq!(typed, expected, "{body}");
                accepted += 1;
            }
            (Ok(_), None) => left += 1,
            (Err(_), Some(typed)) => panic!("{body}: typed read {typed:?}, tree refused it"),
            (Err(_), None) => {}
        }
    }
    (accepted, left)
}

/// What a handler sees: the call, the state it reads and writes, and the
/// path parameters its route captured.
pub(crate) struct Request<'a> {
    pub call: &'a Call,
    pub state: &'a State,
    params: Captures<'a, 'a>,
    body: BodyKind,
    notes: std::cell::RefCell<Vec<Note>>,
}

impl<'a> Request<'a> {
    /// Now, by the clock of the request's session (or the global one):
    /// every timestamp, version, expiry and rate-limit window uses this.
    pub fn now(&self) -> time::OffsetDateTime {
        self.state.now()
    }

    /// Records that this answer relies on a rule usermock inferred, or that
    /// part of the request was ignored: the journal entry carries it, so a
    /// test author sees where the green is the mock's opinion. `rule` is the
    /// id `docs/vendors/<vendor>.md` gives the rule.
    pub fn note(&self, rule: &'static str, message: impl Into<String>, source: &'static str) {
        self.notes.borrow_mut().push(Note {
            rule,
            message: message.into(),
            source,
        });
    }

    /// The value of the route's `{name}` segment (empty if it has none).
    pub fn param(&self, name: &str) -> &'a str {
        self.params.get(name).unwrap_or_default()
    }

    /// The body as the route declares it, with the shared 415 and
    /// malformed-body errors. `strict_media_type`: whether the body must be
    /// declared as JSON (`application/json` or `application/*+json`) or,
    /// for a form route, `application/x-www-form-urlencoded`. Handlers call
    /// this after authenticating, so the order of checks stays 401 → 400.
    pub fn json(&self, strict_media_type: bool) -> Result<Value, SharedError> {
        self.declared(strict_media_type)?;
        self.value()
    }

    /// [`Request::json`] for a route whose body is usually a `T`: read
    /// straight as one (no JSON tree on the way; strings without escapes
    /// may borrow from the body) and handed to `accept`, whose `Some(u)`
    /// is the answer (`Ok(Ok(u))`). A body that does not read as a `T`, or
    /// that `accept` turns down, is read as [`Request::json`] reads it
    /// (`Ok(Err(value))`), so that the route finds and reports its mistake
    /// as ever. Same checks, in the same order, as [`Request::json`].
    pub fn json_as<T: Deserialize<'a>, U>(
        &self,
        strict_media_type: bool,
        accept: impl FnOnce(T) -> Option<U>,
    ) -> Result<Result<U, Value>, SharedError> {
        self.declared(strict_media_type)?;
        let body: &'a [u8] = &self.call.body;
        // Only a body of the route's kind: serde reads a struct from an
        // array too, which the route's kind check would refuse.
        let opening = body.iter().find(|b| !b.is_ascii_whitespace());
        let of_kind = match self.body {
            BodyKind::JsonObject => opening == Some(&b'{'),
            BodyKind::JsonArray => opening == Some(&b'['),
            BodyKind::None | BodyKind::Form => false,
        };
        if of_kind {
            if let Some(accepted) = serde_json::from_slice::<T>(body).ok().and_then(accept) {
                return Ok(Ok(accepted));
            }
        }
        self.value().map(Err)
    }

    /// The 415 of [`Request::json`] (or its note when lenient).
    fn declared(&self, strict_media_type: bool) -> Result<(), SharedError> {
        let declared_ok = match self.body {
            BodyKind::Form => {
                self.call.media_type().as_deref() == Some("application/x-www-form-urlencoded")
            }
            _ => self.call.declares_json(),
        };
        if !declared_ok {
            if strict_media_type {
                return Err(SharedError::UnsupportedMediaType {
                    declared: self.call.header("content-type").map(str::to_owned),
                });
            }
            self.note(
                "lenient-content-type",
                format!(
                    "the body was read as {} although {}",
                    if matches!(self.body, BodyKind::Form) {
                        "a form"
                    } else {
                        "JSON"
                    },
                    match self.call.header("content-type") {
                        Some(declared) => format!("its Content-Type is {declared}"),
                        None => "the request has no Content-Type".to_owned(),
                    }
                ),
                "inferred: the vendor's documentation does not say what a body with another content type gets",
            );
        }
        Ok(())
    }

    /// The body as a JSON value of the route's kind, or the 400's cause.
    fn value(&self) -> Result<Value, SharedError> {
        if self.call.body.iter().all(u8::is_ascii_whitespace) {
            return Err(SharedError::BadBody(BodyProblem::Empty));
        }
        let value: Value = serde_json::from_slice(&self.call.body)
            .map_err(|err| SharedError::BadBody(BodyProblem::NotJson(err.to_string())))?;
        let kind_ok = match self.body {
            BodyKind::JsonObject => value.is_object(),
            BodyKind::JsonArray => value.is_array(),
            BodyKind::None | BodyKind::Form => true,
        };
        if kind_ok {
            Ok(value)
        } else {
            Err(SharedError::BadBody(BodyProblem::WrongKind(self.body)))
        }
    }
}

impl<V: Api> Vendor for V {
    fn name(&self) -> &'static str {
        V::NAME
    }

    fn real_host(&self) -> &'static str {
        V::REAL_HOST
    }

    fn base_path(&self) -> &'static str {
        V::BASE_PATH
    }

    fn route_patterns(&self) -> Vec<PathPattern> {
        self.routes().patterns()
    }

    fn route_rows(&self) -> Vec<(Method, String)> {
        self.routes()
            .0
            .iter()
            .map(|r| (r.method.clone(), r.pattern.as_str().to_owned()))
            .collect()
    }

    fn knows_path(&self, path: &str) -> bool {
        self.routes().0.iter().any(|r| r.pattern.matches(path))
    }

    #[cfg(test)]
    fn route_list(&self) -> Vec<(Method, PathPattern)> {
        self.routes()
            .0
            .iter()
            .map(|r| (r.method.clone(), r.pattern.clone()))
            .collect()
    }

    fn handle(&self, call: &Call, state: &State) -> Reply {
        let (route, params) = match self.routes().find(call) {
            Ok(found) => found,
            Err(shared) => return self.render_shared(&shared),
        };
        let request = Request {
            call,
            state,
            params,
            body: route.body,
            notes: std::cell::RefCell::new(Vec::new()),
        };
        let mut reply = match (route.handler)(self, &request) {
            Ok(reply) => reply,
            Err(error) => self.render(&error),
        };
        reply.notes.append(&mut request.notes.into_inner());
        reply
    }

    fn scenario_reply(&self, request: &ErrorRequest, call: &Call) -> Option<Reply> {
        Api::scenario_error(self, request, call).map(|error| self.render(&error))
    }

    fn render_shared(&self, error: &SharedError) -> Reply {
        let reply = self.render(&V::Error::from(error.clone()));
        match error {
            SharedError::MethodNotAllowed { allow } => match HeaderValue::from_str(allow) {
                Ok(value) => reply.with_header(ALLOW, value),
                Err(_) => reply,
            },
            _ => reply,
        }
    }

    fn seed(&self, state: &State, id: &str, record: &Value) -> Result<Value, SeedRefused> {
        Api::seed(self, state, id, record)
    }

    fn unseed(&self, state: &State, id: &str) -> Result<(), UnseedRefused> {
        Api::unseed(self, state, id)
    }

    fn reset_counters(&self) {
        Api::reset_counters(self)
    }

    fn snapshot(&self, state: &State, startup: &Value) -> Document {
        Api::snapshot(self, state, startup)
    }

    fn restore(&self, file: &SourceFile, startup: &Value) -> Result<Restored, Vec<FileProblem>> {
        Api::restore(self, file, startup)
    }
}

// ---------------------------------------------------------------- registry --

/// Startup choices that apply to every vendor's fixture.
#[derive(Debug, Clone)]
pub(crate) struct LoadOptions {
    /// Turn the vendor's documented rate limit on, whatever its fixture says.
    pub rate_limit: bool,
    /// The largest a record may grow to by one write (`--max-record-bytes`).
    pub max_record_bytes: usize,
    /// Tokens issued by a token endpoint that are remembered at once; one
    /// more drops the oldest (`--max-issued-tokens`).
    pub max_issued_tokens: usize,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            rate_limit: false,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            max_issued_tokens: DEFAULT_MAX_ISSUED_TOKENS,
        }
    }
}

/// `--max-record-bytes` when not given: 64 KiB.
pub(crate) const DEFAULT_MAX_RECORD_BYTES: usize = 64 * 1024;

/// `--max-issued-tokens` when not given.
pub(crate) const DEFAULT_MAX_ISSUED_TOKENS: usize = 10_000;

/// What a fixture file yields: the vendor and its initial records.
pub(crate) struct Loaded {
    pub vendor: Arc<dyn Vendor>,
    /// Users, under the vendor's own key.
    pub records: Vec<(String, Record)>,
    /// Records of the vendor's other kinds (e.g. `replay.teams`), each
    /// under its kind's store key: state from the start, like users.
    pub other_kinds: Vec<(&'static str, String, Record)>,
}

pub(crate) struct VendorSpec {
    pub name: &'static str,
    pub embedded_fixture: &'static str,
    pub load: fn(&SourceFile, &LoadOptions) -> Result<Loaded, Vec<FileProblem>>,
    /// JSON Schema of the fixture file, generated from the Rust types.
    pub fixture_schema: fn() -> schemars::schema::RootSchema,
    /// One valid write through each write route of the embedded fixture's
    /// world, in an order in which each succeeds (the snapshot test).
    #[cfg(test)]
    pub sample_writes: fn() -> Vec<SampleWrite>,
}

/// A write the snapshot test sends: method, path, credential header, body
/// (`null` none, a string a form, else JSON; an array is a JSON Patch).
#[cfg(test)]
pub(crate) type SampleWrite = (
    Method,
    String,
    (&'static str, &'static str),
    serde_json::Value,
);

/// Declares each vendor's folder as a module and lists its `SPEC` in
/// [`ALL`], so that registering a vendor is one line: its name below.
macro_rules! registry {
    ($($(#[$attr:meta])* $name:ident,)*) => {
        $($(#[$attr])* pub(crate) mod $name;)*

        /// Every vendor usermock serves, in route order.
        pub(crate) const ALL: &[VendorSpec] = &[$($(#[$attr])* $name::SPEC,)*];
    };
}

registry! {
    activity,
    awork,
    relesys,
    replay,
}

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

/// `id` lower-cased (ASCII), as vendors key their maps of ids; borrowed
/// when it has no upper-case letter (ids usually come lower-cased), so the
/// common case on a request's path allocates nothing.
pub(crate) fn lowercase_id(id: &str) -> std::borrow::Cow<'_, str> {
    if id.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(id.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(id)
    }
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
/// at `/users/{i}…`. Each user is moved into its record, not copied.
pub(crate) fn fixture_records<U>(
    users: Vec<U>,
    check: impl Fn(&U) -> Vec<(String, String)>,
    bad: &mut dyn FnMut(String, String),
) -> Vec<(String, Record)>
where
    U: StoredUser + Send + Sync + 'static,
{
    records_of_users(users, check, None, bad)
}

/// Users read from a snapshot as store records: as [`fixture_records`],
/// and each must fit `max_record_bytes` as a record written through the
/// API must.
pub(crate) fn restored_users<U>(
    users: Vec<U>,
    check: impl Fn(&U) -> Vec<(String, String)>,
    max_record_bytes: usize,
    bad: &mut dyn FnMut(String, String),
) -> Vec<(String, Record)>
where
    U: StoredUser + Send + Sync + 'static,
{
    records_of_users(users, check, Some(max_record_bytes), bad)
}

/// The step behind [`fixture_records`] and [`restored_users`]. A fixture
/// may hold a million users, so each id is lower-cased once (the record's
/// key) and the duplicate check borrows those keys from a set sized up
/// front; problems are reported user by user, in file order.
fn records_of_users<U>(
    users: Vec<U>,
    check: impl Fn(&U) -> Vec<(String, String)>,
    max_record_bytes: Option<usize>,
    bad: &mut dyn FnMut(String, String),
) -> Vec<(String, Record)>
where
    U: StoredUser + Send + Sync + 'static,
{
    let ids: Vec<String> = users.iter().map(|u| u.id().to_ascii_lowercase()).collect();
    let mut seen = HashSet::with_capacity(ids.len());
    let repeated: Vec<bool> = ids.iter().map(|id| !seen.insert(id.as_str())).collect();
    let mut records = Vec::with_capacity(users.len());
    for (i, ((user, id), repeated)) in users.into_iter().zip(ids).zip(repeated).enumerate() {
        if repeated {
            bad(
                format!("/users/{i}/id"),
                format!("duplicate user id '{}'", user.id()),
            );
        }
        for (pointer, message) in check(&user) {
            bad(format!("/users/{i}{pointer}"), message);
        }
        if let Some(max) = max_record_bytes {
            snapshot::check_record_size(format!("/users/{i}"), &user, max, bad);
        }
        records.push((id, Record::typed(user)));
    }
    records
}

/// A record the admin API seeds under `id`: it must read as `U`, carry
/// that id, and pass `check` like a fixture user.
pub(crate) fn seeded_user<U: StoredUser>(
    id: &str,
    record: &Value,
    check: impl Fn(&U) -> Vec<(String, String)>,
) -> Result<U, RecordProblem> {
    let user = U::deserialize(record).map_err(|e| RecordProblem::Shape(e.to_string()))?;
    if !user.id().eq_ignore_ascii_case(id) {
        return Err(RecordProblem::IdMismatch {
            record: user.id().to_owned(),
            path: id.to_owned(),
        });
    }
    match check(&user).into_iter().next() {
        Some((pointer, message)) => Err(RecordProblem::Invalid { pointer, message }),
        None => Ok(user),
    }
}

pub(crate) fn stored(user: &impl Serialize) -> Result<Value, RecordProblem> {
    serde_json::to_value(user).map_err(|e| RecordProblem::Shape(e.to_string()))
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
