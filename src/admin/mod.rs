//! The admin API under `/__admin`, in usermock's own JSON format.
//!
//! `routes.rs` is the route table (404 and 405 derive from it), `error.rs`
//! the one rendering of its errors, `control.rs` the clock, snapshots,
//! sessions and journal verification, `openapi.rs` the served contract.

mod control;
mod error;
mod guard;
mod openapi;
mod routes;

use hyper::header::HeaderValue;
use hyper::StatusCode;
use serde_json::{json, Value};

use std::sync::{Arc, PoisonError};

use crate::clock::Setting;

use subtle::ConstantTimeEq;

use crate::http::{headers, Call, Captures, PathPattern, Reply};
use crate::journal::{Filter, Journal, Page, MAX_PAGE};
use crate::scenario::{Scenarios, UploadError};
use crate::session::Session;
use crate::store::Store;
use crate::vendors::{SeedRefused, UnseedRefused, Vendor};

use error::problems_json;
pub(crate) use error::AdminError;
use routes::{Endpoint, Found};

/// What the admin API works on: the application's parts and the calling
/// request's session.
pub(crate) struct Context<'a> {
    pub vendors: &'a [Arc<dyn Vendor>],
    pub store: &'a Store,
    pub scenarios: &'a Scenarios,
    pub journal: &'a Journal,
    pub admin_token: Option<&'a str>,
    /// Names from `--admin-host` that admin calls answer besides loopback.
    pub admin_hosts: &'a [String],
    /// The address the request's connection arrived at.
    pub local_addr: Option<std::net::SocketAddr>,
    /// Each vendor's fixture document as loaded at startup (snapshots).
    pub fixtures: &'a [(&'static str, Value)],
    /// How the global clock ran at startup (a full reset returns to it).
    pub startup_clock: Setting,
    /// The calling request's session.
    pub session: &'a Session,
    /// Where a call whose answer is streamed leaves its body.
    pub streamed: &'a Streamed,
}

/// Where a handler leaves a body it streams instead of returning it whole
/// (a snapshot): the caller sends it after the reply's status and headers.
#[derive(Default)]
pub(crate) struct Streamed(std::sync::Mutex<Option<crate::server::Body>>);

impl Streamed {
    fn put(&self, body: crate::server::Body) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(body);
    }

    /// The streamed body, when the call left one.
    pub fn take(&self) -> Option<crate::server::Body> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// The admin API's OpenAPI document as served (vendor keys filled in).
pub(crate) fn openapi_document() -> &'static str {
    openapi::document()
}

/// Answers one admin call. Checks run in the documented order: the web
/// guard (403 for a foreign `Host` or origin, 415 for a write not declared
/// JSON), admin token (401; the dashboard and liveness need none), route
/// (404), method (405), then the route's own.
pub(crate) fn handle(app: &Context<'_>, call: Call) -> Reply {
    let found = routes::find(&call.method, &call.path);
    let allowed = guard::Allowed {
        hosts: app.admin_hosts,
        local: app.local_addr,
        vendors: app.vendors,
    };
    if let Err(refused) = guard::check(&allowed, &call, found.static_page()) {
        return refused.reply();
    }
    if !found.public() && !authorised(app, &call) {
        return AdminError::TokenRequired.reply();
    }
    let answer = match found {
        Found::Route { endpoint, params } => answer(app, &call, endpoint, &params),
        Found::WrongMethod { allow, .. } => Err(AdminError::MethodNotAllowed { allow }),
        Found::NoRoute => Err(AdminError::NoRoute {
            path: call.path.to_string(),
        }),
    };
    answer.unwrap_or_else(|error| error.reply())
}

fn answer(
    app: &Context<'_>,
    call: &Call,
    endpoint: Endpoint,
    params: &Captures<'_, '_>,
) -> Result<Reply, AdminError> {
    let param = |name| params.get(name).unwrap_or_default();
    use Endpoint as E;
    match endpoint {
        E::DashboardPage => Ok(dashboard_page()),
        E::DashboardRedirect => Ok(dashboard_redirect()),
        E::OpenApi => Ok(Reply {
            status: StatusCode::OK,
            headers: smallvec::smallvec![(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )],
            body: bytes::Bytes::from_static(openapi::document().as_bytes()),
            notes: Vec::new(),
        }),
        E::Live => Ok(Reply::json(StatusCode::OK, &json!({"status": "up"}))),
        E::Health => Ok(health(app)),
        E::Reset => Ok(reset(app)),
        E::ListRequests => list_requests(app, call, false),
        E::ClearRequests => {
            let cleared = app.journal.clear(app.session.id());
            Ok(Reply::json(StatusCode::OK, &json!({ "cleared": cleared })))
        }
        E::FindRequests => control::find(app, call),
        E::CountRequests => control::count(app, call),
        E::UnmatchedRequests => list_requests(app, call, true),
        E::ListScenarios => Ok(Reply::json(
            StatusCode::OK,
            &json!({ "scenarios": app.scenarios.summaries(app.session) }),
        )),
        E::PostScenarios => post_scenarios(app, call),
        E::GetScenario => get_scenario(app, param("name")),
        E::DeleteScenario => delete_scenario(app, param("name")),
        E::ActivateScenario => activate(app, param("name")),
        E::DeactivateScenario => deactivate(app, param("name")),
        E::GetClock => Ok(control::get_clock(app)),
        E::SetClock => control::set_clock(app, call),
        E::UnsetClock => Ok(control::unset_clock(app)),
        E::AdvanceClock => control::advance_clock(app, call),
        E::TakeSnapshot => Ok(control::take_snapshot(app)),
        E::RestoreSnapshot => Ok(control::restore(app, call)),
        E::ListSessions => Ok(control::sessions(app)),
        E::ListUsers => with_vendor(app, param("vendor"), |v| Ok(list_users(app, v))),
        E::GetUser => with_vendor(app, param("vendor"), |v| get_user(app, v, param("id"))),
        E::PutUser => with_vendor(app, param("vendor"), |v| {
            put_user(app, call, v, param("id"))
        }),
        E::DeleteUser => with_vendor(app, param("vendor"), |v| delete_user(app, v, param("id"))),
    }
}

fn get_scenario(app: &Context<'_>, name: &str) -> Result<Reply, AdminError> {
    match app.scenarios.spec(name) {
        Some(spec) => Ok(Reply::json(StatusCode::OK, &spec)),
        None => Err(no_such_scenario(name)),
    }
}

fn delete_scenario(app: &Context<'_>, name: &str) -> Result<Reply, AdminError> {
    match app.scenarios.remove(name) {
        true => Ok(Reply::json(StatusCode::OK, &json!({ "deleted": name }))),
        false => Err(no_such_scenario(name)),
    }
}

fn activate(app: &Context<'_>, name: &str) -> Result<Reply, AdminError> {
    touch_session(app);
    if !app.scenarios.activate(name, app.session) {
        return Err(no_such_scenario(name));
    }
    Ok(Reply::json(
        StatusCode::OK,
        &json!({ "scenario": name, "active": true, "session": app.session.id() }),
    ))
}

fn deactivate(app: &Context<'_>, name: &str) -> Result<Reply, AdminError> {
    if !app.scenarios.exists(name) {
        return Err(no_such_scenario(name));
    }
    touch_session(app);
    app.scenarios.deactivate(name, app.session);
    Ok(Reply::json(
        StatusCode::OK,
        &json!({ "scenario": name, "active": false, "session": app.session.id() }),
    ))
}

/// `GET /__admin/ui`: the dashboard, one self-contained page (no external
/// assets) that uses only this API. Static and without data, so no admin
/// token is needed: the page asks for it and sends it on every call.
fn dashboard_page() -> Reply {
    use hyper::header::{
        CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
    };
    const PAGE: &str = include_str!("ui.html");
    Reply {
        status: StatusCode::OK,
        headers: smallvec::smallvec![
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                     connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; \
                     frame-ancestors 'none'",
                ),
            ),
        ],
        body: bytes::Bytes::from_static(PAGE.as_bytes()),
        notes: Vec::new(),
    }
}

/// `GET /__admin` and `/__admin/` redirect to the dashboard.
fn dashboard_redirect() -> Reply {
    Reply {
        status: StatusCode::FOUND,
        headers: smallvec::smallvec![(
            hyper::header::LOCATION,
            HeaderValue::from_static("/__admin/ui"),
        )],
        body: bytes::Bytes::new(),
        notes: Vec::new(),
    }
}

/// `POST /__admin/scenarios`: a scenario file adds or replaces a scenario
/// (a broken one is refused with every problem and its JSON pointer, like
/// a broken file at startup); `{"activate": NAME|[NAMES]}`,
/// `{"deactivate": …}` or `{"name": NAME, "active": BOOL}` switch scenarios
/// by name, like the `/{name}/activate` routes.
fn post_scenarios(app: &Context<'_>, call: &Call) -> Result<Reply, AdminError> {
    if let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&call.body) {
        if !body.contains_key("rules") {
            return switch_scenarios(app, &body);
        }
    }
    upload_scenario(app, call)
}

fn switch_scenarios(
    app: &Context<'_>,
    body: &serde_json::Map<String, Value>,
) -> Result<Reply, AdminError> {
    let names = |value: Option<&Value>| -> Vec<String> {
        match value {
            Some(Value::String(name)) => vec![name.clone()],
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut activate = names(body.get("activate"));
    let mut deactivate = names(body.get("deactivate"));
    if let (Some(Value::String(name)), Some(Value::Bool(active))) =
        (body.get("name"), body.get("active"))
    {
        if *active {
            activate.push(name.clone());
        } else {
            deactivate.push(name.clone());
        }
    }
    if activate.is_empty() && deactivate.is_empty() {
        return Err(AdminError::InvalidRequest(
            "send a scenario (with `rules`), or {\"activate\": NAME}, {\"deactivate\": NAME} or {\"name\": NAME, \"active\": BOOL}"
                .to_owned(),
        ));
    }
    if let Some(unknown) = activate
        .iter()
        .chain(&deactivate)
        .find(|n| !app.scenarios.exists(n))
    {
        return Err(no_such_scenario(unknown));
    }
    let session = app.session.id();
    touch_session(app);
    for name in &activate {
        app.scenarios.activate(name, app.session);
    }
    for name in &deactivate {
        app.scenarios.deactivate(name, app.session);
    }
    Ok(Reply::json(
        StatusCode::OK,
        &json!({ "activated": activate, "deactivated": deactivate, "session": session }),
    ))
}

/// Adds or replaces a scenario from a scenario file.
fn upload_scenario(app: &Context<'_>, call: &Call) -> Result<Reply, AdminError> {
    let vendors: Vec<&dyn Vendor> = app.vendors.iter().map(|v| v.as_ref()).collect();
    match app.scenarios.upload(&call.body, &vendors) {
        Ok(name) => Ok(Reply::json(
            StatusCode::CREATED,
            &json!({ "name": name, "loaded": true }),
        )),
        Err(UploadError::Invalid(problems)) => Err(AdminError::InvalidScenario(problems)),
        Err(UploadError::TooMany { limit }) => Err(AdminError::TooManyScenarios { limit }),
        Err(UploadError::TooManyBytes { limit }) => Err(AdminError::ScenarioStorageFull { limit }),
    }
}

/// A session's scenario activations are session state: the session comes
/// to exist (listed, idle expiry and the session cap drop the activations
/// with it) as with its first write.
fn touch_session(app: &Context<'_>) {
    if app.session.id().is_some() {
        app.store.state(app.session);
    }
}

fn no_such_scenario(name: &str) -> AdminError {
    AdminError::NoSuchScenario {
        name: name.to_owned(),
    }
}

fn with_vendor(
    app: &Context<'_>,
    name: &str,
    then: impl FnOnce(&dyn Vendor) -> Result<Reply, AdminError>,
) -> Result<Reply, AdminError> {
    match app.vendors.iter().find(|v| v.name() == name) {
        Some(vendor) => then(vendor.as_ref()),
        None => Err(AdminError::UnknownVendor {
            name: name.to_owned(),
        }),
    }
}

/// Records as stored, in the vendor's fixture format, sorted by id.
fn list_users(app: &Context<'_>, vendor: &dyn Vendor) -> Reply {
    let state = app.store.state(app.session);
    let mut users: Vec<Value> = state
        .all(vendor.name())
        .iter()
        .map(|r| (**r).clone())
        .collect();
    users.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    Reply::json(
        StatusCode::OK,
        &json!({ "count": users.len(), "users": users }),
    )
}

fn get_user(app: &Context<'_>, vendor: &dyn Vendor, id: &str) -> Result<Reply, AdminError> {
    let state = app.store.state(app.session);
    match state.get(vendor.name(), &id.to_ascii_lowercase()) {
        Some(record) => Ok(Reply::json(StatusCode::OK, &*record)),
        None => Err(no_such_user(vendor, id)),
    }
}

/// Creates or replaces a user; the record is validated like a fixture entry.
fn put_user(
    app: &Context<'_>,
    call: &Call,
    vendor: &dyn Vendor,
    id: &str,
) -> Result<Reply, AdminError> {
    let record: Value = serde_json::from_slice(&call.body)
        .map_err(|err| AdminError::InvalidJson(err.to_string()))?;
    let state = app.store.state(app.session);
    let record = vendor
        .seed(&state, id, &record)
        .map_err(|refused| match refused {
            SeedRefused::Invalid(problem) => AdminError::InvalidRecord(problem.to_string()),
            SeedRefused::LastAdmin { id } => AdminError::LastAdmin {
                vendor: vendor.name(),
                id,
            },
            SeedRefused::Broken(_) => broken_record(vendor, id),
            SeedRefused::Full(full) => store_full(&full),
        })?;
    Ok(Reply::json(StatusCode::OK, &record))
}

/// Deletes a user as the vendor's rules allow ([`Vendor::unseed`]): what
/// refers to it is cleared or the delete is refused, in one step.
fn delete_user(app: &Context<'_>, vendor: &dyn Vendor, id: &str) -> Result<Reply, AdminError> {
    let state = app.store.state(app.session);
    vendor.unseed(&state, id).map_err(|refused| match refused {
        UnseedRefused::NoSuchUser => no_such_user(vendor, id),
        UnseedRefused::Referenced(by) => AdminError::UserReferenced {
            vendor: vendor.name(),
            id: id.to_owned(),
            by,
        },
        UnseedRefused::Broken(_) => broken_record(vendor, id),
        UnseedRefused::Full(full) => store_full(&full),
    })?;
    Ok(Reply::json(StatusCode::OK, &json!({ "deleted": id })))
}

/// A stored record that no longer reads as the vendor's type: a bug in
/// usermock, logged where found.
fn broken_record(vendor: &dyn Vendor, id: &str) -> AdminError {
    AdminError::Internal(format!(
        "a {} record the write reads is broken (user '{id}'); see the log",
        vendor.name()
    ))
}

fn no_such_user(vendor: &dyn Vendor, id: &str) -> AdminError {
    AdminError::NoSuchUser {
        vendor: vendor.name(),
        id: id.to_owned(),
    }
}

/// True when no admin token is configured, or the call carries it.
fn authorised(app: &Context<'_>, call: &Call) -> bool {
    match &app.admin_token {
        None => true,
        // Compared in constant time, so the answer's timing says nothing
        // about how much of a guess was right.
        Some(token) => {
            let matches = |given: Option<&str>| {
                given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(token.as_bytes())))
            };
            matches(call.bearer_token()) | matches(call.header(headers::ADMIN_TOKEN))
        }
    }
}

/// `GET /__admin/requests?vendor=&method=&path=&status=&noted=`: one page
/// of the journal (`after`, `limit`), oldest first; with
/// `X-Usermock-Session`, that session's requests only.
/// `GET /__admin/requests/unmatched` is the same over requests that reached
/// no route.
fn list_requests(
    app: &Context<'_>,
    call: &Call,
    unmatched_only: bool,
) -> Result<Reply, AdminError> {
    let mut filter = Filter {
        session: app.session.id().map(str::to_owned),
        unmatched_only,
        ..Filter::default()
    };
    let mut page = Page::default();
    let query = call.query.as_deref().unwrap_or_default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if paging_or_noted(&key, &value, &mut filter, &mut page)? {
            continue;
        }
        match key.as_ref() {
            "vendor" => filter.vendor = Some(value.into_owned()),
            "session" => match &filter.session {
                Some(own) if *own != value => {
                    return Err(AdminError::InvalidFilter(format!(
                        "session '{value}' differs from the X-Usermock-Session header '{own}'"
                    )))
                }
                _ => filter.session = Some(value.into_owned()),
            },
            "method" => filter.method = Some(value.into_owned()),
            "path" => match PathPattern::parse(&value) {
                Ok(pattern) => filter.path = Some(pattern),
                Err(err) => return Err(AdminError::InvalidFilter(err.to_string())),
            },
            "status" => match value.parse() {
                Ok(status) => filter.status = Some(status),
                Err(_) => {
                    return Err(AdminError::InvalidFilter(format!(
                        "status '{value}' is not a number"
                    )))
                }
            },
            other => {
                return Err(AdminError::InvalidFilter(format!(
                    "unknown filter '{other}' (use vendor, method, path, status, session, noted, after, limit)"
                )))
            }
        }
    }
    Ok(listing(app, &filter, page))
}

/// The query parameters every journal listing takes (`after`, `limit`,
/// `noted`): `Ok(false)` when `key` is none of them.
fn paging_or_noted(
    key: &str,
    value: &str,
    filter: &mut Filter,
    page: &mut Page,
) -> Result<bool, AdminError> {
    let invalid = |message: String| Err(AdminError::InvalidFilter(message));
    match key {
        "after" => match value.parse() {
            Ok(after) => page.after = Some(after),
            Err(_) => return invalid(format!("after '{value}' is not an entry id")),
        },
        "limit" => match value.parse::<usize>() {
            Ok(limit) if (1..=MAX_PAGE).contains(&limit) => page.limit = limit,
            _ => {
                return invalid(format!(
                    "limit '{value}' is not a whole number from 1 to {MAX_PAGE}"
                ))
            }
        },
        "noted" => match value {
            "true" => filter.noted = Some(true),
            "false" => filter.noted = Some(false),
            _ => return invalid(format!("noted '{value}' is not true or false")),
        },
        _ => return Ok(false),
    }
    Ok(true)
}

/// One page of matching entries: `count` in this page, `total` in all,
/// `next_after` the `after` of the next page (`null` on the last).
fn listing(app: &Context<'_>, filter: &Filter, page: Page) -> Reply {
    let listing = app.journal.list(filter, page);
    Reply::json(
        StatusCode::OK,
        &json!({
            "count": listing.requests.len(),
            "total": listing.total,
            "next_after": listing.next_after,
            "requests": listing.requests,
        }),
    )
}

fn health(app: &Context<'_>) -> Reply {
    let vendors: Vec<&str> = app.vendors.iter().map(|v| v.name()).collect();
    // Each vendor's base URL on this server, as a path: what a client of
    // that vendor is given in place of the real base URL.
    let api_bases: serde_json::Map<String, Value> = app
        .vendors
        .iter()
        .map(|v| {
            (
                v.name().to_owned(),
                Value::from(format!("/{}{}", v.name(), v.base_path())),
            )
        })
        .collect();
    Reply::json(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "vendors": vendors,
            "api_bases": api_bases,
            "sessions": app.store.session_count(),
        }),
    )
}

/// Without `X-Usermock-Session`, the server goes back to exactly how it
/// started: fixtures, the scenarios loaded at startup with their startup
/// activations, the startup clock; everything added at runtime is dropped
/// (writes, sessions, journal, counters, runtime activations and uploads,
/// issued tokens, rate-limit windows). With it, only that session goes:
/// its state, clock, activations, counters and journal entries.
fn reset(app: &Context<'_>) -> Reply {
    match app.session.id() {
        Some(session) => {
            app.store.reset_session(session);
            app.scenarios.forget_session(app.session);
            app.journal.clear(Some(session));
            Reply::json(
                StatusCode::OK,
                &json!({ "status": "reset", "session": session }),
            )
        }
        None => {
            app.store.reset_all();
            app.store.clock().set(app.startup_clock);
            app.scenarios.reset_all();
            app.journal.clear(None);
            for vendor in app.vendors {
                vendor.reset_counters();
            }
            Reply::json(
                StatusCode::OK,
                &json!({ "status": "reset", "session": null }),
            )
        }
    }
}

/// A write past a store cap (docs/limits.md): 507, nothing written.
fn store_full(full: &crate::store::StoreFull) -> AdminError {
    AdminError::StoreFull(format!("{} ({})", full.message(), full.cap.flag()))
}

/// The error `{"error": CODE, "message": TEXT}` built by hand. Only the
/// snapshot routes in `control.rs` still use it; new code raises an
/// [`AdminError`].
fn error(status: StatusCode, code: &str, message: String) -> Reply {
    Reply::json(status, &json!({ "error": code, "message": message }))
}
