//! The request journal: the last N requests that reached a vendor route (or
//! no route at all), so a test can assert what the code under test sent.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;
use hyper::HeaderMap;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::http::Call;
use crate::http::PathPattern;
use crate::timestamps;

/// One journaled request and what it got. Headers and body are kept as
/// received and only turned into JSON when the journal is read, so the hot
/// path pays for a few clones of cheap handles, not for formatting.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    id: u64,
    at: OffsetDateTime,
    session: Option<String>,
    /// `None` for a request that matched no vendor.
    vendor: Option<&'static str>,
    method: String,
    /// The path as received (with usermock's `/vendor` prefix, if any).
    path: String,
    /// The vendor's own path (as on its real host).
    vendor_path: Option<String>,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
    /// `None` when a scenario fault dropped the connection.
    status: Option<u16>,
    /// The scenario whose rule answered, if any.
    scenario: Option<String>,
    duration_ms: u64,
}

impl Entry {
    fn to_json(&self) -> Value {
        let mut headers = Map::new();
        for name in self.headers.keys() {
            let values: Vec<String> = self
                .headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            headers.insert(name.as_str().to_owned(), Value::String(values.join(", ")));
        }
        let mut entry = json!({
            "id": self.id,
            "at": timestamps::format_millis(self.at),
            "session": self.session,
            "vendor": self.vendor,
            "method": self.method,
            "path": self.path,
            "vendor_path": self.vendor_path,
            "query": self.query,
            "headers": headers,
            "body": String::from_utf8_lossy(&self.body),
            "status": self.status,
            "scenario": self.scenario,
            "duration_ms": self.duration_ms,
        });
        if let Ok(parsed) = serde_json::from_slice::<Value>(&self.body) {
            entry["json"] = parsed;
        }
        entry
    }
}

/// What the handler knows about a finished request.
pub(crate) struct Outcome<'a> {
    pub vendor: Option<&'static str>,
    pub full_path: &'a str,
    pub call: Option<&'a Call>,
    pub method: &'a str,
    pub status: Option<u16>,
    pub scenario: Option<String>,
    pub duration_ms: u64,
    pub session: Option<&'a str>,
}

/// Filters of `GET /__admin/requests`.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    pub vendor: Option<String>,
    pub method: Option<String>,
    pub path: Option<PathPattern>,
    pub status: Option<u16>,
    pub session: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Journal {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    entries: VecDeque<Entry>,
}

impl Journal {
    pub fn new(capacity: usize) -> Journal {
        Journal {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn record(&self, outcome: Outcome<'_>) {
        if self.capacity == 0 {
            return;
        }
        let (headers, body, query, vendor_path) = match outcome.call {
            Some(call) => (
                call.headers.clone(),
                call.body.clone(),
                call.query.clone(),
                Some(call.path.clone()),
            ),
            None => (HeaderMap::new(), Bytes::new(), None, None),
        };
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        inner.next_id += 1;
        let entry = Entry {
            id: inner.next_id,
            at: OffsetDateTime::now_utc(),
            session: outcome.session.map(str::to_owned),
            vendor: outcome.vendor,
            method: outcome.method.to_owned(),
            path: outcome.full_path.to_owned(),
            vendor_path,
            query,
            headers,
            body,
            status: outcome.status,
            scenario: outcome.scenario,
            duration_ms: outcome.duration_ms,
        };
        if inner.entries.len() == self.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    /// Matching entries as JSON, oldest first.
    pub fn list(&self, filter: &Filter) -> Vec<Value> {
        let Ok(inner) = self.inner.lock() else {
            return Vec::new();
        };
        inner
            .entries
            .iter()
            .filter(|e| filter.vendor.as_deref().is_none_or(|v| e.vendor == Some(v)))
            .filter(|e| {
                filter
                    .method
                    .as_deref()
                    .is_none_or(|m| e.method.eq_ignore_ascii_case(m))
            })
            .filter(|e| filter.status.is_none_or(|s| e.status == Some(s)))
            .filter(|e| {
                filter
                    .session
                    .as_deref()
                    .is_none_or(|s| e.session.as_deref() == Some(s))
            })
            .filter(|e| {
                filter.path.as_ref().is_none_or(|p| {
                    p.captures(&e.path).is_some()
                        || e.vendor_path
                            .as_deref()
                            .is_some_and(|vp| p.captures(vp).is_some())
                })
            })
            .map(Entry::to_json)
            .collect()
    }

    /// Forgets one session's entries, or all of them.
    pub fn clear(&self, session: Option<&str>) -> usize {
        let Ok(mut inner) = self.inner.lock() else {
            return 0;
        };
        let before = inner.entries.len();
        match session {
            Some(s) => inner.entries.retain(|e| e.session.as_deref() != Some(s)),
            None => inner.entries.clear(),
        }
        before - inner.entries.len()
    }
}
