//! The list endpoints: `GET /users`, `/departments`, `/userGroups` and
//! `/customfields/users`, answered as `{count, data, nextUrl, previousUrl}`.
//!
//! Paging (concepts page "Pagination"): `offset` and `limit`; when `limit`
//! is used the answer carries `nextUrl` (`…?limit=N&cursor=…`) while more
//! results follow, and a request made from a cursor also carries
//! `previousUrl`. A cursor keeps the filters and sort of the request that
//! made it and lives 6 hours (on the request's clock). `count` is the
//! number of records in `data` (inferred).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use super::error::RelesysError;
use super::query::{ListQuery, Listed, Resource, Selection, DEFAULT_LIMIT};
use crate::http::Call;
use crate::store::Shown;

/// How long a cursor stays valid (documented: 6 hours).
const CURSOR_LIFETIME: Duration = Duration::hours(6);

/// At most this many cursors are remembered; the oldest go first.
pub(crate) const MAX_CURSORS: usize = 10_000;

/// At most this many bytes of cursors (their filters, which a long query
/// string makes large) are remembered; the oldest go first.
pub(crate) const MAX_CURSOR_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone)]
struct Cursor {
    selection: Selection,
    offset: usize,
    expires_at: OffsetDateTime,
    /// What it counts against `MAX_CURSOR_BYTES`.
    bytes: usize,
}

/// Cursors in the order they were made, so the oldest is dropped first and
/// expired ones are pruned from the front (O(1) amortised).
#[derive(Debug, Default)]
pub(super) struct Cursors {
    inner: Mutex<CursorMap>,
}

#[derive(Debug, Default)]
struct CursorMap {
    by_id: HashMap<String, Cursor>,
    order: VecDeque<String>,
    bytes: usize,
}

impl Cursors {
    fn make(&self, selection: &Selection, offset: usize, now: OffsetDateTime) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let bytes = selection.weight().saturating_add(id.len());
        let cursor = Cursor {
            selection: selection.clone(),
            offset,
            expires_at: now
                .checked_add(CURSOR_LIFETIME)
                .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc()),
            bytes,
        };
        if let Ok(mut map) = self.inner.lock() {
            while let Some(oldest) = map.order.front() {
                let stale = map.by_id.get(oldest).is_none_or(|c| now >= c.expires_at);
                let room = map.by_id.len() < MAX_CURSORS
                    && map.bytes.saturating_add(bytes) <= MAX_CURSOR_BYTES;
                if !stale && room {
                    break;
                }
                if let Some(oldest) = map.order.pop_front() {
                    if let Some(gone) = map.by_id.remove(&oldest) {
                        map.bytes = map.bytes.saturating_sub(gone.bytes);
                    }
                }
            }
            map.bytes = map.bytes.saturating_add(bytes);
            map.order.push_back(id.clone());
            map.by_id.insert(id.clone(), cursor);
        }
        id
    }

    fn find(
        &self,
        id: &str,
        resource: &Resource,
        now: OffsetDateTime,
    ) -> Result<Cursor, RelesysError> {
        let cursor = self
            .inner
            .lock()
            .ok()
            .and_then(|map| map.by_id.get(id).cloned())
            .filter(|c| now < c.expires_at && std::ptr::eq(c.selection.resource(), resource))
            .ok_or_else(|| {
                RelesysError::invalid(format!(
                    "The cursor '{id}' is unknown or has expired; start again without a cursor"
                ))
            })?;
        Ok(cursor)
    }

    /// Forgets every cursor (a full reset).
    pub fn reset(&self) {
        if let Ok(mut map) = self.inner.lock() {
            *map = CursorMap::default();
        }
    }
}

/// A list answer: `{count, data}`, then `nextUrl` and `previousUrl` when
/// there is one (`Some(Some(url))`) or `list_links: always` asks for them
/// as `null` (`Some(None)`). Written by [`Page::text`].
#[derive(Debug)]
pub(super) struct Page<T> {
    count: usize,
    data: Vec<T>,
    next_url: Option<Option<String>>,
    previous_url: Option<Option<String>>,
}

/// A record in a list page, as its JSON is written into the page.
pub(super) trait Item {
    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
    /// Its text's length when known beforehand, else 0.
    fn known_len(&self) -> usize {
        0
    }
}

impl Item for Value {
    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }
}

/// A stored record, written as its JSON as stored (a copy once the record
/// has been shown; see [`Shown`]).
impl<U: Serialize + Send + Sync + 'static> Item for Shown<U> {
    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let text = self
            .text()
            .map_err(|_| serde::ser::Error::custom("a stored record does not serialise"))?;
        out.extend_from_slice(&text);
        Ok(())
    }

    fn known_len(&self) -> usize {
        self.text_len()
    }
}

impl<U: Listed> Listed for Shown<U> {
    fn text(&self, member: &str) -> Option<&str> {
        self.record.text(member)
    }
}

impl<T: Item> Page<T> {
    /// The page as compact JSON, members in the order above (what
    /// serde_json writes for the same object).
    pub fn text(&self) -> serde_json::Result<Vec<u8>> {
        let known = self
            .data
            .iter()
            .fold(0usize, |sum, item| sum.saturating_add(item.known_len()));
        let mut out = Vec::with_capacity(known.saturating_add(1024));
        out.extend_from_slice(b"{\"count\":");
        serde_json::to_writer(&mut out, &self.count)?;
        out.extend_from_slice(b",\"data\":[");
        for (i, item) in self.data.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            item.write(&mut out)?;
        }
        out.push(b']');
        for (name, link) in [("nextUrl", &self.next_url), ("previousUrl", &self.previous_url)] {
            if let Some(link) = link {
                out.push(b',');
                serde_json::to_writer(&mut out, name)?;
                out.push(b':');
                serde_json::to_writer(&mut out, link)?;
            }
        }
        out.push(b'}');
        Ok(out)
    }
}

/// One page of `records` (the resource's records, unfiltered) as the query
/// asks, with its paging links.
pub(super) fn page<T: Listed>(
    cursors: &Cursors,
    query: ListQuery,
    resource: &'static Resource,
    records: Vec<T>,
    call: &Call,
    now: OffsetDateTime,
    always_links: bool,
) -> Result<Page<T>, RelesysError> {
    let (selection, offset, from_cursor) = match (&query.cursor, query.selection) {
        (Some(id), _) => {
            let cursor = cursors.find(id, resource, now)?;
            (cursor.selection, cursor.offset, true)
        }
        (None, Some(selection)) => (selection, query.offset, false),
        (None, None) => return Err(RelesysError::invalid("The query is incomplete")),
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    let matching = selection.apply(records);
    let total = matching.len();
    let end = offset.saturating_add(limit).min(total);
    // The page's records are moved out, not copied.
    let data: Vec<T> = matching
        .into_iter()
        .skip(offset)
        .take(end.saturating_sub(offset))
        .collect();
    let link = |at: usize| {
        let cursor = cursors.make(&selection, at, now);
        format!(
            "{}{}?limit={limit}&cursor={cursor}",
            base_url(call),
            resource.path
        )
    };
    let paged = query.limit.is_some() || from_cursor;
    let next = (paged && end < total && end > offset).then(|| link(end));
    let previous = from_cursor.then(|| link(offset.saturating_sub(limit)));
    // The user-groups example answers `{"count", "data"}` alone, and the
    // pagination page has the links appear only when there is one; with
    // `list_links: always` they are `null` members instead.
    let member = |link: Option<String>| (link.is_some() || always_links).then_some(link);
    Ok(Page {
        count: data.len(),
        data,
        next_url: member(next),
        previous_url: member(previous),
    })
}

/// Where the client reached usermock: `http://HOST` plus `/relesys`
/// unless it came by the real host's name (a container alias).
fn base_url(call: &Call) -> String {
    let host = call.header("host").unwrap_or("localhost");
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    if name.eq_ignore_ascii_case(<super::Relesys as crate::vendors::Api>::REAL_HOST) {
        format!("http://{host}")
    } else {
        format!("http://{host}/relesys")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::relesys::query::{parse, USERS};

    /// Every shape a page takes (no links, one, both, `null` links; no
    /// records, several), from JSON trees and from stored texts alike, is
    /// what serde_json writes for the same object.
    #[test]
    fn a_page_is_written_as_serde_json_writes_the_object() {
        let records = vec![
            serde_json::json!({"id": "a", "name": "Å \"quoted\"", "n": [1, null]}),
            serde_json::json!({"id": "b", "customFields": {}}),
        ];
        let url = Some("http://h/relesys/api/v1.3/users?limit=1&cursor=x\u{1}".to_owned());
        let links = [None, Some(url.clone()), Some(None)];
        for data in [Vec::new(), records.clone()] {
            for next_url in &links {
                for previous_url in &links {
                    let mut object = serde_json::Map::new();
                    object.insert("count".into(), data.len().into());
                    object.insert("data".into(), Value::Array(data.clone()));
                    for (name, link) in [("nextUrl", next_url), ("previousUrl", previous_url)] {
                        if let Some(link) = link {
                            object.insert(name.into(), serde_json::json!(link));
                        }
                    }
                    let expected = serde_json::to_vec(&object).expect("written");
                    let links = (next_url.clone(), previous_url.clone());
                    let from_values = page(data.clone(), links.clone()).text();
                    assert_eq!(from_values.expect("written"), expected);
                    let texts: Vec<Shown<Value>> = data
                        .iter()
                        .map(Shown::stored)
                        .collect();
                    let from_texts = page(texts, links).text();
                    assert_eq!(from_texts.expect("written"), expected);
                }
            }
        }
    }

    type Link = Option<Option<String>>;

    fn page<T>(data: Vec<T>, (next_url, previous_url): (Link, Link)) -> Page<T> {
        Page {
            count: data.len(),
            data,
            next_url,
            previous_url,
        }
    }

    #[test]
    fn cursors_are_bounded_in_bytes_as_well_as_in_number() {
        static RESOURCE: Resource = USERS;
        let long = format!("name={}", "n".repeat(20_000));
        let selection = parse(&RESOURCE, Some(&long))
            .ok()
            .and_then(|q| q.selection)
            .expect("a selection");
        assert!(selection.weight() > 20_000);
        let cursors = Cursors::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        let first = cursors.make(&selection, 0, now);
        // Far more than the byte bound holds, far fewer than MAX_CURSORS.
        let made = MAX_CURSOR_BYTES / selection.weight() * 2;
        for _ in 0..made {
            cursors.make(&selection, 0, now);
        }
        let map = cursors.inner.lock().expect("lock");
        assert!(map.bytes <= MAX_CURSOR_BYTES, "{} bytes kept", map.bytes);
        assert!(map.by_id.len() < made, "{} of {made} kept", map.by_id.len());
        assert_eq!(map.by_id.len(), map.order.len());
        drop(map);
        assert!(
            cursors.find(&first, &RESOURCE, now).is_err(),
            "the oldest is forgotten first"
        );
    }
}
