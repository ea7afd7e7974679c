//! The tenant's organisation, whose ids and keys a client sends in a user:
//! departments, user groups and custom fields of users. Each entry is
//! written in the fixture as `GET /departments`, `GET /userGroups` and
//! `GET /customfields/users` show it.
//!
//! Departments and user groups can be written (`PATCH` documented, `POST`
//! and `DELETE` from the public client). The fixture's entries live in the
//! vendor; an entry a request creates, changes or deletes is a
//! [`Revision`] in the request's state under the kind's own store key, so
//! it is seen only in that session and a reset drops it.

use std::collections::HashMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::dates;
use super::contact::{looks_like_email, phone_problems, PhoneNumber};
use crate::store::{BrokenRecord, State, StoreFull};
use crate::vendors::{is_hyphenated_uuid, lowercase_id};

/// The creation and modification time of an organisation entry whose fixture
/// gives none.
const DEFAULT_STAMP: &str = "2020-01-01T00:00:00Z";

fn default_stamp() -> String {
    DEFAULT_STAMP.to_owned()
}

/// A department, with every member of the update-department example in
/// Relesys' API reference, in its order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Department {
    pub id: String,
    /// `null` in the docs' example.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default = "default_stamp")]
    pub creation_date_time: String,
    #[serde(default = "default_stamp")]
    pub last_modified_date_time: String,
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub address_line: Option<String>,
    #[serde(default)]
    pub address_line2: Option<String>,
    #[serde(default)]
    pub zip_code: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub default_phone_country_code: Option<i32>,
    #[serde(default)]
    pub phone_number: Option<PhoneNumber>,
    #[serde(default)]
    pub manager_user_id: Option<String>,
    #[serde(default)]
    pub show_in_contacts: bool,
    #[serde(default)]
    pub show_in_highscores: bool,
    #[serde(default)]
    pub show_in_activity_statistics: bool,
    #[serde(default)]
    pub content_culture: Option<String>,
    #[serde(default)]
    pub ui_culture: Option<String>,
    /// One of [`DEPARTMENT_TYPES`].
    #[serde(rename = "type", default = "default_department_type")]
    pub kind: String,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub user_language_enabled: bool,
    #[serde(default)]
    pub selected_cultures: Vec<String>,
    #[serde(default)]
    pub show_department_manager_public: bool,
    #[serde(default)]
    pub show_employee_list: bool,
    #[serde(default)]
    pub show_department_users_in_public_contacts: bool,
    #[serde(default)]
    pub show_department_in_tagging_overview: bool,
    #[serde(default)]
    pub show_users_in_tagging_overview: bool,
    #[serde(default)]
    pub locales: Vec<Locale>,
}

/// A department's description in one culture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Locale {
    pub culture: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// The department types Relesys names (its sessions page and the public
/// client's `DepartmentType` enum).
pub(super) const DEPARTMENT_TYPES: &[&str] = &[
    "Company",
    "Country",
    "Department",
    "District",
    "Division",
    "Other",
    "Partner",
    "Region",
    "Store",
    "Subdepartment",
];

fn default_department_type() -> String {
    "Department".to_owned()
}

/// Every member of a department, in wire names.
pub(super) const DEPARTMENT_MEMBERS: &[&str] = &[
    "id",
    "url",
    "creationDateTime",
    "lastModifiedDateTime",
    "name",
    "parentId",
    "externalId",
    "addressLine",
    "addressLine2",
    "zipCode",
    "city",
    "defaultPhoneCountryCode",
    "phoneNumber",
    "managerUserId",
    "showInContacts",
    "showInHighscores",
    "showInActivityStatistics",
    "contentCulture",
    "uiCulture",
    "type",
    "timeZone",
    "email",
    "userLanguageEnabled",
    "selectedCultures",
    "showDepartmentManagerPublic",
    "showEmployeeList",
    "showDepartmentUsersInPublicContacts",
    "showDepartmentInTaggingOverview",
    "showUsersInTaggingOverview",
    "locales",
];

/// The nullable members of a department: removing one sets `null`.
pub(super) const DEPARTMENT_OPTIONAL: &[&str] = &[
    "url",
    "parentId",
    "externalId",
    "addressLine",
    "addressLine2",
    "zipCode",
    "city",
    "defaultPhoneCountryCode",
    "phoneNumber",
    "managerUserId",
    "contentCulture",
    "uiCulture",
    "timeZone",
    "email",
];

/// A user group, with every documented member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserGroup {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default = "default_stamp")]
    pub creation_date_time: String,
    #[serde(default = "default_stamp")]
    pub last_modified_date_time: String,
    pub name: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// Every member of a user group, in wire names.
pub(super) const USER_GROUP_MEMBERS: &[&str] = &[
    "id",
    "url",
    "creationDateTime",
    "lastModifiedDateTime",
    "name",
    "externalId",
    "description",
];

/// The nullable members of a user group.
pub(super) const USER_GROUP_OPTIONAL: &[&str] = &["url", "externalId", "description"];

/// Members the system owns, in departments and user groups alike.
pub(super) const ENTRY_READ_ONLY: &[&str] =
    &["id", "url", "creationDateTime", "lastModifiedDateTime"];

/// A custom field of users. Its `externalId` is the key of a user's
/// `customFields` ("the externalId … is used as the key reference").
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomField {
    pub id: String,
    pub external_id: String,
    pub name: String,
    /// E.g. `Text`, `MultilineText`.
    #[serde(rename = "type", default = "default_field_type")]
    pub kind: String,
}

fn default_field_type() -> String {
    "Text".to_owned()
}

/// An organisation entry: its id, and the problems of its own values as
/// (pointer below it, message).
pub(super) trait Entry {
    fn id(&self) -> &str;
    fn problems(&self) -> Vec<(String, String)>;
}

/// A department or user group: an [`Entry`] a request may write.
pub(super) trait Writable:
    Entry + Serialize + DeserializeOwned + Clone + Send + Sync + 'static
{
    /// The store key of the session's revisions.
    const KIND: &'static str;
    /// "department", "user group": for messages.
    const WHAT: &'static str;
    fn set_last_modified(&mut self, stamp: String);
    fn last_modified(&self) -> &str;
}

impl Writable for Department {
    const KIND: &'static str = "relesys.departments";
    const WHAT: &'static str = "department";
    fn set_last_modified(&mut self, stamp: String) {
        self.last_modified_date_time = stamp;
    }
    fn last_modified(&self) -> &str {
        &self.last_modified_date_time
    }
}

impl Writable for UserGroup {
    const KIND: &'static str = "relesys.userGroups";
    const WHAT: &'static str = "user group";
    fn set_last_modified(&mut self, stamp: String) {
        self.last_modified_date_time = stamp;
    }
    fn last_modified(&self) -> &str {
        &self.last_modified_date_time
    }
}

/// An entry as a session keeps it: as written there, or deleted there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Revision<T> {
    pub id: String,
    pub entry: Option<T>,
}

/// The fixture's departments or user groups, by lower-cased id, under the
/// revisions each session makes.
pub(super) struct Entries<T> {
    fixture: HashMap<String, Arc<T>>,
}

impl<T: Writable> Entries<T> {
    pub fn new(list: &[T]) -> Entries<T> {
        Entries {
            fixture: list
                .iter()
                .map(|e| (e.id().to_ascii_lowercase(), Arc::new(e.clone())))
                .collect(),
        }
    }

    /// The fixture's ids, lower-cased.
    pub fn fixture_ids(&self) -> impl Iterator<Item = &String> {
        self.fixture.keys()
    }

    /// The entry `id` (any case) as `state` sees it (`None` state: the
    /// fixture's).
    pub fn get(&self, state: Option<&State>, id: &str) -> Result<Option<Arc<T>>, BrokenRecord> {
        let id = lowercase_id(id);
        if let Some(state) = state {
            if let Some(revision) = state.read::<Revision<T>>(T::KIND, &id)? {
                return Ok(revision.entry.clone().map(Arc::new));
            }
        }
        Ok(self.fixture.get(id.as_ref()).cloned())
    }

    /// Every entry `state` sees, in no particular order.
    pub fn all(&self, state: &State) -> Vec<Arc<T>> {
        let mut all = self.fixture.clone();
        for revision in state.all_typed::<Revision<T>>(T::KIND) {
            let id = revision.id.to_ascii_lowercase();
            match &revision.entry {
                Some(entry) => all.insert(id, Arc::new(entry.clone())),
                None => all.remove(&id),
            };
        }
        all.into_values().collect()
    }

    /// Stores `entry` as the session's version.
    pub fn put(&self, state: &State, entry: T) -> Result<(), StoreFull> {
        let id = entry.id().to_ascii_lowercase();
        let revision = Revision {
            id: id.clone(),
            entry: Some(entry),
        };
        state.put_typed(T::KIND, id, &revision)
    }

    /// Deletes `id` in the session.
    pub fn delete(&self, state: &State, id: &str) -> Result<(), StoreFull> {
        let id = id.to_ascii_lowercase();
        let revision: Revision<T> = Revision {
            id: id.clone(),
            entry: None,
        };
        state.put_typed(T::KIND, id, &revision)
    }
}

fn stamp_problems(pairs: [(&str, &str); 2]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter(|(_, stamp)| dates::parse(stamp).is_none())
        .map(|(member, stamp)| (format!("/{member}"), format!("'{stamp}' is not a datetime")))
        .collect()
}

impl Entry for Department {
    fn id(&self) -> &str {
        &self.id
    }
    fn problems(&self) -> Vec<(String, String)> {
        let mut problems = stamp_problems([
            ("creationDateTime", &self.creation_date_time),
            ("lastModifiedDateTime", &self.last_modified_date_time),
        ]);
        let mut bad = |pointer: &str, message: String| problems.push((pointer.to_owned(), message));
        if !is_hyphenated_uuid(&self.id) {
            bad("/id", format!("'{}' is not a GUID", self.id));
        }
        if self.name.trim().is_empty() {
            bad("/name", "name must not be empty".into());
        }
        for (member, id) in [
            ("/parentId", &self.parent_id),
            ("/managerUserId", &self.manager_user_id),
        ] {
            if let Some(id) = id.as_deref().filter(|id| !is_hyphenated_uuid(id)) {
                bad(member, format!("'{id}' is not a GUID"));
            }
        }
        if !DEPARTMENT_TYPES.contains(&self.kind.as_str()) {
            bad(
                "/type",
                format!(
                    "'{}' is not a department type (one of {})",
                    self.kind,
                    DEPARTMENT_TYPES.join(", ")
                ),
            );
        }
        if let Some(code) = self
            .default_phone_country_code
            .filter(|c| !(1..=999).contains(c))
        {
            bad(
                "/defaultPhoneCountryCode",
                format!("{code} is not a country calling code"),
            );
        }
        if let Some(phone) = &self.phone_number {
            for (pointer, message) in phone_problems(phone) {
                bad(&format!("/phoneNumber{pointer}"), message);
            }
        }
        if let Some(email) = self.email.as_ref().filter(|e| !looks_like_email(e)) {
            bad("/email", format!("'{email}' is not an e-mail address"));
        }
        problems
    }
}

impl Entry for UserGroup {
    fn id(&self) -> &str {
        &self.id
    }
    fn problems(&self) -> Vec<(String, String)> {
        let mut problems = stamp_problems([
            ("creationDateTime", &self.creation_date_time),
            ("lastModifiedDateTime", &self.last_modified_date_time),
        ]);
        if !is_hyphenated_uuid(&self.id) {
            problems.push(("/id".into(), format!("'{}' is not a GUID", self.id)));
        }
        if self.name.trim().is_empty() {
            problems.push(("/name".into(), "name must not be empty".into()));
        }
        problems
    }
}

impl Entry for CustomField {
    fn id(&self) -> &str {
        &self.id
    }
    fn problems(&self) -> Vec<(String, String)> {
        if self.external_id.trim().is_empty() {
            vec![("/externalId".into(), "must not be empty".into())]
        } else {
            Vec::new()
        }
    }
}
