//! The request journal: the last requests that reached a vendor (or no
//! route at all) with the answers they got, so a test can assert what the
//! code under test sent and received.
//!
//! Bounded twice: by entries (`--journal-size`) and by the bytes of the
//! bodies it keeps (`--journal-bytes`); the oldest entries go first. A body
//! larger than [`MAX_KEPT_BODY`] is kept cut short, marked `truncated` with
//! its real size, never dropped silently.
//!
//! Read in pages ([`Page`]): one listing holds at most `limit` entries and
//! about [`PAGE_BYTES`] of bodies, so a full journal is never one giant
//! answer. Readers filter a copy of the entry handles, not the journal under
//! its lock, so a slow find never holds up the requests being journaled.
//!
//! Credentials (vendor tokens, API keys, passwords and client secrets) are
//! kept as received, so find and count match them, but shown as
//! fingerprints (`sha256:` and the hash's first 8 hex digits) unless
//! `--journal-credentials show` asks for them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::http::{Call, Note, PathPattern, Reply, VendorPath};
use crate::matcher::RequestPattern;
use crate::timestamps;

mod redact;

pub(crate) use redact::Credentials;

/// The most of one body (request or response) an entry keeps.
pub(crate) const MAX_KEPT_BODY: usize = 64 * 1024;

/// A listing page stops adding entries once their kept bodies reach this
/// (it always holds at least one entry): 1,000 entries of 64 KiB bodies
/// would otherwise be a 128 MiB answer.
pub(crate) const PAGE_BYTES: usize = 4 * 1024 * 1024;

/// Entries in a listing page without `limit`.
pub(crate) const DEFAULT_PAGE: usize = 100;

/// The most entries one listing page holds.
pub(crate) const MAX_PAGE: usize = 1000;

/// One journaled request and what it got. Headers and bodies are kept as
/// received (cheap handles) and only turned into JSON when read.
#[derive(Debug, Clone)]
struct Entry {
    id: u64,
    at: OffsetDateTime,
    /// The session id, in the entry's own block (see [`detach`]).
    session: Option<Bytes>,
    /// `None` for a request that matched no vendor.
    vendor: Option<&'static str>,
    /// Whether the path is one of the vendor's routes.
    matched: bool,
    /// The path as received (with usermock's `/vendor` prefix, if any), in
    /// the entry's own block.
    path: Bytes,
    /// The request, its path as on the vendor's real host; the body cut at
    /// [`MAX_KEPT_BODY`].
    call: Call,
    body_size: usize,
    /// The answer as the client was meant to get it; `None` when a scenario
    /// fault dropped the connection.
    response: Option<RecordedReply>,
    /// The scenario rule that answered, if any.
    rule: Option<(String, usize)>,
    /// The fault a scenario applied, if any.
    fault: Option<&'static str>,
    /// Where the answer relied on an inferred rule or ignored part of the
    /// request (see `Request::note`).
    notes: Vec<Note>,
    /// From the request head to the answer handed over. Kept to the
    /// microsecond: most answers take well under a millisecond, so whole
    /// milliseconds would read 0 for nearly every request.
    duration: Duration,
}

#[derive(Debug, Clone)]
struct RecordedReply {
    status: u16,
    headers: crate::http::Headers,
    body: Bytes,
    body_size: usize,
}

/// Text [`detach`] copied from a `&str`, so always UTF-8.
fn text(bytes: &Bytes) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

impl Entry {
    fn path(&self) -> &str {
        text(&self.path)
    }

    fn session(&self) -> Option<&str> {
        self.session.as_ref().map(text)
    }

    fn bytes(&self) -> usize {
        self.call.body.len() + self.response.as_ref().map_or(0, |r| r.body.len())
    }

    fn to_json(&self, credentials: Credentials) -> Value {
        let mut entry = json!({
            "id": self.id,
            "at": timestamps::format_millis(self.at),
            "received_at": timestamps::format_millis(self.at),
            "session": self.session(),
            "vendor": self.vendor,
            "matched": self.matched,
            "method": self.call.method.as_str(),
            "path": self.path(),
            "vendor_path": self.vendor.map(|_| self.call.path.as_str()),
            "query": self.call.query,
            "headers": headers_json(&self.call.headers, credentials),
            "body": String::from_utf8_lossy(&self.call.body),
            "body_size": self.body_size,
            "body_truncated": self.call.body.len() < self.body_size,
            "status": self.response.as_ref().map(|r| r.status),
            "scenario": self.rule.as_ref().map(|(name, _)| name),
            "rule": self.rule.as_ref().map(|(name, index)| json!({"scenario": name, "index": index})),
            "fault": self.fault,
            "notes": self.notes,
            "response": self.response.as_ref().map(|r| r.to_json(credentials)),
            "duration_ms": saturating_u64(self.duration.as_millis()),
            "duration_us": saturating_u64(self.duration.as_micros()),
        });
        if self.call.body.len() == self.body_size {
            if let Ok(parsed) = serde_json::from_slice::<Value>(&self.call.body) {
                entry["json"] = parsed;
            }
        }
        if credentials == Credentials::Fingerprint {
            redact::request_body(&mut entry, &self.call);
        }
        entry
    }
}

fn saturating_u64(n: u128) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl RecordedReply {
    fn to_json(&self, credentials: Credentials) -> Value {
        let mut answer = json!({
            "status": self.status,
            "headers": headers_json(self.headers.iter().map(|(n, v)| (n, v)), credentials),
            "body": String::from_utf8_lossy(&self.body),
            "body_size": self.body_size,
            "truncated": self.body.len() < self.body_size,
        });
        if self.body.len() == self.body_size {
            if let Ok(parsed) = serde_json::from_slice::<Value>(&self.body) {
                answer["json"] = parsed;
                if credentials == Credentials::Fingerprint {
                    redact::json_answer(&mut answer);
                }
            }
        }
        answer
    }
}

/// Headers as `{name: value}`, a repeated name's values joined with ", "
/// in the order received; credentials as fingerprints unless shown.
fn headers_json<'a>(
    headers: impl IntoIterator<Item = (&'a HeaderName, &'a HeaderValue)>,
    credentials: Credentials,
) -> Value {
    let mut out = Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        let value = match credentials {
            Credentials::Fingerprint => redact::header(name, value),
            Credentials::Show => value,
        };
        match out.get_mut(name.as_str()) {
            Some(Value::String(joined)) => {
                joined.push_str(", ");
                joined.push_str(&value);
            }
            _ => {
                out.insert(name.as_str().to_owned(), Value::String(value.into_owned()));
            }
        }
    }
    Value::Object(out)
}

fn kept(body: &Bytes) -> Bytes {
    body.slice(..body.len().min(MAX_KEPT_BODY))
}

/// Moves what an entry keeps of a request (its header values and its body,
/// cut at [`MAX_KEPT_BODY`]) out of hyper's read buffer into one block of
/// the entry's own. As received, they are slices of that buffer: an entry
/// holding them would pin a whole buffer (8 KiB or more) for as long as it
/// is journaled, and hyper would allocate a fresh one for every request.
/// The block also holds the texts given (the full path, the session id,
/// the vendor path), returned in order as slices of it: one allocation for
/// all of them.
fn detach<const N: usize>(call: &mut Call, texts: [&str; N]) -> [Bytes; N] {
    let body = &call.body[..call.body.len().min(MAX_KEPT_BODY)];
    let values: usize = call.headers.values().map(HeaderValue::len).sum();
    let texts_len: usize = texts.iter().map(|t| t.len()).sum();
    let mut block = Vec::with_capacity(values.saturating_add(body.len()).saturating_add(texts_len));
    for text in texts {
        block.extend_from_slice(text.as_bytes());
    }
    for value in call.headers.values() {
        block.extend_from_slice(value.as_bytes());
    }
    block.extend_from_slice(body);
    let block = Bytes::from(block);
    let mut at: usize = 0;
    let texts = texts.map(|text| {
        let end = at.saturating_add(text.len());
        let slice = block.slice(at..end);
        at = end;
        slice
    });
    for value in call.headers.values_mut() {
        let end = at.saturating_add(value.len());
        // The same bytes were a valid header value a moment ago.
        if let Ok(mut copy) = HeaderValue::from_maybe_shared(block.slice(at..end)) {
            copy.set_sensitive(value.is_sensitive());
            *value = copy;
        }
        at = end;
    }
    call.body = block.slice(at..);
    texts
}

/// What the handler knows about a finished request.
pub(crate) struct FinishedRequest<'a> {
    pub vendor: Option<&'static str>,
    pub matched: bool,
    pub full_path: &'a str,
    pub call: Call,
    /// Moved into the entry: the client's response was built from a copy.
    pub response: Option<Reply>,
    pub rule: Option<(String, usize)>,
    pub fault: Option<&'static str>,
    pub duration: Duration,
    pub session: Option<&'a str>,
}

/// Filters of `GET /__admin/requests` (all given ones must hold).
#[derive(Debug, Default)]
pub(crate) struct Filter {
    pub vendor: Option<String>,
    pub method: Option<String>,
    pub path: Option<PathPattern>,
    pub status: Option<u16>,
    pub session: Option<String>,
    pub unmatched_only: bool,
    /// A matcher in the scenario `match` vocabulary (find and count).
    pub matcher: Option<RequestPattern>,
    /// `Some(true)`: only entries with notes; `Some(false)`: only without.
    pub noted: Option<bool>,
}

/// Which part of a listing to answer: entries after the id `after`, at
/// most `limit` of them (and about [`PAGE_BYTES`] of bodies).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    pub after: Option<u64>,
    pub limit: usize,
}

impl Default for Page {
    fn default() -> Page {
        Page {
            after: None,
            limit: DEFAULT_PAGE,
        }
    }
}

/// One page of matching entries, oldest first.
#[derive(Debug)]
pub(crate) struct Listing {
    pub requests: Vec<Value>,
    /// How many entries match in all pages.
    pub total: usize,
    /// The `after` that gives the next page; `None` on the last one.
    pub next_after: Option<u64>,
}

impl Filter {
    fn admits(&self, e: &Entry) -> bool {
        self.vendor.as_deref().is_none_or(|v| e.vendor == Some(v))
            && self
                .method
                .as_deref()
                .is_none_or(|m| e.call.method.as_str().eq_ignore_ascii_case(m))
            && self
                .status
                .is_none_or(|s| e.response.as_ref().map(|r| r.status) == Some(s))
            && self
                .session
                .as_deref()
                .is_none_or(|s| e.session() == Some(s))
            && (!self.unmatched_only || !e.matched)
            && self.noted.is_none_or(|noted| noted != e.notes.is_empty())
            && self
                .path
                .as_ref()
                .is_none_or(|p| p.matches(e.path()) || p.matches(&e.call.path))
            && self
                .matcher
                .as_ref()
                .is_none_or(|m| m.matches(e.vendor.unwrap_or_default(), &e.call))
    }
}

/// The journal's bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub entries: usize,
    pub bytes: usize,
}

#[derive(Debug)]
pub(crate) struct Journal {
    bounds: Bounds,
    credentials: Credentials,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    bytes: usize,
    entries: VecDeque<Arc<Entry>>,
}

impl Journal {
    pub fn new(bounds: Bounds, credentials: Credentials) -> Journal {
        Journal {
            bounds,
            credentials,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The entries' handles as they are now, oldest first: readers work on
    /// this copy, so the lock is held only for the copy.
    fn entries(&self) -> Vec<Arc<Entry>> {
        match self.inner.lock() {
            Ok(inner) => inner.entries.iter().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn record(&self, outcome: FinishedRequest<'_>) {
        if self.bounds.entries == 0 {
            return;
        }
        let mut call = outcome.call;
        let body_size = call.body.len();
        // The vendor path is a part of the request's URI, which shares
        // hyper's read buffer: the entry keeps its own copy, in its block.
        let vendor_path = call.path.clone();
        let [path, session, vendor_path] = detach(
            &mut call,
            [
                outcome.full_path,
                outcome.session.unwrap_or_default(),
                vendor_path.as_str(),
            ],
        );
        call.path = VendorPath::kept(vendor_path);
        let (response, notes) = match outcome.response {
            Some(reply) => (
                Some(RecordedReply {
                    status: reply.status.as_u16(),
                    body: kept(&reply.body),
                    body_size: reply.body.len(),
                    headers: reply.headers,
                }),
                reply.notes,
            ),
            None => (None, Vec::new()),
        };
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        inner.next_id = inner.next_id.saturating_add(1);
        let entry = Entry {
            id: inner.next_id,
            at: OffsetDateTime::now_utc(),
            session: outcome.session.map(|_| session),
            vendor: outcome.vendor,
            matched: outcome.matched,
            path,
            call,
            body_size,
            response,
            rule: outcome.rule,
            fault: outcome.fault,
            notes,
            duration: outcome.duration,
        };
        inner.bytes = inner.bytes.saturating_add(entry.bytes());
        inner.entries.push_back(Arc::new(entry));
        while inner.entries.len() > self.bounds.entries
            || (inner.bytes > self.bounds.bytes && inner.entries.len() > 1)
        {
            match inner.entries.pop_front() {
                Some(old) => inner.bytes = inner.bytes.saturating_sub(old.bytes()),
                None => break,
            }
        }
    }

    /// One page of matching entries as JSON, oldest first.
    pub fn list(&self, filter: &Filter, page: Page) -> Listing {
        let entries = self.entries();
        let mut requests = Vec::new();
        let mut total: usize = 0;
        let mut bytes: usize = 0;
        let mut next_after = None;
        let mut full = false;
        for entry in entries.iter().filter(|e| filter.admits(e)) {
            total = total.saturating_add(1);
            if page.after.is_some_and(|after| entry.id <= after) {
                continue;
            }
            if full {
                continue;
            }
            if requests.len() >= page.limit
                || (!requests.is_empty() && bytes.saturating_add(entry.bytes()) > PAGE_BYTES)
            {
                full = true;
                continue;
            }
            bytes = bytes.saturating_add(entry.bytes());
            next_after = Some(entry.id);
            requests.push(entry.to_json(self.credentials));
        }
        Listing {
            requests,
            total,
            next_after: next_after.filter(|_| full),
        }
    }

    /// How many entries match.
    pub fn count(&self, filter: &Filter) -> usize {
        self.entries().iter().filter(|e| filter.admits(e)).count()
    }

    /// Forgets one session's entries, or all of them.
    pub fn clear(&self, session: Option<&str>) -> usize {
        let Ok(mut inner) = self.inner.lock() else {
            return 0;
        };
        let before = inner.entries.len();
        match session {
            Some(s) => inner.entries.retain(|e| e.session() != Some(s)),
            None => inner.entries.clear(),
        }
        inner.bytes = inner.entries.iter().map(|e| e.bytes()).sum();
        before - inner.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::{HeaderMap, Method, StatusCode};

    fn call(body: Vec<u8>) -> Call {
        Call {
            method: Method::POST,
            path: "/x".into(),
            query: None,
            headers: HeaderMap::new(),
            body: Bytes::from(body),
        }
    }

    fn outcome(body: Vec<u8>, reply: &Reply) -> FinishedRequest<'static> {
        FinishedRequest {
            vendor: Some("v"),
            matched: true,
            full_path: "/v/x",
            call: call(body),
            response: Some(reply.clone()),
            rule: None,
            fault: None,
            duration: Duration::ZERO,
            session: None,
        }
    }

    #[test]
    fn large_bodies_are_kept_cut_short_and_marked() {
        let journal = Journal::new(
            Bounds {
                entries: 10,
                bytes: 10 * MAX_KEPT_BODY,
            },
            Credentials::Fingerprint,
        );
        let reply = Reply::json(StatusCode::OK, &json!({"ok": true}));
        journal.record(outcome(vec![b'a'; 3 * MAX_KEPT_BODY], &reply));
        let listed = journal.list(&Filter::default(), Page::default()).requests;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["body_size"], 3 * MAX_KEPT_BODY);
        assert_eq!(listed[0]["body_truncated"], true);
        assert_eq!(
            listed[0]["body"].as_str().map(str::len),
            Some(MAX_KEPT_BODY)
        );
        assert_eq!(listed[0]["response"]["json"], json!({"ok": true}));
    }

    #[test]
    fn the_byte_budget_drops_the_oldest_entries() {
        let journal = Journal::new(
            Bounds {
                entries: 1000,
                bytes: 3 * MAX_KEPT_BODY,
            },
            Credentials::Fingerprint,
        );
        let reply = Reply::json(StatusCode::OK, &json!({}));
        for _ in 0..100 {
            journal.record(outcome(vec![b'a'; MAX_KEPT_BODY], &reply));
        }
        let listed = journal.list(&Filter::default(), Page::default()).requests;
        assert_eq!(
            listed.len(),
            2,
            "3 budgets of 64 KiB hold two 64 KiB entries and their answers"
        );
        assert_eq!(listed[1]["id"], 100);
    }

    #[test]
    fn an_entry_keeps_its_own_copy_not_the_read_buffer() {
        let buffer = Bytes::from(b"xbearer tok\x7fsecret{\"a\":1}".to_vec());
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_maybe_shared(buffer.slice(1..11)).expect("value");
        auth.set_sensitive(true);
        headers.insert("authorization", auth);
        headers.append("x-many", HeaderValue::from_static("one"));
        headers.append("x-many", HeaderValue::from_static("two"));
        let mut kept = Call {
            headers,
            body: buffer.slice(18..),
            ..call(Vec::new())
        };
        let [path] = detach(&mut kept, ["/v/x"]);
        assert_eq!(&path[..], b"/v/x");
        assert_eq!(kept.header("authorization"), Some("bearer tok"));
        assert!(kept.headers["authorization"].is_sensitive());
        let many: Vec<_> = kept.headers.get_all("x-many").iter().collect();
        assert_eq!(many, ["one", "two"]);
        assert_eq!(&kept.body[..], b"{\"a\":1}");
        assert!(buffer.is_unique(), "nothing of the read buffer is held");
    }

    #[test]
    fn a_recorded_vendor_path_is_the_entry_s_own_copy_not_the_uri() {
        let buffer = Bytes::from(b"/v/users/1?page=2".to_vec());
        let uri = hyper::Uri::from_maybe_shared(buffer.clone()).expect("uri");
        let journal = Journal::new(
            Bounds {
                entries: 10,
                bytes: MAX_KEPT_BODY,
            },
            Credentials::Fingerprint,
        );
        let reply = Reply::json(StatusCode::OK, &json!({}));
        let mut recorded = outcome(Vec::new(), &reply);
        recorded.call.path = VendorPath::tail(&uri, 2);
        drop(uri);
        recorded.full_path = "/v/users/1";
        journal.record(recorded);
        assert!(buffer.is_unique(), "the entry holds nothing of the URI");
        let listed = journal.list(&Filter::default(), Page::default()).requests;
        assert_eq!(listed[0]["vendor_path"], "/users/1");
        assert_eq!(listed[0]["path"], "/v/users/1");
    }
}
