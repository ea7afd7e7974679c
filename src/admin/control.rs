//! The test-facing control routes: the clock, snapshots, sessions, and
//! verification of the journal (find, count, unmatched).

use hyper::{Method, StatusCode};
use serde_json::{json, Value};

use super::{error, method_not_allowed, problems_json, Scope};
use crate::clock::Setting;
use crate::diagnostics::SourceFile;
use crate::http::{Call, Reply};
use crate::journal::Filter;
use crate::timestamps;
use crate::vendors::{self, LoadOptions, Vendor};

/// `/__admin/clock` and `/__admin/clock/advance`, for the request's
/// session or (without one) for everyone.
pub(super) fn clock(app: &Scope<'_>, call: &Call, advance: bool) -> Reply {
    let clock = app.store.state(app.session);
    let clock = clock.clock();
    match (advance, &call.method) {
        (false, &Method::GET) => {}
        (false, &Method::PUT) => {
            let Some(at) = body_field(call, "now")
                .as_ref()
                .and_then(Value::as_str)
                .and_then(timestamps::parse)
            else {
                return invalid_clock("send {\"now\": \"<RFC 3339 timestamp>\"}");
            };
            clock.set(Setting::Frozen(at));
        }
        (false, &Method::DELETE) => clock.unset(),
        (false, _) => return method_not_allowed("GET, PUT, DELETE"),
        (true, &Method::POST) => {
            let Some(seconds) = body_field(call, "seconds").as_ref().and_then(Value::as_u64) else {
                return invalid_clock("send {\"seconds\": <whole number ≥ 0>}");
            };
            if clock.advance(seconds).is_err() {
                return invalid_clock("that would move the clock past the year 9999");
            }
        }
        (true, _) => return method_not_allowed("POST"),
    }
    clock_json(app, clock.setting(), clock.now())
}

fn clock_json(app: &Scope<'_>, setting: Setting, now: time::OffsetDateTime) -> Reply {
    Reply::json(
        StatusCode::OK,
        &json!({
            "now": timestamps::format_millis(now),
            "frozen": matches!(setting, Setting::Frozen(_)),
            "session": app.session.id(),
        }),
    )
}

fn invalid_clock(message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, "invalid_clock", message.to_owned())
}

fn body_field(call: &Call, name: &str) -> Option<Value> {
    let body: Value = serde_json::from_slice(&call.body).ok()?;
    body.get(name).cloned()
}

/// `GET /__admin/snapshot`: each vendor's fixture document with its users
/// as the request's state holds them now. `PUT`: the users of every vendor
/// named in the body are replaced, all or nothing, after validating each
/// document exactly as a fixture file is validated.
pub(super) fn snapshot(app: &Scope<'_>, call: &Call) -> Reply {
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
        _ => method_not_allowed("GET, PUT"),
    }
}

fn sorted_by_id(mut users: Vec<Value>) -> Vec<Value> {
    users.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    users
}

fn restore(app: &Scope<'_>, call: &Call) -> Reply {
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
pub(super) fn sessions(app: &Scope<'_>, call: &Call) -> Reply {
    if call.method != Method::GET {
        return method_not_allowed("GET");
    }
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

/// `POST /__admin/requests/find` and `/count`: the body is a scenario
/// rule's `match`; `GET /__admin/requests/unmatched`: requests that reached
/// no route.
pub(super) fn verify(app: &Scope<'_>, call: &Call, what: &str) -> Reply {
    let mut filter = Filter {
        session: app.session.id().map(str::to_owned),
        ..Filter::default()
    };
    if what == "unmatched" {
        if call.method != Method::GET {
            return method_not_allowed("GET");
        }
        filter.unmatched_only = true;
        let requests = app.journal.list(&filter);
        return Reply::json(
            StatusCode::OK,
            &json!({"count": requests.len(), "requests": requests}),
        );
    }
    if call.method != Method::POST {
        return method_not_allowed("POST");
    }
    let vendors: Vec<&dyn Vendor> = app.vendors.iter().map(|v| v.as_ref()).collect();
    let file = SourceFile {
        label: "request body".to_owned(),
        text: String::from_utf8_lossy(&call.body).into_owned(),
    };
    match crate::scenario::compile_find(&file, &vendors) {
        Ok(matcher) => filter.matcher = Some(matcher),
        Err(problems) => {
            return Reply::json(
                StatusCode::BAD_REQUEST,
                &json!({"error": "invalid_matcher", "message": "the matcher was not understood", "problems": problems_json(&problems)}),
            )
        }
    }
    if what == "count" {
        return Reply::json(
            StatusCode::OK,
            &json!({"count": app.journal.count(&filter)}),
        );
    }
    let requests = app.journal.list(&filter);
    Reply::json(
        StatusCode::OK,
        &json!({"count": requests.len(), "requests": requests}),
    )
}
