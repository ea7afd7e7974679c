//! The tenant's organisation whose ids and keys a client sends in a user:
//! departments, user groups and custom fields of users. Each entry is
//! written in the fixture as `GET /departments`, `GET /userGroups` and
//! `GET /customfields/users` show it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::dates;
use crate::vendors::is_hyphenated_uuid;

/// The creation and modification time of an organisation entry whose fixture
/// gives none.
const DEFAULT_STAMP: &str = "2020-01-01T00:00:00Z";

fn default_stamp() -> String {
    DEFAULT_STAMP.to_owned()
}

/// A department, with the documented members usermock keeps (the others,
/// such as addresses and visibility flags, are not emulated).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Department {
    pub id: String,
    /// Always `null`, as in the docs' user example.
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
    /// E.g. `Company`, `Division`, `Store`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// A user group, with every documented member.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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

/// Problems of an organisation entry, as (pointer below it, message).
pub(super) trait Entry {
    fn id(&self) -> &str;
    fn problems(&self) -> Vec<(String, String)>;
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
        if let Some(parent) = self.parent_id.as_deref().filter(|p| !is_hyphenated_uuid(p)) {
            problems.push(("/parentId".into(), format!("'{parent}' is not a GUID")));
        }
        problems
    }
}

impl Entry for UserGroup {
    fn id(&self) -> &str {
        &self.id
    }
    fn problems(&self) -> Vec<(String, String)> {
        stamp_problems([
            ("creationDateTime", &self.creation_date_time),
            ("lastModifiedDateTime", &self.last_modified_date_time),
        ])
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
