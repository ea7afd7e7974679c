//! `PUT /users/{userId}`: the `UserForm` body, who may write, and the
//! status rules, in awork's order of checks.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::error::{Action, AworkError, PropertyError};
use super::fixture::{OmittedFields, OtherFields};
use super::form::ValueRule;
use super::user::{Timestamp, User};
use super::{form, path_guid, permission, Awork};
use crate::http::Reply;
use crate::store::Frame;
use crate::timestamps;
use crate::vendors::{capitalised, Api, Request};

/// The members of `UserForm`, in the spec's order.
const UPDATABLE: [&str; 7] = [
    "firstName",
    "lastName",
    "birthDate",
    "gender",
    "title",
    "position",
    "language",
];

/// A validated PUT body: `Some(None)` clears a field, `None` leaves it.
/// Its texts may borrow from the request's body.
#[derive(Debug, Default, PartialEq)]
struct Form<'a> {
    texts: Vec<(&'static str, Option<Cow<'a, str>>)>,
    birth_date: Option<Option<Timestamp>>,
    /// The members the body left out that the write sets to null (named
    /// in the note; quoted only there, so a body that leaves out none
    /// formats nothing).
    cleared: Vec<&'static str>,
}

/// One `UserForm` member of a body, as the checks see it. Read straight
/// from a body, a member is `Absent` when left out, and only a string
/// (borrowed from the body when it has no escapes) or null reads.
#[derive(Debug, Default, PartialEq)]
enum Given<'a> {
    #[default]
    Absent,
    Null,
    Text(Cow<'a, str>),
    Other(Value),
}

impl<'de: 'a, 'a> Deserialize<'de> for Given<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Given<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Given::Null)
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Given::Text(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Given::Text(Cow::Owned(text.to_owned())))
            }
            fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
                Ok(Given::Text(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A `UserForm` body as it usually comes: only [`UPDATABLE`] members, each
/// a string or null (a duplicate, another member or another kind of value
/// fails to read, and the body goes to the JSON-tree route).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FormBody<'a> {
    #[serde(default, borrow)]
    first_name: Given<'a>,
    #[serde(default, borrow)]
    last_name: Given<'a>,
    #[serde(default, borrow)]
    birth_date: Given<'a>,
    #[serde(default, borrow)]
    gender: Given<'a>,
    #[serde(default, borrow)]
    title: Given<'a>,
    #[serde(default, borrow)]
    position: Given<'a>,
    #[serde(default, borrow)]
    language: Given<'a>,
}

impl<'a> FormBody<'a> {
    /// The members in [`UPDATABLE`]'s order.
    fn members(self) -> [(&'static str, Given<'a>); 7] {
        [
            ("firstName", self.first_name),
            ("lastName", self.last_name),
            ("birthDate", self.birth_date),
            ("gender", self.gender),
            ("title", self.title),
            ("position", self.position),
            ("language", self.language),
        ]
    }
}

/// The [`UPDATABLE`] members of a body's JSON tree, in that order.
fn take_members(members: &mut Map<String, Value>) -> [(&'static str, Given<'static>); 7] {
    UPDATABLE.map(|member| {
        let value = match members.remove(member) {
            None => Given::Absent,
            Some(Value::Null) => Given::Null,
            Some(Value::String(text)) => Given::Text(Cow::Owned(text)),
            Some(other) => Given::Other(other),
        };
        (member, value)
    })
}

/// `'a', 'b'`: the names quoted, joined with ", ".
fn quoted_list(names: &[&str]) -> String {
    let size = names.iter().map(|n| n.len().saturating_add(4)).sum();
    let mut out = String::with_capacity(size);
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('\'');
        out.push_str(name);
        out.push('\'');
    }
    out
}

pub(super) fn birth_date_in_future() -> AworkError {
    AworkError::DateOutOfRange {
        property: "BirthDate",
        message: "The birth date must not be in the future.",
    }
}

impl Awork {
    pub(super) fn update_user(&self, request: &Request<'_>) -> Result<Reply, AworkError> {
        let caller = self.authenticate(request)?;
        let user_id = path_guid(request.param("userId"))?;
        let form = self.parse_form(request)?;
        let target: Option<Arc<User>> = request.state.read(Awork::NAME, &user_id)?;
        let target = target.filter(|u| !u.is_deleted());
        let created_by_caller = target
            .as_ref()
            .is_some_and(|u| u.created_by.eq_ignore_ascii_case(&caller.user_id));
        if !(caller.may(permission::MASTER_DATA_WRITE) || created_by_caller) {
            return Err(AworkError::Unauthorized(Action::Update));
        }
        if target.is_none() {
            return Err(AworkError::UserNotFound {
                id: user_id.into_owned(),
            });
        }
        let updated_by = self.canonical_id(request, &caller.user_id)?;
        let updated = self.write_shown(request, &user_id, |user| {
            apply(user, &form, &updated_by, request.now())
        })?;
        if !form.cleared.is_empty() {
            request.note(
                NOTE_OMITTED_CLEARED,
                format!(
                    "{} left out of the body, so set to null",
                    quoted_list(&form.cleared)
                ),
                "inferred: awork's docs do not say whether PUT keeps or clears a field the body leaves out (settings.omitted_fields)",
            );
        }
        Ok(Reply::json_text(StatusCode::OK, updated))
    }

    /// The caller's id as its user record spells it.
    pub(super) fn canonical_id(
        &self,
        request: &Request<'_>,
        lower: &str,
    ) -> Result<String, AworkError> {
        let user: Option<Arc<User>> = request.state.read(Awork::NAME, lower)?;
        Ok(user.map_or_else(|| lower.to_owned(), |u| u.id.clone()))
    }

    /// Changes a visible user atomically; a soft-deleted one is not found.
    /// `change` runs under the record's lock and must not touch the state.
    pub(super) fn write(
        &self,
        request: &Request<'_>,
        id: &str,
        change: impl FnOnce(&mut User) -> Result<(), AworkError>,
    ) -> Result<Arc<User>, AworkError> {
        request
            .state
            .update_typed(Awork::NAME, id, visible(id, change))?
            .ok_or_else(|| AworkError::UserNotFound { id: id.to_owned() })
    }

    /// [`Awork::write`] for an answer that is the user: its JSON as stored
    /// is the answer's body.
    fn write_shown(
        &self,
        request: &Request<'_>,
        id: &str,
        change: impl FnOnce(&mut User) -> Result<(), AworkError>,
    ) -> Result<Bytes, AworkError> {
        let (_, json) = request
            .state
            .update_typed_json(Awork::NAME, id, Frame::BARE, visible(id, change))?
            .ok_or_else(|| AworkError::UserNotFound { id: id.to_owned() })?;
        Ok(json)
    }

    /// The PUT body: a JSON object whose `UserForm` members are strings (or
    /// null). Every invalid member is reported at once, as awork does.
    fn parse_form<'a>(&self, request: &Request<'a>) -> Result<Form<'a>, AworkError> {
        let call = request.call;
        // A body without a Content-Type is read as JSON (inferred); one
        // declared as something else is refused.
        if call.header("content-type").is_some() && !call.declares_json() {
            return Err(AworkError::UnsupportedMediaType {
                declared: call.header("content-type").map(str::to_owned),
            });
        }
        let body = match request.json_as(false, |body: FormBody<'a>| Some(body.members()))? {
            Ok(members) => return self.check_form(request, members, Vec::new()),
            Err(body) => body,
        };
        let Value::Object(mut members) = body else {
            return Err(AworkError::ServerError);
        };
        let errors = self.other_member_errors(request, &members, &UPDATABLE, "UserForm");
        self.check_form(request, take_members(&mut members), errors)
    }

    /// Checks each `UserForm` member, in [`UPDATABLE`]'s order, adding to
    /// the `errors` already found; any error is the 400.
    fn check_form<'a>(
        &self,
        request: &Request<'_>,
        given: [(&'static str, Given<'a>); 7],
        mut errors: Vec<PropertyError>,
    ) -> Result<Form<'a>, AworkError> {
        let mut cleared = Vec::new();
        let mut form = Form {
            texts: Vec::with_capacity(UPDATABLE.len()),
            ..Form::default()
        };
        for (member, value) in given {
            let property = if member == "birthDate" {
                "BirthDate"
            } else {
                form::property(member)
            };
            let value = match value {
                Given::Absent if self.world.omitted_fields == OmittedFields::Keep => continue,
                Given::Absent => {
                    cleared.push(member);
                    None
                }
                Given::Null => None,
                Given::Text(text) => Some(text),
                Given::Other(other) => {
                    errors.push(not_a_string(property, &other));
                    continue;
                }
            };
            if member == "birthDate" {
                match value.as_deref().map(|v| birth_date(request, v)) {
                    None => form.birth_date = Some(None),
                    Some(Some(at)) => form.birth_date = Some(Some(Timestamp(at))),
                    Some(None) => errors.push(PropertyError::new(
                        property,
                        format!("'{}' is not a valid date time.", value.unwrap_or_default()),
                    )),
                }
                continue;
            }
            if let Some(problem) = value
                .as_deref()
                .and_then(|v| self.text_problem(request, member, v))
            {
                errors.push(PropertyError::new(property, problem));
            }
            form.texts.push((member, value));
        }
        if !errors.is_empty() {
            return Err(AworkError::ValidationFailed(errors));
        }
        if form
            .birth_date
            .flatten()
            .is_some_and(|at| at.0 > request.now())
        {
            return Err(birth_date_in_future());
        }
        form.cleared = cleared;
        Ok(form)
    }

    /// Every member not in `allowed` (the spec's `schema`): with
    /// `other_fields: reject` each is a validation error; otherwise each is
    /// ignored, which the request's notes say.
    pub(super) fn other_member_errors(
        &self,
        request: &Request<'_>,
        members: &Map<String, Value>,
        allowed: &[&str],
        schema: &str,
    ) -> Vec<PropertyError> {
        let others: Vec<&String> = members
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .collect();
        if self.world.other_fields == OtherFields::Reject {
            return others
                .into_iter()
                .map(|name| {
                    PropertyError::new(capitalised(name), format!("'{name}' cannot be updated."))
                })
                .collect();
        }
        if !others.is_empty() {
            let names: Vec<String> = others.iter().map(|n| format!("'{n}'")).collect();
            request.note(
                NOTE_OTHER_MEMBERS,
                format!(
                    "{} {} not in awork's {schema} and {} ignored",
                    names.join(", "),
                    if names.len() == 1 { "is" } else { "are" },
                    if names.len() == 1 { "was" } else { "were" },
                ),
                "inferred: the spec's schema has additionalProperties false; awork's docs do not say whether the server refuses or ignores other members (settings.other_fields)",
            );
        }
        Vec::new()
    }
}

impl Awork {
    /// The length the spec allows, then the values the fixture's
    /// `gender_values` / `language_values` list (inferred, noted).
    fn text_problem(&self, request: &Request<'_>, member: &str, value: &str) -> Option<String> {
        if let Some(problem) = form::length_problem(member, value) {
            return Some(problem);
        }
        let (rule, note, source) = match member {
            "gender" => (
                self.world.gender_values,
                NOTE_GENDER_VALUES,
                "inferred: UserForm.gender has no list of values; 'male', 'female' or 'other' is the Invitation's (settings.gender_values)",
            ),
            "language" => (
                self.world.language_values,
                NOTE_LANGUAGE_VALUES,
                "inferred: UserForm.language is described as ISO 639-1 (example en-GB) but awork's docs do not say other values are refused (settings.language_values)",
            ),
            _ => return None,
        };
        let problem = form::value_problem(member, value)?;
        if rule == ValueRule::Any {
            return None;
        }
        request.note(
            note,
            format!("'{value}' was refused for '{member}'"),
            source,
        );
        Some(problem)
    }
}

/// A birth date as RFC 3339 or `YYYY-MM-DD`, or in the form of the spec's
/// own `UserForm` example (`1998-04-19T00:00:000Z`: three-digit seconds),
/// which is read and noted.
fn birth_date(request: &Request<'_>, text: &str) -> Option<OffsetDateTime> {
    if let Some(at) = timestamps::parse_date_or_datetime(text) {
        return Some(at);
    }
    let (minutes, rest) = text.rsplit_once(':')?;
    let seconds = rest.strip_suffix('Z')?;
    if seconds.len() != 3
        || !seconds.starts_with('0')
        || !seconds.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let at = timestamps::parse(&format!("{minutes}:{}Z", &seconds[1..]))?;
    request.note(
        NOTE_BIRTH_DATE_FORM,
        format!("birthDate '{text}' was read as {}", timestamps::format_ticks(at)),
        "inferred: the spec's UserForm example writes birthDate as '1998-04-19T00:00:000Z', which is not RFC 3339",
    );
    Some(at)
}

/// The note rule ids of `PUT /users/{userId}` (`docs/vendors/awork.md`).
pub(super) const NOTE_OTHER_MEMBERS: &str = "awork-other-members-ignored";
const NOTE_OMITTED_CLEARED: &str = "awork-put-omitted-fields-cleared";
const NOTE_GENDER_VALUES: &str = "awork-put-gender-values";
const NOTE_LANGUAGE_VALUES: &str = "awork-put-language-values";
const NOTE_BIRTH_DATE_FORM: &str = "awork-birthdate-example-form";

/// The status rules, then the changes and the write's audit fields.
fn apply(
    user: &mut User,
    form: &Form,
    updated_by: &str,
    now: OffsetDateTime,
) -> Result<(), AworkError> {
    refuse_inactive(user)?;
    for (member, value) in &form.texts {
        let slot = match *member {
            "firstName" => &mut user.first_name,
            "lastName" => &mut user.last_name,
            "gender" => &mut user.gender,
            "title" => &mut user.title,
            "position" => &mut user.position,
            _ => &mut user.language,
        };
        match (slot.as_mut(), value) {
            // The copied user's buffer is reused where it is large enough.
            (Some(kept), Some(text)) => {
                kept.clear();
                kept.push_str(text);
            }
            (_, text) => *slot = text.as_deref().map(str::to_owned),
        }
    }
    if let Some(birth_date) = form.birth_date {
        user.birth_date = birth_date;
    }
    touch(user, updated_by, now)
}

/// Archived users only exist for reference; deactivated ones must be
/// activated first (awork: `entity-archived`, `deactivated-user`).
pub(super) fn refuse_inactive(user: &User) -> Result<(), AworkError> {
    if user.is_archived {
        return Err(AworkError::EntityArchived {
            id: user.id.clone(),
        });
    }
    if user.is_deactivated {
        return Err(AworkError::DeactivatedUser {
            id: user.id.clone(),
        });
    }
    Ok(())
}

/// [`User::touch`], its overflow logged and answered as awork's 500.
pub(super) fn touch(user: &mut User, by: &str, now: OffsetDateTime) -> Result<(), AworkError> {
    user.touch(by, now).map_err(|_| {
        tracing::error!(
            id = user.id,
            "awork resourceVersion cannot grow any further"
        );
        AworkError::ServerError
    })
}

pub(super) fn not_a_string(property: &str, value: &Value) -> PropertyError {
    PropertyError::new(
        property,
        format!("'{property}' must be a string, not {}.", json_kind(value)),
    )
}

pub(super) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `change` for a user that is not soft-deleted; such a user is not found.
fn visible<'a>(
    id: &'a str,
    change: impl FnOnce(&mut User) -> Result<(), AworkError> + 'a,
) -> impl FnOnce(&mut User) -> Result<(), AworkError> + 'a {
    move |user| {
        if user.is_deleted() {
            return Err(AworkError::UserNotFound { id: id.to_owned() });
        }
        change(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body the typed read takes gives the checks the same members as
    /// its JSON tree does (and nothing else to report), and strings
    /// without escapes are borrowed from the body.
    #[test]
    fn typed_form_reads_as_the_tree_does() {
        let bodies = [
            r#"{}"#,
            r#"{"firstName":"Mara","lastName":"Schulz","position":"Position 0","language":"de"}"#,
            r#"{"firstName":"Kr\u00fcger","title":null,"gender":"female","birthDate":"1998-04-19"}"#,
            r#"{"lastName":"a\"b","birthDate":null,"gender":"x","language":"english"}"#,
            r#"{"firstName":7}"#,
            r#"{"firstName":["a"]}"#,
            r#"{"firstName":"a","firstName":"b"}"#,
            r#"{"firstName":"a","email":"a@example.com"}"#,
            r#"{"FirstName":"a"}"#,
        ];
        let mut typed_reads = 0;
        for body in bodies {
            let Ok(typed) = serde_json::from_str::<FormBody<'_>>(body) else {
                continue;
            };
            typed_reads += 1;
            let typed = typed.members();
            let Ok(Value::Object(mut members)) = serde_json::from_str::<Value>(body) else {
                panic!("test bodies are JSON objects");
            };
            assert_eq!(typed, take_members(&mut members), "{body}");
            assert!(members.is_empty(), "{body}: the tree has other members");
            for (member, given) in &typed {
                if let Given::Text(text) = given {
                    // Written as is in the body exactly when it has no escapes.
                    assert_eq!(
                        matches!(text, Cow::Borrowed(_)),
                        body.contains(&format!("\"{text}\"")),
                        "{body}: {member}"
                    );
                }
            }
        }
        assert_eq!(typed_reads, 4);
    }
}
