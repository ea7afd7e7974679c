//! The text fields of awork's `UserForm` and the rules each one follows,
//! shared by `PUT /users/{id}`, `POST /invitations` and fixture checks.
//!
//! Limits are the spec's `maxLength` (`UserForm`, documented). The value
//! lists are documented for invitations only (`Invitation.gender`: "Can be
//! 'male', 'female' or 'other'"); on PUT they are inferred and switchable
//! (`settings.gender_values`, `language_values`): `gender` takes those
//! three, `language` an ISO 639-1 code or a tag that starts with one (the
//! spec's example is `en-GB`).

use schemars::JsonSchema;
use serde::Deserialize;

use super::languages;
use super::user::User;
use crate::vendors::is_hyphenated_uuid;

/// Whether a text field takes only the values usermock lists for it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ValueRule {
    #[default]
    Listed,
    Any,
}

/// `(member, property as awork's errors name it, maxLength)`.
pub(super) const TEXT_FIELDS: &[(&str, &str, usize)] = &[
    ("firstName", "FirstName", 1000),
    ("lastName", "LastName", 1000),
    ("gender", "Gender", 25),
    ("title", "Title", 100),
    ("position", "Position", 1000),
    ("language", "Language", 25),
];

/// The values `gender` may take (invitation docs: "Can be 'male', 'female'
/// or 'other'").
pub(super) const GENDERS: &[&str] = &["male", "female", "other"];

/// The PascalCase property of a member, as awork's validation errors name it.
pub(super) fn property(member: &str) -> &'static str {
    TEXT_FIELDS
        .iter()
        .find(|(m, _, _)| *m == member)
        .map_or("", |(_, p, _)| p)
}

/// What is wrong with `value` for the text field `member`, if anything:
/// its length, then its value ([`length_problem`], [`value_problem`]).
pub(super) fn field_problem(member: &str, value: &str) -> Option<String> {
    length_problem(member, value).or_else(|| value_problem(member, value))
}

/// Whether `value` is longer than the spec's `maxLength` for `member`.
/// Lengths count UTF-16 code units, as .NET's `string.Length` does (never
/// fewer than the code points a JSON Schema `maxLength` counts).
pub(super) fn length_problem(member: &str, value: &str) -> Option<String> {
    let (_, property, max) = TEXT_FIELDS.iter().find(|(m, _, _)| *m == member)?;
    let length = value.encode_utf16().count();
    (length > *max).then(|| {
        format!(
            "The length of '{property}' must be {max} characters or fewer. You entered {length} characters."
        )
    })
}

/// Whether `value` is outside the values usermock lists for `member`:
/// `gender` the invitation's three, `language` an ISO 639-1 tag.
pub(super) fn value_problem(member: &str, value: &str) -> Option<String> {
    match member {
        "gender" if !GENDERS.contains(&value) => Some(format!(
            "'{value}' is not a valid gender: use 'male', 'female' or 'other'."
        )),
        "language" if !languages::is_language_tag(value) => {
            Some(format!("'{value}' is not a valid ISO 639-1 language code."))
        }
        _ => None,
    }
}

/// A stored user's text fields, for fixture checks.
pub(super) fn stored_fields(user: &User) -> [(&'static str, Option<&str>); 5] {
    [
        ("firstName", user.first_name.as_deref()),
        ("lastName", user.last_name.as_deref()),
        ("gender", user.gender.as_deref()),
        ("title", user.title.as_deref()),
        ("position", user.position.as_deref()),
    ]
}

/// Everything wrong with a stored user, as (JSON pointer, message) pairs.
/// `gender` and `language` values are checked as the fixture's
/// `gender_values` / `language_values` say, so that whatever PUT accepted
/// can be seeded and restored again.
pub(super) fn user_problems(
    user: &User,
    gender: ValueRule,
    language: ValueRule,
) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (member, id) in [
        ("id", &user.id),
        ("createdBy", &user.created_by),
        ("updatedBy", &user.updated_by),
    ] {
        if !is_hyphenated_uuid(id) {
            problems.push((format!("/{member}"), format!("'{id}' is not a GUID")));
        }
    }
    for (member, value) in stored_fields(user) {
        let Some(value) = value else { continue };
        let listed = match member {
            "gender" => gender == ValueRule::Listed,
            _ => false,
        };
        let problem = length_problem(member, value).or_else(|| {
            listed
                .then(|| value_problem(member, value))
                .flatten()
        });
        if let Some(problem) = problem {
            problems.push((format!("/{member}"), problem));
        }
    }
    if let Some(value) = user.language.as_deref() {
        if let Some(problem) = length_problem("language", value) {
            problems.push(("/language".into(), problem));
        } else if language == ValueRule::Listed && !languages::is_language_tag(value) {
            problems.push((
                "/language".into(),
                format!("'{value}' is not an ISO 639-1 code"),
            ));
        }
    }
    if user.status.is_deactivated != user.is_deactivated {
        problems.push((
            "/status/isDeactivated".into(),
            "must equal /isDeactivated".into(),
        ));
    }
    if user.is_deactivated != user.deactivated_on.is_some() {
        problems.push((
            "/deactivatedOn".into(),
            "is set exactly when the user is deactivated".into(),
        ));
    }
    if user.resource_version <= 0 {
        problems.push((
            "/resourceVersion".into(),
            "must be positive UTC ticks".into(),
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_utf16_units_and_are_inclusive() {
        assert_eq!(field_problem("title", &"x".repeat(100)), None);
        assert_eq!(
            field_problem("title", &"x".repeat(101)).as_deref(),
            Some("The length of 'Title' must be 100 characters or fewer. You entered 101 characters.")
        );
        // 13 emoji are 13 code points but 26 UTF-16 units.
        assert!(field_problem("gender", &"😀".repeat(13)).is_some());
    }

    #[test]
    fn gender_and_language_follow_the_docs() {
        for ok in ["male", "female", "other"] {
            assert_eq!(field_problem("gender", ok), None);
        }
        assert!(field_problem("gender", "Female").is_some());
        assert_eq!(field_problem("language", "en-GB"), None);
        assert!(field_problem("language", "english").is_some());
    }
}
