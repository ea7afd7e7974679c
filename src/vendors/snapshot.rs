//! What every vendor's snapshot and restore share (`GET|PUT
//! /__admin/snapshot`): a snapshot member is the vendor's fixture document
//! as a state holds it now. Its *state members* (users, and whatever else an
//! API call creates or changes) come from the state; every other member
//! (credentials, settings, …) is the running fixture's, which no API call
//! changes and a snapshot cannot either, since the vendor serving it is
//! shared by every session.
//!
//! A snapshot is taken as a [`Document`] per vendor: the fixed members as
//! text, and each state member as the handles of its records, collected in
//! one step and written later a record at a time ([`SnapshotWriter`]), so
//! the answer streams out in batches instead of being built whole.
//!
//! A restore reads the document straight into the vendor's typed records,
//! with the checks a fixture file gets plus the limits the API applies (the
//! record size), and returns the records of every store kind the vendor
//! keeps; the store then replaces all of that vendor's kinds at once, so a
//! kind a vendor forgot to snapshot would come back empty and fail the
//! round-trip tests rather than keep stale records.

use std::io::Write;

use serde::de::DeserializeOwned;
use serde::Serialize;
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
/// which schema a file follows), in the fixture's order.
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

fn is_state_member(name: &str, state: &[&str]) -> bool {
    name == "$schema" || state.contains(&name)
}

/// A vendor's snapshot document, ready to be written a part at a time:
/// what [`crate::vendors::Vendor::snapshot`] collects. Its JSON is what
/// `serde_json` writes for a struct of the fixed members (flattened)
/// followed by each state member, compact.
pub(crate) struct Document {
    parts: Vec<Part>,
    /// Whether a member has been written (the next one needs a comma).
    members: bool,
}

/// A piece of a snapshot answer.
enum Part {
    /// Written as it is: braces, the fixed members, a member's name.
    Text(Vec<u8>),
    /// A state member's records, written as a JSON array a record at a
    /// time.
    Array(Box<dyn Records>),
}

/// Records that can be written one by one (a vendor's record handles).
trait Records: Send + Sync {
    fn count(&self) -> usize;
    fn write(&self, at: usize, out: &mut Vec<u8>) -> Result<(), serde_json::Error>;
}

impl<T: Serialize + Send + Sync> Records for Vec<T> {
    fn count(&self) -> usize {
        self.len()
    }

    fn write(&self, at: usize, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        match self.get(at) {
            Some(record) => serde_json::to_writer(out, record),
            None => Ok(()),
        }
    }
}

impl Document {
    /// A document that starts with the running fixture's fixed members.
    pub fn new(fixed: FixedMembers<'_>) -> Document {
        let mut document = Document {
            parts: vec![Part::Text(b"{".to_vec())],
            members: false,
        };
        for (name, value) in fixed.entries() {
            let mut text = document.member_name(name);
            // A `Value` always serialises.
            let _ = serde_json::to_writer(&mut text, value);
            document.parts.push(Part::Text(text));
        }
        document
    }

    /// Adds a state member: `records` in the order given.
    pub fn member<T: Serialize + Send + Sync + 'static>(
        mut self,
        name: &str,
        records: Vec<T>,
    ) -> Document {
        let mut text = self.member_name(name);
        text.push(b'[');
        self.parts.push(Part::Text(text));
        self.parts.push(Part::Array(Box::new(records)));
        self.parts.push(Part::Text(b"]".to_vec()));
        self
    }

    /// `"name":`, after a comma when a member came before.
    fn member_name(&mut self, name: &str) -> Vec<u8> {
        let mut text = Vec::new();
        if self.members {
            text.push(b',');
        }
        self.members = true;
        // A `str` always serialises.
        let _ = serde_json::to_writer(&mut text, name);
        text.push(b':');
        text
    }

    /// The whole document as one buffer (tests; the admin API streams it).
    #[cfg(test)]
    pub fn into_bytes(self) -> Vec<u8> {
        let mut writer = SnapshotWriter::new(vec![("", self)]);
        let mut out = Vec::new();
        while let Ok(Some(chunk)) = writer.next_chunk(usize::MAX) {
            out.extend_from_slice(&chunk);
        }
        // Only the document: without the `{"":` and `}` around it.
        out.get(4..out.len().saturating_sub(1))
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    }
}

/// The snapshot answer, `{"<vendor>": <document>, …}`, written a chunk at
/// a time: each chunk holds whole records up to about the size asked, so
/// what is held at once is one chunk, not the answer (plus the record
/// handles, which share the records with the state).
pub(crate) struct SnapshotWriter {
    parts: Vec<Part>,
    /// The part being written, and within an array the next record.
    part: usize,
    record: usize,
}

impl SnapshotWriter {
    pub fn new(documents: Vec<(&str, Document)>) -> SnapshotWriter {
        let mut parts = vec![Part::Text(b"{".to_vec())];
        for (i, (name, document)) in documents.into_iter().enumerate() {
            let mut text = Vec::new();
            if i > 0 {
                text.push(b',');
            }
            let _ = serde_json::to_writer(&mut text, name);
            text.push(b':');
            parts.push(Part::Text(text));
            parts.extend(document.parts);
            parts.push(Part::Text(b"}".to_vec()));
        }
        parts.push(Part::Text(b"}".to_vec()));
        SnapshotWriter {
            parts,
            part: 0,
            record: 0,
        }
    }

    /// The next chunk: at least `size` bytes unless the answer ends first,
    /// and at most `size` plus one record. `None` at the end; `Err` when a
    /// record does not serialise (the answer cannot be finished).
    pub fn next_chunk(&mut self, size: usize) -> Result<Option<Vec<u8>>, serde_json::Error> {
        let mut out = Vec::new();
        while out.len() < size {
            let Some(part) = self.parts.get_mut(self.part) else {
                break;
            };
            match part {
                Part::Text(text) => out.append(text),
                Part::Array(records) if self.record < records.count() => {
                    if self.record > 0 {
                        out.push(b',');
                    }
                    records.write(self.record, &mut out)?;
                    self.record = self.record.saturating_add(1);
                    continue;
                }
                Part::Array(_) => {}
            }
            // Done with this part: its record handles go now, so records
            // the state dropped meanwhile are freed before the answer ends.
            *part = Part::Text(Vec::new());
            self.part = self.part.saturating_add(1);
            self.record = 0;
        }
        Ok((!out.is_empty()).then_some(out))
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
pub(crate) fn users_only<U>(state: &State, kind: &'static str, startup: &Value) -> Document
where
    U: StoredUser + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    let mut users = state.all_typed::<U>(kind);
    users.sort_by(|a, b| a.id().cmp(b.id()));
    Document::new(FixedMembers::of(startup, USERS_ONLY)).member("users", users)
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
    use std::sync::Arc;

    #[test]
    fn a_document_streams_in_bounded_chunks_the_bytes_serde_writes_for_the_whole() {
        let startup = json!({"$schema": "x", "settings": {"a": "é\"q"}, "clients": [1, 2], "users": [], "departments": []});
        let users: Vec<Arc<Value>> = (0..1000)
            .map(|i| Arc::new(json!({"id": format!("u{i:04}"), "name": "n".repeat(i % 50)})))
            .collect();
        let departments: Vec<Value> = Vec::new();
        #[derive(Serialize)]
        struct Whole<'a> {
            #[serde(flatten)]
            fixed: Map<String, Value>,
            departments: &'a [Value],
            users: &'a [Arc<Value>],
        }
        let fixed: Map<String, Value> = FixedMembers::of(&startup, &["departments", "users"])
            .entries()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let whole = serde_json::to_vec(&Whole {
            fixed,
            departments: &departments,
            users: &users,
        })
        .expect("serialises");
        let document = || {
            Document::new(FixedMembers::of(&startup, &["departments", "users"]))
                .member("departments", departments.clone())
                .member("users", users.clone())
        };
        assert_eq!(
            String::from_utf8_lossy(&document().into_bytes()),
            String::from_utf8_lossy(&whole)
        );

        let mut writer = SnapshotWriter::new(vec![("v", document()), ("w", document())]);
        let mut chunks = Vec::new();
        while let Some(chunk) = writer.next_chunk(512).expect("serialises") {
            chunks.push(chunk);
        }
        let largest_record = users.iter().map(|u| u.to_string().len()).max().unwrap_or(0);
        assert!(chunks.iter().all(|c| c.len() <= 512 + largest_record + 1));
        assert!(chunks.len() >= 2 * whole.len() / (512 + largest_record + 1));
        let whole = String::from_utf8_lossy(&whole);
        assert_eq!(
            String::from_utf8_lossy(&chunks.concat()),
            format!("{{\"v\":{whole},\"w\":{whole}}}")
        );
    }

    fn call(method: Method, path: &str, credential: (&str, &str), body: &Value) -> Call {
        let mut call = Call::empty();
        call.method = method;
        let (path, query) = match path.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (path, None),
        };
        call.path = path.into();
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
        for spec in ALL {
            let writes = (spec.sample_writes)();
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
            for (method, path, credential, body) in &writes {
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

            let snapshot = vendor.snapshot(&state, &startup).into_bytes();
            std::fs::write(
                format!(
                    "/tmp/restore-snap-{}-{}.json",
                    std::env::var("SNAPTAG").unwrap_or_default(),
                    spec.name
                ),
                &snapshot,
            )
            .ok();
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
            let again = vendor.snapshot(&fresh, &startup).into_bytes();
            assert_eq!(
                String::from_utf8_lossy(&again),
                String::from_utf8_lossy(&snapshot),
                "{}: the restored state snapshots the same",
                spec.name
            );
        }
    }
}
