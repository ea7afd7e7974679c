//! The shapes and formats of request bodies and path values: every problem
//! is collected, so one 400 lists them all.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::{FieldProblem, ReplayError};
use super::fixture::{name_problem, TeamType};
use crate::store::Text;
use crate::vendors::{is_hyphenated_uuid, present};

/// What a valid `PATCH /api/user/{userId}` body asks for.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Update {
    pub first_name: Option<Text>,
    pub last_name: Option<Text>,
    pub role: Option<Text>,
    pub child_company_id: Option<String>,
}

const UPDATE_MEMBERS: &[&str] = &["firstName", "lastName", "role", "childCompanyId"];

/// A `PATCH /api/user/{userId}` body as it usually comes: only
/// [`UPDATE_MEMBERS`], each a string (a duplicate, a null or any other
/// member fails to read, and the body goes to [`update`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    first_name: Option<Text>,
    #[serde(default, deserialize_with = "present")]
    last_name: Option<Text>,
    #[serde(default, deserialize_with = "present")]
    role: Option<Text>,
    #[serde(default, deserialize_with = "present")]
    child_company_id: Option<String>,
}

impl UpdateBody {
    /// The update, when [`update`] would find nothing wrong with the body
    /// (the same checks); `None` leaves the body to [`update`], which says
    /// what is wrong.
    pub fn accepted(self) -> Option<Update> {
        let name_ok = |name: &Option<Text>| name.as_deref().is_none_or(|n| name_problem(n).is_none());
        let valid = name_ok(&self.first_name)
            && name_ok(&self.last_name)
            && self.role.as_deref().is_none_or(is_role)
            && self.child_company_id.as_deref().is_none_or(is_hyphenated_uuid);
        valid.then(|| Update {
            first_name: self.first_name,
            last_name: self.last_name,
            role: self.role,
            child_company_id: self.child_company_id.map(|mut id| {
                id.make_ascii_lowercase();
                id
            }),
        })
    }
}

/// A role the user routes take.
fn is_role(role: &str) -> bool {
    role == "User" || role == "Manager"
}

/// Collects the problems of one body.
#[derive(Default)]
pub(super) struct Problems(Vec<FieldProblem>);

impl Problems {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldProblem::new(field, message));
    }

    /// Members the route does not read are refused, not ignored.
    pub fn unknown_members(&mut self, members: &Map<String, Value>, known: &[&str]) {
        for name in members.keys().filter(|k| !known.contains(&k.as_str())) {
            self.0.push(FieldProblem::unrecognized(name));
        }
    }

    /// A name-like string of 1–255 characters, when present.
    pub fn name(&mut self, members: &Map<String, Value>, field: &str) -> Option<String> {
        match members.get(field)? {
            Value::String(name) => match name_problem(name) {
                Some(message) => {
                    self.add(field, message);
                    None
                }
                None => Some(name.clone()),
            },
            _ => {
                self.add(field, "Expected a string");
                None
            }
        }
    }

    /// `User` or `Manager`, when present.
    pub fn role(&mut self, members: &Map<String, Value>) -> Option<String> {
        match members.get("role")? {
            Value::String(role) if is_role(role) => Some(role.clone()),
            other => {
                self.add(
                    "role",
                    format!("Invalid role {other}; expected 'User' or 'Manager'"),
                );
                None
            }
        }
    }

    /// A hyphenated UUID, lower-cased, when present.
    pub fn uuid(&mut self, members: &Map<String, Value>, field: &str) -> Option<String> {
        match members.get(field)? {
            Value::String(id) if is_hyphenated_uuid(id) => Some(id.to_ascii_lowercase()),
            other => {
                self.add(field, format!("Invalid uuid {other}"));
                None
            }
        }
    }

    /// `Ok(value)` when nothing was wrong.
    pub fn into_result<T>(self, value: T) -> Result<T, ReplayError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(ReplayError::InvalidFields(self.0))
        }
    }
}

/// The body of `PATCH /api/user/{userId}`; all members are optional.
pub(super) fn update(body: &Value) -> Result<Update, ReplayError> {
    let empty = Map::new();
    let members = body.as_object().unwrap_or(&empty);
    let mut problems = Problems::default();
    problems.unknown_members(members, UPDATE_MEMBERS);
    let update = Update {
        first_name: problems.name(members, "firstName").map(Text::from),
        last_name: problems.name(members, "lastName").map(Text::from),
        role: problems.role(members).map(Text::from),
        child_company_id: problems.uuid(members, "childCompanyId"),
    };
    problems.into_result(update)
}

/// What a valid `POST /api/user` body asks for.
#[derive(Debug)]
pub(super) struct Invite {
    pub email: String,
    pub first_name: String,
    pub last_name: Option<String>,
    pub role: String,
    pub external_id: Option<String>,
    pub child_company_id: Option<String>,
}

const INVITE_MEMBERS: &[&str] = &[
    "email",
    "firstName",
    "lastName",
    "role",
    "externalId",
    "childCompanyId",
];

/// The body of `POST /api/user`: `email`, `firstName` and `role` required.
pub(super) fn invite(body: &Value) -> Result<Invite, ReplayError> {
    let empty = Map::new();
    let members = body.as_object().unwrap_or(&empty);
    let mut problems = Problems::default();
    problems.unknown_members(members, INVITE_MEMBERS);
    let email = problems.required(members, "email", Problems::email);
    let first_name = problems.required(members, "firstName", |p, m| p.name(m, "firstName"));
    let last_name = problems.name(members, "lastName");
    let role = problems.required(members, "role", Problems::role);
    let external_id = problems.name(members, "externalId");
    let child_company_id = problems.uuid(members, "childCompanyId");
    match (email, first_name, role) {
        (Some(email), Some(first_name), Some(role)) => problems.into_result(Invite {
            email,
            first_name,
            last_name,
            role,
            external_id,
            child_company_id,
        }),
        _ => problems.into_result_never(),
    }
}

/// What a valid `POST /api/user/invite` (Invite User) body asks for.
#[derive(Debug)]
pub(super) struct InviteUser {
    pub email: String,
    /// Lower-cased.
    pub team_id: String,
    pub role: String,
    pub send_email: bool,
}

const INVITE_USER_MEMBERS: &[&str] = &["email", "teamId", "role", "sendEmail"];

/// The body of Invite User: `email`, `teamId` and `role` required,
/// `sendEmail` a boolean (default `false`).
pub(super) fn invite_user(body: &Value) -> Result<InviteUser, ReplayError> {
    let empty = Map::new();
    let members = body.as_object().unwrap_or(&empty);
    let mut problems = Problems::default();
    problems.unknown_members(members, INVITE_USER_MEMBERS);
    let email = problems.required(members, "email", Problems::email);
    let team_id = problems.required(members, "teamId", |p, m| p.uuid(m, "teamId"));
    let role = problems.required(members, "role", Problems::role);
    let send_email = problems.boolean(members, "sendEmail").unwrap_or(false);
    match (email, team_id, role) {
        (Some(email), Some(team_id), Some(role)) => problems.into_result(InviteUser {
            email,
            team_id,
            role,
            send_email,
        }),
        _ => problems.into_result_never(),
    }
}

/// What a valid `PATCH /api/team/{teamId}` body asks for; `None` leaves a
/// member as it is (`description: Some(None)` clears it).
#[derive(Debug, Default)]
pub(super) struct TeamUpdate {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub kind: Option<TeamType>,
    pub use_turn_connection: Option<bool>,
}

const TEAM_MEMBERS: &[&str] = &["name", "description", "type", "useTurnConnection"];

/// The body of Update Team: "At least one field must be provided".
pub(super) fn team_update(body: &Value) -> Result<TeamUpdate, ReplayError> {
    let empty = Map::new();
    let members = body.as_object().unwrap_or(&empty);
    let mut problems = Problems::default();
    problems.unknown_members(members, TEAM_MEMBERS);
    if !TEAM_MEMBERS.iter().any(|m| members.contains_key(*m)) {
        problems.add("body", "At least one field must be provided");
    }
    let description = match members.get("description") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(text)) => Some(Some(text.clone())),
        Some(_) => {
            problems.add("description", "Expected a string or null");
            None
        }
    };
    let kind = match members.get("type") {
        None => None,
        Some(Value::String(kind)) if kind == "Default" => Some(TeamType::Default),
        Some(Value::String(kind)) if kind == "Integration" => Some(TeamType::Integration),
        Some(Value::String(kind)) if kind == "LeadGen" => Some(TeamType::LeadGen),
        Some(other) => {
            problems.add(
                "type",
                format!("Invalid type {other}; expected 'Default', 'Integration' or 'LeadGen'"),
            );
            None
        }
    };
    let update = TeamUpdate {
        name: problems.name(members, "name"),
        description,
        kind,
        use_turn_connection: problems.boolean(members, "useTurnConnection"),
    };
    problems.into_result(update)
}

/// What a valid `POST /api/company/child` body asks for.
#[derive(Debug)]
pub(super) struct ChildCompany {
    pub name: String,
    pub external_id: Option<String>,
    pub url: Option<String>,
    pub summary: Option<String>,
}

const CHILD_COMPANY_MEMBERS: &[&str] = &["name", "externalId", "url", "summary"];

/// The body of `POST /api/company/child`: `name` required.
pub(super) fn child_company(body: &Value) -> Result<ChildCompany, ReplayError> {
    let empty = Map::new();
    let members = body.as_object().unwrap_or(&empty);
    let mut problems = Problems::default();
    problems.unknown_members(members, CHILD_COMPANY_MEMBERS);
    let name = problems.required(members, "name", |p, m| p.name(m, "name"));
    let external_id = problems.name(members, "externalId");
    let url = problems.url(members);
    let summary = problems.summary(members);
    match name {
        Some(name) => problems.into_result(ChildCompany {
            name,
            external_id,
            url,
            summary,
        }),
        None => problems.into_result_never(),
    }
}

impl Problems {
    /// `read` of a member that must be present.
    fn required(
        &mut self,
        members: &Map<String, Value>,
        field: &str,
        read: impl FnOnce(&mut Problems, &Map<String, Value>) -> Option<String>,
    ) -> Option<String> {
        if members.contains_key(field) {
            read(self, members)
        } else {
            self.add(field, "Required");
            None
        }
    }

    /// A JSON boolean, when present.
    fn boolean(&mut self, members: &Map<String, Value>, field: &str) -> Option<bool> {
        match members.get(field)? {
            Value::Bool(value) => Some(*value),
            _ => {
                self.add(field, "Expected a boolean");
                None
            }
        }
    }

    /// An e-mail address of at most 255 characters.
    fn email(&mut self, members: &Map<String, Value>) -> Option<String> {
        let Value::String(email) = members.get("email")? else {
            self.add("email", "Expected a string");
            return None;
        };
        let length = email.chars().count();
        if length > 255 {
            self.add(
                "email",
                format!("Must be at most 255 characters (got {length})"),
            );
            return None;
        }
        if !is_email(email) {
            self.add("email", "Invalid email");
            return None;
        }
        Some(email.clone())
    }

    /// An absolute URI (`scheme:rest`, no white space).
    fn url(&mut self, members: &Map<String, Value>) -> Option<String> {
        match members.get("url")? {
            Value::String(url) if is_uri(url) => Some(url.clone()),
            Value::String(_) => {
                self.add("url", "Invalid url");
                None
            }
            _ => {
                self.add("url", "Expected a string");
                None
            }
        }
    }

    /// At most 2000 characters.
    fn summary(&mut self, members: &Map<String, Value>) -> Option<String> {
        match members.get("summary")? {
            Value::String(summary) => {
                let length = summary.chars().count();
                if length > 2000 {
                    self.add(
                        "summary",
                        format!("Must be at most 2000 characters (got {length})"),
                    );
                    None
                } else {
                    Some(summary.clone())
                }
            }
            _ => {
                self.add("summary", "Expected a string");
                None
            }
        }
    }

    /// The error for a body that lacks a required member: there is always
    /// at least that problem.
    pub fn into_result_never<T>(self) -> Result<T, ReplayError> {
        Err(ReplayError::InvalidFields(self.0))
    }
}

/// `local@domain.tld`: one `@`, both sides non-empty, a dot inside the
/// domain, no white space or control characters.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let clean = |part: &str| {
        !part.is_empty()
            && !part.contains('@')
            && !part.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    clean(local)
        && clean(domain)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// RFC 3986's `scheme ":" rest`, with a non-empty rest and no white space.
fn is_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A path or query id: a hyphenated UUID, lower-cased, else a 400 naming
/// `field`.
pub(super) fn uuid_value<'v>(field: &str, value: &'v str) -> Result<Cow<'v, str>, ReplayError> {
    if is_hyphenated_uuid(value) {
        Ok(crate::vendors::lowercase_id(value))
    } else {
        Err(ReplayError::InvalidFields(vec![FieldProblem::new(
            field,
            format!("Invalid uuid \"{value}\""),
        )]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed read of a PATCH body agrees with the JSON-tree read on
    /// every body it accepts, and accepts the valid ones.
    #[test]
    fn typed_update_reads_as_the_tree_does() {
        let long = "x".repeat(255);
        let too_long = "x".repeat(256);
        let bodies = [
            r#"{}"#.to_owned(),
            r#"{"firstName":"Ada","lastName":"Lovelace"}"#.to_owned(),
            r#"{"firstName":"Kr\u00fcger","lastName":"a\"b\\c"}"#.to_owned(),
            r#"{"role":"Manager","childCompanyId":"22222222-2222-4222-8222-22222222222A"}"#.to_owned(),
            r#"{"role":"User"}"#.to_owned(),
            format!(r#"{{"firstName":"{long}"}}"#),
            format!(r#"{{"firstName":"{too_long}"}}"#),
            r#"{"firstName":""}"#.to_owned(),
            r#"{"firstName":null}"#.to_owned(),
            r#"{"lastName":7}"#.to_owned(),
            r#"{"role":"user"}"#.to_owned(),
            r#"{"role":["User"]}"#.to_owned(),
            r#"{"childCompanyId":"not-a-uuid"}"#.to_owned(),
            r#"{"childCompanyId":"22222222222242228222222222222222"}"#.to_owned(),
            r#"{"firstName":"a","firstName":"b"}"#.to_owned(),
            r#"{"firstName":"a","email":"a@example.com"}"#.to_owned(),
            r#"{"FirstName":"a"}"#.to_owned(),
        ];
        let read = crate::vendors::typed_against_tree(&bodies, UpdateBody::accepted, |value| {
            update(&value)
        });
        // Left to the tree: only the duplicate member, read as its last.
        assert_eq!(read, (6, 1));
    }
}
