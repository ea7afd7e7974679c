//! The test-facing control routes: the clock, snapshots, sessions, and
//! verification of the journal (find, count, unmatched). The route table
//! has checked each call's method before it gets here.

use hyper::StatusCode;
use serde_json::{json, Value};

use super::{error, listing, paging_or_noted, problems_json, store_full, AdminError, Context};
use crate::clock::Setting;
use crate::diagnostics::SourceFile;
use crate::http::{Call, Reply};
use crate::journal::{Filter, Page};
use crate::timestamps;
use crate::vendors::{SnapshotWriter, Vendor};

/// `GET /__admin/clock`: the request's session's clock or (without one)
/// everyone's.
pub(super) fn get_clock(app: &Context<'_>) -> Reply {
    let state = app.store.state(app.session);
    let clock = state.clock();
    clock_json(app, clock.setting(), clock.now())
}

/// `PUT /__admin/clock`: freezes it at `{"now": RFC 3339}`.
pub(super) fn set_clock(app: &Context<'_>, call: &Call) -> Result<Reply, AdminError> {
    let usage = "send {\"now\": \"<RFC 3339 timestamp>\"}";
    let at = body_field(call, "now", usage)?
        .as_ref()
        .and_then(Value::as_str)
        .and_then(timestamps::parse)
        .ok_or_else(|| AdminError::InvalidClock(usage.to_owned()))?;
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
    let usage = "send {\"seconds\": <whole number ≥ 0>}";
    let seconds = body_field(call, "seconds", usage)?
        .as_ref()
        .and_then(Value::as_u64)
        .ok_or_else(|| AdminError::InvalidClock(usage.to_owned()))?;
    let state = app.store.state(app.session);
    let clock = state.clock();
    if clock.advance(seconds).is_err() {
        return Err(AdminError::InvalidClock(
            "that would move the clock past the year 9999".to_owned(),
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

/// The body's member `name` (`None` when missing); a body that is not a
/// JSON object, or has any other member, is refused, as documented.
fn body_field(call: &Call, name: &str, usage: &str) -> Result<Option<Value>, AdminError> {
    let body: Value =
        serde_json::from_slice(&call.body).map_err(|e| AdminError::InvalidJson(e.to_string()))?;
    let Value::Object(mut members) = body else {
        return Err(AdminError::InvalidClock(format!(
            "the body is not a JSON object: {usage}"
        )));
    };
    if let Some(other) = members.keys().find(|k| *k != name) {
        return Err(AdminError::InvalidClock(format!(
            "unknown member '{other}': {usage}"
        )));
    }
    Ok(members.remove(name))
}

/// `GET /__admin/snapshot`: each vendor's fixture document as the
/// request's state holds it now, every kind of record it keeps included.
/// Streamed: the records of every vendor are collected in one step of the
/// state (so a user and the department it names are of one instant), then
/// written as the client reads the answer, a chunk of whole records at a
/// time; a large state is never held as one answer.
pub(super) fn take_snapshot(app: &Context<'_>) -> Reply {
    let state = app.store.peek_state(app.session);
    let documents = state.transaction(|| {
        app.fixtures
            .iter()
            .filter_map(|(name, startup)| {
                let vendor = app.vendors.iter().find(|v| v.name() == *name)?;
                Some((*name, vendor.snapshot(&state, startup)))
            })
            .collect()
    });
    let body = SnapshotBody(SnapshotWriter::new(documents));
    app.streamed.put(http_body_util::Either::Right(
        http_body_util::BodyExt::boxed(body),
    ));
    Reply {
        status: StatusCode::OK,
        headers: smallvec::smallvec![(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        )],
        body: bytes::Bytes::new(),
        notes: Vec::new(),
    }
}

/// About how much of a snapshot answer is written at a time (a chunk ends
/// after the record that reaches it).
const SNAPSHOT_CHUNK: usize = 64 * 1024;

/// A snapshot answer as an HTTP body: each frame is written when hyper
/// asks for it, so a client that reads slowly holds one chunk, not a
/// thread or the whole answer.
struct SnapshotBody(SnapshotWriter);

impl hyper::body::Body for SnapshotBody {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, std::io::Error>>> {
        let next = match self.get_mut().0.next_chunk(SNAPSHOT_CHUNK) {
            Ok(Some(chunk)) => Some(Ok(hyper::body::Frame::data(bytes::Bytes::from(chunk)))),
            Ok(None) => None,
            Err(err) => {
                // The status line is sent: all that is left is to break
                // the answer off, which the client sees as a short body.
                tracing::error!(%err, "a stored record does not serialise: snapshot answer broken off");
                Some(Err(std::io::Error::other(err)))
            }
        };
        std::task::Poll::Ready(next)
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

/// `PUT /__admin/snapshot`: every vendor named in the body gets the state
/// its document describes, every other vendor goes back to its startup
/// fixture; all or nothing, after each document is checked as its fixture
/// file would be. Written straight from the records to the answer's bytes
/// on the way out, and read as raw text per vendor on the way in: a large
/// state is never held as a JSON tree as well.
pub(super) fn restore(app: &Context<'_>, call: &Call) -> Reply {
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
    // Every vendor at once: the vendors the body names get their records,
    // the others their fixture, and the caps count the whole restore, so a
    // later vendor that does not fit leaves the earlier ones as they were.
    let mut users = serde_json::Map::new();
    for vendor in app.vendors {
        if let Some((_, restored)) = restored.iter().find(|(v, _)| *v == vendor.name()) {
            users.insert(vendor.name().to_owned(), json!(restored.users));
        }
    }
    let names: Vec<&str> = app.vendors.iter().map(|v| v.name()).collect();
    let restored = restored
        .into_iter()
        .map(|(name, restored)| (name, restored.kinds))
        .collect();
    let state = app.store.state(app.session);
    if let Err(full) = app.store.replace_vendors(&state, &names, restored) {
        return store_full(&full).reply();
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

/// `POST /__admin/requests/find`: the journal entries the body (a
/// scenario rule's `match`) matches, a page at a time (`after`, `limit`;
/// `noted` narrows).
pub(super) fn find(app: &Context<'_>, call: &Call) -> Result<Reply, AdminError> {
    let (filter, page) = matcher_filter(app, call)?;
    Ok(listing(app, &filter, page))
}

/// `POST /__admin/requests/count`: how many entries [`find`] would list in
/// all its pages.
pub(super) fn count(app: &Context<'_>, call: &Call) -> Result<Reply, AdminError> {
    let (filter, _) = matcher_filter(app, call)?;
    let count = app.journal.count(&filter);
    Ok(Reply::json(StatusCode::OK, &json!({"count": count})))
}

/// The journal of the request's session (all of it without one).
fn session_filter(app: &Context<'_>) -> Filter {
    Filter {
        session: app.session.id().map(str::to_owned),
        ..Filter::default()
    }
}

/// [`session_filter`] narrowed by the matcher in the body and the query's
/// `noted`, with the page the query asks for.
fn matcher_filter(app: &Context<'_>, call: &Call) -> Result<(Filter, Page), AdminError> {
    let mut filter = session_filter(app);
    let mut page = Page::default();
    let query = call.query.as_deref().unwrap_or_default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if !paging_or_noted(&key, &value, &mut filter, &mut page)? {
            return Err(AdminError::InvalidFilter(format!(
                "unknown parameter '{key}' (use noted, after, limit)"
            )));
        }
    }
    let vendors: Vec<&dyn Vendor> = app.vendors.iter().map(|v| v.as_ref()).collect();
    let file = SourceFile {
        label: "request body".to_owned(),
        text: String::from_utf8_lossy(&call.body),
    };
    let matcher =
        crate::scenario::compile_find(&file, &vendors).map_err(AdminError::InvalidMatcher)?;
    filter.matcher = Some(matcher);
    Ok((filter, page))
}
