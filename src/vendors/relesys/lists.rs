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
use time::{Duration, OffsetDateTime};

use super::error::RelesysError;
use super::query::{ListQuery, Listed, Resource, Selection, DEFAULT_LIMIT};
use crate::http::Call;

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
/// as `null` (`Some(None)`). Serialised straight from the records.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Page<T> {
    count: usize,
    data: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_url: Option<Option<String>>,
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
