//! awork's `filterby` language, as far as a client of the user list is
//! likely to use it (developers.awork.com/filtering): `eq ne gt lt ge le`,
//! `and or not`, parentheses, `startswith`, `endswith`, `substringof`,
//! `tolower`, `me.id`, and the typed literals (`'text'` with `''` for a
//! quote, `null`, `true`/`false`, numbers with `M`/`L`/`f`/`d` suffixes,
//! `0x22`, `datetime'…'`, `guid'…'`). Everything else — `in`, `any`,
//! `count`, `now`, `today`, unknown properties, type mismatches — is
//! awork's `invalid-filter-or-order`, never an unfiltered list.

mod parse;

use std::cmp::Ordering;

use time::OffsetDateTime;

use super::error::AworkError;
use super::user::User;

/// A value a property or literal has.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    Null,
    Bool(bool),
    Str(String),
    Num(f64),
    Time(OffsetDateTime),
    /// Lower-cased.
    Guid(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
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

/// A parsed, type-checked filter.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Lit(Val),
    Prop(&'static str),
    Me,
    ToLower(Box<Expr>),
    StartsWith(Box<Expr>, Box<Expr>),
    EndsWith(Box<Expr>, Box<Expr>),
    /// `substringof(needle, haystack)`.
    SubstringOf(Box<Expr>, Box<Expr>),
    Cmp(Op, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

fn invalid(detail: impl Into<String>) -> AworkError {
    AworkError::InvalidFilterOrOrder {
        detail: detail.into(),
    }
}

/// Reads and type-checks a `filterby` expression.
pub(super) fn parse(text: &str) -> Result<Expr, AworkError> {
    let expr = parse::expression(text)?;
    match type_of(&expr)? {
        Ty::Bool => Ok(expr),
        _ => Err(invalid("The filter is not a condition.")),
    }
}

impl Expr {
    /// Whether `user` passes; `me` is the caller's lower-cased id.
    pub(super) fn matches(&self, user: &User, me: &str) -> bool {
        eval(self, user, me) == Val::Bool(true)
    }
}

fn eval(expr: &Expr, user: &User, me: &str) -> Val {
    let text = |e: &Expr| match eval(e, user, me) {
        Val::Str(s) => Some(s),
        _ => None,
    };
    let both = |a: &Expr, b: &Expr, f: fn(&str, &str) -> bool| match (text(a), text(b)) {
        (Some(a), Some(b)) => Val::Bool(f(&a, &b)),
        _ => Val::Bool(false),
    };
    match expr {
        Expr::Lit(v) => v.clone(),
        Expr::Prop(name) => property_value(user, name),
        Expr::Me => Val::Guid(me.to_owned()),
        Expr::ToLower(e) => text(e).map_or(Val::Null, |s| Val::Str(s.to_lowercase())),
        Expr::StartsWith(a, b) => both(a, b, |a, b| a.starts_with(b)),
        Expr::EndsWith(a, b) => both(a, b, |a, b| a.ends_with(b)),
        Expr::SubstringOf(needle, hay) => both(hay, needle, |hay, needle| hay.contains(needle)),
        Expr::Cmp(op, a, b) => {
            let (a, b) = (eval(a, user, me), eval(b, user, me));
            let null = a == Val::Null || b == Val::Null;
            let order = compare(&a, &b);
            Val::Bool(match op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                _ if null => false,
                Op::Gt => order == Ordering::Greater,
                Op::Lt => order == Ordering::Less,
                Op::Ge => order != Ordering::Less,
                Op::Le => order != Ordering::Greater,
            })
        }
        Expr::And(a, b) => {
            Val::Bool(eval(a, user, me) == Val::Bool(true) && eval(b, user, me) == Val::Bool(true))
        }
        Expr::Or(a, b) => {
            Val::Bool(eval(a, user, me) == Val::Bool(true) || eval(b, user, me) == Val::Bool(true))
        }
        Expr::Not(e) => Val::Bool(eval(e, user, me) != Val::Bool(true)),
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
    match expr {
        Expr::Lit(v) => Ok(match v {
            Val::Null => Ty::Null,
            Val::Bool(_) => Ty::Bool,
            Val::Str(_) => Ty::Str,
            Val::Num(_) => Ty::Num,
            Val::Time(_) => Ty::Time,
            Val::Guid(_) => Ty::Guid,
        }),
        Expr::Prop(name) => Ok(property_type(name)),
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
            let ordering = !matches!(op, Op::Eq | Op::Ne);
            let comparable = ta == tb || ta == Ty::Null || tb == Ty::Null;
            if !comparable {
                return Err(invalid(format!(
                    "Cannot compare a {} with a {}.",
                    ty_name(ta),
                    ty_name(tb)
                )));
            }
            if ordering && (ta == Ty::Null || tb == Ty::Null || ta == Ty::Bool) {
                return Err(invalid(
                    "Only numbers, strings, dates and GUIDs can be ordered.",
                ));
            }
            Ok(Ty::Bool)
        }
        Expr::And(a, b) | Expr::Or(a, b) => match (type_of(a)?, type_of(b)?) {
            (Ty::Bool, Ty::Bool) => Ok(Ty::Bool),
            _ => Err(invalid("'and' and 'or' join conditions.")),
        },
        Expr::Not(e) => match type_of(e)? {
            Ty::Bool => Ok(Ty::Bool),
            _ => Err(invalid("'not' takes a condition.")),
        },
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
mod tests {
    use super::*;

    #[test]
    fn the_guides_examples_parse() {
        for ok in [
            "firstName eq 'Sebastian'",
            "not firstName eq 'Sebastian'",
            "(firstName eq 'a' or lastName eq 'b') and isArchived eq false",
            "startswith(firstName,'Neil')",
            "endswith(firstName,'Neil')",
            "substringof('Neil',firstName)",
            "tolower(lastName) eq 'website'",
            "birthDate ge datetime'2018-04-03T00:00'",
            "id eq guid'12345678-aaaa-bbbb-cccc-ddddeeeeffff'",
            "id eq me.id",
            "resourceVersion gt 64L and resourceVersion lt 2.5M",
            "title eq 'user''s task'",
            "status/isDeactivated eq true",
        ] {
            assert!(parse(ok).is_ok(), "{ok}: {:?}", parse(ok));
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "firstName",
            "firstName eq",
            "nickname eq 'x'",
            "id eq 'x'",
            "firstName eq 3",
            "members/any(p: p/firstName eq 'x')",
            "firstName in ('a','b')",
            "createdOn gt now",
            "firstName eq 'open",
            "isArchived gt false",
            "(firstName eq 'a'",
            "firstName eq 'a')",
            "1x eq 1",
            "startswith(firstName, 3)",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{}isAgent eq true{}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&deep).is_err());
        let nots = format!("{}isAgent eq true", "not ".repeat(100));
        assert!(parse(&nots).is_err());
    }
}
