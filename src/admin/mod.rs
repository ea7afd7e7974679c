//! The admin API under `/__admin`, in usermock's own JSON format.

mod control;
mod guard;

use hyper::header::{HeaderValue, ALLOW};
use hyper::{Method, StatusCode};
use serde_json::{json, Value};

use std::sync::Arc;

use crate::clock::Setting;

use subtle::ConstantTimeEq;

use crate::http::{headers, match_path, Call, PathPattern, Reply};
use crate::journal::{Filter, Journal, Page, MAX_PAGE};
use crate::scenario::{Scenarios, UploadError};
use crate::session::Session;
use crate::store::Store;
use crate::vendors::Vendor;

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
}

/// The admin API's OpenAPI 3.1 document, served at `/__admin/openapi.json`.
const OPENAPI: &str = include_str!("openapi.json");

pub(crate) fn handle(ctx: &Context<'_>, call: Call, session: &Session) -> Reply {
    let app = &Scope { ctx, session };
    let allowed = guard::Allowed {
        hosts: ctx.admin_hosts,
        local: ctx.local_addr,
        vendors: ctx.vendors,
    };
    let static_page = matches!(
        call.path.as_str(),
        "/__admin" | "/__admin/" | "/__admin/ui" | "/__admin/openapi.json"
    );
    if let Err(refused) = guard::check(&allowed, &call, static_page) {
        return refused;
    }
    if let Some(reply) = dashboard(&call) {
        return reply;
    }
    if call.path == "/__admin/live" {
        return live(&call);
    }
    if !authorised(app, &call) {
        return error(
            StatusCode::UNAUTHORIZED,
            "admin_token_required",
            "this usermock was started with --admin-token: send it as `Authorization: Bearer <token>` or `X-Usermock-Admin-Token: <token>`".to_owned(),
        )
        .with_header(hyper::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    fixed_route(app, &call).unwrap_or_else(|| parameterised_route(app, &call))
}

/// `GET /__admin/live`: liveness without the admin token, for health checks
/// that cannot hold it (a container started with `--admin-token` as an
/// argument). It says nothing but "up": no version, vendors or state.
fn live(call: &Call) -> Reply {
    match call.method {
        Method::GET | Method::HEAD => Reply::json(StatusCode::OK, &json!({"status": "up"})),
        _ => method_not_allowed("GET"),
    }
}

/// The routes without path parameters; `None` for any other path.
fn fixed_route(app: &Scope<'_>, call: &Call) -> Option<Reply> {
    Some(match call.path.as_str() {
        "/__admin/openapi.json" => match call.method {
            Method::GET => Reply {
                status: StatusCode::OK,
                headers: vec![(
                    hyper::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                )],
                body: bytes::Bytes::from_static(OPENAPI.as_bytes()),
                notes: Vec::new(),
            },
            _ => method_not_allowed("GET"),
        },
        "/__admin/clock" => control::clock(app, call, false),
        "/__admin/clock/advance" => control::clock(app, call, true),
        "/__admin/snapshot" => control::snapshot(app, call),
        "/__admin/sessions" => control::sessions(app, call),
        "/__admin/requests/find" => control::verify(app, call, "find"),
        "/__admin/requests/count" => control::verify(app, call, "count"),
        "/__admin/requests/unmatched" => control::verify(app, call, "unmatched"),
        "/__admin/requests" => match call.method {
            Method::GET => list_requests(app, call, false),
            Method::DELETE => {
                let cleared = app.journal.clear(app.session.id());
                Reply::json(StatusCode::OK, &json!({ "cleared": cleared }))
            }
            _ => method_not_allowed("GET, DELETE"),
        },
        "/__admin/health" => match call.method {
            Method::GET => health(app),
            _ => method_not_allowed("GET"),
        },
        "/__admin/reset" => match call.method {
            Method::POST => reset(app),
            _ => method_not_allowed("POST"),
        },
        "/__admin/scenarios" => match call.method {
            Method::GET => Reply::json(
                StatusCode::OK,
                &json!({ "scenarios": app.scenarios.summaries(app.session) }),
            ),
            Method::POST => post_scenarios(app, call),
            _ => method_not_allowed("GET, POST"),
        },
        _ => return None,
    })
}

/// The routes with path parameters: one scenario, one vendor's users.
fn parameterised_route(app: &Scope<'_>, call: &Call) -> Reply {
    let path = call.path.as_str();
    if let Some([name]) = match_path("/__admin/scenarios/{name}", path).as_deref() {
        return match call.method {
            Method::GET => match app.scenarios.spec(name) {
                Some(spec) => Reply::json(StatusCode::OK, &spec),
                None => no_such_scenario(name),
            },
            Method::DELETE => match app.scenarios.remove(name) {
                true => Reply::json(StatusCode::OK, &json!({ "deleted": name })),
                false => no_such_scenario(name),
            },
            _ => method_not_allowed("GET, DELETE"),
        };
    }
    if let Some([name, verb]) = match_path("/__admin/scenarios/{name}/{verb}", path).as_deref() {
        if call.method != Method::POST {
            return method_not_allowed("POST");
        }
        let session = app.session.id();
        return match *verb {
            "activate" if app.scenarios.activate(name, app.session) => Reply::json(
                StatusCode::OK,
                &json!({ "scenario": name, "active": true, "session": session }),
            ),
            "deactivate" if app.scenarios.exists(name) => {
                app.scenarios.deactivate(name, app.session);
                Reply::json(
                    StatusCode::OK,
                    &json!({ "scenario": name, "active": false, "session": session }),
                )
            }
            "activate" | "deactivate" => no_such_scenario(name),
            _ => error(
                StatusCode::NOT_FOUND,
                "no_route",
                format!("no admin route for {path}"),
            ),
        };
    }
    if let Some([vendor]) = match_path("/__admin/{vendor}/users", path).as_deref() {
        return match call.method {
            Method::GET => with_vendor(app, vendor, |v| list_users(app, v)),
            _ => method_not_allowed("GET"),
        };
    }
    if let Some([vendor, id]) = match_path("/__admin/{vendor}/users/{id}", path).as_deref() {
        return match call.method {
            Method::GET => with_vendor(app, vendor, |v| get_user(app, v, id)),
            Method::PUT => with_vendor(app, vendor, |v| put_user(app, call, v, id)),
            Method::DELETE => with_vendor(app, vendor, |v| delete_user(app, v, id)),
            _ => method_not_allowed("GET, PUT, DELETE"),
        };
    }
    error(
        StatusCode::NOT_FOUND,
        "no_route",
        format!("no admin route for {path}"),
    )
}

/// The dashboard: `GET /__admin/ui` is one self-contained page (no external
/// assets) that uses only this API; `GET /__admin` and `/__admin/` redirect
/// to it. Static and without data, so no admin token is needed: the page
/// asks for it and sends it on every call it makes. `None` for other paths.
fn dashboard(call: &Call) -> Option<Reply> {
    use hyper::header::{
        CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, X_CONTENT_TYPE_OPTIONS,
    };
    const PAGE: &str = include_str!("ui.html");
    let page = match call.path.as_str() {
        "/__admin/ui" => true,
        "/__admin" | "/__admin/" => false,
        _ => return None,
    };
    if call.method != Method::GET {
        return Some(method_not_allowed("GET"));
    }
    Some(if page {
        Reply {
            status: StatusCode::OK,
            headers: vec![
                (CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
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
    } else {
        Reply {
            status: StatusCode::FOUND,
            headers: vec![(LOCATION, HeaderValue::from_static("/__admin/ui"))],
            body: bytes::Bytes::new(),
            notes: Vec::new(),
        }
    })
}

/// `POST /__admin/scenarios`: a scenario file adds or replaces a scenario
/// (a broken one is refused with every problem and its JSON pointer, like
/// a broken file at startup); `{"activate": NAME|[NAMES]}`,
/// `{"deactivate": …}` or `{"name": NAME, "active": BOOL}` switch scenarios
/// by name, like the `/{name}/activate` routes.
fn post_scenarios(app: &Scope<'_>, call: &Call) -> Reply {
    if let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&call.body) {
        if !body.contains_key("rules") {
            return switch_scenarios(app, &body);
        }
    }
    upload_scenario(app, call)
}

fn switch_scenarios(app: &Scope<'_>, body: &serde_json::Map<String, Value>) -> Reply {
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
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send a scenario (with `rules`), or {\"activate\": NAME}, {\"deactivate\": NAME} or {\"name\": NAME, \"active\": BOOL}"
                .to_owned(),
        );
    }
    if let Some(unknown) = activate
        .iter()
        .chain(&deactivate)
        .find(|n| !app.scenarios.exists(n))
    {
        return no_such_scenario(unknown);
    }
    let session = app.session.id();
    for name in &activate {
        app.scenarios.activate(name, app.session);
    }
    for name in &deactivate {
        app.scenarios.deactivate(name, app.session);
    }
    Reply::json(
        StatusCode::OK,
        &json!({ "activated": activate, "deactivated": deactivate, "session": session }),
    )
}

/// Adds or replaces a scenario from a scenario file.
fn upload_scenario(app: &Scope<'_>, call: &Call) -> Reply {
    let vendors: Vec<&dyn Vendor> = app.vendors.iter().map(|v| v.as_ref()).collect();
    match app.scenarios.upload(&call.body, &vendors) {
        Ok(name) => Reply::json(
            StatusCode::CREATED,
            &json!({ "name": name, "loaded": true }),
        ),
        Err(UploadError::Invalid(problems)) => Reply::json(
            StatusCode::BAD_REQUEST,
            &json!({ "error": "invalid_scenario", "message": "the scenario was not loaded", "problems": problems_json(&problems) }),
        ),
        Err(UploadError::TooMany { limit }) => error(
            StatusCode::CONFLICT,
            "too_many_scenarios",
            format!("{limit} uploaded scenarios are loaded already (--max-uploaded-scenarios); delete one or reset"),
        ),
        Err(UploadError::TooManyBytes { limit }) => error(
            StatusCode::INSUFFICIENT_STORAGE,
            "scenario_storage_full",
            format!("uploaded scenarios may hold {limit} bytes of scenario files in all (--max-scenario-bytes); delete one or reset"),
        ),
    }
}

/// File problems as the admin API lists them.
pub(crate) fn problems_json(problems: &[crate::diagnostics::FileProblem]) -> Vec<Value> {
    problems
        .iter()
        .map(|p| {
            json!({
                "pointer": p.pointer,
                "line": p.line_column.map(|(l, _)| l),
                "column": p.line_column.map(|(_, c)| c),
                "message": p.message,
            })
        })
        .collect()
}

fn no_such_scenario(name: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "no_such_scenario",
        format!("no scenario is named '{name}'"),
    )
}

fn with_vendor(app: &Scope<'_>, name: &str, then: impl FnOnce(&dyn Vendor) -> Reply) -> Reply {
    match app.vendors.iter().find(|v| v.name() == name) {
        Some(vendor) => then(vendor.as_ref()),
        None => error(
            StatusCode::NOT_FOUND,
            "unknown_vendor",
            format!("no vendor named '{name}'"),
        ),
    }
}

/// Records as stored, in the vendor's fixture format, sorted by id.
fn list_users(app: &Scope<'_>, vendor: &dyn Vendor) -> Reply {
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

fn get_user(app: &Scope<'_>, vendor: &dyn Vendor, id: &str) -> Reply {
    let state = app.store.state(app.session);
    match state.get(vendor.name(), &id.to_ascii_lowercase()) {
        Some(record) => Reply::json(StatusCode::OK, &*record),
        None => no_such_user(vendor, id),
    }
}

/// Creates or replaces a user; the record is validated like a fixture entry.
fn put_user(app: &Scope<'_>, call: &Call, vendor: &dyn Vendor, id: &str) -> Reply {
    let record: Value = match serde_json::from_slice(&call.body) {
        Ok(record) => record,
        Err(err) => return error(StatusCode::BAD_REQUEST, "invalid_json", err.to_string()),
    };
    match vendor.check_record(id, &record) {
        Ok(record) => {
            let state = app.store.state(app.session);
            match state.put(vendor.name(), id.to_ascii_lowercase(), record.clone()) {
                Ok(()) => Reply::json(StatusCode::OK, &record),
                Err(full) => store_full(&full),
            }
        }
        Err(problem) => error(
            StatusCode::BAD_REQUEST,
            "invalid_record",
            problem.to_string(),
        ),
    }
}

fn delete_user(app: &Scope<'_>, vendor: &dyn Vendor, id: &str) -> Reply {
    let state = app.store.state(app.session);
    if state.delete(vendor.name(), &id.to_ascii_lowercase()) {
        Reply::json(StatusCode::OK, &json!({ "deleted": id }))
    } else {
        no_such_user(vendor, id)
    }
}

fn no_such_user(vendor: &dyn Vendor, id: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "no_such_user",
        format!("{} has no user '{id}'", vendor.name()),
    )
}

/// True when no admin token is configured, or the call carries it.
fn authorised(app: &Scope<'_>, call: &Call) -> bool {
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
fn list_requests(app: &Scope<'_>, call: &Call, unmatched_only: bool) -> Reply {
    let mut filter = Filter {
        session: app.session.id().map(str::to_owned),
        unmatched_only,
        ..Filter::default()
    };
    let mut page = Page::default();
    let query = call.query.as_deref().unwrap_or_default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match paging_or_noted(&key, &value, &mut filter, &mut page) {
            Some(Ok(())) => continue,
            Some(Err(reply)) => return reply,
            None => {}
        }
        match key.as_ref() {
            "vendor" => filter.vendor = Some(value.into_owned()),
            "session" => match &filter.session {
                Some(own) if *own != value => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "invalid_filter",
                        format!(
                            "session '{value}' differs from the X-Usermock-Session header '{own}'"
                        ),
                    )
                }
                _ => filter.session = Some(value.into_owned()),
            },
            "method" => filter.method = Some(value.into_owned()),
            "path" => match PathPattern::parse(&value) {
                Ok(pattern) => filter.path = Some(pattern),
                Err(err) => {
                    return error(StatusCode::BAD_REQUEST, "invalid_filter", err.to_string())
                }
            },
            "status" => match value.parse() {
                Ok(status) => filter.status = Some(status),
                Err(_) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "invalid_filter",
                        format!("status '{value}' is not a number"),
                    )
                }
            },
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_filter",
                    format!(
                    "unknown filter '{other}' (use vendor, method, path, status, session, noted, after, limit)"
                ),
                )
            }
        }
    }
    listing(app, &filter, page)
}

/// The query parameters every journal listing takes (`after`, `limit`,
/// `noted`): `None` when `key` is none of them, else whether its value was
/// understood.
fn paging_or_noted(
    key: &str,
    value: &str,
    filter: &mut Filter,
    page: &mut Page,
) -> Option<Result<(), Reply>> {
    let invalid = |message: String| {
        Some(Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_filter",
            message,
        )))
    };
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
        _ => return None,
    }
    Some(Ok(()))
}

/// One page of matching entries: `count` in this page, `total` in all,
/// `next_after` the `after` of the next page (`null` on the last).
fn listing(app: &Scope<'_>, filter: &Filter, page: Page) -> Reply {
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

fn health(app: &Scope<'_>) -> Reply {
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
fn reset(app: &Scope<'_>) -> Reply {
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

pub(crate) fn too_large(limit: usize) -> Reply {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("request body is larger than {limit} bytes"),
    )
}

pub(crate) fn method_not_allowed(allow: &'static str) -> Reply {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("this admin route allows {allow}"),
    )
    .with_header(ALLOW, HeaderValue::from_static(allow))
}

/// A write past a store cap (docs/limits.md): 507, nothing written.
pub(crate) fn store_full(full: &crate::store::StoreFull) -> Reply {
    error(
        StatusCode::INSUFFICIENT_STORAGE,
        "store_full",
        format!("{} ({})", full.message(), full.cap.flag()),
    )
}

pub(crate) fn error(status: StatusCode, code: &str, message: String) -> Reply {
    Reply::json(status, &json!({ "error": code, "message": message }))
}

/// A request's view of the admin API: the parts, and its session.
pub(crate) struct Scope<'a> {
    ctx: &'a Context<'a>,
    session: &'a Session,
}

impl<'a> std::ops::Deref for Scope<'a> {
    type Target = Context<'a>;

    fn deref(&self) -> &Context<'a> {
        self.ctx
    }
}
