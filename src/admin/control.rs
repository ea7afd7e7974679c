//! The test-facing control routes: the clock, snapshots, sessions, and
//! verification of the journal (find, count, unmatched). The route table
//! has checked each call's method before it gets here.

use hyper::{Method, StatusCode};
use serde_json::{json, Value};

use super::{error, problems_json, AdminError, Context};
use crate::clock::Setting;
use crate::diagnostics::SourceFile;
use crate::http::{Call, Reply};
use crate::journal::Filter;
use crate::timestamps;
use crate::vendors::{self, LoadOptions, Vendor};

/// `GET /__admin/clock`: the request's session's clock or (without one)
/// everyone's.
pub(super) fn get_clock(app: &Context<'_>) -> Reply {
    let state = app.store.state(app.session);
    let clock = state.clock();
    clock_json(app, clock.setting(), clock.now())
}

/// `PUT /__admin/clock`: freezes it at `{"now": RFC 3339}`.
pub(super) fn set_clock(app: &Context<'_>, call: &Call) -> Result<Reply, AdminError> {
    let at = body_field(call, "now")
        .as_ref()
        .and_then(Value::as_str)
        .and_then(timestamps::parse)
        .ok_or(AdminError::InvalidClock(
            "send {\"now\": \"<RFC 3339 timestamp>\"}",
        ))?;
    let state = app.store.state(app.session);
    let clock = state.clock();
    clock.set(Setting::Frozen(at));
    Ok(clock_json(app, clock.setting(), clock.now()))
}

/// `DELETE /__admin/clock`: real time again.
pub(super) fn unset_clock(app: &Context<'_>) -> Reply {
    let state = app.store.state(app.session);
    let clock = state.clock();
    clock.unset();
    clock_json(app, clock.setting(), clock.now())
}

/// `POST /__admin/clock/advance`: `{"seconds": n}` later.
pub(super) fn advance_clock(app: &Context<'_>, call: &Call) -> Result<Reply, AdminError> {
    let seconds = body_field(call, "seconds")
        .as_ref()
        .and_then(Value::as_u64)
        .ok_or(AdminError::InvalidClock(
            "send {\"seconds\": <whole number ≥ 0>}",
        ))?;
    let state = app.store.state(app.session);
    let clock = state.clock();
    if clock.advance(seconds).is_err() {
        return Err(AdminError::InvalidClock(
            "that would move the clock past the year 9999",
        ));
    }
    Ok(clock_json(app, clock.setting(), clock.now()))
}

fn clock_json(app: &Context<'_>, setting: Setting, now: time::OffsetDateTime) -> Reply {
    Reply::json(
        StatusCode::OK,
        &json!({
            "now": timestamps::format_millis(now),
            "frozen": matches!(setting, Setting::Frozen(_)),
            "session": app.session.id(),
        }),
    )
}

fn body_field(call: &Call, name: &str) -> Option<Value> {
    let body: Value = serde_json::from_slice(&call.body).ok()?;
    body.get(name).cloned()
}

/// `GET /__admin/snapshot`: each vendor's fixture document with its users
/// as the request's state holds them now. `PUT`: the users of every vendor
/// named in the body are replaced, all or nothing, after validating each
/// document exactly as a fixture file is validated.
pub(super) fn snapshot(app: &Context<'_>, call: &Call) -> Reply {
    match call.method {
        Method::GET => {
            let state = app.store.peek_state(app.session);
            let mut snapshot = serde_json::Map::new();
            for (vendor, document) in app.fixtures {
                let mut document = document.clone();
                let users: Vec<Value> = state.all(vendor).iter().map(|r| (**r).clone()).collect();
                document["users"] = Value::Array(sorted_by_id(users));
                snapshot.insert((*vendor).to_owned(), document);
            }
            Reply::json(StatusCode::OK, &Value::Object(snapshot))
        }
        Method::PUT => restore(app, call),
        _ => AdminError::MethodNotAllowed {
            allow: hyper::header::HeaderValue::from_static("GET, PUT"),
        }
        .reply(),
    }
}

fn sorted_by_id(mut users: Vec<Value>) -> Vec<Value> {
    users.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    users
}

fn restore(app: &Context<'_>, call: &Call) -> Reply {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&call.body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_snapshot",
            "send {\"<vendor>\": <fixture document>, ...}".to_owned(),
        );
    };
    let mut problems = Vec::new();
    let mut loaded = Vec::new();
    for (name, document) in &body {
        let Some((vendor, running)) = app.fixtures.iter().find(|(v, _)| v == name) else {
            problems.push(json!({"vendor": name, "pointer": "", "message": format!("unknown vendor '{name}'")}));
            continue;
        };
        // Users are state; everything else in a fixture (credentials,
        // departments, settings) is the running world and cannot change.
        let mut without_users = document.clone();
        let mut running_without_users = running.clone();
        if let (Some(a), Some(b)) = (
            without_users.as_object_mut(),
            running_without_users.as_object_mut(),
        ) {
            // `$schema` only tells editors which schema the file follows.
            for member in ["users", "$schema"] {
                a.remove(member);
                b.remove(member);
            }
        }
        if without_users != running_without_users {
            problems.push(json!({"vendor": name, "pointer": "", "message": "a snapshot restores users only: every other member must equal the running fixture's"}));
            continue;
        }
        let Some(spec) = vendors::ALL.iter().find(|s| s.name == *vendor) else {
            continue;
        };
        let file = SourceFile {
            label: format!("snapshot/{name}.json"),
            text: document.to_string(),
        };
        match (spec.load)(&file, &LoadOptions::default()) {
            Ok(world) => loaded.push((*vendor, world.records)),
            Err(found) => problems.extend(problems_json(&found).into_iter().map(|mut p| {
                p["vendor"] = json!(name);
                p
            })),
        }
    }
    if !problems.is_empty() {
        return Reply::json(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_snapshot", "message": "nothing was restored", "problems": problems}),
        );
    }
    let state = app.store.state(app.session);
    let mut users = serde_json::Map::new();
    for (vendor, records) in loaded {
        users.insert(vendor.to_owned(), json!(records.len()));
        app.store.replace_vendor(&state, vendor, records);
    }
    Reply::json(
        StatusCode::OK,
        &json!({"status": "replaced", "session": app.session.id(), "users": users}),
    )
}

/// `GET /__admin/sessions`.
pub(super) fn sessions(app: &Context<'_>) -> Reply {
    let sessions: Vec<Value> = app
        .store
        .sessions()
        .into_iter()
        .map(|s| {
            json!({
                "id": &*s.id,
                "created_at": timestamps::format_millis(s.created_at),
                "idle_seconds": s.idle.as_secs(),
            })
        })
        .collect();
    Reply::json(
        StatusCode::OK,
        &json!({"count": sessions.len(), "sessions": sessions}),
    )
}

/// `GET /__admin/requests/unmatched`: requests that reached no route.
pub(super) fn unmatched(app: &Context<'_>) -> Reply {
    let filter = Filter {
        unmatched_only: true,
        ..session_filter(app)
    };
    let requests = app.journal.list(&filter);
    Reply::json(
        StatusCode::OK,
        &json!({"count": requests.len(), "requests": requests}),
    )
}

/// `POST /__admin/requests/find`: the journal entries the body (a
/// scenario rule's `match`) matches.
pub(super) fn find(app: &Context<'_>, call: &Call) -> Result<Reply, AdminError> {
    let requests = app.journal.list(&matcher_filter(app, call)?);
    Ok(Reply::json(
        StatusCode::OK,
        &json!({"count": requests.len(), "requests": requests}),
    ))
}

/// `POST /__admin/requests/count`: how many entries [`find`] would list.
pub(super) fn count(app: &Context<'_>, call: &Call) -> Result<Reply, AdminError> {
    let count = app.journal.count(&matcher_filter(app, call)?);
    Ok(Reply::json(StatusCode::OK, &json!({"count": count})))
}

/// The journal of the request's session (all of it without one).
fn session_filter(app: &Context<'_>) -> Filter {
    Filter {
        session: app.session.id().map(str::to_owned),
        ..Filter::default()
    }
}

/// [`session_filter`] narrowed by the matcher in the body.
fn matcher_filter(app: &Context<'_>, call: &Call) -> Result<Filter, AdminError> {
    let vendors: Vec<&dyn Vendor> = app.vendors.iter().map(|v| v.as_ref()).collect();
    let file = SourceFile {
        label: "request body".to_owned(),
        text: String::from_utf8_lossy(&call.body).into_owned(),
    };
    let matcher =
        crate::scenario::compile_find(&file, &vendors).map_err(AdminError::InvalidMatcher)?;
    Ok(Filter {
        matcher: Some(matcher),
        ..session_filter(app)
    })
}
