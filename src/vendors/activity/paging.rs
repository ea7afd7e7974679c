//! Query strings and cursor paging, as ScalePad's list routes document
//! them: `sort_by`, `sort_order` (`asc` default | `desc`), `page_size`
//! (default 100, max 500), `cursor` → `{data, total_count, next_cursor}`.
//!
//! The cursor is keyset-based (**inferred**): it names the sort key and id
//! of the last item served, so the next page starts strictly after it and a
//! walk serves every record once even while records are written between
//! pages. It also carries a fingerprint of the query (client, filters,
//! sort) and a keyed checksum, so a forged cursor, or one from another
//! query or client, is a 400 rather than a silently different page.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::ActivityError;
use super::fixture::FieldPolicy;
use crate::vendors::Request;

pub(super) const DEFAULT_PAGE_SIZE: usize = 100;
pub(super) const MAX_PAGE_SIZE: usize = 500;
/// Longer cursors than any this server issues are refused unread.
const MAX_CURSOR_LEN: usize = 2048;
/// Keys the cursor checksum; not a secret worth the name (this is a mock),
/// only enough that a cursor edited by hand is refused.
const CURSOR_KEY: &[u8] = b"usermock/activity/cursor/v1";

/// A query string, decoded, each name at most once.
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    /// `allowed` names the route's parameters; another one is a 400 under
    /// `unknown: reject` (a misspelt filter must not silently list all).
    /// Under `unknown: ignore` an unknown parameter is skipped, and the
    /// request notes it.
    pub fn parse(
        request: &Request<'_>,
        allowed: &[&str],
        unknown: FieldPolicy,
    ) -> Result<Query, ActivityError> {
        let raw = request.call.query.as_deref();
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            if !allowed.contains(&name.as_ref()) {
                if unknown == FieldPolicy::Reject {
                    return Err(ActivityError::invalid_field(
                        format!("Unknown query parameter '{name}'"),
                        name,
                        None,
                    ));
                }
                request.note(
                    "activity-unknown-query-parameter",
                    format!("the query parameter '{name}' was ignored"),
                    "inferred: the list pages (https://api-docs.amm-scalepad.com/users/list) name their parameters and say nothing of others; ignored under settings.unknown_query_parameters: ignore",
                );
                continue;
            }
            if pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(ActivityError::invalid_field(
                    format!("Query parameter '{name}' is given more than once"),
                    name,
                    None,
                ));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Query(pairs))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// One of `choices` (the first is the default when absent).
    pub fn choice(
        &self,
        name: &str,
        choices: &[&'static str],
    ) -> Result<&'static str, ActivityError> {
        let Some(value) = self.get(name) else {
            return Ok(choices.first().copied().unwrap_or_default());
        };
        choices
            .iter()
            .find(|c| **c == value)
            .copied()
            .ok_or_else(|| {
                ActivityError::invalid_field(
                    format!("{name} must be one of: {}", choices.join(", ")),
                    name,
                    Some(json!(value)),
                )
            })
    }

    /// `page_size`: an integer from 1 to 500, default 100.
    pub fn page_size(&self) -> Result<usize, ActivityError> {
        let Some(raw) = self.get("page_size") else {
            return Ok(DEFAULT_PAGE_SIZE);
        };
        match raw.parse::<usize>() {
            Ok(n)
                if (1..=MAX_PAGE_SIZE).contains(&n) && raw.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Ok(n)
            }
            _ => Err(ActivityError::invalid_field(
                format!("page_size must be an integer between 1 and {MAX_PAGE_SIZE}"),
                "page_size",
                Some(json!(raw)),
            )),
        }
    }

    /// `sort_order`: `asc` (default) or `desc`.
    pub fn order(&self) -> Result<Order, ActivityError> {
        Ok(match self.choice("sort_order", &["asc", "desc"])? {
            "desc" => Order::Desc,
            _ => Order::Asc,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    Asc,
    Desc,
}

/// What a list is sorted by; ties are broken by id, so the order is total.
/// A listed item's key borrows from the item where it can (see
/// [`lowercase`]); a cursor's owns its text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(super) enum SortKey<'a> {
    /// Text compared case-insensitively (the lower-cased form).
    Text(Cow<'a, str>),
    /// An instant in nanoseconds since 1970; `None` (never) sorts first.
    Time(Option<i128>),
    Count(u64),
}

impl SortKey<'_> {
    /// The key with its text owned (for a cursor).
    fn into_owned(self) -> SortKey<'static> {
        match self {
            SortKey::Text(text) => SortKey::Text(Cow::Owned(text.into_owned())),
            SortKey::Time(at) => SortKey::Time(at),
            SortKey::Count(n) => SortKey::Count(n),
        }
    }
}

/// One listed item with its place in the order.
pub(super) struct Keyed<'a, T> {
    pub key: SortKey<'a>,
    /// Lower-cased id: the tie-breaker.
    pub id: Cow<'a, str>,
    pub item: T,
}

/// `text` lower-cased, as a sort key compares it: borrowed when it is
/// already (plain ASCII with no capital, as most names and ids are), so a
/// list does not copy every name to sort it.
pub(super) fn lowercase(text: &str) -> Cow<'_, str> {
    if text.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

/// Where a page starts: just after this key and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Position {
    #[serde(rename = "k")]
    key: SortKey<'static>,
    #[serde(rename = "i")]
    id: String,
    /// The fingerprint of the query the cursor was issued for.
    #[serde(rename = "q")]
    query: u64,
}

/// One page of a list, as the vendor answers it.
pub(super) struct Page<T> {
    pub items: Vec<T>,
    pub total_count: usize,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `{data, total_count, next_cursor}` with each item rendered as it is
    /// written: serialised straight into the answer, without a JSON tree
    /// per item (a page of 100 users was 1,300 allocations that way).
    pub fn render<'a, V: Serialize>(
        &'a self,
        item: impl Fn(&'a T) -> V + 'a,
    ) -> impl Serialize + 'a {
        Rendered { page: self, item }
    }
}

/// A [`Page`] as it serialises.
struct Rendered<'a, T, F> {
    page: &'a Page<T>,
    item: F,
}

impl<'a, T, V: Serialize, F: Fn(&'a T) -> V> Serialize for Rendered<'a, T, F> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Items<'a, 'f, T, F> {
            items: &'a [T],
            item: &'f F,
        }
        impl<'a, T, V: Serialize, F: Fn(&'a T) -> V> Serialize for Items<'a, '_, T, F> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.items.iter().map(self.item))
            }
        }
        let mut page = serializer.serialize_struct("Page", 3)?;
        page.serialize_field(
            "data",
            &Items {
                items: &self.page.items,
                item: &self.item,
            },
        )?;
        page.serialize_field("total_count", &self.page.total_count)?;
        page.serialize_field("next_cursor", &self.page.next_cursor)?;
        page.end()
    }
}

/// The page of `items` (already filtered) after `after`, sorted by
/// (key, id) in `order`. `fingerprint` identifies the query.
pub(super) fn page<T>(
    mut items: Vec<Keyed<'_, T>>,
    order: Order,
    page_size: usize,
    after: Option<&Position>,
    fingerprint: u64,
) -> Page<T> {
    let total_count = items.len();
    items.sort_by(|a, b| (&a.key, &a.id).cmp(&(&b.key, &b.id)));
    if order == Order::Desc {
        items.reverse();
    }
    let rest: Vec<Keyed<'_, T>> = items
        .into_iter()
        .filter(|k| match after {
            None => true,
            Some(p) => {
                let place = (&k.key, k.id.as_ref()).cmp(&(&p.key, p.id.as_str()));
                match order {
                    Order::Asc => place.is_gt(),
                    Order::Desc => place.is_lt(),
                }
            }
        })
        .collect();
    let more = rest.len() > page_size;
    let served: Vec<Keyed<'_, T>> = rest.into_iter().take(page_size).collect();
    let next_cursor = match served.last() {
        Some(last) if more => Some(encode(&Position {
            key: last.key.clone().into_owned(),
            id: last.id.clone().into_owned(),
            query: fingerprint,
        })),
        _ => None,
    };
    Page {
        items: served.into_iter().map(|k| k.item).collect(),
        total_count,
        next_cursor,
    }
}

/// The query's fingerprint: everything that decides which records are
/// listed and in what order (not the page size, which may change).
pub(super) fn fingerprint(parts: &[&str]) -> u64 {
    let mut bytes = Vec::new();
    for part in parts {
        bytes.extend_from_slice(part.as_bytes());
        bytes.push(0);
    }
    fnv1a(&[&bytes])
}

/// The cursor given with the request, checked: it must be one this server
/// issued (checksum) for this very query (fingerprint). An empty `cursor=`
/// is the first page.
pub(super) fn cursor(query: &Query, fingerprint: u64) -> Result<Option<Position>, ActivityError> {
    let Some(raw) = query.get("cursor").filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let position = decode(raw)
        .ok_or_else(|| ActivityError::invalid_field("Invalid cursor", "cursor", None))?;
    if position.query != fingerprint {
        return Err(ActivityError::invalid_field(
            "The cursor was issued for a different query",
            "cursor",
            None,
        ));
    }
    Ok(Some(position))
}

fn encode(position: &Position) -> String {
    let payload = serde_json::to_vec(position).unwrap_or_default();
    let tag = fnv1a(&[CURSOR_KEY, &payload]);
    let mut bytes = payload;
    bytes.extend_from_slice(&tag.to_be_bytes());
    base64url(&bytes)
}

fn decode(text: &str) -> Option<Position> {
    if text.len() > MAX_CURSOR_LEN {
        return None;
    }
    let bytes = unbase64url(text)?;
    let split = bytes.len().checked_sub(8)?;
    let (payload, tag) = bytes.split_at(split);
    let tag = u64::from_be_bytes(tag.try_into().ok()?);
    if tag != fnv1a(&[CURSOR_KEY, payload]) {
        return None;
    }
    serde_json::from_slice(payload).ok()
}

/// FNV-1a, 64 bits, over the concatenated parts: stable across builds and
/// platforms, so cursors do not change with the compiler.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in *part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding (RFC 4648 §5).
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().saturating_mul(4) / 3 + 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextets = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for s in sextets.iter().take(chunk.len() + 1) {
            out.push(char::from(ALPHABET[*s as usize]));
        }
    }
    out
}

fn unbase64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len().saturating_mul(3) / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)?;
        acc = (acc << 6) | u32::try_from(v).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
        acc &= (1 << bits) - 1;
    }
    // Leftover bits must be zero padding of the last byte (canonical form).
    (acc == 0 && bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_every_length() {
        for len in 0..20u8 {
            let bytes: Vec<u8> = (0..len).map(|b| b.wrapping_mul(37)).collect();
            assert_eq!(unbase64url(&base64url(&bytes)), Some(bytes));
        }
    }

    #[test]
    fn a_cursor_with_any_character_changed_is_refused() {
        let position = Position {
            key: SortKey::Text(Cow::Borrowed("mike")),
            id: "a1".into(),
            query: 7,
        };
        let token = encode(&position);
        assert_eq!(decode(&token), Some(position));
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(bytes).unwrap_or_default();
            assert_eq!(decode(&forged), None, "{forged}");
        }
    }
}
