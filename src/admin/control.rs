//! The test-facing control routes: the clock, snapshots, sessions, and
//! verification of the journal (find, count, unmatched).

use hyper::{Method, StatusCode};
use serde_json::{json, Value};

use super::{
    error, list_requests, listing, method_not_allowed, paging_or_noted, problems_json, Scope,
};
use crate::clock::Setting;
use crate::diagnostics::SourceFile;
use crate::http::{Call, Reply};
use crate::journal::{Filter, Page};
use crate::timestamps;
use crate::vendors::Vendor;

/// `/__admin/clock` and `/__admin/clock/advance`, for the request's
/// session or (without one) for everyone.
pub(super) fn clock(app: &Scope<'_>, call: &Call, advance: bool) -> Reply {
    let clock = app.store.state(app.session);
    let clock = clock.clock();
    match (advance, &call.method) {
        (false, &Method::GET) => {}
        (false, &Method::PUT) => {
            let usage = "send {\"now\": \"<RFC 3339 timestamp>\"}";
            let field = match body_field(call, "now") {
                Ok(field) => field,
                Err(refused) => return refused.reply(usage),
            };
            let Some(at) = field
                .as_ref()
                .and_then(Value::as_str)
                .and_then(timestamps::parse)
            else {
                return invalid_clock(usage);
            };
            clock.set(Setting::Frozen(at));
        }
        (false, &Method::DELETE) => clock.unset(),
        (false, _) => return method_not_allowed("GET, PUT, DELETE"),
        (true, &Method::POST) => {
            let usage = "send {\"seconds\": <whole number ≥ 0>}";
            let field = match body_field(call, "seconds") {
                Ok(field) => field,
                Err(refused) => return refused.reply(usage),
            };
            let Some(seconds) = field.as_ref().and_then(Value::as_u64) else {
                return invalid_clock(usage);
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

/// Why a clock body was refused.
enum ClockBody {
    NotJson(String),
    /// Not an object, or an object with a member besides the one asked.
    Unexpected(String),
}

impl ClockBody {
    fn reply(self, usage: &str) -> Reply {
        match self {
            ClockBody::NotJson(why) => error(StatusCode::BAD_REQUEST, "invalid_json", why),
            ClockBody::Unexpected(what) => invalid_clock(&format!("{what}: {usage}")),
        }
    }
}

/// The body's member `name` (`None` when missing); a body that is not a
/// JSON object, or has any other member, is refused, as documented.
fn body_field(call: &Call, name: &str) -> Result<Option<Value>, ClockBody> {
    let body: Value =
        serde_json::from_slice(&call.body).map_err(|e| ClockBody::NotJson(e.to_string()))?;
    let Value::Object(mut members) = body else {
        return Err(ClockBody::Unexpected(
            "the body is not a JSON object".to_owned(),
        ));
    };
    if let Some(other) = members.keys().find(|k| *k != name) {
        return Err(ClockBody::Unexpected(format!("unknown member '{other}'")));
    }
    Ok(members.remove(name))
}

/// `GET /__admin/snapshot`: each vendor's fixture document as the
/// request's state holds it now, every kind of record it keeps included.
/// `PUT`: every vendor named in the body gets the state its document
/// describes, every other vendor goes back to its startup fixture; all or
/// nothing, after each document is checked as its fixture file would be.
pub(super) fn snapshot(app: &Scope<'_>, call: &Call) -> Reply {
    match call.method {
        Method::GET => take_snapshot(app),
        Method::PUT => restore(app, call),
        _ => method_not_allowed("GET, PUT"),
    }
}

/// Written straight from the records to the answer's bytes: a large state
/// is never held as a JSON tree as well.
fn take_snapshot(app: &Scope<'_>) -> Reply {
    let state = app.store.peek_state(app.session);
    let mut out = Vec::new();
    out.push(b'{');
    for (i, (name, startup)) in app.fixtures.iter().enumerate() {
        let Some(vendor) = app.vendors.iter().find(|v| v.name() == *name) else {
            continue;
        };
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        if !vendor.snapshot(&state, startup, &mut out) {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("a stored {name} record is broken; see the log"),
            );
        }
    }
    out.push(b'}');
    Reply {
        status: StatusCode::OK,
        headers: vec![(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        )],
        body: bytes::Bytes::from(out),
        notes: Vec::new(),
    }
}

/// The snapshot's members, each vendor's document left as its text in the
/// body (nothing is parsed into a tree; each vendor reads its own typed).
type Members<'a> = Vec<(String, &'a serde_json::value::RawValue)>;

fn members(body: &[u8]) -> Option<Members<'_>> {
    let map: indexmap::IndexMap<String, &serde_json::value::RawValue> =
        serde_json::from_slice(body).ok()?;
    Some(map.into_iter().collect())
}

fn restore(app: &Scope<'_>, call: &Call) -> Reply {
    let Some(body) = members(&call.body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_snapshot",
            "send {\"<vendor>\": <fixture document>, ...}".to_owned(),
        );
    };
    let mut problems = Vec::new();
    let mut restored = Vec::new();
    for (name, document) in body {
        let found = app
            .fixtures
            .iter()
            .find(|(v, _)| *v == name)
            .and_then(|(v, startup)| {
                let vendor = app.vendors.iter().find(|vendor| vendor.name() == *v)?;
                Some((vendor, startup))
            });
        let Some((vendor, startup)) = found else {
            problems.push(json!({"vendor": name, "pointer": "", "message": format!("unknown vendor '{name}'")}));
            continue;
        };
        let file = SourceFile {
            label: format!("snapshot/{name}.json"),
            text: document.get().into(),
        };
        match vendor.restore(&file, startup) {
            Ok(state) => restored.push((vendor.name(), state)),
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
    for vendor in app.vendors {
        let name = vendor.name();
        match restored.iter().position(|(v, _)| *v == name) {
            Some(at) => {
                let (_, vendor_state) = restored.swap_remove(at);
                users.insert(name.to_owned(), json!(vendor_state.users));
                if let Err(full) = app.store.replace_vendor(&state, name, vendor_state.kinds) {
                    return super::store_full(&full);
                }
            }
            None => app.store.reset_vendor(&state, name),
        }
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
/// no route. All take `noted`, and the listings `after` and `limit`, as
/// query parameters.
pub(super) fn verify(app: &Scope<'_>, call: &Call, what: &str) -> Reply {
    if what == "unmatched" {
        return match call.method {
            Method::GET => list_requests(app, call, true),
            _ => method_not_allowed("GET"),
        };
    }
    let mut filter = Filter {
        session: app.session.id().map(str::to_owned),
        ..Filter::default()
    };
    let mut page = Page::default();
    let query = call.query.as_deref().unwrap_or_default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match paging_or_noted(&key, &value, &mut filter, &mut page) {
            Some(Ok(())) => {}
            Some(Err(reply)) => return reply,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_filter",
                    format!("unknown parameter '{key}' (use noted, after, limit)"),
                )
            }
        }
    }
    if call.method != Method::POST {
        return method_not_allowed("POST");
    }
    let vendors: Vec<&dyn Vendor> = app.vendors.iter().map(|v| v.as_ref()).collect();
    let file = SourceFile {
        label: "request body".to_owned(),
        text: String::from_utf8_lossy(&call.body),
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
    listing(app, &filter, page)
}
