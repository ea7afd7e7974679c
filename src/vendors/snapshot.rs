//! What every vendor's snapshot and restore share (`GET|PUT
//! /__admin/snapshot`): a snapshot member is the vendor's fixture document
//! as a state holds it now. Its *state members* (users, and whatever else an
//! API call creates or changes) come from the state; every other member
//! (credentials, settings, …) is the running fixture's, which no API call
//! changes and a snapshot cannot either, since the vendor serving it is
//! shared by every session.
//!
//! A restore reads the document straight into the vendor's typed records,
//! with the checks a fixture file gets plus the limits the API applies (the
//! record size), and returns the records of every store kind the vendor
//! keeps; the store then replaces all of that vendor's kinds at once, so a
//! kind a vendor forgot to snapshot would come back empty and fail the
//! round-trip tests rather than keep stale records.

use std::io::Write;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::StoredUser;
use crate::diagnostics::SourceFile;
use crate::store::{Record, State};

/// A vendor's state read from a snapshot document: the records of each of
/// its store kinds (a kind it keeps but has no records of is listed empty).
#[derive(Debug, Default)]
pub(crate) struct Restored {
    pub kinds: Vec<(&'static str, Vec<(String, Record)>)>,
    /// How many users it holds (the answer's count).
    pub users: usize,
}

/// The members of the running fixture document that a snapshot copies
/// verbatim: all but `state` (and `$schema`, which only tells editors
/// which schema a file follows). Serialises as the map's entries, so a
/// vendor's snapshot struct flattens it beside its state members.
pub(crate) struct FixedMembers<'a> {
    startup: &'a Value,
    state: &'a [&'a str],
}

impl<'a> FixedMembers<'a> {
    pub fn of(startup: &'a Value, state: &'a [&'a str]) -> FixedMembers<'a> {
        FixedMembers { startup, state }
    }

    fn entries(&self) -> impl Iterator<Item = (&'a String, &'a Value)> + '_ {
        let state = self.state;
        self.startup
            .as_object()
            .into_iter()
            .flatten()
            .filter(move |(name, _)| !is_state_member(name, state))
    }
}

impl Serialize for FixedMembers<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in self.entries() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

fn is_state_member(name: &str, state: &[&str]) -> bool {
    name == "$schema" || state.contains(&name)
}

/// Writes a vendor's snapshot document (a `Serialize` struct of its fixed
/// and state members) as JSON.
pub(crate) fn write_document(out: &mut Vec<u8>, document: &impl Serialize) -> bool {
    match serde_json::to_writer(out, document) {
        Ok(()) => true,
        Err(err) => {
            tracing::error!(%err, "a snapshot document does not serialise");
            false
        }
    }
}

/// Every member of `file` other than the state members that differs from
/// the running fixture's, reported at `/<member>`. A restore cannot change
/// them: the vendor they configure serves every session at once.
pub(crate) fn check_fixed_members(
    file: &SourceFile,
    startup: &Value,
    state: &[&str],
    bad: &mut dyn FnMut(String, String),
) {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(&file.text);
    let Ok(given) = (FixedOnly { state }).deserialize(&mut de) else {
        // The typed parse has reported what is wrong with the text.
        return;
    };
    let running: Map<String, Value> = FixedMembers::of(startup, state)
        .entries()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let mut names: Vec<&String> = given.keys().chain(running.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        if is_state_member(name, state) || given.get(name) == running.get(name) {
            continue;
        }
        bad(
            format!("/{}", name.replace('~', "~0").replace('/', "~1")),
            format!(
                "'{name}' must equal the running fixture's: no API call changes it, so a snapshot cannot either (only {} are state)",
                state.join(", ")
            ),
        );
    }
}

/// Reads a fixture document's members with the state members skipped:
/// those are the large ones, and they are read typed elsewhere.
struct FixedOnly<'s> {
    state: &'s [&'s str],
}

impl<'de> serde::de::DeserializeSeed<'de> for FixedOnly<'_> {
    type Value = Map<String, Value>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for FixedOnly<'_> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a fixture object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if is_state_member(&key, self.state) {
                map.next_value::<serde::de::IgnoredAny>()?;
            } else {
                members.insert(key, map.next_value()?);
            }
        }
        Ok(members)
    }
}

/// The size of `record` as JSON, counted without writing it anywhere.
pub(crate) fn json_size(record: &impl Serialize) -> usize {
    struct Count(usize);
    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, record) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// A problem at `pointer` when `record` is larger than `--max-record-bytes`:
/// the API refuses to let a record grow past it, so a restore must not
/// store one either.
pub(crate) fn check_record_size(
    pointer: String,
    record: &impl Serialize,
    max_record_bytes: usize,
    bad: &mut dyn FnMut(String, String),
) {
    let size = json_size(record);
    if size > max_record_bytes {
        bad(
            pointer,
            format!("the record is {size} bytes as JSON, more than --max-record-bytes ({max_record_bytes})"),
        );
    }
}

/// The snapshot of a vendor whose only state is its users (stored under
/// `kind`, its fixture member `users`), sorted by id.
pub(crate) fn write_users_only<U>(
    state: &State,
    kind: &'static str,
    startup: &Value,
    out: &mut Vec<u8>,
) -> bool
where
    U: StoredUser + DeserializeOwned + Send + Sync + 'static,
{
    #[derive(Serialize)]
    struct Document<'a, U: Serialize> {
        #[serde(flatten)]
        fixed: FixedMembers<'a>,
        users: Vec<Arc<U>>,
    }
    let mut users = state.all_typed::<U>(kind);
    users.sort_by(|a, b| a.id().cmp(b.id()));
    let document = Document {
        fixed: FixedMembers::of(startup, USERS_ONLY),
        users,
    };
    write_document(out, &document)
}

/// The state members of a vendor whose only state is its users.
pub(crate) const USERS_ONLY: &[&str] = &["users"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, Setting};
    use crate::http::Call;
    use crate::session::Session;
    use crate::store::{Baseline, SessionBounds, Store};
    use crate::vendors::{LoadOptions, Vendor, ALL};
    use hyper::header::{HeaderName, HeaderValue};
    use hyper::Method;
    use serde_json::json;

    const ACTIVITY: &str = "/v2/clients/aa7cf840-9ca9-46a3-9778-9015d6580d50";
    const DEPARTMENT: &str = "d1a2b3c4-e5f6-7890-abcd-ef1234567890";
    const OTHER_DEPARTMENT: &str = "e2b3c4d5-f6a7-8901-bcde-f12345678901";
    const ACTIVITY_USER: &str = "a1d97031-04e2-4907-a249-093f7436207b";
    const AWORK_USERS: [&str; 3] = [
        "4e8d2a1b-7c6f-4d3e-9a8b-2c1d0e9f8a7b",
        "7d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d",
        "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
    ];

    /// (vendor, method, path, credential header, body).
    type Write = (
        &'static str,
        Method,
        String,
        (&'static str, &'static str),
        Value,
    );

    /// One valid write through each write route of each vendor, in an
    /// order in which each succeeds.
    fn writes() -> Vec<Write> {
        let activity = ("authorization", "Bearer activity-admin");
        let awork = ("authorization", "Bearer awork-admin");
        let relesys = ("authorization", "Bearer relesys-admin");
        let replay = ("x-api-key", "replay-parent");
        let [member, archived, deleted] = AWORK_USERS;
        vec![
            ("activity", Method::POST, format!("{ACTIVITY}/departments"), activity, json!({"name": "Kinds"})),
            ("activity", Method::PATCH, format!("{ACTIVITY}/departments/{DEPARTMENT}"), activity, json!({"name": "Renamed"})),
            ("activity", Method::PATCH, format!("{ACTIVITY}/users/{ACTIVITY_USER}"), activity, json!({"departments": [DEPARTMENT]})),
            ("activity", Method::POST, format!("{ACTIVITY}/departments/{DEPARTMENT}/members"), activity, json!({"user_ids": [ACTIVITY_USER]})),
            ("activity", Method::POST, format!("{ACTIVITY}/departments/{DEPARTMENT}/members/remove"), activity, json!({"user_ids": [ACTIVITY_USER]})),
            ("activity", Method::DELETE, format!("{ACTIVITY}/departments/{OTHER_DEPARTMENT}"), activity, Value::Null),
            ("awork", Method::PUT, format!("/api/v1/users/{member}"), awork, json!({"firstName": "Kinds"})),
            ("awork", Method::POST, format!("/api/v1/users/{member}/deactivate"), awork, Value::Null),
            ("awork", Method::POST, format!("/api/v1/users/{member}/activate"), awork, Value::Null),
            ("awork", Method::POST, format!("/api/v1/users/{archived}/setarchived"), awork, json!({"isArchived": true})),
            ("awork", Method::DELETE, format!("/api/v1/users/{deleted}"), awork, Value::Null),
            ("awork", Method::POST, "/api/v1/invitations".into(), awork, json!({
                "workspaceId": "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "invitationFlow": "invite",
                "email": "kinds@example.com", "roleId": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6f",
                "firstName": "Kinds", "skipSendingEmail": true,
            })),
            // `$invitationCode`: the code the invitation above answered.
            ("awork", Method::POST, "/api/v1/invitations/accept".into(), awork, json!({"invitationCode": "$invitationCode"})),
            ("awork", Method::POST, format!("/api/v1/roles/2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6f/users/{member}/deactivate"), awork, Value::Null),
            ("awork", Method::POST, format!("/api/v1/roles/2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6f/users/{member}/activate"), awork, Value::Null),
            ("relesys", Method::POST, "/api/v1.3/users".into(), relesys, json!({"name": "Kinds", "primaryDepartmentId": "5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5", "userGroups": [{"id": "22360293-0789-4346-ba9a-5609fa65703c"}]})),
            ("relesys", Method::PATCH, "/api/v1.3/users/6cd99267-5adf-462d-88a2-6f86b7b2a164".into(), relesys, json!([{"op": "replace", "path": "/title", "value": "Kinds"}])),
            ("relesys", Method::PUT, "/api/v1.3/users/6cd99267-5adf-462d-88a2-6f86b7b2a164/status".into(), relesys, json!({"status": "Disabled"})),
            ("relesys", Method::DELETE, "/api/v1.3/users/5a000008-1008-4008-8008-c0ffee000008".into(), relesys, Value::Null),
            ("relesys", Method::POST, "/api/v1.3/departments".into(), relesys, json!({"name": "Kinds"})),
            ("relesys", Method::PATCH, "/api/v1.3/departments/5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5".into(), relesys, json!([{"op": "replace", "path": "/city", "value": "Kinds"}])),
            ("relesys", Method::DELETE, "/api/v1.3/departments/c0ffee00-0d5e-4a1b-9c2d-0de05e000001".into(), relesys, Value::Null),
            ("relesys", Method::POST, "/api/v1.3/userGroups".into(), relesys, json!({"name": "Kinds"})),
            ("relesys", Method::PATCH, "/api/v1.3/userGroups/22360293-0789-4346-ba9a-5609fa65703c".into(), relesys, json!([{"op": "replace", "path": "/description", "value": "Kinds"}])),
            ("relesys", Method::DELETE, "/api/v1.3/userGroups/a1b2c3d4-0a1b-4c2d-8e3f-a1d1e2a3b4c5".into(), relesys, Value::Null),
            ("relesys", Method::POST, "/login/oauth/authorize".into(), ("content-type", "application/x-www-form-urlencoded"), Value::String("grant_type=client_credentials&client_id=0f8fad5b-d9cb-469f-a165-70867728950e&client_secret=relesys-admin-secret&scope=relesys.api".into())),
            ("replay", Method::POST, "/api/company/child".into(), replay, json!({"name": "Kinds Child"})),
            ("replay", Method::POST, "/api/user".into(), replay, json!({"email": "kinds@example.com", "firstName": "Kinds", "role": "User"})),
            ("replay", Method::PATCH, "/api/user/c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f".into(), replay, json!({"firstName": "Kinds"})),
            ("replay", Method::POST, "/api/user/invite".into(), replay, json!({"email": "kinds.invite@example.com", "teamId": "7e000001-0000-4000-8000-000000000001", "role": "User"})),
            ("replay", Method::PATCH, "/api/team/7e000001-0000-4000-8000-000000000001".into(), replay, json!({"name": "Kinds", "description": null})),
        ]
    }

    fn call(method: Method, path: &str, credential: (&str, &str), body: &Value) -> Call {
        let mut call = Call::empty();
        call.method = method;
        let (path, query) = match path.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (path, None),
        };
        call.path = path.to_owned();
        call.query = query;
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(credential.0.as_bytes()),
            HeaderValue::from_str(credential.1),
        ) {
            call.headers.insert(name, value);
        }
        match body {
            Value::Null => {}
            Value::String(form) => call.body = bytes::Bytes::from(form.clone()),
            json => {
                let media = if json.is_array() {
                    "application/json-patch+json"
                } else {
                    "application/json"
                };
                call.headers
                    .insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static(media));
                call.body = bytes::Bytes::from(json.to_string());
            }
        }
        call
    }

    /// The test the snapshot design relies on: a write through every write
    /// route of a vendor's table (a new write route fails this until it is
    /// listed above), then every store kind the state changed must be among
    /// the kinds the vendor's snapshot restores, and the restored state must
    /// snapshot the same. A kind a vendor adds without putting it in its
    /// snapshot fails here.
    #[test]
    fn every_store_kind_a_write_route_touches_is_in_the_vendors_snapshot() {
        let writes = writes();
        for spec in ALL.iter().filter(|s| s.name != "toy") {
            let file = SourceFile {
                label: spec.name.to_owned(),
                text: spec.embedded_fixture.into(),
            };
            let loaded = (spec.load)(&file, &LoadOptions::default()).expect("fixture loads");
            let vendor: Arc<dyn Vendor> = loaded.vendor;
            let mut baseline = Baseline::default();
            for (id, record) in loaded.records {
                baseline.insert(spec.name, id, record);
            }
            for (kind, id, record) in loaded.other_kinds {
                baseline.insert(kind, id, record);
            }
            let store = Store::new(
                baseline,
                Clock::global(Setting::Real),
                SessionBounds::default(),
                crate::store::StoreBounds::default(),
            );
            let state = store.state(&Session::Shared);
            let startup: Value = serde_json::from_str(spec.embedded_fixture).expect("JSON");

            let mut written = Vec::new();
            let mut code = Value::Null;
            for (_, method, path, credential, body) in writes.iter().filter(|w| w.0 == spec.name) {
                let mut body = body.clone();
                if body["invitationCode"] == "$invitationCode" {
                    body["invitationCode"] = code.clone();
                }
                let reply = vendor.handle(&call(method.clone(), path, *credential, &body), &state);
                if let Ok(answer) = serde_json::from_slice::<Value>(&reply.body) {
                    if answer["invitationCode"].is_string() {
                        code = answer["invitationCode"].clone();
                    }
                }
                assert!(
                    reply.status.is_success(),
                    "{} {method} {path} → {} {}",
                    spec.name,
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                );
                written.push((
                    method.clone(),
                    path.split('?').next().unwrap_or_default().to_owned(),
                ));
            }
            for (method, pattern) in vendor.route_list() {
                if method == Method::GET {
                    continue;
                }
                assert!(
                    written
                        .iter()
                        .any(|(m, p)| *m == method && pattern.matches(p)),
                    "{}: the write route {method} {} has no write in this test; add one",
                    spec.name,
                    pattern.as_str()
                );
            }

            let mut snapshot = Vec::new();
            assert!(vendor.snapshot(&state, &startup, &mut snapshot));
            let document = SourceFile {
                label: format!("snapshot/{}.json", spec.name),
                text: String::from_utf8(snapshot.clone()).expect("UTF-8").into(),
            };
            let restored = vendor
                .restore(&document, &startup)
                .unwrap_or_else(|problems| panic!("{}: {problems:?}", spec.name));
            let restored_kinds: Vec<&str> = restored.kinds.iter().map(|(k, _)| *k).collect();
            for kind in state.changed_kinds(spec.name) {
                assert!(
                    restored_kinds.contains(&kind),
                    "{}: the kind '{kind}' was written but is not in the snapshot ({restored_kinds:?})",
                    spec.name
                );
            }

            let fresh = store.state(&Session::Named(Arc::from("restored")));
            store
                .replace_vendor(&fresh, spec.name, restored.kinds)
                .expect("within the caps");
            let mut again = Vec::new();
            assert!(vendor.snapshot(&fresh, &startup, &mut again));
            assert_eq!(
                String::from_utf8_lossy(&again),
                String::from_utf8_lossy(&snapshot),
                "{}: the restored state snapshots the same",
                spec.name
            );
        }
    }
}
