//! The Relesys user: its typed model and its validation against the
//! tenant's organisation (departments, user groups, custom fields).
//!
//! The user is stored exactly as the API shows it (the `data` object of
//! the update-user response in Relesys' API reference; sources in
//! `docs/vendors/relesys.md`).

use std::collections::HashSet;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::contact::{looks_like_email, phone_problems, PhoneNumber};
use super::dates;
use super::organisation::{Department, Entries, UserGroup, Writable};
use crate::store::State;
use crate::timestamps;
use crate::vendors::{is_hyphenated_uuid, lowercase_id};

/// A Relesys user, field for field and in the order of the update-user
/// response in Relesys' API reference (docs/vendors/relesys.md).
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

impl crate::vendors::StoredUser for User {
    fn id(&self) -> &str {
        &self.id
    }
}

impl super::query::Listed for User {
    fn text(&self, member: &str) -> Option<&str> {
        match member {
            "id" => Some(&self.id),
            "url" => self.url.as_deref(),
            "departmentUrl" => self.department_url.as_deref(),
            "status" => Some(self.status.as_str()),
            "creationDateTime" => Some(&self.creation_date_time),
            "lastModifiedDateTime" => Some(&self.last_modified_date_time),
            "externalId" => self.external_id.as_deref(),
            "name" => Some(&self.name),
            "userName" => self.user_name.as_deref(),
            "title" => self.title.as_deref(),
            "dataSource" => self.data_source.as_deref(),
            "email" => self.email.as_deref(),
            "secondaryEmail" => self.secondary_email.as_deref(),
            "birthDate" => self.birth_date.as_deref(),
            "primaryDepartmentId" => Some(&self.primary_department_id),
            "employmentDate" => self.employment_date.as_deref(),
            "employmentEndDate" => self.employment_end_date.as_deref(),
            "employmentType" => self.employment_type.as_deref(),
            // Objects and lists: no text, as in the JSON.
            _ => None,
        }
    }
}

/// Every member of a user, in wire names.
pub(super) const MEMBERS: &[&str] = &[
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

/// Members of the .NET model that are nullable: removing one sets `null`.
pub(super) const OPTIONAL_MEMBERS: &[&str] = &[
    "url",
    "departmentUrl",
    "externalId",
    "userName",
    "title",
    "dataSource",
    "email",
    "secondaryEmail",
    "phoneNumber",
    "secondaryPhoneNumber",
    "birthDate",
    "employmentDate",
    "employmentEndDate",
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

/// A department or user-group membership. `dataSource` defaults to
/// `RelesysAPI` when a patch adds one without it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Membership {
    pub id: String,
    #[serde(default)]
    pub data_source: Option<String>,
}

/// The statuses Relesys uses (the UserStatus enum of the public client
/// `getsno/relesys-users`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Status {
    Activated,
    Disabled,
    Pending,
    LoginBlocked,
}

impl Status {
    /// The name as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Activated => "Activated",
            Status::Disabled => "Disabled",
            Status::Pending => "Pending",
            Status::LoginBlocked => "LoginBlocked",
        }
    }
}

/// The ids and keys a user may refer to: the tenant's departments, user
/// groups and custom fields.
/// Departments and user groups are looked up as `state` sees them (a
/// session may have created or deleted some); without a state, as the
/// fixture has them.
pub(super) struct References<'a> {
    pub departments: &'a Entries<Department>,
    pub user_groups: &'a Entries<UserGroup>,
    pub state: Option<&'a State>,
    /// The `externalId`s of the tenant's custom fields of users.
    pub custom_fields: &'a HashSet<String>,
    /// Drop (opt-in) or reject (default) custom-field keys that are not defined.
    pub drop_unknown_custom_fields: bool,
}

/// Whether entry `id` (any case) exists, then its canonical spelling
/// (`respell`); a stored entry that no longer reads counts as missing (the
/// store logs it).
fn entry<T: Writable>(entries: &Entries<T>, state: Option<&State>, id: &str) -> Option<std::sync::Arc<T>> {
    entries.get(state, id).ok().flatten()
}

/// Spells `id` as the entry it refers to does, if that entry exists
/// (copying only when the spelling differs).
fn respell<T: Writable>(entries: &Entries<T>, state: Option<&State>, id: &mut String) {
    if let Some(found) = entry(entries, state, id) {
        if found.id() != id.as_str() {
            found.id().clone_into(id);
        }
    }
}

impl References<'_> {
    fn has_department(&self, id: &str) -> bool {
        entry(self.departments, self.state, id).is_some()
    }

    fn has_user_group(&self, id: &str) -> bool {
        entry(self.user_groups, self.state, id).is_some()
    }

    /// Everything wrong with `user` against this world, as (JSON pointer,
    /// message) pairs. Used for fixture users and for patched users alike.
    pub fn problems(&self, user: &User) -> Vec<(String, String)> {
        let mut problems = format_problems(user);
        self.reference_problems(user, &mut problems);
        problems
    }

    /// Departments, user groups and custom-field keys the user refers to.
    fn reference_problems(&self, user: &User, problems: &mut Vec<(String, String)>) {
        let mut bad = |pointer: String, message: String| problems.push((pointer, message));
        if !self.has_department(&user.primary_department_id) {
            bad(
                "/primaryDepartmentId".into(),
                format!("no department has id '{}'", user.primary_department_id),
            );
        }
        type Lookup<'r> = fn(&References<'r>, &str) -> bool;
        let lists: [(&str, &Vec<Membership>, Lookup<'_>, &str); 2] = [
            (
                "additionalDepartments",
                &user.additional_departments,
                References::has_department,
                "department",
            ),
            (
                "userGroups",
                &user.user_groups,
                References::has_user_group,
                "user group",
            ),
        ];
        for (member, list, known, what) in lists {
            let mut seen = HashSet::new();
            for (i, membership) in list.iter().enumerate() {
                let id = lowercase_id(&membership.id);
                if !known(self, &id) {
                    bad(
                        format!("/{member}/{i}/id"),
                        format!("no {what} has id '{}'", membership.id),
                    );
                } else if list.len() > 1 && !seen.insert(id) {
                    // (A list of one cannot list an id twice: no set needed.)
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
    }

    /// The custom-field keys of `user` that [`References::normalise`] drops
    /// (only with the opt-in `unknown_custom_fields: "drop"`).
    pub fn dropped_keys(&self, user: &User) -> Vec<String> {
        if !self.drop_unknown_custom_fields {
            return Vec::new();
        }
        user.custom_fields
            .keys()
            .filter(|key| !self.custom_fields.contains(*key))
            .cloned()
            .collect()
    }

    /// Brings a valid user to the form the API answers with: canonical ids,
    /// dates as .NET writes them, default data sources (and, only with the
    /// opt-in `unknown_custom_fields: "drop"`, only defined custom fields).
    pub fn normalise(&self, user: &mut User) {
        respell(self.departments, self.state, &mut user.primary_department_id);
        for m in &mut user.additional_departments {
            respell(self.departments, self.state, &mut m.id);
            m.data_source.get_or_insert_with(|| "RelesysAPI".to_owned());
        }
        for m in &mut user.user_groups {
            respell(self.user_groups, self.state, &mut m.id);
            m.data_source.get_or_insert_with(|| "RelesysAPI".to_owned());
        }
        if let Some(date) = user.birth_date.as_mut() {
            if let Some(at) = dates::parse(date) {
                *date = dates::date(at);
            }
        }
        for date in [&mut user.employment_date, &mut user.employment_end_date]
            .into_iter()
            .flatten()
        {
            if let Some(at) = dates::parse(date) {
                *date = dates::datetime(at);
            }
        }
        if self.drop_unknown_custom_fields {
            user.custom_fields
                .retain(|key, _| self.custom_fields.contains(key));
        }
    }
}

/// What is wrong with the user's own values (ids, dates, e-mails, phones).
fn format_problems(user: &User) -> Vec<(String, String)> {
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
        if let Some(date) = date.as_ref().filter(|d| dates::parse(d).is_none()) {
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
        let Some(phone) = phone else { continue };
        for (pointer, message) in phone_problems(phone) {
            bad(format!("/{member}{pointer}"), message);
        }
    }
    problems
}
