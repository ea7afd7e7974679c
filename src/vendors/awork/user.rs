//! The awork user as `GET /users/{userId}` shows it (the spec's `User`, in
//! its property order), which is also how the fixture lists it and the
//! store holds it, and awork's timestamp format.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::timestamps;
use crate::vendors::StoredUser;

/// An awork user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub birth_date: Option<Timestamp>,
    pub gender: Option<String>,
    pub title: Option<String>,
    pub position: Option<String>,
    pub language: Option<String>,
    pub id: String,
    pub status: UserStatus,
    pub created_on: Timestamp,
    pub created_by: String,
    pub updated_on: Timestamp,
    pub updated_by: String,
    pub is_archived: bool,
    pub is_deactivated: bool,
    /// Whether the user is an AI agent (spec since 2026-06; `false` when
    /// the fixture leaves it out).
    #[serde(default)]
    pub is_agent: bool,
    pub deactivated_on: Option<Timestamp>,
    /// Set by `DELETE /users/{id}` (soft delete): such a user is gone from
    /// every route but stays in the store for the admin API.
    #[serde(default)]
    pub deleted_on: Option<Timestamp>,
    pub has_image: bool,
    pub should_migrate_to_connect: bool,
    pub user_contact_infos: Vec<Value>,
    /// UTC ticks (100 ns since 0001-01-01) of the last modification.
    pub resource_version: i64,
    pub tags: Vec<Value>,
    pub teams: Vec<Value>,
    pub is_external: bool,
}

impl StoredUser for User {
    fn id(&self) -> &str {
        &self.id
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserStatus {
    pub invitation_accepted: bool,
    pub is_deactivated: bool,
}

impl User {
    /// Soft-deleted users exist for no route.
    pub fn is_deleted(&self) -> bool {
        self.deleted_on.is_some()
    }

    /// The audit fields of a write by `by` at `now`: `updatedOn` never goes
    /// back, `resourceVersion` always grows (checked: a version at the end
    /// of the range is an error, never a wrap).
    pub fn touch(&mut self, by: &str, now: OffsetDateTime) -> Result<(), VersionExhausted> {
        self.updated_on = Timestamp::next_write(Some(self.updated_on), now);
        by.clone_into(&mut self.updated_by);
        let bumped = self
            .resource_version
            .checked_add(1)
            .ok_or(VersionExhausted)?;
        self.resource_version = timestamps::utc_ticks(now).max(bumped);
        Ok(())
    }

    /// The user's e-mail addresses (contact infos of type `email`).
    pub fn emails(&self) -> impl Iterator<Item = &str> {
        self.user_contact_infos
            .iter()
            .filter(|c| c["type"] == "email")
            .filter_map(|c| c["value"].as_str())
    }
}

/// A stored `resourceVersion` of `i64::MAX` cannot grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VersionExhausted;

/// A UTC instant as awork writes it: seven fractional digits and `Z`
/// (`2021-08-27T12:01:29.6292403Z`, .NET's round-trip form). Any RFC 3339
/// timestamp reads (fixtures, admin seeding); it is always written back in
/// awork's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    /// `now` at 100 ns precision, but never earlier than `previous`.
    pub fn next_write(previous: Option<Timestamp>, now: OffsetDateTime) -> Timestamp {
        let now = now - Duration::nanoseconds(i64::from(now.nanosecond() % 100));
        match previous {
            Some(prev) if prev.0 > now => prev,
            _ => Timestamp(now),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        timestamps::write_ticks(f, self.0)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Built on the stack and handed over as one string: through
        // `collect_str`, serde_json escapes every character as its own
        // write (a fifth of an awork list's time). Years outside
        // 0001–9999 do not fit and take that slower way.
        let mut text = timestamps::StackText::new();
        match timestamps::write_ticks(&mut text, self.0) {
            Ok(()) => serializer.serialize_str(text.as_str()),
            Err(_) => serializer.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        timestamps::parse(&text).map(Timestamp).ok_or_else(|| {
            serde::de::Error::custom(format!("'{text}' is not an RFC 3339 datetime"))
        })
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> String {
        "Timestamp".to_owned()
    }

    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            format: Some("date-time".to_owned()),
            ..Default::default()
        }
        .into()
    }
}

