//! The query language of Relesys' list endpoints (concepts pages
//! "Filtering" and "Pagination", `GET /users` and `GET /userGroups`):
//!
//! - `prop=value` (equals) and `prop[ne|lt|lte|gt|gte]=value` on the
//!   resource's filterable properties, all combined with AND;
//! - `sort=a,b`: comma-separated sortable properties; a leading `-` sorts
//!   that property descending (inferred: the docs give no syntax);
//! - `offset` (default 0), `limit` (default 200, 1–1000), `cursor`.
//!
//! An unknown parameter, property, operator or value is a 400, never an
//! unfiltered list. Names match case-insensitively, as .NET binds query
//! parameters; text compares case-insensitively (inferred, as SQL Server's
//! default collation does); `null` as a value means a missing value.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;
use time::OffsetDateTime;

use super::dates;
use super::error::RelesysError;
use crate::vendors::{is_hyphenated_uuid, lowercase_id};

pub(super) const DEFAULT_LIMIT: usize = 200;
pub(super) const MAX_LIMIT: usize = 1000;

/// How a property's values read and compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Date,
    Guid,
    /// One of a fixed set of names (the user's `status`).
    Choice(&'static [&'static str]),
}

#[derive(Debug)]
pub(super) struct Property {
    pub name: &'static str,
    pub kind: Kind,
    pub sortable: bool,
}

const fn prop(name: &'static str, kind: Kind, sortable: bool) -> Property {
    Property {
        name,
        kind,
        sortable,
    }
}

/// A list endpoint: what it is called in messages, its path and its
/// properties. Records are tried in `default_sort` order, then by `id`.
#[derive(Debug)]
pub(super) struct Resource {
    pub plural: &'static str,
    pub path: &'static str,
    pub properties: &'static [Property],
    pub default_sort: &'static str,
}

use Kind::{Date, Guid, Text};

const STATUSES: &[&str] = &["Activated", "Disabled", "Pending", "LoginBlocked"];

pub(super) const USERS: Resource = Resource {
    plural: "users",
    path: "/api/v1.3/users",
    properties: &[
        prop("birthDate", Date, true),
        prop("creationDateTime", Date, true),
        prop("dataSource", Text, true),
        prop("email", Text, true),
        prop("employmentDate", Date, true),
        prop("employmentEndDate", Date, true),
        prop("externalId", Text, true),
        prop("lastModifiedDateTime", Date, true),
        prop("name", Text, true),
        prop("secondaryEmail", Text, true),
        prop("status", Kind::Choice(STATUSES), true),
        prop("title", Text, true),
        prop("userName", Text, true),
        prop("id", Guid, false),
        prop("primaryDepartmentId", Guid, false),
    ],
    default_sort: "creationDateTime",
};

pub(super) const USER_GROUPS: Resource = Resource {
    plural: "user groups",
    path: "/api/v1.3/userGroups",
    properties: &[
        prop("creationDateTime", Date, true),
        prop("description", Text, true),
        prop("externalId", Text, true),
        prop("lastModifiedDateTime", Date, true),
        prop("name", Text, true),
        prop("id", Guid, false),
    ],
    default_sort: "creationDateTime",
};

/// Inferred from the filtering page's department example and the object.
pub(super) const DEPARTMENTS: Resource = Resource {
    plural: "departments",
    path: "/api/v1.3/departments",
    properties: &[
        prop("creationDateTime", Date, true),
        prop("externalId", Text, true),
        prop("lastModifiedDateTime", Date, true),
        prop("name", Text, true),
        prop("type", Text, true),
        prop("id", Guid, false),
        prop("parentId", Guid, false),
    ],
    default_sort: "creationDateTime",
};

/// Inferred from the custom-field object `{id, externalId, name, type}`.
pub(super) const CUSTOM_FIELDS: Resource = Resource {
    plural: "custom fields",
    path: "/api/v1.3/customfields/users",
    properties: &[
        prop("externalId", Text, true),
        prop("name", Text, true),
        prop("type", Text, true),
        prop("id", Guid, false),
    ],
    default_sort: "name",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Null,
    /// Lower-cased text, GUID or choice.
    Text(String),
    Date(OffsetDateTime),
}

#[derive(Debug, Clone)]
struct Filter {
    property: &'static Property,
    op: Op,
    operand: Operand,
}

#[derive(Debug, Clone)]
struct SortKey {
    property: &'static Property,
    descending: bool,
}

/// The filters and sort of a list request: what a cursor keeps.
#[derive(Debug, Clone)]
pub(super) struct Selection {
    resource: &'static Resource,
    filters: Vec<Filter>,
    sort: Vec<SortKey>,
}

impl Selection {
    /// About how many bytes it holds, for the cursor store's byte bound.
    pub fn weight(&self) -> usize {
        let filters = self.filters.iter().fold(0usize, |sum, f| {
            let text = match &f.operand {
                Operand::Text(text) => text.len(),
                Operand::Null | Operand::Date(_) => 0,
            };
            sum.saturating_add(64).saturating_add(text)
        });
        filters
            .saturating_add(self.sort.len().saturating_mul(16))
            .saturating_add(64)
    }
}

/// A parsed list request.
#[derive(Debug)]
pub(super) struct ListQuery {
    /// `None` when the request names a cursor, which carries them.
    pub selection: Option<Selection>,
    pub offset: usize,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

fn invalid(message: String) -> RelesysError {
    RelesysError::Invalid(message)
}

/// Reads the query string of a list request on `resource`.
pub(super) fn parse(
    resource: &'static Resource,
    query: Option<&str>,
) -> Result<ListQuery, RelesysError> {
    let mut selection = Selection {
        resource,
        filters: Vec::new(),
        sort: Vec::new(),
    };
    let (mut offset, mut limit, mut cursor, mut sort) = (None, None, None, None);
    let mut has_filters = false;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let once = |slot: &mut Option<String>| match slot.replace(value.to_string()) {
            None => Ok(()),
            Some(_) => Err(invalid(format!(
                "The query parameter '{key}' is given twice"
            ))),
        };
        match key.to_ascii_lowercase().as_str() {
            "offset" => once(&mut offset)?,
            "limit" => once(&mut limit)?,
            "cursor" => once(&mut cursor)?,
            "sort" => once(&mut sort)?,
            _ => {
                has_filters = true;
                selection.filters.push(filter(resource, &key, &value)?);
            }
        }
    }
    if cursor.is_some() && (has_filters || sort.is_some() || offset.is_some()) {
        return Err(invalid(
            "A cursor carries its own filters, sort and position: send only 'cursor' and 'limit'"
                .to_owned(),
        ));
    }
    if let Some(sort) = &sort {
        selection.sort = sort_keys(resource, sort)?;
    }
    let offset = match offset {
        Some(text) => number("offset", &text, 0, usize::MAX)?,
        None => 0,
    };
    let limit = limit
        .map(|text| number("limit", &text, 1, MAX_LIMIT))
        .transpose()?;
    Ok(ListQuery {
        selection: cursor.is_none().then_some(selection),
        offset,
        limit,
        cursor,
    })
}

fn number(name: &str, text: &str, min: usize, max: usize) -> Result<usize, RelesysError> {
    text.parse::<usize>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            invalid(format!(
                "The query parameter '{name}' must be a whole number from {min} to {max}, not '{text}'"
            ))
        })
}

fn property(resource: &'static Resource, name: &str) -> Result<&'static Property, RelesysError> {
    resource
        .properties
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            invalid(format!(
                "'{name}' is not a filterable property of {}",
                resource.plural
            ))
        })
}

fn filter(resource: &'static Resource, key: &str, value: &str) -> Result<Filter, RelesysError> {
    let (name, op) = match key.split_once('[') {
        None => (key, Op::Eq),
        Some((name, rest)) => {
            let op = match rest
                .strip_suffix(']')
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("eq") => Op::Eq,
                Some("ne") => Op::Ne,
                Some("lt") => Op::Lt,
                Some("lte") => Op::Lte,
                Some("gt") => Op::Gt,
                Some("gte") => Op::Gte,
                _ => {
                    return Err(invalid(format!(
                        "'{key}': the filter operator must be one of [ne], [lt], [lte], [gt], [gte]"
                    )))
                }
            };
            (name, op)
        }
    };
    let property = property(resource, name)?;
    let ordered = matches!(op, Op::Lt | Op::Lte | Op::Gt | Op::Gte);
    if ordered && matches!(property.kind, Guid | Kind::Choice(_)) {
        return Err(invalid(format!(
            "'{key}': '{}' can only be compared with equals or [ne]",
            property.name
        )));
    }
    let operand = operand(property, key, value, ordered)?;
    Ok(Filter {
        property,
        op,
        operand,
    })
}

fn operand(
    property: &Property,
    key: &str,
    value: &str,
    ordered: bool,
) -> Result<Operand, RelesysError> {
    if value == "null" {
        return if ordered {
            Err(invalid(format!("'{key}': null cannot be ordered")))
        } else {
            Ok(Operand::Null)
        };
    }
    let wrong = |what: &str| invalid(format!("'{key}': '{value}' is not {what}"));
    match property.kind {
        Text => Ok(Operand::Text(value.to_lowercase())),
        Date => dates::parse(value)
            .map(Operand::Date)
            .ok_or_else(|| wrong("a date")),
        Guid if is_hyphenated_uuid(value) => Ok(Operand::Text(value.to_ascii_lowercase())),
        Guid => Err(wrong("a GUID")),
        Kind::Choice(names) => names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(value))
            .map(|n| Operand::Text(n.to_ascii_lowercase()))
            .ok_or_else(|| wrong(&format!("one of {}", names.join(", ")))),
    }
}

fn sort_keys(resource: &'static Resource, text: &str) -> Result<Vec<SortKey>, RelesysError> {
    text.split(',')
        .map(|part| {
            let part = part.trim();
            let (descending, name) = match part.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, part),
            };
            let property = resource
                .properties
                .iter()
                .find(|p| p.sortable && p.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    invalid(format!(
                        "'{part}' is not a sortable property of {}",
                        resource.plural
                    ))
                })?;
            Ok(SortKey {
                property,
                descending,
            })
        })
        .collect()
}

impl Selection {
    pub fn resource(&self) -> &'static Resource {
        self.resource
    }

    /// The records that pass every filter, in the requested order. Each
    /// record's sort keys are read once (a date parsed, a text lowered),
    /// not again at every comparison.
    pub fn apply<T: Listed>(&self, records: Vec<T>) -> Vec<T> {
        let default = self
            .resource
            .properties
            .iter()
            .find(|p| p.name == self.resource.default_sort)
            .map(|p| (p, false));
        let keys: Vec<(&Property, bool)> = self
            .sort
            .iter()
            .map(|k| (k.property, k.descending))
            .chain(default)
            .collect();
        let kept: Vec<T> = records
            .into_iter()
            .filter(|r| self.filters.iter().all(|f| f.accepts(r)))
            .collect();
        // Record i's keys are values[i * keys.len()..][..keys.len()].
        let mut values = Vec::with_capacity(kept.len().saturating_mul(keys.len()));
        for record in &kept {
            values.extend(keys.iter().map(|(p, _)| value_of(p, record)));
        }
        let ids: Vec<Cow<'_, str>> = kept
            .iter()
            .map(|r| lowercase_id(r.text("id").unwrap_or_default()))
            .collect();
        let of = |i: usize| values.iter().skip(i.saturating_mul(keys.len()));
        let mut sorted: Vec<usize> = (0..kept.len()).collect();
        sorted.sort_by(|&a, &b| {
            for ((x, y), (_, descending)) in of(a).zip(of(b)).zip(&keys) {
                let order = order(x, y);
                let order = if *descending { order.reverse() } else { order };
                if order != Ordering::Equal {
                    return order;
                }
            }
            ids.get(a).cmp(&ids.get(b))
        });
        drop(ids);
        let mut slots: Vec<Option<T>> = kept.into_iter().map(Some).collect();
        sorted
            .into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take))
            .collect()
    }
}

/// A record the list routes filter and sort, read as its JSON has it: the
/// text of a string member, `None` for a member that is missing, `null` or
/// not a string. The typed records answer without being written out as
/// JSON first; a test holds each to the answer its JSON gives.
pub(super) trait Listed {
    fn text(&self, member: &str) -> Option<&str>;
}

impl Listed for Value {
    fn text(&self, member: &str) -> Option<&str> {
        self.get(member).and_then(Value::as_str)
    }
}

impl<T: Listed> Listed for std::sync::Arc<T> {
    fn text(&self, member: &str) -> Option<&str> {
        T::text(self, member)
    }
}

/// A record's value of `property`, as an operand.
fn value_of(property: &Property, record: &impl Listed) -> Operand {
    match record.text(property.name) {
        None => Operand::Null,
        Some(text) => match property.kind {
            Date => dates::parse(text).map_or(Operand::Null, Operand::Date),
            _ => Operand::Text(text.to_lowercase()),
        },
    }
}

/// Missing values sort first, as SQL Server's `NULL`s do.
fn order(a: &Operand, b: &Operand) -> Ordering {
    match (a, b) {
        (Operand::Null, Operand::Null) => Ordering::Equal,
        (Operand::Null, _) => Ordering::Less,
        (_, Operand::Null) => Ordering::Greater,
        (Operand::Text(x), Operand::Text(y)) => x.cmp(y),
        (Operand::Date(x), Operand::Date(y)) => x.cmp(y),
        (Operand::Text(_), Operand::Date(_)) => Ordering::Less,
        (Operand::Date(_), Operand::Text(_)) => Ordering::Greater,
    }
}

impl Filter {
    fn accepts(&self, record: &impl Listed) -> bool {
        let have = value_of(self.property, record);
        match (&have, &self.operand, self.op) {
            (_, Operand::Null, Op::Eq) => have == Operand::Null,
            (_, Operand::Null, _) => have != Operand::Null,
            // A missing value differs from every value and orders with none.
            (Operand::Null, _, Op::Ne) => true,
            (Operand::Null, _, _) => false,
            (_, want, op) => {
                let order = order(&have, want);
                match op {
                    Op::Eq => order == Ordering::Equal,
                    Op::Ne => order != Ordering::Equal,
                    Op::Lt => order == Ordering::Less,
                    Op::Lte => order != Ordering::Greater,
                    Op::Gt => order == Ordering::Greater,
                    Op::Gte => order != Ordering::Less,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::RelesysFixture;
    use super::super::user::{User, MEMBERS};
    use super::*;

    fn fixture_users() -> Vec<User> {
        let text = include_str!("../../../fixtures/relesys.json");
        let fixture: RelesysFixture = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        fixture.users
    }

    /// A user with every optional member set, and one with none set.
    fn extremes() -> Vec<User> {
        let full = serde_json::json!({
            "id": "6CD99267-5adf-462d-88a2-6f86b7b2a164", "url": "u", "departmentUrl": "d",
            "status": "LoginBlocked", "creationDateTime": "2026-03-31T11:00:26.7209011Z",
            "lastModifiedDateTime": "2026-04-01T11:00:26Z", "externalId": "e", "name": "N",
            "userName": "un", "title": "t", "dataSource": "ds", "email": "a@b.c",
            "secondaryEmail": "c@d.e", "phoneNumber": {"countryCode": 45, "number": "1"},
            "secondaryPhoneNumber": {"countryCode": 46, "number": "2"},
            "birthDate": "2002-12-30T00:00:00Z",
            "primaryDepartmentId": "5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5",
            "additionalDepartments": [], "userGroups": [],
            "employmentDate": "2020-01-01T00:00:00Z", "employmentEndDate": "2021-01-01T00:00:00Z",
            "customFields": {"k": "v"}, "employmentType": "Full-time",
        });
        let bare = serde_json::json!({
            "id": "0a000000-0000-4000-8000-000000000000", "status": "Pending",
            "creationDateTime": "2026-01-01T00:00:00Z",
            "lastModifiedDateTime": "2026-01-01T00:00:00Z", "name": "",
            "primaryDepartmentId": "5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5",
        });
        [full, bare]
            .into_iter()
            .map(|v| serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    #[test]
    fn a_typed_user_reads_each_member_as_its_json_does() {
        let mut users = fixture_users();
        users.extend(extremes());
        for user in &users {
            let json = serde_json::to_value(user).unwrap_or_else(|e| panic!("{e}"));
            for member in MEMBERS.iter().copied().chain(["Name", "nickname", ""]) {
                assert_eq!(user.text(member), json.text(member), "{member} of {}", user.id);
            }
        }
        for status in ["Activated", "Disabled", "Pending", "LoginBlocked"] {
            let read: super::super::user::Status =
                serde_json::from_value(Value::from(status)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(read.as_str(), status);
        }
    }

    /// Every filterable property, each with a filter and as the sort, both
    /// ways: the typed users and their JSON come out the same and in the
    /// same order.
    #[test]
    fn typed_users_filter_and_sort_as_their_json_does() {
        static RESOURCE: Resource = USERS;
        let mut users = fixture_users();
        users.extend(extremes());
        let values: Vec<Value> = users
            .iter()
            .map(|u| serde_json::to_value(u).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        let mut queries = vec![String::new()];
        for p in RESOURCE.properties {
            let operand = match p.kind {
                Date => "2026-03-31T11:00:26Z",
                Guid => "5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5",
                Text => "m",
                Kind::Choice(_) => "Activated",
            };
            queries.push(format!("{}[ne]=null", p.name));
            queries.push(format!("{}={operand}", p.name));
            if p.sortable {
                queries.push(format!("sort={}", p.name));
                queries.push(format!("sort=-{},name", p.name));
                if !matches!(p.kind, Kind::Choice(_)) {
                    queries.push(format!("{}[gte]={operand}&sort=-{}", p.name, p.name));
                }
            }
        }
        for query in &queries {
            let selection = parse(&RESOURCE, Some(query))
                .unwrap_or_else(|e| panic!("{query}: {e:?}"))
                .selection
                .unwrap_or_else(|| panic!("{query}: no selection"));
            let typed: Vec<Value> = selection
                .apply(users.clone())
                .iter()
                .map(|u| serde_json::to_value(u).unwrap_or_else(|e| panic!("{e}")))
                .collect();
            assert_eq!(typed, selection.apply(values.clone()), "{query}");
        }
        assert!(queries.len() > 50);
    }
}
