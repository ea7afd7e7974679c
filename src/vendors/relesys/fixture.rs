//! `fixtures/relesys.json`: its format (the JSON Schema is generated from
//! these types) and its loading into a [`Relesys`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use hyper::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Duration;

use super::auth::{self, Grant, OAuthClient, Tokens};
use super::organisation::{CustomField, Department, Entries, Entry, Revision, UserGroup, Writable};
use super::user::{References, User};
use super::{Organisation, Relesys, Tenant};
use crate::diagnostics::{FileProblem, Parsed, SourceFile};
use crate::rate_limit::RateLimiter as Limiter;
use crate::store::Record;
use crate::store::State;
use crate::vendors::snapshot::{check_fixed_members, check_record_size, Document, FixedMembers};
use crate::vendors::{
    check_credential, fixture_records, is_hyphenated_uuid, restored_users, Api, LoadOptions,
    Loaded, Restored,
};

/// The longest `token_lifetime_seconds` a fixture may set: one year.
const MAX_TOKEN_LIFETIME_SECONDS: u64 = 365 * 24 * 60 * 60;

/// `fixtures/relesys.json`: the vendor's whole world.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RelesysFixture {
    #[serde(default)]
    pub settings: Settings,
    /// OAuth clients for `POST /login/oauth/authorize`.
    pub clients: Vec<ClientFixture>,
    /// Ready-made bearer tokens (never expire), e.g. `relesys-admin`.
    pub tokens: Vec<TokenFixture>,
    /// As `GET /departments` shows them.
    pub departments: Vec<Department>,
    /// As `GET /userGroups` shows them.
    pub user_groups: Vec<UserGroup>,
    /// The custom fields of users, as `GET /customfields/users` shows them;
    /// their `externalId`s are the keys of a user's `customFields`.
    pub custom_fields: Vec<CustomField>,
    /// Users exactly as `GET /users/{id}` shows them (the `data` object).
    pub users: Vec<User>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Lifetime of issued tokens (1 s to one year), reported as the string
    /// `expires_in`.
    #[serde(default = "default_token_lifetime")]
    pub token_lifetime_seconds: u64,
    #[serde(default)]
    pub rate_limit: RateLimitSettings,
    /// `reject` (default: a 400 naming the key) or `drop` custom-field keys
    /// that the tenant does not define.
    #[serde(default)]
    pub unknown_custom_fields: UnknownCustomFields,
    /// The status of a `POST /users` answer: 201 (default) or 200.
    #[serde(default = "default_created_status")]
    pub created_status: u16,
    /// Whether a user PATCH may write `/status`: `reject` (default; the
    /// public client changes status only through `PUT /users/{id}/status`)
    /// or `allow`.
    #[serde(default)]
    pub patch_status: PatchStatus,
    /// A list's `nextUrl` and `previousUrl`: `when_present` (default: only
    /// when there is such a page, as the user-groups example answers
    /// `{"count", "data"}` alone) or `always` (`null` when there is none).
    #[serde(default)]
    pub list_links: ListLinks,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListLinks {
    #[default]
    WhenPresent,
    Always,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PatchStatus {
    #[default]
    Reject,
    Allow,
}

fn default_created_status() -> u16 {
    201
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            token_lifetime_seconds: default_token_lifetime(),
            rate_limit: RateLimitSettings::default(),
            unknown_custom_fields: UnknownCustomFields::Reject,
            created_status: default_created_status(),
            patch_status: PatchStatus::Reject,
            list_links: ListLinks::WhenPresent,
        }
    }
}

fn default_token_lifetime() -> u64 {
    3600
}

/// Relesys throttles per client id: 100 requests per minute, all endpoints.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Off by default; `--rate-limit relesys` turns it on too.
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_requests_per_minute")]
    pub requests_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> RateLimitSettings {
        RateLimitSettings {
            enabled: false,
            requests_per_minute: default_requests_per_minute(),
        }
    }
}

fn default_requests_per_minute() -> u32 {
    100
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnknownCustomFields {
    #[default]
    Reject,
    Drop,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientFixture {
    /// A GUID, as Relesys issues them.
    pub client_id: String,
    pub client_secret: String,
    /// The scopes this client may request.
    pub scopes: Vec<String>,
    /// Free text for people reading the fixture.
    #[serde(default)]
    #[allow(dead_code)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenFixture {
    pub token: String,
    /// The client the token acts for (rate limits count per client).
    pub client_id: String,
    pub scopes: Vec<String>,
}

type Bad<'a> = dyn FnMut(String, String) + 'a;

pub(super) fn load(file: &SourceFile, options: &LoadOptions) -> Result<Loaded, Vec<FileProblem>> {
    let Parsed {
        value: fixture,
        mut problems,
        places,
    } = file.parse_fixture::<RelesysFixture>()?;
    let mut bad = |pointer: String, message: String| {
        problems.push(file.problem(places.original(&pointer), message))
    };

    let settings = &fixture.settings;
    check_settings(settings, &mut bad);
    let departments = guid_index(&fixture.departments, "departments", &mut bad);
    guid_index(&fixture.user_groups, "user_groups", &mut bad);
    guid_index(&fixture.custom_fields, "custom_fields", &mut bad);
    let mut custom_fields = HashSet::new();
    for (i, field) in fixture.custom_fields.iter().enumerate() {
        if !custom_fields.insert(field.external_id.clone()) {
            bad(
                format!("/custom_fields/{i}/externalId"),
                format!("duplicate externalId '{}'", field.external_id),
            );
        }
    }
    let (clients, client_ids) = oauth_clients(&fixture.clients, &mut bad);
    let fixed = fixed_tokens(&fixture.tokens, &client_ids, &mut bad);
    as_values(&fixture.departments, "departments", &mut bad);
    as_values(&fixture.user_groups, "user_groups", &mut bad);
    let user_ids: HashSet<String> = fixture
        .users
        .iter()
        .map(|u| u.id.to_ascii_lowercase())
        .collect();
    department_reference_problems(&fixture.departments, &departments, &user_ids, &mut bad);
    let organisation = Organisation {
        departments: Entries::new(&fixture.departments),
        user_groups: Entries::new(&fixture.user_groups),
        custom_fields: as_values(&fixture.custom_fields, "custom_fields", &mut bad),
        custom_field_keys: custom_fields,
    };
    let drop_unknown_custom_fields = settings.unknown_custom_fields == UnknownCustomFields::Drop;
    let references = References {
        departments: &organisation.departments,
        user_groups: &organisation.user_groups,
        state: None,
        custom_fields: &organisation.custom_field_keys,
        drop_unknown_custom_fields,
    };
    let users = normalised_users(fixture.users, &references, &mut bad);
    let records = fixture_records(users, |u| references.problems(u), &mut bad);

    if !problems.is_empty() {
        return Err(problems);
    }
    let rpm = settings.rate_limit.requests_per_minute;
    let limiter = (settings.rate_limit.enabled || options.rate_limit)
        .then(|| Limiter::new(rpm, std::time::Duration::from_secs(60)));
    let lifetime = i64::try_from(settings.token_lifetime_seconds).unwrap_or(i64::MAX);
    let created_status = if settings.created_status == 200 {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(Loaded {
        vendor: Arc::new(Relesys::new(Tenant {
            tokens: Tokens::new(
                clients,
                fixed,
                Duration::seconds(lifetime),
                options.max_issued_tokens,
            ),
            organisation,
            drop_unknown_custom_fields,
            status_by_patch: settings.patch_status == PatchStatus::Allow,
            always_list_links: settings.list_links == ListLinks::Always,
            limiter,
            requests_per_minute: rpm,
            created_status,
            max_record_bytes: options.max_record_bytes,
        })),
        records,
        other_kinds: Vec::new(),
    })
}

/// The members of `relesys.json` that API calls create or change: the
/// departments, the user groups and the users. Settings, OAuth clients,
/// fixture tokens and the custom fields only a restart changes.
///
/// Tokens issued by `POST /login/oauth/authorize` are not in a snapshot:
/// they are credentials a client obtains, not data it reads back, like the
/// fixture's tokens they are shared by every session, and a restore neither
/// revokes nor mints them (a full reset forgets them; they expire by the
/// clock). A test that restores a snapshot keeps its token working.
const STATE_MEMBERS: &[&str] = &["departments", "user_groups", "users"];

impl Relesys {
    /// See [`crate::vendors::Vendor::snapshot`]: the departments and user
    /// groups as `state` sees them, and its users, each sorted by id.
    pub(super) fn snapshot_document(&self, state: &State, startup: &Value) -> Document {
        let organisation = &self.tenant.organisation;
        let mut departments = organisation.departments.all(state);
        departments.sort_by(|a, b| a.id.cmp(&b.id));
        let mut user_groups = organisation.user_groups.all(state);
        user_groups.sort_by(|a, b| a.id.cmp(&b.id));
        let mut users = state.all_typed::<User>(Relesys::NAME);
        users.sort_by(|a, b| a.id.cmp(&b.id));
        Document::new(FixedMembers::of(startup, STATE_MEMBERS))
            .member("departments", departments)
            .member("user_groups", user_groups)
            .member("users", users)
    }

    /// See [`crate::vendors::Vendor::restore`]: departments, user groups
    /// and users checked as the fixture's are, the users against the
    /// snapshot's organisation; a fixture department or user group the
    /// snapshot leaves out is restored as deleted.
    pub(super) fn read_snapshot(
        &self,
        file: &SourceFile,
        startup: &Value,
    ) -> Result<Restored, Vec<FileProblem>> {
        let Parsed {
            value: fixture,
            mut problems,
            places,
        } = file.parse_fixture::<RelesysFixture>()?;
        let mut bad = |pointer: String, message: String| {
            problems.push(file.problem(places.original(&pointer), message))
        };
        check_fixed_members(file, startup, STATE_MEMBERS, &mut bad);
        let max = self.tenant.max_record_bytes;
        let department_ids = guid_index(&fixture.departments, "departments", &mut bad);
        guid_index(&fixture.user_groups, "user_groups", &mut bad);
        as_values(&fixture.departments, "departments", &mut bad);
        as_values(&fixture.user_groups, "user_groups", &mut bad);
        for (i, department) in fixture.departments.iter().enumerate() {
            check_record_size(format!("/departments/{i}"), department, max, &mut bad);
        }
        let user_ids: HashSet<String> = fixture
            .users
            .iter()
            .map(|u| u.id.to_ascii_lowercase())
            .collect();
        department_reference_problems(&fixture.departments, &department_ids, &user_ids, &mut bad);
        let departments = Entries::new(&fixture.departments);
        let user_groups = Entries::new(&fixture.user_groups);
        let references = References {
            departments: &departments,
            user_groups: &user_groups,
            state: None,
            custom_fields: &self.tenant.organisation.custom_field_keys,
            drop_unknown_custom_fields: self.tenant.drop_unknown_custom_fields,
        };
        let users = normalised_users(fixture.users, &references, &mut bad);
        let users = restored_users(users, |u| references.problems(u), max, &mut bad);
        if !problems.is_empty() {
            return Err(problems);
        }
        let organisation = &self.tenant.organisation;
        Ok(Restored {
            users: users.len(),
            kinds: vec![
                (Relesys::NAME, users),
                (
                    Department::KIND,
                    revisions(fixture.departments, &organisation.departments),
                ),
                (
                    UserGroup::KIND,
                    revisions(fixture.user_groups, &organisation.user_groups),
                ),
            ],
        })
    }
}

/// The snapshot's entries as session revisions, plus a deletion for each
/// fixture entry it leaves out.
fn revisions<T: Writable>(list: Vec<T>, fixture: &Entries<T>) -> Vec<(String, Record)> {
    let kept: HashSet<String> = list.iter().map(|e| e.id().to_ascii_lowercase()).collect();
    let mut records: Vec<(String, Record)> = list
        .into_iter()
        .map(|entry| {
            let id = entry.id().to_ascii_lowercase();
            let revision = Revision {
                id: id.clone(),
                entry: Some(entry),
            };
            (id, Record::typed(revision))
        })
        .collect();
    for id in fixture.fixture_ids().filter(|id| !kept.contains(*id)) {
        let revision: Revision<T> = Revision {
            id: id.clone(),
            entry: None,
        };
        records.push((id.clone(), Record::typed(revision)));
    }
    records
}

/// Every custom-field key of a user that the tenant does not define.
fn unknown_custom_fields(users: &[User], references: &References, bad: &mut Bad<'_>) {
    for (i, user) in users.iter().enumerate() {
        for key in user
            .custom_fields
            .keys()
            .filter(|k| !references.custom_fields.contains(*k))
        {
            bad(
                format!("/users/{i}/customFields/{key}"),
                format!("no custom field has key '{key}'"),
            );
        }
    }
}

/// A fixture's or snapshot's users, normalised in place (no copy: a
/// fixture may hold a million). They must define only known custom
/// fields, whatever the policy for requests: a silently dropped fixture
/// value is a mistake.
fn normalised_users(users: Vec<User>, references: &References, bad: &mut Bad<'_>) -> Vec<User> {
    unknown_custom_fields(&users, references, bad);
    users
        .into_iter()
        .map(|mut user| {
            references.normalise(&mut user);
            user
        })
        .collect()
}

fn check_settings(settings: &Settings, bad: &mut Bad<'_>) {
    let lifetime = settings.token_lifetime_seconds;
    if !(1..=MAX_TOKEN_LIFETIME_SECONDS).contains(&lifetime) {
        bad(
            "/settings/token_lifetime_seconds".into(),
            format!("{lifetime} is not between 1 and {MAX_TOKEN_LIFETIME_SECONDS} seconds"),
        );
    }
    if settings.rate_limit.requests_per_minute == 0 {
        bad(
            "/settings/rate_limit/requests_per_minute".into(),
            "must be at least 1".into(),
        );
    }
    if !matches!(settings.created_status, 200 | 201) {
        bad(
            "/settings/created_status".into(),
            format!("{} is neither 200 nor 201", settings.created_status),
        );
    }
}

/// An organisation list's entries as the API shows them, with every entry's own
/// problems reported at `/{member}/{i}…`.
fn as_values<T: Entry + Serialize>(list: &[T], member: &str, bad: &mut Bad<'_>) -> Vec<Value> {
    let mut values = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        for (pointer, message) in entry.problems() {
            bad(format!("/{member}/{i}{pointer}"), message);
        }
        match serde_json::to_value(entry) {
            Ok(value) => values.push(value),
            Err(err) => bad(format!("/{member}/{i}"), format!("cannot store: {err}")),
        }
    }
    values
}

/// A fixture department's parent must be another fixture department, and
/// its manager a fixture user.
fn department_reference_problems(
    list: &[Department],
    ids: &HashMap<String, String>,
    user_ids: &HashSet<String>,
    bad: &mut Bad<'_>,
) {
    for (i, department) in list.iter().enumerate() {
        if let Some(parent) = department.parent_id.as_deref() {
            let parent_id = parent.to_ascii_lowercase();
            if !ids.contains_key(&parent_id) {
                bad(
                    format!("/departments/{i}/parentId"),
                    format!("no department has id '{parent}'"),
                );
            } else if parent_id == department.id.to_ascii_lowercase() {
                bad(
                    format!("/departments/{i}/parentId"),
                    "a department cannot be its own parent".into(),
                );
            }
        }
        if let Some(manager) = department.manager_user_id.as_deref() {
            if !user_ids.contains(&manager.to_ascii_lowercase()) {
                bad(
                    format!("/departments/{i}/managerUserId"),
                    format!("no user has id '{manager}'"),
                );
            }
        }
    }
}

/// Lower-cased id → id as written, for GUID-identified fixture entries.
fn guid_index<T: Entry>(list: &[T], member: &str, bad: &mut Bad<'_>) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (i, item) in list.iter().enumerate() {
        let id = item.id();
        if !is_hyphenated_uuid(id) {
            bad(format!("/{member}/{i}/id"), format!("'{id}' is not a GUID"));
        } else if map.insert(id.to_ascii_lowercase(), id.to_owned()).is_some() {
            bad(format!("/{member}/{i}/id"), format!("duplicate id '{id}'"));
        }
    }
    map
}

fn oauth_clients(list: &[ClientFixture], bad: &mut Bad<'_>) -> (Vec<OAuthClient>, HashSet<String>) {
    let mut clients = Vec::new();
    let mut ids = HashSet::new();
    for (i, client) in list.iter().enumerate() {
        if !is_hyphenated_uuid(&client.client_id) {
            bad(
                format!("/clients/{i}/client_id"),
                format!("'{}' is not a GUID", client.client_id),
            );
        } else if !ids.insert(client.client_id.to_ascii_lowercase()) {
            bad(
                format!("/clients/{i}/client_id"),
                format!("duplicate client id '{}'", client.client_id),
            );
        }
        check_scopes(&client.scopes, &format!("/clients/{i}/scopes"), bad);
        clients.push(OAuthClient {
            client_id: client.client_id.clone(),
            secret: client.client_secret.clone(),
            scopes: client.scopes.clone(),
        });
    }
    (clients, ids)
}

fn fixed_tokens(
    list: &[TokenFixture],
    client_ids: &HashSet<String>,
    bad: &mut Bad<'_>,
) -> HashMap<String, Grant> {
    let mut fixed = HashMap::new();
    for (i, token) in list.iter().enumerate() {
        check_credential(&token.token, format!("/tokens/{i}/token"), bad);
        if !client_ids.contains(&token.client_id.to_ascii_lowercase()) {
            bad(
                format!("/tokens/{i}/client_id"),
                format!("no client has id '{}'", token.client_id),
            );
        }
        check_scopes(&token.scopes, &format!("/tokens/{i}/scopes"), bad);
        let grant = Grant::fixed(token.client_id.clone(), token.scopes.clone());
        if fixed.insert(token.token.clone(), grant).is_some() {
            bad(
                format!("/tokens/{i}/token"),
                format!("duplicate token '{}'", token.token),
            );
        }
    }
    fixed
}

fn check_scopes(scopes: &[String], at: &str, bad: &mut Bad<'_>) {
    for (j, scope) in scopes.iter().enumerate() {
        if !auth::is_scope_name(scope) {
            bad(
                format!("{at}/{j}"),
                format!("'{scope}' is not a Relesys scope"),
            );
        }
    }
}
