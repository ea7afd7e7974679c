//! The Relesys user: its typed model, its validation, and JSON Patch.
//!
//! The user is stored exactly as the API shows it (the seed's response
//! `data` object). A PATCH is an RFC 6902 document applied with the
//! json-patch crate to a copy of the stored user; the copy must then still
//! read as a valid [`User`] and pass [`Catalog::problems`], or nothing
//! changes and the answer is a 400 naming the operation at fault.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use json_patch::PatchOperation;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::is_hyphenated_uuid;
use crate::diagnostics::pointer_of;
use crate::timestamps;
use crate::vendors::legacy::ApiError;

/// A Relesys user, field for field and in the order of the seed's response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub department_url: Option<String>,
    pub status: Status,
    /// .NET round-trip form, e.g. `2026-03-31T11:00:26.7209011Z`.
    pub creation_date_time: String,
    pub last_modified_date_time: String,
    #[serde(default)]
    pub external_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub data_source: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub secondary_email: Option<String>,
    #[serde(default)]
    pub phone_number: Option<PhoneNumber>,
    #[serde(default)]
    pub secondary_phone_number: Option<PhoneNumber>,
    /// A date; shown as `YYYY-MM-DDT00:00:00Z`.
    #[serde(default)]
    pub birth_date: Option<String>,
    pub primary_department_id: String,
    #[serde(default)]
    pub additional_departments: Vec<Membership>,
    #[serde(default)]
    pub user_groups: Vec<Membership>,
    #[serde(default)]
    pub employment_date: Option<String>,
    #[serde(default)]
    pub employment_end_date: Option<String>,
    /// Custom field key → value; both strings (`Dictionary<string,string>`).
    #[serde(default)]
    pub custom_fields: IndexMap<String, String>,
    #[serde(default)]
    pub employment_type: Option<String>,
}

impl super::super::StoredUser for User {
    fn id(&self) -> &str {
        &self.id
    }
}

/// Every member of a user, in wire names.
const MEMBERS: &[&str] = &[
    "id",
    "url",
    "departmentUrl",
    "status",
    "creationDateTime",
    "lastModifiedDateTime",
    "externalId",
    "name",
    "userName",
    "title",
    "dataSource",
    "email",
    "secondaryEmail",
    "phoneNumber",
    "secondaryPhoneNumber",
    "birthDate",
    "primaryDepartmentId",
    "additionalDepartments",
    "userGroups",
    "employmentDate",
    "employmentEndDate",
    "customFields",
    "employmentType",
];

/// Members the system owns: identity, links and audit timestamps.
pub(super) const READ_ONLY: &[&str] = &[
    "id",
    "url",
    "departmentUrl",
    "creationDateTime",
    "lastModifiedDateTime",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhoneNumber {
    pub country_code: i32,
    pub number: String,
}

/// A department or user-group membership. `dataSource` defaults to
/// `RelesysAPI` when a patch adds one without it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Membership {
    pub id: String,
    #[serde(default)]
    pub data_source: Option<String>,
}

/// The statuses Relesys uses (shared/vendor-notes.md §1: UserStatus enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Status {
    Activated,
    Disabled,
    Pending,
    LoginBlocked,
}

/// What the rest of the world holds that a user may point at.
pub(super) struct Catalog {
    /// Lower-cased department ids → canonical id.
    pub departments: HashMap<String, String>,
    pub user_groups: HashMap<String, String>,
    pub custom_fields: HashSet<String>,
    /// Drop (true) or reject custom-field keys that are not defined.
    pub drop_unknown_custom_fields: bool,
}

impl Catalog {
    /// Everything wrong with `user` against this world, as (JSON pointer,
    /// message) pairs. Used for fixture users and for patched users alike.
    pub fn problems(&self, user: &User) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut bad = |pointer: String, message: String| problems.push((pointer, message));
        if !is_hyphenated_uuid(&user.id) {
            bad("/id".into(), format!("'{}' is not a GUID", user.id));
        }
        if user.name.trim().is_empty() {
            bad("/name".into(), "name must not be empty".into());
        }
        for (member, stamp) in [
            ("creationDateTime", &user.creation_date_time),
            ("lastModifiedDateTime", &user.last_modified_date_time),
        ] {
            if timestamps::parse(stamp).is_none() {
                bad(format!("/{member}"), format!("'{stamp}' is not a datetime"));
            }
        }
        for (member, date) in [
            ("birthDate", &user.birth_date),
            ("employmentDate", &user.employment_date),
            ("employmentEndDate", &user.employment_end_date),
        ] {
            if let Some(date) = date
                .as_ref()
                .filter(|d| timestamps::parse_date_or_datetime(d).is_none())
            {
                bad(format!("/{member}"), format!("'{date}' is not a datetime"));
            }
        }
        for (member, email) in [
            ("email", &user.email),
            ("secondaryEmail", &user.secondary_email),
        ] {
            if let Some(email) = email.as_ref().filter(|e| !looks_like_email(e)) {
                bad(
                    format!("/{member}"),
                    format!("'{email}' is not an e-mail address"),
                );
            }
        }
        for (member, phone) in [
            ("phoneNumber", &user.phone_number),
            ("secondaryPhoneNumber", &user.secondary_phone_number),
        ] {
            if let Some(phone) = phone {
                if !(1..=999).contains(&phone.country_code) {
                    bad(
                        format!("/{member}/countryCode"),
                        format!("{} is not a country calling code", phone.country_code),
                    );
                }
                if phone.number.is_empty() || !phone.number.bytes().all(|b| b.is_ascii_digit()) {
                    bad(
                        format!("/{member}/number"),
                        format!("'{}' is not a phone number (digits only)", phone.number),
                    );
                }
            }
        }
        if !self
            .departments
            .contains_key(&user.primary_department_id.to_ascii_lowercase())
        {
            bad(
                "/primaryDepartmentId".into(),
                format!("no department has id '{}'", user.primary_department_id),
            );
        }
        for (member, list, known, what) in [
            (
                "additionalDepartments",
                &user.additional_departments,
                &self.departments,
                "department",
            ),
            (
                "userGroups",
                &user.user_groups,
                &self.user_groups,
                "user group",
            ),
        ] {
            let mut seen = HashSet::new();
            for (i, membership) in list.iter().enumerate() {
                let id = membership.id.to_ascii_lowercase();
                if !known.contains_key(&id) {
                    bad(
                        format!("/{member}/{i}/id"),
                        format!("no {what} has id '{}'", membership.id),
                    );
                } else if !seen.insert(id) {
                    bad(
                        format!("/{member}/{i}/id"),
                        format!("{what} '{}' is listed twice", membership.id),
                    );
                }
            }
        }
        if !self.drop_unknown_custom_fields {
            for key in user
                .custom_fields
                .keys()
                .filter(|k| !self.custom_fields.contains(*k))
            {
                bad(
                    format!("/customFields/{key}"),
                    format!("no custom field has key '{key}'"),
                );
            }
        }
        problems
    }

    /// Brings a valid user to the form the API answers with: canonical ids,
    /// dates as .NET writes them, default data sources, and only defined
    /// custom fields (the seed's example drops `customfieldtwo`).
    pub fn normalise(&self, user: &mut User) {
        let canonical = |map: &HashMap<String, String>, id: &mut String| {
            if let Some(found) = map.get(&id.to_ascii_lowercase()) {
                id.clone_from(found);
            }
        };
        canonical(&self.departments, &mut user.primary_department_id);
        for m in &mut user.additional_departments {
            canonical(&self.departments, &mut m.id);
            m.data_source.get_or_insert_with(|| "RelesysAPI".to_owned());
        }
        for m in &mut user.user_groups {
            canonical(&self.user_groups, &mut m.id);
            m.data_source.get_or_insert_with(|| "RelesysAPI".to_owned());
        }
        if let Some(date) = user.birth_date.as_mut() {
            if let Some(at) = timestamps::parse_date_or_datetime(date) {
                *date = format!("{}T00:00:00Z", &timestamps::format_dotnet_utc(at)[..10]);
            }
        }
        for date in [&mut user.employment_date, &mut user.employment_end_date]
            .into_iter()
            .flatten()
        {
            if let Some(at) = timestamps::parse_date_or_datetime(date) {
                *date = timestamps::format_dotnet_utc(at);
            }
        }
        user.custom_fields
            .retain(|key, _| self.custom_fields.contains(key));
    }
}

fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

/// Reads a PATCH body as a JSON Patch document. Each operation is read on
/// its own so that a mistake names its index.
pub(super) fn parse_patch(body: &[u8]) -> Result<Vec<PatchOperation>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(
            "The request body must be a JSON Patch document (a JSON array)",
        ));
    }
    let document: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("The request body is not valid JSON: {e}")))?;
    let Value::Array(items) = document else {
        return Err(ApiError::invalid(
            "The request body must be a JSON Patch document (a JSON array)",
        ));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value::<PatchOperation>(item).map_err(|e| {
                ApiError::invalid(format!(
                    "Operation {i} is not a valid JSON Patch operation: {e}"
                ))
            })
        })
        .collect()
}

/// Rejects operations that would change a read-only member (a `test` only
/// reads, and so does a `copy`'s `from`).
pub(super) fn reject_read_only(ops: &[PatchOperation]) -> Result<(), ApiError> {
    for (i, op) in ops.iter().enumerate() {
        let mut written = Vec::new();
        match op {
            PatchOperation::Test(_) => {}
            PatchOperation::Move(m) => {
                written.push(op.path());
                written.push(&m.from);
            }
            _ => written.push(op.path()),
        }
        for pointer in written {
            if pointer.is_root() {
                return Err(ApiError::invalid(format!(
                    "Operation {i} ({}): the whole user cannot be replaced; patch its members",
                    describe(op)
                )));
            }
            let member = pointer
                .first()
                .map(|t| t.decoded().into_owned())
                .unwrap_or_default();
            if READ_ONLY.contains(&member.as_str()) {
                return Err(ApiError::invalid(format!(
                    "Operation {i} ({}): '/{member}' is read-only",
                    describe(op)
                )));
            }
        }
    }
    Ok(())
}

/// Applies `ops` to a copy of `current` and returns the patched user, valid
/// and normalised, or the 400 that explains why not. `current` is untouched.
pub(super) fn apply(
    current: &Value,
    ops: &[PatchOperation],
    catalog: &Catalog,
) -> Result<User, ApiError> {
    let before: User = serde_json::from_value(current.clone()).map_err(|_| ApiError::Internal)?;
    let mut doc = current.clone();
    // On a copy, so the crate's in-place, non-reverting variant is enough:
    // a failure simply discards the copy.
    json_patch::patch_unsafe(&mut doc, ops).map_err(|e| {
        let op = ops.get(e.operation);
        ApiError::invalid(format!(
            "Operation {} ({}): {}",
            e.operation,
            op.map(describe).unwrap_or_default(),
            e.kind
        ))
    })?;

    let blame = |pointer: &str| blame(ops, pointer);
    if let Value::Object(members) = &doc {
        if let Some(unknown) = members.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
            let pointer = format!("/{unknown}");
            return Err(ApiError::invalid(format!(
                "{}'{pointer}' is not a member of a user",
                blame(&pointer)
            )));
        }
    }
    let mut user: User = serde_path_to_error::deserialize(&doc).map_err(|e| {
        let mut pointer = pointer_of(e.path());
        let message = e.into_inner().to_string();
        // serde reports a missing member at its parent; name the member.
        if let Some(member) = message
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'))
        {
            pointer = format!("{pointer}/{member}");
        }
        ApiError::invalid(format!("{}{pointer}: {message}", blame(&pointer)))
    })?;
    if let Some((pointer, message)) = catalog.problems(&user).into_iter().next() {
        return Err(ApiError::invalid(format!(
            "{}{pointer}: {message}",
            blame(&pointer)
        )));
    }
    if let Err(message) = status_change_allowed(before.status, user.status) {
        return Err(ApiError::invalid(format!(
            "{}/status: {message}",
            blame("/status")
        )));
    }
    catalog.normalise(&mut user);
    Ok(user)
}

/// Which status changes a PATCH may make (inferred; docs/vendors/relesys.md).
fn status_change_allowed(from: Status, to: Status) -> Result<(), String> {
    use Status::*;
    match (from, to) {
        _ if from == to => Ok(()),
        (_, Disabled) | (Disabled | LoginBlocked, Activated) => Ok(()),
        (Pending, Activated) => {
            Err("a Pending user becomes Activated by accepting the invitation".into())
        }
        (_, Pending | LoginBlocked) => Err(format!(
            "the status '{to:?}' is set by Relesys, not through the API"
        )),
        _ => Err(format!(
            "the status cannot change from '{from:?}' to '{to:?}'"
        )),
    }
}

/// "Operation N (op /path): " for the last operation that wrote the
/// top-level member of `pointer`; empty when none did.
fn blame(ops: &[PatchOperation], pointer: &str) -> String {
    let member = pointer
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    ops.iter()
        .enumerate()
        .rev()
        .find(|(_, op)| {
            !matches!(op, PatchOperation::Test(_))
                && op.path().first().is_some_and(|t| t.decoded() == member)
        })
        .map(|(i, op)| format!("Operation {i} ({}): ", describe(op)))
        .unwrap_or_default()
}

fn describe(op: &PatchOperation) -> String {
    let name = match op {
        PatchOperation::Add(_) => "add",
        PatchOperation::Remove(_) => "remove",
        PatchOperation::Replace(_) => "replace",
        PatchOperation::Move(_) => "move",
        PatchOperation::Copy(_) => "copy",
        PatchOperation::Test(_) => "test",
    };
    format!("{name} {}", op.path().as_str())
}
