//! The request journal: the last N requests that reached a vendor route (or
//! no route at all), so a test can assert what the code under test sent.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::http::Call;
use crate::scenario::PathPattern;
use crate::timestamps;

/// One journaled request and what it got.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Entry {
    pub id: u64,
    pub at: String,
    pub session: Option<String>,
    /// `None` for a request that matched no vendor.
    pub vendor: Option<&'static str>,
    pub method: String,
    /// The path as received (with usermock's `/vendor` prefix, if any).
    pub path: String,
    /// The vendor's own path (as on its real host).
    pub vendor_path: Option<String>,
    pub query: Option<String>,
    pub headers: Map<String, Value>,
    /// The body as text (lossy UTF-8), and parsed when it is JSON.
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// `None` when a scenario fault dropped the connection.
    pub status: Option<u16>,
    /// The scenario whose rule answered, if any.
    pub scenario: Option<String>,
    pub duration_ms: u64,
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
        let (headers, body, json, query, vendor_path) = match outcome.call {
            Some(call) => {
                let mut headers = Map::new();
                for name in call.headers.keys() {
                    let values: Vec<String> = call
                        .headers
                        .get_all(name)
                        .iter()
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                        .collect();
                    headers.insert(name.as_str().to_owned(), Value::String(values.join(", ")));
                }
                let body = String::from_utf8_lossy(&call.body).into_owned();
                let json = serde_json::from_slice(&call.body).ok();
                (
                    headers,
                    body,
                    json,
                    call.query.clone(),
                    Some(call.path.clone()),
                )
            }
            None => (Map::new(), String::new(), None, None, None),
        };
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        inner.next_id += 1;
        let entry = Entry {
            id: inner.next_id,
            at: timestamps::format_millis(OffsetDateTime::now_utc()),
            session: outcome.session.map(str::to_owned),
            vendor: outcome.vendor,
            method: outcome.method.to_owned(),
            path: outcome.full_path.to_owned(),
            vendor_path,
            query,
            headers,
            body,
            json,
            status: outcome.status,
            scenario: outcome.scenario,
            duration_ms: outcome.duration_ms,
        };
        if inner.entries.len() == self.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    /// Matching entries, oldest first.
    pub fn list(&self, filter: &Filter) -> Vec<Entry> {
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
            .cloned()
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
