//! Query strings: `GET /api/user` (`child_company_id`, `offset`, `limit`)
//! and `GET /api/user/{userId}` (`childCompanyId`, spelt as Replay's docs
//! spell it on that page; the list's `child_company_id` is taken too, and
//! noted). Other parameters are ignored, as web APIs do, and noted; a
//! documented one given twice is a 400 rather than a guess.

use super::body::Problems;
use super::error::ReplayError;
use super::notes;
use crate::vendors::{is_hyphenated_uuid, Request};

/// The default and largest page (Replay's list page: 1–1000, default 100).
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// A valid `GET /api/user` query.
#[derive(Debug, PartialEq)]
pub(super) struct ListQuery {
    pub child_company_id: Option<String>,
    pub offset: usize,
    pub limit: usize,
    /// Whether `offset` or `limit` was given.
    pub paged: bool,
}

pub(super) fn list(query: Option<&str>) -> Result<ListQuery, ReplayError> {
    let pairs = pairs(query);
    let mut problems = Problems::default();
    let child_company_id = uuid(&pairs, "child_company_id", &mut problems);
    let offset = match single(&pairs, "offset", &mut problems) {
        Some(text) => match whole_number(text) {
            Some(offset) => offset,
            None => {
                problems.add("offset", "Must be a whole number of at least 0");
                0
            }
        },
        None => 0,
    };
    let limit = match single(&pairs, "limit", &mut problems) {
        Some(text) => match whole_number(text).filter(|n| (1..=MAX_LIMIT).contains(n)) {
            Some(limit) => limit,
            None => {
                problems.add("limit", "Must be a whole number from 1 to 1000");
                DEFAULT_LIMIT
            }
        },
        None => DEFAULT_LIMIT,
    };
    let paged = pairs.iter().any(|(k, _)| k == "offset" || k == "limit");
    problems.into_result(ListQuery {
        child_company_id,
        offset,
        limit,
        paged,
    })
}

/// The child company of `GET /api/user/{userId}`, lower-cased.
#[derive(Debug, PartialEq)]
pub(super) struct GetUserQuery {
    pub child_company_id: Option<String>,
    /// Named `child_company_id` (the list's spelling), not `childCompanyId`.
    pub list_spelling: bool,
}

/// The page's description writes `?childCompanyId=`; the list route's
/// parameter is `child_company_id`. Either is read (never both), so a
/// client is not answered from the wrong company for its spelling.
pub(super) fn get_user(query: Option<&str>) -> Result<GetUserQuery, ReplayError> {
    let pairs = pairs(query);
    let mut problems = Problems::default();
    let given = |name: &str| pairs.iter().any(|(k, _)| k == name);
    let list_spelling = given("child_company_id") && !given("childCompanyId");
    if given("child_company_id") && given("childCompanyId") {
        problems.add("childCompanyId", "Must be given once");
        return problems.into_result_never();
    }
    let name = if list_spelling {
        "child_company_id"
    } else {
        "childCompanyId"
    };
    let child_company_id = uuid(&pairs, name, &mut problems);
    problems.into_result(GetUserQuery {
        child_company_id,
        list_spelling,
    })
}

/// Notes every query parameter of `request` that is not in `known`.
pub(super) fn note_unknown(request: &Request<'_>, known: &[&str]) {
    let pairs = pairs(request.call.query.as_deref());
    let mut noted: Vec<&str> = Vec::new();
    for (name, _) in &pairs {
        if !known.contains(&name.as_str()) && !noted.contains(&name.as_str()) {
            noted.push(name);
            request.note(
                notes::UNKNOWN_QUERY_PARAMETER,
                format!("the query parameter '{name}' is not documented for this route: ignored"),
                notes::NO_QUERY_PARAMETERS,
            );
        }
    }
}

fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// The value of `name`, when given exactly once.
fn single<'p>(
    pairs: &'p [(String, String)],
    name: &str,
    problems: &mut Problems,
) -> Option<&'p str> {
    let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
    let first = values.next()?;
    if values.next().is_some() {
        problems.add(name, "Must be given once");
        return None;
    }
    Some(first)
}

fn uuid(pairs: &[(String, String)], name: &str, problems: &mut Problems) -> Option<String> {
    let value = single(pairs, name, problems)?;
    if is_hyphenated_uuid(value) {
        Some(value.to_ascii_lowercase())
    } else {
        problems.add(name, format!("Invalid uuid \"{value}\""));
        None
    }
}

/// Decimal digits only (no sign, space or fraction); a number too large
/// for memory is still a valid offset, just past every record.
fn whole_number(text: &str) -> Option<usize> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<usize>().unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bounds_and_repeats() {
        let query = list(None).expect("valid");
        assert_eq!((query.offset, query.limit), (0, 100));
        let query = list(Some("offset=99999999999999999999999&limit=1000")).expect("valid");
        assert_eq!((query.offset, query.limit), (usize::MAX, 1000));
        for bad in [
            "limit=0",
            "limit=1001",
            "offset=-1",
            "offset=+1",
            "limit=",
            "offset=1&offset=2",
        ] {
            assert!(list(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn get_user_reads_either_spelling_of_the_child_company_but_not_both() {
        let child = "22222222-2222-4222-8222-222222222222";
        let camel = get_user(Some(&format!("childCompanyId={child}"))).expect("valid");
        assert_eq!(
            (camel.child_company_id.as_deref(), camel.list_spelling),
            (Some(child), false)
        );
        let snake = get_user(Some(&format!("child_company_id={child}"))).expect("valid");
        assert_eq!(
            (snake.child_company_id.as_deref(), snake.list_spelling),
            (Some(child), true)
        );
        assert!(get_user(Some(&format!(
            "childCompanyId={child}&child_company_id={child}"
        )))
        .is_err());
        assert!(get_user(Some("child_company_id=nope")).is_err());
        assert_eq!(get_user(None).expect("valid").child_company_id, None);
    }
}
