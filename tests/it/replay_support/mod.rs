//! What the Replay test files share: the default fixture's ids, and typed
//! requests with an `x-api-key` (and optionally a session).

#![allow(dead_code)]

use reqwest::Method;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::common::{Reply, TestServer};

pub const PARENT: &str = "11111111-1111-4111-8111-111111111111";
pub const CHILD: &str = "22222222-2222-4222-8222-222222222222";
pub const GRANDCHILD: &str = "33333333-3333-4333-8333-333333333333";
pub const UNRELATED: &str = "44444444-4444-4444-8444-444444444444";
pub const SIBLING: &str = "55555555-5555-4555-8555-555555555555";
pub const CLOSERS: &str = "7e000001-0000-4000-8000-000000000001";
pub const INTEGRATIONS: &str = "7e000001-0000-4000-8000-000000000002";
pub const LEAD_GEN: &str = "7e000001-0000-4000-8000-000000000003";
pub const NORDICS_SALES: &str = "7e000002-0000-4000-8000-000000000001";

/// A request as one company (`x-api-key`), in a session when given.
pub struct Caller<'s> {
    pub server: &'s TestServer,
    pub key: &'s str,
    pub session: Option<&'s str>,
}

impl<'s> Caller<'s> {
    pub fn new(server: &'s TestServer, key: &'s str) -> Caller<'s> {
        Caller {
            server,
            key,
            session: None,
        }
    }

    pub fn in_session(server: &'s TestServer, key: &'s str, session: &'s str) -> Caller<'s> {
        Caller {
            server,
            key,
            session: Some(session),
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .server
            .request(method, &format!("/replay{path}"))
            .header("x-api-key", self.key);
        match self.session {
            Some(session) => request.header("x-usermock-session", session),
            None => request,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.server.send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send_json(Method::POST, path, body).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send_json(Method::PATCH, path, body).await
    }

    async fn send_json(&self, method: Method, path: &str, body: &Value) -> Reply {
        let request = self
            .request(method, path)
            .header("content-type", "application/json")
            .body(body.to_string());
        self.server.send(request).await
    }

    /// Every page of `GET /api/user?{query}` with `limit`, in the legacy
    /// shape: the users in page order, after checking each page's
    /// `pagination` whole.
    pub async fn walk_legacy(&self, limit: usize) -> Vec<Value> {
        let mut users = Vec::new();
        let mut offset = 0;
        loop {
            let page = self
                .get(&format!("/api/user?offset={offset}&limit={limit}"))
                .await;
            assert_eq!(page.status.as_u16(), 200, "{}", page.text);
            let page = page.json();
            let data = page["data"].as_array().expect("data").clone();
            let total = page["pagination"]["total"].as_u64().expect("total") as usize;
            let has_more = offset + data.len() < total;
            assert_eq!(
                page["pagination"],
                json!({"total": total, "offset": offset, "limit": limit, "hasMore": has_more})
            );
            assert!(data.len() <= limit);
            users.extend(data);
            if !has_more {
                return users;
            }
            offset += limit;
        }
    }
}

/// An invalid-fields 400 body.
pub fn invalid(details: Value) -> Value {
    json!({"error": "Invalid request body", "details": details})
}

pub fn error(message: &str) -> Value {
    json!({ "error": message })
}

pub fn not_a_direct_child(company: &str) -> Value {
    error(&format!(
        "Company '{company}' is not a direct child of your company"
    ))
}

/// Checks what a test cannot know in advance of a created record: `id` is
/// a v4 UUID and `createdAt` a millisecond UTC time between `before` and
/// now. Returns `(id, createdAt)` to build the whole expected body with.
pub fn new_record_id_and_time(body: &Value, before: OffsetDateTime) -> (String, String) {
    let id = body["id"].as_str().expect("id").to_owned();
    let parsed = uuid::Uuid::parse_str(&id).expect("a UUID");
    assert_eq!(parsed.get_version_num(), 4, "{id}");
    assert_eq!(
        id,
        parsed.hyphenated().to_string(),
        "lower-case, hyphenated"
    );
    let created_at = body["createdAt"].as_str().expect("createdAt").to_owned();
    assert_eq!(created_at.len(), 24, "{created_at}");
    assert!(created_at.ends_with('Z'), "{created_at}");
    let at = OffsetDateTime::parse(&created_at, &Rfc3339).expect("RFC 3339");
    let before = before.replace_nanosecond(before.nanosecond() / 1_000_000 * 1_000_000);
    assert!(
        before.is_ok_and(|b| b <= at),
        "{created_at} is before the request"
    );
    assert!(
        at <= OffsetDateTime::now_utc(),
        "{created_at} is ahead of the clock"
    );
    (id, created_at)
}

/// A server on the repository's fixtures with Replay's fixture text edited
/// by `edits` (each `(from, to)` must occur); the folder lives as long as
/// the returned guard.
pub async fn server_with_edited_fixture(
    tag: &str,
    edits: &[(&str, &str)],
) -> (crate::common::TempDir, TestServer) {
    let dir = crate::common::TempDir::new(tag);
    for vendor in usermock::vendor_names() {
        let mut text =
            std::fs::read_to_string(crate::common::repo_fixtures().join(format!("{vendor}.json")))
                .expect("fixture");
        if vendor == "replay" {
            for (from, to) in edits {
                assert!(text.contains(from), "the fixture has no {from}");
                text = text.replace(from, to);
            }
        }
        dir.write(&format!("{vendor}.json"), &text);
    }
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    (dir, server)
}

/// The `notes` of the journal's newest Replay entry.
pub async fn last_notes(server: &TestServer) -> Value {
    let list = server
        .send(server.request(Method::GET, "/__admin/requests?vendor=replay"))
        .await
        .json();
    list["requests"]
        .as_array()
        .and_then(|entries| entries.last())
        .map(|entry| entry["notes"].clone())
        .expect("a journal entry")
}

/// The rule ids of `notes`, in order.
pub fn rules(notes: &Value) -> Vec<String> {
    notes
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| n["rule"].as_str().expect("rule").to_owned())
        .collect()
}

/// Freezes the server's clock at `now` (RFC 3339).
pub async fn freeze_clock(server: &TestServer, now: &str) {
    let answer = server
        .send(
            server
                .request(Method::PUT, "/__admin/clock")
                .header("content-type", "application/json")
                .body(json!({ "now": now }).to_string()),
        )
        .await;
    assert_eq!(answer.status.as_u16(), 200, "{}", answer.text);
}

/// Moves the server's clock on by `seconds`.
pub async fn advance_clock(server: &TestServer, seconds: u64) {
    let answer = server
        .send(
            server
                .request(Method::POST, "/__admin/clock/advance")
                .header("content-type", "application/json")
                .body(json!({ "seconds": seconds }).to_string()),
        )
        .await;
    assert_eq!(answer.status.as_u16(), 200, "{}", answer.text);
}
