//! awork's `filterby` language on the user list, as its filtering guide
//! documents it (developers.awork.com/filtering): `eq ne gt lt ge le`,
//! `and or not`, parentheses, `startswith`, `endswith`, `substringof`,
//! `tolower`, `in (…)`, `any(x: …)` and `count()` / `count(x: …)` over a
//! user's collections (`teams`, `tags`, `userContactInfos`), `me.id`, the
//! date keywords `now`, `today`, `today±Nd`, `sow`, `eow`, `som`, `eom` (on
//! the request's clock), and the typed literals. Unknown properties and
//! type mismatches are awork's `invalid-filter-or-order`, never an
//! unfiltered list.
//!
//! Matching is bounded: the text has at most [`parse::MAX_TOKENS`] tokens,
//! nesting is at most [`parse::MAX_DEPTH`] deep (`and`/`or` chains are flat
//! lists, not nesting), and lambdas do not nest, so one user costs at most
//! tokens × collection items.

mod parse;

use std::cmp::Ordering;

use serde_json::Value;
use time::{Date, Duration, OffsetDateTime, Time};

use super::error::AworkError;
use super::user::User;
use crate::timestamps;

/// A value a property or literal has.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    Null,
    Bool(bool),
    Str(String),
    Num(f64),
    Time(OffsetDateTime),
    /// A whole UTC calendar day (`today`, `today-30d`): compared with a
    /// datetime as the interval from its midnight to the next.
    Day(Date),
    /// Lower-cased.
    Guid(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ty {
    Null,
    Bool,
    Str,
    Num,
    Time,
    Guid,
}

/// The user properties `filterby` and `orderby` know (`status/…` nested),
/// by lower-cased name: the canonical name and the type.
const PROPERTIES: &[(&str, Ty)] = &[
    ("firstName", Ty::Str),
    ("lastName", Ty::Str),
    ("birthDate", Ty::Time),
    ("gender", Ty::Str),
    ("title", Ty::Str),
    ("position", Ty::Str),
    ("language", Ty::Str),
    ("id", Ty::Guid),
    ("createdOn", Ty::Time),
    ("createdBy", Ty::Guid),
    ("updatedOn", Ty::Time),
    ("updatedBy", Ty::Guid),
    ("isArchived", Ty::Bool),
    ("isDeactivated", Ty::Bool),
    ("isAgent", Ty::Bool),
    ("deactivatedOn", Ty::Time),
    ("hasImage", Ty::Bool),
    ("shouldMigrateToConnect", Ty::Bool),
    ("resourceVersion", Ty::Num),
    ("isExternal", Ty::Bool),
    ("status/invitationAccepted", Ty::Bool),
    ("status/isDeactivated", Ty::Bool),
];

/// A collection of a user that `any` and `count` iterate, with the
/// properties of its items (the spec's `TeamModel`, `UserTagModel`,
/// `ContactInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Collection {
    Teams,
    Tags,
    ContactInfos,
}

impl Collection {
    const ALL: [(&'static str, Collection); 3] = [
        ("teams", Collection::Teams),
        ("tags", Collection::Tags),
        ("userContactInfos", Collection::ContactInfos),
    ];

    /// The collection called `name` (any case) and its spec spelling.
    fn named(name: &str) -> Option<(&'static str, Collection)> {
        Collection::ALL
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    fn properties(self) -> &'static [(&'static str, Ty)] {
        match self {
            Collection::Teams => &[
                ("id", Ty::Guid),
                ("name", Ty::Str),
                ("icon", Ty::Str),
                ("color", Ty::Str),
            ],
            Collection::Tags => &[("id", Ty::Guid), ("name", Ty::Str), ("color", Ty::Str)],
            Collection::ContactInfos => &[
                ("label", Ty::Str),
                ("value", Ty::Str),
                ("type", Ty::Str),
                ("subType", Ty::Str),
                ("addressLine1", Ty::Str),
                ("addressLine2", Ty::Str),
                ("zipCode", Ty::Str),
                ("city", Ty::Str),
                ("state", Ty::Str),
                ("country", Ty::Str),
                ("isAddress", Ty::Bool),
                ("id", Ty::Guid),
                ("createdOn", Ty::Time),
                ("createdBy", Ty::Guid),
                ("updatedOn", Ty::Time),
                ("updatedBy", Ty::Guid),
            ],
        }
    }

    /// An item property by name (any case): its spec spelling and type.
    fn property(self, name: &str) -> Option<(&'static str, Ty)> {
        self.properties()
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(name))
            .copied()
    }

    fn items(self, user: &User) -> &[Value] {
        match self {
            Collection::Teams => &user.teams,
            Collection::Tags => &user.tags,
            Collection::ContactInfos => &user.user_contact_infos,
        }
    }
}

/// The canonical name of a property, matched case-insensitively (the
/// guide writes `LastName` in `orderby` and `firstName` in `filterby`).
pub(super) fn property_name(name: &str) -> Option<&'static str> {
    PROPERTIES
        .iter()
        .find(|(p, _)| p.eq_ignore_ascii_case(name))
        .map(|(p, _)| *p)
}

fn property_type(name: &str) -> Ty {
    PROPERTIES
        .iter()
        .find(|(p, _)| *p == name)
        .map_or(Ty::Null, |(_, t)| *t)
}

/// The value of the canonical property `name` of `user`.
pub(super) fn property_value(user: &User, name: &str) -> Val {
    let text = |v: &Option<String>| v.clone().map_or(Val::Null, Val::Str);
    let time = |v: Option<super::user::Timestamp>| v.map_or(Val::Null, |t| Val::Time(t.0));
    let guid = |v: &str| Val::Guid(v.to_ascii_lowercase());
    match name {
        "firstName" => text(&user.first_name),
        "lastName" => text(&user.last_name),
        "birthDate" => time(user.birth_date),
        "gender" => text(&user.gender),
        "title" => text(&user.title),
        "position" => text(&user.position),
        "language" => text(&user.language),
        "id" => guid(&user.id),
        "createdOn" => Val::Time(user.created_on.0),
        "createdBy" => guid(&user.created_by),
        "updatedOn" => Val::Time(user.updated_on.0),
        "updatedBy" => guid(&user.updated_by),
        "isArchived" => Val::Bool(user.is_archived),
        "isDeactivated" => Val::Bool(user.is_deactivated),
        "isAgent" => Val::Bool(user.is_agent),
        "deactivatedOn" => time(user.deactivated_on),
        "hasImage" => Val::Bool(user.has_image),
        "shouldMigrateToConnect" => Val::Bool(user.should_migrate_to_connect),
        // Ticks fit a double's 53 bits only approximately; comparisons of
        // versions are by magnitude, which is what clients do with them.
        "resourceVersion" => Val::Num(user.resource_version as f64),
        "isExternal" => Val::Bool(user.is_external),
        "status/invitationAccepted" => Val::Bool(user.status.invitation_accepted),
        "status/isDeactivated" => Val::Bool(user.status.is_deactivated),
        _ => Val::Null,
    }
}

/// The value of an item's property, read as its declared type (anything
/// else the item holds there reads as `null`).
fn item_value(item: &Value, name: &str, ty: Ty) -> Val {
    let value = &item[name];
    match ty {
        Ty::Bool => value.as_bool().map_or(Val::Null, Val::Bool),
        Ty::Str => value.as_str().map_or(Val::Null, |s| Val::Str(s.to_owned())),
        Ty::Guid => value
            .as_str()
            .map_or(Val::Null, |s| Val::Guid(s.to_ascii_lowercase())),
        Ty::Time => value
            .as_str()
            .and_then(timestamps::parse)
            .map_or(Val::Null, Val::Time),
        Ty::Num => value.as_f64().map_or(Val::Null, Val::Num),
        Ty::Null => Val::Null,
    }
}

/// Orders values of one property: `null` first, strings ordinally.
pub(super) fn compare(a: &Val, b: &Val) -> Ordering {
    match (a, b) {
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Null, _) => Ordering::Less,
        (_, Val::Null) => Ordering::Greater,
        (Val::Bool(a), Val::Bool(b)) => a.cmp(b),
        (Val::Str(a), Val::Str(b)) | (Val::Guid(a), Val::Guid(b)) => a.cmp(b),
        (Val::Num(a), Val::Num(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
        (Val::Time(a), Val::Time(b)) => a.cmp(b),
        (Val::Day(a), Val::Day(b)) => a.cmp(b),
        _ => Ordering::Equal,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
}

impl Op {
    /// The operator with its operands swapped (`a lt b` = `b gt a`).
    fn mirrored(self) -> Op {
        match self {
            Op::Gt => Op::Lt,
            Op::Lt => Op::Gt,
            Op::Ge => Op::Le,
            Op::Le => Op::Ge,
            same => same,
        }
    }
}

/// A parsed, type-checked filter.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Lit(Val),
    Prop(&'static str),
    /// A property of the item a lambda is looking at, and its type.
    ItemProp(&'static str, Ty),
    Me,
    ToLower(Box<Expr>),
    StartsWith(Box<Expr>, Box<Expr>),
    EndsWith(Box<Expr>, Box<Expr>),
    /// `substringof(needle, haystack)`.
    SubstringOf(Box<Expr>, Box<Expr>),
    Cmp(Op, Box<Expr>, Box<Expr>),
    /// `x in ('a','b')`: the literals of the list.
    In(Box<Expr>, Vec<Val>),
    /// `a and b and c`, flat.
    And(Vec<Expr>),
    /// `a or b or c`, flat.
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// `teams/any()` (not empty) or `teams/any(t: …)`.
    Any(Collection, Option<Box<Expr>>),
    /// `teams/count()` or `teams/count(t: …)`: a number.
    Count(Collection, Option<Box<Expr>>),
}

fn invalid(detail: impl Into<String>) -> AworkError {
    AworkError::InvalidFilterOrOrder {
        detail: detail.into(),
    }
}

/// The source every filter note names.
pub(super) const NOTE_SOURCE: &str =
    "inferred: https://developers.awork.com/filtering does not say how property names are matched or in which time zone the date keywords are read";

/// Where a filter was read more loosely than the guide writes it, or
/// relied on usermock's reading of an unclear rule: `(rule, message)`.
pub(super) type Looseness = Vec<(&'static str, String)>;

/// A filter ready to match, and where it was read loosely.
#[derive(Debug)]
pub(super) struct Filter {
    pub expr: Expr,
    pub loose: Looseness,
}

/// Reads and type-checks a `filterby` expression; `now` is the request's
/// clock, which the date keywords are relative to.
pub(super) fn parse(text: &str, now: OffsetDateTime) -> Result<Filter, AworkError> {
    let (expr, loose) = parse::expression(text, now)?;
    match type_of(&expr)? {
        Ty::Bool => Ok(Filter { expr, loose }),
        _ => Err(invalid("The filter is not a condition.")),
    }
}

impl Filter {
    /// Whether `user` passes; `me` is the caller's lower-cased id.
    pub(super) fn matches(&self, user: &User, me: &str) -> bool {
        let scope = Scope {
            user,
            item: None,
            me,
        };
        eval(&self.expr, &scope) == Val::Bool(true)
    }
}

/// What an expression is evaluated against.
#[derive(Clone, Copy)]
struct Scope<'a> {
    user: &'a User,
    /// The collection item of the enclosing lambda.
    item: Option<&'a Value>,
    me: &'a str,
}

fn holds(expr: &Expr, scope: &Scope<'_>) -> bool {
    eval(expr, scope) == Val::Bool(true)
}

/// The items of `collection` that pass `condition` (all without one).
fn passing<'a>(
    collection: Collection,
    condition: Option<&'a Expr>,
    scope: &'a Scope<'a>,
) -> impl Iterator<Item = &'a Value> + 'a {
    collection.items(scope.user).iter().filter(move |item| {
        condition.is_none_or(|c| {
            holds(
                c,
                &Scope {
                    item: Some(item),
                    ..*scope
                },
            )
        })
    })
}

fn eval(expr: &Expr, scope: &Scope<'_>) -> Val {
    let text = |e: &Expr| match eval(e, scope) {
        Val::Str(s) => Some(s),
        _ => None,
    };
    let both = |a: &Expr, b: &Expr, f: fn(&str, &str) -> bool| match (text(a), text(b)) {
        (Some(a), Some(b)) => Val::Bool(f(&a, &b)),
        _ => Val::Bool(false),
    };
    match expr {
        Expr::Lit(v) => v.clone(),
        Expr::Prop(name) => property_value(scope.user, name),
        Expr::ItemProp(name, ty) => scope
            .item
            .map_or(Val::Null, |item| item_value(item, name, *ty)),
        Expr::Me => Val::Guid(scope.me.to_owned()),
        Expr::ToLower(e) => text(e).map_or(Val::Null, |s| Val::Str(s.to_lowercase())),
        Expr::StartsWith(a, b) => both(a, b, |a, b| a.starts_with(b)),
        Expr::EndsWith(a, b) => both(a, b, |a, b| a.ends_with(b)),
        Expr::SubstringOf(needle, hay) => both(hay, needle, |hay, needle| hay.contains(needle)),
        Expr::Cmp(op, a, b) => Val::Bool(compares(*op, &eval(a, scope), &eval(b, scope))),
        Expr::In(e, list) => {
            let value = eval(e, scope);
            Val::Bool(list.iter().any(|v| compares(Op::Eq, &value, v)))
        }
        Expr::And(all) => Val::Bool(all.iter().all(|e| holds(e, scope))),
        Expr::Or(any) => Val::Bool(any.iter().any(|e| holds(e, scope))),
        Expr::Not(e) => Val::Bool(!holds(e, scope)),
        Expr::Any(collection, condition) => Val::Bool(
            passing(*collection, condition.as_deref(), scope)
                .next()
                .is_some(),
        ),
        Expr::Count(collection, condition) => {
            Val::Num(passing(*collection, condition.as_deref(), scope).count() as f64)
        }
    }
}

/// `a op b`. `null` equals only `null` and orders with nothing; a day
/// stands for its whole interval.
fn compares(op: Op, a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Time(t), Val::Day(d)) => on_day(op, *t, *d),
        (Val::Day(d), Val::Time(t)) => on_day(op.mirrored(), *t, *d),
        _ => {
            let null = *a == Val::Null || *b == Val::Null;
            let order = compare(a, b);
            match op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                _ if null => false,
                Op::Gt => order == Ordering::Greater,
                Op::Lt => order == Ordering::Less,
                Op::Ge => order != Ordering::Less,
                Op::Le => order != Ordering::Greater,
            }
        }
    }
}

/// `t op day`, the day being `[midnight, next midnight)` in UTC.
fn on_day(op: Op, t: OffsetDateTime, day: Date) -> bool {
    let start = day.with_time(Time::MIDNIGHT).assume_utc();
    let end = start.checked_add(Duration::DAY);
    let before_end = end.is_none_or(|end| t < end);
    match op {
        Op::Eq => t >= start && before_end,
        Op::Ne => !(t >= start && before_end),
        Op::Gt => !before_end,
        Op::Ge => t >= start,
        Op::Lt => t < start,
        Op::Le => before_end,
    }
}

fn type_of(expr: &Expr) -> Result<Ty, AworkError> {
    let string_args = |a: &Expr, b: &Expr, name: &str| {
        if type_of(a)? == Ty::Str && type_of(b)? == Ty::Str {
            Ok(Ty::Bool)
        } else {
            Err(invalid(format!("'{name}' takes two strings.")))
        }
    };
    let condition = |c: &Option<Box<Expr>>, name: &str| match c.as_deref().map(type_of) {
        None | Some(Ok(Ty::Bool)) => Ok(()),
        Some(Err(e)) => Err(e),
        Some(Ok(_)) => Err(invalid(format!(
            "The lambda of '{name}' is not a condition."
        ))),
    };
    match expr {
        Expr::Lit(v) => Ok(literal_type(v)),
        Expr::Prop(name) => Ok(property_type(name)),
        Expr::ItemProp(_, ty) => Ok(*ty),
        Expr::Me => Ok(Ty::Guid),
        Expr::ToLower(e) => match type_of(e)? {
            Ty::Str => Ok(Ty::Str),
            _ => Err(invalid("'tolower' takes a string.")),
        },
        Expr::StartsWith(a, b) => string_args(a, b, "startswith"),
        Expr::EndsWith(a, b) => string_args(a, b, "endswith"),
        Expr::SubstringOf(a, b) => string_args(a, b, "substringof"),
        Expr::Cmp(op, a, b) => {
            let (ta, tb) = (type_of(a)?, type_of(b)?);
            comparable(ta, tb)?;
            let ordering = !matches!(op, Op::Eq | Op::Ne);
            if ordering && (ta == Ty::Null || tb == Ty::Null || ta == Ty::Bool) {
                return Err(invalid(
                    "Only numbers, strings, dates and GUIDs can be ordered.",
                ));
            }
            Ok(Ty::Bool)
        }
        Expr::In(e, list) => {
            let ty = type_of(e)?;
            for value in list {
                comparable(ty, literal_type(value))?;
            }
            Ok(Ty::Bool)
        }
        Expr::And(all) | Expr::Or(all) => {
            for e in all {
                if type_of(e)? != Ty::Bool {
                    return Err(invalid("'and' and 'or' join conditions."));
                }
            }
            Ok(Ty::Bool)
        }
        Expr::Not(e) => match type_of(e)? {
            Ty::Bool => Ok(Ty::Bool),
            _ => Err(invalid("'not' takes a condition.")),
        },
        Expr::Any(_, c) => condition(c, "any").map(|()| Ty::Bool),
        Expr::Count(_, c) => condition(c, "count").map(|()| Ty::Num),
    }
}

fn literal_type(value: &Val) -> Ty {
    match value {
        Val::Null => Ty::Null,
        Val::Bool(_) => Ty::Bool,
        Val::Str(_) => Ty::Str,
        Val::Num(_) => Ty::Num,
        Val::Time(_) | Val::Day(_) => Ty::Time,
        Val::Guid(_) => Ty::Guid,
    }
}

fn comparable(a: Ty, b: Ty) -> Result<(), AworkError> {
    if a == b || a == Ty::Null || b == Ty::Null {
        Ok(())
    } else {
        Err(invalid(format!(
            "Cannot compare a {} with a {}.",
            ty_name(a),
            ty_name(b)
        )))
    }
}

fn ty_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Null => "null",
        Ty::Bool => "boolean",
        Ty::Str => "string",
        Ty::Num => "number",
        Ty::Time => "datetime",
        Ty::Guid => "guid",
    }
}

#[cfg(test)]
mod tests;
