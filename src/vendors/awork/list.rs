//! `GET /users`: paging (`page`, `pageSize`; `aw-*` headers, bare array),
//! `showArchived`, `filterby` and `orderby` (developers.awork.com
//! pagination, filtering and ordering pages; the spec's `GetUsers`).


use std::cmp::Ordering;

use bytes::Bytes;
use hyper::StatusCode;

use super::error::{AworkError, PropertyError};
use super::filter::{self, compare, property_name, property_value};
use super::fixture::MAX_PAGE_SIZE;
use super::user::User;
use super::Awork;
use crate::http::Reply;
use crate::store::{BrokenRecord, Shown};
use crate::vendors::{Api, Request};

/// The values of query parameter `name` (matched case-insensitively, as
/// ASP.NET binds them), decoded.
pub(super) fn query_values(request: &Request<'_>, name: &str) -> Vec<String> {
    let query = request.call.query.as_deref().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.into_owned())
        .collect()
}

/// The query parameters of the spec's `GetUsers`.
pub(super) const LIST_PARAMETERS: &[&str] =
    &["showArchived", "page", "pageSize", "orderby", "filterby"];

/// The note rule of a query parameter the route's spec does not have.
pub(super) const NOTE_UNKNOWN_PARAMETER: &str = "awork-unknown-query-parameter";

/// Notes every query parameter not in `known` (matched as ASP.NET binds
/// them, case-insensitively): awork's model binding ignores them, and so
/// does usermock, but a client sending one probably meant something.
pub(super) fn note_unknown_parameters(request: &Request<'_>, known: &[&str]) {
    let query = request.call.query.as_deref().unwrap_or_default();
    let mut seen: Vec<String> = Vec::new();
    for (key, _) in form_urlencoded::parse(query.as_bytes()) {
        if known.iter().any(|k| k.eq_ignore_ascii_case(&key)) || seen.contains(&key.to_string()) {
            continue;
        }
        seen.push(key.to_string());
        request.note(
            NOTE_UNKNOWN_PARAMETER,
            format!("the query parameter '{key}' is not one of this route's and was ignored"),
            "inferred: awork's OpenAPI document lists the route's parameters; ASP.NET ignores others",
        );
    }
}

/// One value of a parameter at most; twice is a 400 rather than a guess.
fn single(request: &Request<'_>, name: &str, property: &str) -> Result<Option<String>, AworkError> {
    let mut values = query_values(request, name);
    match values.len() {
        0 => Ok(None),
        1 => Ok(values.pop()),
        _ => Err(AworkError::ValidationFailed(vec![PropertyError::new(
            property,
            format!("'{property}' was given {} times.", values.len()),
        )])),
    }
}

fn number(
    request: &Request<'_>,
    name: &str,
    property: &str,
    max: u32,
) -> Result<Option<u32>, AworkError> {
    let Some(text) = single(request, name, property)? else {
        return Ok(None);
    };
    match text.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
        _ => Err(AworkError::ValidationFailed(vec![PropertyError::new(
            property,
            format!("The value '{text}' is not valid for {property}: use a whole number from 1 to {max}."),
        )])),
    }
}

/// One `orderby` key.
#[derive(Debug, Clone, Copy)]
struct SortKey {
    property: &'static str,
    descending: bool,
}

/// `LastName asc`, `LastName,FirstName desc` (each key's own direction,
/// `asc` by default; no spaces around `,`).
fn parse_order(text: &str) -> Result<Vec<SortKey>, AworkError> {
    let invalid = |detail: String| AworkError::InvalidFilterOrOrder { detail };
    text.split(',')
        .map(|item| {
            if item.trim() != item || item.is_empty() {
                return Err(invalid(format!(
                    "'{text}' is not a sort statement: no spaces around ',' and no empty keys."
                )));
            }
            let mut words = item.split(' ').filter(|w| !w.is_empty());
            let name = words.next().unwrap_or_default();
            let descending = match (words.next(), words.next()) {
                (None, _) | (Some("asc"), None) => false,
                (Some("desc"), None) => true,
                _ => {
                    return Err(invalid(format!(
                        "'{item}' is not a sort key: use 'Property asc' or 'Property desc'."
                    )))
                }
            };
            let property = property_name(name)
                .ok_or_else(|| invalid(format!("'{name}' is not a sortable property of users.")))?;
            Ok(SortKey {
                property,
                descending,
            })
        })
        .collect()
}

/// Ordered by the keys, then by `createdOn` and `id` (inferred), so that
/// every order is total and pages never overlap.
/// The users' texts as one JSON array (what serde_json writes for the
/// users themselves).
fn json_array(users: &[Shown<User>]) -> Result<Bytes, BrokenRecord> {
    let size = users.iter().fold(2usize, |sum, user| {
        sum.saturating_add(user.text_len()).saturating_add(1)
    });
    let mut out = Vec::with_capacity(size);
    out.push(b'[');
    for (i, user) in users.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&user.text()?);
    }
    out.push(b']');
    Ok(Bytes::from(out))
}

fn sort(users: &mut [Shown<User>], keys: &[SortKey]) {
    users.sort_by(|Shown { record: a, .. }, Shown { record: b, .. }| {
        keys.iter()
            .map(|key| {
                let order = compare(
                    &property_value(a, key.property),
                    &property_value(b, key.property),
                );
                if key.descending {
                    order.reverse()
                } else {
                    order
                }
            })
            .find(|o| *o != Ordering::Equal)
            .unwrap_or_else(|| {
                a.created_on
                    .cmp(&b.created_on)
                    .then_with(|| a.id.to_ascii_lowercase().cmp(&b.id.to_ascii_lowercase()))
            })
    });
}

impl Awork {
    pub(super) fn list_users_now(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        let caller = self.authenticate(request)?;
        let page = number(request, "page", "Page", u32::MAX)?.unwrap_or(1);
        let page_size = number(request, "pageSize", "PageSize", MAX_PAGE_SIZE)?
            .unwrap_or(self.world.default_page_size);
        let show_archived = bool_query(request, "showArchived", "ShowArchived")?.unwrap_or(false);
        // An empty `filterby=` or `orderby=` binds as no value (inferred).
        let filter = single(request, "filterby", "FilterBy")?
            .filter(|text| !text.is_empty())
            .map(|text| filter::parse(&text, request.now()))
            .transpose()?;
        if let Some(filter) = &filter {
            for (rule, message) in &filter.loose {
                request.note(rule, message.clone(), filter::NOTE_SOURCE);
            }
        }
        let order = single(request, "orderby", "OrderBy")?
            .filter(|text| !text.is_empty())
            .map(|text| parse_order(&text))
            .transpose()?
            .unwrap_or_default();

        // Filtered and sorted as the typed users; the page's users are
        // written as their JSON as stored (serialised once, then kept).
        let mut users: Vec<Shown<User>> = request.state.all_shown(Awork::NAME);
        users.retain(|s| !s.record.is_deleted() && (show_archived || !s.record.is_archived));
        // "Returns all users if the user has read permissions on the
        // feature user-master-data, otherwise returns only his own user."
        if !caller.may_read_master_data() {
            users.retain(|s| s.record.id.eq_ignore_ascii_case(&caller.user_id));
        }
        if let Some(filter) = &filter {
            users.retain(|s| filter.matches(&s.record, &caller.user_id));
        }
        sort(&mut users, &order);

        let total = users.len();
        let skip = usize::try_from(u64::from(page - 1).saturating_mul(u64::from(page_size)))
            .unwrap_or(usize::MAX);
        let page_users: Vec<Shown<User>> = users
            .into_iter()
            .skip(skip)
            .take(usize::try_from(page_size).unwrap_or(usize::MAX))
            .collect();
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let headers = [
            ("aw-page", u64::from(page)),
            ("aw-pagesize", u64::from(page_size)),
            ("aw-items", count(page_users.len())),
            ("aw-totalitems", count(total)),
        ];
        Ok(Reply::json_text(StatusCode::OK, json_array(&page_users)?).with_number_headers(&headers))
    }
}

/// A boolean query parameter as ASP.NET binds it (`true`/`false`, any
/// case); anything else, or the parameter twice, is awork's 400.
pub(super) fn bool_query(
    request: &Request<'_>,
    name: &str,
    property: &str,
) -> Result<Option<bool>, AworkError> {
    let values = query_values(request, name);
    match values.as_slice() {
        [] => Ok(None),
        [one] if one.eq_ignore_ascii_case("true") => Ok(Some(true)),
        [one] if one.eq_ignore_ascii_case("false") => Ok(Some(false)),
        _ => Err(AworkError::ValidationFailed(vec![PropertyError::new(
            property,
            format!(
                "The value '{}' is not valid for {property}.",
                values.join(",")
            ),
        )])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The array of stored texts is what serde_json writes for the users.
    #[test]
    fn the_users_texts_make_the_array_serde_json_writes() {
        let text = include_str!("../../../fixtures/awork.json");
        let fixture: serde_json::Value = serde_json::from_str(text).expect("fixture");
        let users: Vec<User> =
            serde_json::from_value(fixture["users"].clone()).expect("the fixture's users");
        assert!(users.len() > 2);
        for count in [0, 1, users.len()] {
            let some = &users[..count];
            let shown: Vec<Shown<User>> = some
                .iter()
                .map(Shown::stored)
                .collect();
            let expected = serde_json::to_vec(some).expect("written");
            assert_eq!(json_array(&shown).expect("written"), expected);
        }
    }

    #[test]
    fn sort_statements_follow_the_ordering_guide() {
        let keys = parse_order("LastName,FirstName desc").expect("valid");
        assert_eq!(
            keys.iter()
                .map(|k| (k.property, k.descending))
                .collect::<Vec<_>>(),
            [("lastName", false), ("firstName", true)]
        );
        for bad in [
            "LastName, FirstName",
            "LastName ,FirstName",
            "",
            "LastName up",
            "Nickname",
            "LastName,",
        ] {
            assert!(parse_order(bad).is_err(), "{bad}");
        }
    }
}
