//! `fixtures/activity.json`: the vendor's whole world, its JSON Schema (the
//! types below) and the checks a fixture must pass before it is served.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Access, Activity};
use crate::diagnostics::{FileProblem, Parsed, SourceFile};
use crate::store::{Record, State, Text};
use crate::timestamps;
use crate::vendors::snapshot::{check_fixed_members, check_record_size, Document, FixedMembers};
use crate::vendors::{
    check_credential, fixture_records, is_hyphenated_uuid, restored_users, Api, LoadOptions,
    Loaded, Restored, StoredUser,
};

/// `fixtures/activity.json`: the vendor's whole world.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityFixture {
    /// Switches for behaviour the seed leaves open (all inferred).
    #[serde(default)]
    pub settings: Settings,
    /// Client organisations (tenants); every user belongs to one.
    pub clients: Vec<ClientFixture>,
    /// Departments, each owned by one client.
    pub departments: Vec<DepartmentFixture>,
    /// Bearer tokens and the clients they may access.
    pub credentials: Vec<CredentialFixture>,
    /// The users, as the API shows them, plus the `client_id` they belong to
    /// and `departments` as a list of department ids.
    pub users: Vec<UserRecord>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// What a body field that the seed marks "not updatable" does:
    /// `reject` (400, default) or `ignore` (accepted, left unchanged).
    #[serde(default)]
    pub read_only_fields: FieldPolicy,
    /// What a body field the API does not know does: `reject` (400,
    /// default) or `ignore`.
    #[serde(default)]
    pub unknown_fields: FieldPolicy,
    /// Whether a PATCH must declare `Content-Type: application/json`
    /// (default true; false accepts any declared type if the body is JSON).
    #[serde(default = "yes")]
    pub require_json_content_type: bool,
    /// What a query parameter a list route does not know does: `reject`
    /// (400, default: a misspelt filter must not silently list everything)
    /// or `ignore`.
    #[serde(default)]
    pub unknown_query_parameters: FieldPolicy,
    /// How department names are compared for "unique within the client":
    /// `case_insensitive` (default: `sales` clashes with `Sales`) or `exact`.
    #[serde(default)]
    pub department_names: NameComparison,
    /// What a `user_ids` entry that is a string but not a UUID does in
    /// add/remove members: `fail` (default: listed in `failed` as "User
    /// not found", the docs' example sends one) or `reject` (400).
    #[serde(default)]
    pub malformed_member_ids: MalformedMemberIds,
    /// The messages of the 401, 403, 404 (client, user) and 500 errors:
    /// `status_descriptions` (default: the docs' status-table descriptions,
    /// e.g. "Authentication required") or `reason_phrases` ("Unauthorized",
    /// …). The docs give these texts as status descriptions, not as bodies.
    #[serde(default)]
    pub status_messages: StatusMessages,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MalformedMemberIds {
    #[default]
    Fail,
    Reject,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusMessages {
    #[default]
    StatusDescriptions,
    ReasonPhrases,
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            read_only_fields: FieldPolicy::Reject,
            unknown_fields: FieldPolicy::Reject,
            require_json_content_type: true,
            unknown_query_parameters: FieldPolicy::Reject,
            department_names: NameComparison::CaseInsensitive,
            malformed_member_ids: MalformedMemberIds::Fail,
            status_messages: StatusMessages::StatusDescriptions,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldPolicy {
    #[default]
    Reject,
    Ignore,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NameComparison {
    #[default]
    CaseInsensitive,
    Exact,
}

/// A client organisation, as `GET /clients/{client_id}` shows it. Omitted
/// members take the values of the vendor docs' example client.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientFixture {
    pub id: String,
    pub name: String,
    /// The client's status; the docs list `active`.
    #[serde(default = "active")]
    pub status: String,
    /// The partner that manages the client.
    #[serde(default = "example_partner")]
    pub partner: Partner,
    /// The active enrollment token, or `null` when none was generated.
    #[serde(default)]
    pub enrollment_token: Option<EnrollmentToken>,
    #[serde(default = "example_client_created_at")]
    pub created_at: String,
    #[serde(default = "example_client_updated_at")]
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    pub id: String,
    pub name: String,
}

/// A client's active enrollment token (for deploying the desktop agent).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentToken {
    pub id: String,
    /// The plaintext token users copy into the agent installer.
    pub value: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub site_id: Option<String>,
    #[serde(default = "active")]
    pub status: String,
    #[serde(default)]
    pub max_uses: Option<u64>,
    #[serde(default)]
    pub remaining_uses: Option<u64>,
    #[serde(default)]
    pub expires_at: Option<String>,
    pub created_at: String,
}

fn active() -> String {
    "active".to_owned()
}

fn example_partner() -> Partner {
    Partner {
        id: "b2c3d4e5-f6a7-8901-bcde-f12345678901".to_owned(),
        name: "TechPartner Inc.".to_owned(),
    }
}

fn example_client_created_at() -> String {
    "2025-06-01T00:00:00.000Z".to_owned()
}

fn example_client_updated_at() -> String {
    "2026-02-20T12:00:00.000Z".to_owned()
}

/// A department. Omitted timestamps take the vendor docs' example value.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentFixture {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(default = "example_department_time")]
    pub created_at: String,
    #[serde(default = "example_department_time")]
    pub updated_at: String,
}

fn example_department_time() -> String {
    "2026-01-10T09:00:00.000Z".to_owned()
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialFixture {
    /// The bearer token, sent as `Authorization: Bearer <token>`.
    pub token: String,
    /// What this credential is for (documentation only).
    #[serde(default)]
    #[allow(dead_code)]
    pub description: Option<String>,
    /// Access to every client, including ones added later.
    #[serde(default)]
    pub all_clients: bool,
    /// The client ids this token may access (when not `all_clients`).
    #[serde(default)]
    pub clients: Vec<String>,
}

/// A user as stored: the API's fields plus `client_id`, with departments as ids.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    pub id: Text,
    pub client_id: Text,
    pub username: Text,
    pub user_key: Text,
    pub last_activity: LastActivity,
    pub departments: Vec<Text>,
    pub created_at: Text,
    pub updated_at: Text,
}

impl StoredUser for UserRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LastActivity {
    pub at: Option<Text>,
    pub desktop_at: Option<Text>,
    pub web_at: Option<Text>,
}

type Bad<'a> = dyn FnMut(String, String) + 'a;

pub(super) fn load(file: &SourceFile, options: &LoadOptions) -> Result<Loaded, Vec<FileProblem>> {
    let Parsed {
        value: fixture,
        mut problems,
        places,
    } = file.parse_fixture::<ActivityFixture>()?;
    let mut bad = |pointer: String, message: String| {
        problems.push(file.problem(places.original(&pointer), message))
    };

    let clients = check_clients(&fixture.clients, &mut bad);
    let names = fixture.settings.department_names;
    let departments = check_departments(&fixture.departments, &clients, names, &mut bad);
    let credentials = check_credentials(&fixture.credentials, &clients, &mut bad);
    let activity = Activity::new(
        fixture.settings,
        clients,
        departments,
        credentials,
        options.max_record_bytes,
    );
    let records = fixture_records(fixture.users, |u| activity.user_problems(u), &mut bad);

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Loaded {
        vendor: std::sync::Arc::new(activity),
        records,
        other_kinds: Vec::new(),
    })
}

/// The members of `activity.json` that API calls create or change; the
/// others (settings, clients, credentials) only a restart does.
const STATE_MEMBERS: &[&str] = &["departments", "users"];

impl Activity {
    /// See [`crate::vendors::Vendor::snapshot`]. Departments are the
    /// fixture's as the state changed them, plus those it created, less
    /// those it deleted (a soft-deleted department answers as one that never
    /// existed, so leaving it out serves the same).
    pub(super) fn snapshot_document(&self, state: &State, startup: &serde_json::Value) -> Document {
        let mut departments = self.departments.clone();
        for record in state.all_typed::<DepartmentRecord>(DEPARTMENTS) {
            departments.insert(record.id.to_ascii_lowercase(), record);
        }
        let mut departments: Vec<Arc<DepartmentRecord>> = departments
            .into_values()
            .filter(|d| d.deleted_at.is_none())
            .collect();
        departments.sort_by(|a, b| a.id.cmp(&b.id));
        let mut users = state.all_typed::<UserRecord>(Activity::NAME);
        users.sort_by(|a, b| a.id.cmp(&b.id));
        Document::new(FixedMembers::of(startup, STATE_MEMBERS))
            .member("departments", departments)
            .member("users", users)
    }

    /// See [`crate::vendors::Vendor::restore`]: the departments and users
    /// checked as the fixture's are, against this vendor's clients; a
    /// fixture department the snapshot leaves out is restored as deleted.
    pub(super) fn read_snapshot(
        &self,
        file: &SourceFile,
        startup: &serde_json::Value,
    ) -> Result<Restored, Vec<FileProblem>> {
        let Parsed {
            value: fixture,
            mut problems,
            places,
        } = file.parse_fixture::<ActivityFixture>()?;
        let mut bad = |pointer: String, message: String| {
            problems.push(file.problem(places.original(&pointer), message))
        };
        check_fixed_members(file, startup, STATE_MEMBERS, &mut bad);
        let names = self.settings.department_names;
        let departments = check_departments(&fixture.departments, &self.clients, names, &mut bad);
        for (i, department) in fixture.departments.iter().enumerate() {
            let pointer = format!("/departments/{i}");
            check_record_size(pointer, department, self.max_record_bytes, &mut bad);
        }
        let users = restored_users(
            fixture.users,
            |u| self.user_problems_in(u, &departments),
            self.max_record_bytes,
            &mut bad,
        );
        if !problems.is_empty() {
            return Err(problems);
        }
        let user_count = users.len();
        let deleted = self
            .departments
            .iter()
            .filter(|(id, _)| !departments.contains_key(*id))
            .map(|(id, fixture)| {
                let mut gone = DepartmentRecord::clone(fixture);
                gone.deleted_at = Some(gone.updated_at.clone());
                (id.clone(), Record::typed(gone))
            })
            .collect::<Vec<_>>();
        let mut department_records: Vec<(String, Record)> = departments
            .into_iter()
            .map(|(id, record)| (id, Record::typed(record)))
            .collect();
        department_records.extend(deleted);
        Ok(Restored {
            kinds: vec![(Activity::NAME, users), (DEPARTMENTS, department_records)],
            users: user_count,
        })
    }
}

/// The clients by lower-cased id; each a UUID, once, with valid timestamps.
fn check_clients(clients: &[ClientFixture], bad: &mut Bad<'_>) -> HashMap<String, ClientFixture> {
    let mut by_id = HashMap::new();
    for (i, client) in clients.iter().enumerate() {
        if !is_hyphenated_uuid(&client.id) {
            bad(
                format!("/clients/{i}/id"),
                format!("'{}' is not a UUID", client.id),
            );
        } else if by_id
            .insert(client.id.to_ascii_lowercase(), client.clone())
            .is_some()
        {
            bad(
                format!("/clients/{i}/id"),
                format!("duplicate client id '{}'", client.id),
            );
        }
        if !is_hyphenated_uuid(&client.partner.id) {
            bad(
                format!("/clients/{i}/partner/id"),
                format!("'{}' is not a UUID", client.partner.id),
            );
        }
        let token = client.enrollment_token.as_ref();
        let stamps = [
            ("created_at", Some(&client.created_at)),
            ("updated_at", Some(&client.updated_at)),
            ("enrollment_token/created_at", token.map(|t| &t.created_at)),
            (
                "enrollment_token/expires_at",
                token.and_then(|t| t.expires_at.as_ref()),
            ),
        ];
        for (field, stamp) in stamps {
            check_stamp(&format!("/clients/{i}/{field}"), stamp, bad);
        }
    }
    by_id
}

/// The departments by lower-cased id; each a UUID, once, of a known
/// client, with a name unique within it.
fn check_departments(
    departments: &[DepartmentFixture],
    clients: &HashMap<String, ClientFixture>,
    names: NameComparison,
    bad: &mut Bad<'_>,
) -> HashMap<String, DepartmentRecord> {
    let mut by_id: HashMap<String, DepartmentRecord> = HashMap::new();
    for (i, dept) in departments.iter().enumerate() {
        if !is_hyphenated_uuid(&dept.id) {
            bad(
                format!("/departments/{i}/id"),
                format!("'{}' is not a UUID", dept.id),
            );
        }
        if !clients.contains_key(&dept.client_id.to_ascii_lowercase()) {
            bad(
                format!("/departments/{i}/client_id"),
                format!("no client has id '{}'", dept.client_id),
            );
        }
        let clash = by_id.values().any(|other| {
            other.client_id.eq_ignore_ascii_case(&dept.client_id)
                && same_name(names, &other.name, &dept.name)
        });
        if clash {
            bad(
                format!("/departments/{i}/name"),
                format!("another department of the client is named '{}'", dept.name),
            );
        }
        check_stamp(
            &format!("/departments/{i}/created_at"),
            Some(&dept.created_at),
            bad,
        );
        check_stamp(
            &format!("/departments/{i}/updated_at"),
            Some(&dept.updated_at),
            bad,
        );
        let record = DepartmentRecord::from_fixture(dept);
        if is_hyphenated_uuid(&dept.id)
            && by_id.insert(dept.id.to_ascii_lowercase(), record).is_some()
        {
            bad(
                format!("/departments/{i}/id"),
                format!("duplicate department id '{}'", dept.id),
            );
        }
    }
    by_id
}

/// Two department names that count as the same under `names`.
pub(super) fn same_name(names: NameComparison, a: &str, b: &str) -> bool {
    match names {
        NameComparison::Exact => a == b,
        NameComparison::CaseInsensitive => a.to_lowercase() == b.to_lowercase(),
    }
}

fn check_stamp(pointer: &str, stamp: Option<&String>, bad: &mut Bad<'_>) {
    if let Some(stamp) = stamp.filter(|s| timestamps::parse(s).is_none()) {
        bad(
            pointer.to_owned(),
            format!("'{stamp}' is not an RFC 3339 timestamp"),
        );
    }
}

/// The credentials by token; tokens usable in a header, once, naming
/// known clients.
fn check_credentials(
    credentials: &[CredentialFixture],
    clients: &HashMap<String, ClientFixture>,
    bad: &mut Bad<'_>,
) -> HashMap<String, Access> {
    let mut by_token = HashMap::new();
    for (i, cred) in credentials.iter().enumerate() {
        check_credential(&cred.token, format!("/credentials/{i}/token"), bad);
        for (j, client) in cred.clients.iter().enumerate() {
            if !clients.contains_key(&client.to_ascii_lowercase()) {
                bad(
                    format!("/credentials/{i}/clients/{j}"),
                    format!("no client has id '{client}'"),
                );
            }
        }
        let access = if cred.all_clients {
            Access::AllClients
        } else {
            Access::Clients(
                cred.clients
                    .iter()
                    .map(|c| c.to_ascii_lowercase())
                    .collect(),
            )
        };
        if by_token.insert(cred.token.clone(), access).is_some() {
            bad(
                format!("/credentials/{i}/token"),
                format!("duplicate token '{}'", cred.token),
            );
        }
    }
    by_token
}

impl Activity {
    /// Everything wrong with a stored user against this world, as
    /// (JSON pointer below the user, message) pairs.
    pub(super) fn user_problems(&self, user: &UserRecord) -> Vec<(String, String)> {
        self.user_problems_in(user, &self.departments)
    }

    /// [`Activity::user_problems`] against the departments `state` holds
    /// now: the fixture's as changed, those created, less those deleted
    /// (admin seeding).
    pub(super) fn user_problems_now(
        &self,
        state: &State,
        user: &UserRecord,
    ) -> Vec<(String, String)> {
        let mut departments = self.departments.clone();
        for record in state.all_typed::<DepartmentRecord>(DEPARTMENTS) {
            departments.insert(record.id.to_ascii_lowercase(), record);
        }
        departments.retain(|_, d| d.deleted_at.is_none());
        self.user_problems_in(user, &departments)
    }

    /// [`Activity::user_problems`] against `departments` rather than the
    /// fixture's (a snapshot brings its own).
    fn user_problems_in<D: Borrow<DepartmentRecord>>(
        &self,
        user: &UserRecord,
        departments: &HashMap<String, D>,
    ) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if !is_hyphenated_uuid(&user.id) {
            problems.push(("/id".to_owned(), format!("'{}' is not a UUID", user.id)));
        }
        if !self
            .clients
            .contains_key(&user.client_id.to_ascii_lowercase())
        {
            problems.push((
                "/client_id".to_owned(),
                format!("no client has id '{}'", user.client_id),
            ));
        }
        for (j, dept_id) in user.departments.iter().enumerate() {
            match departments
                .get(&dept_id.to_ascii_lowercase())
                .map(Borrow::borrow)
            {
                None => problems.push((
                    format!("/departments/{j}"),
                    format!("no department has id '{dept_id}'"),
                )),
                Some(d) if !d.client_id.eq_ignore_ascii_case(&user.client_id) => problems.push((
                    format!("/departments/{j}"),
                    format!(
                        "department '{dept_id}' belongs to client '{}', not the user's client",
                        d.client_id
                    ),
                )),
                Some(_) => {}
            }
        }
        let stamps = [
            ("/created_at", Some(&user.created_at)),
            ("/updated_at", Some(&user.updated_at)),
            ("/last_activity/at", user.last_activity.at.as_ref()),
            (
                "/last_activity/desktop_at",
                user.last_activity.desktop_at.as_ref(),
            ),
            ("/last_activity/web_at", user.last_activity.web_at.as_ref()),
        ];
        for (field, stamp) in stamps {
            if let Some(stamp) = stamp.filter(|s| timestamps::parse(s).is_none()) {
                problems.push((
                    field.to_owned(),
                    format!("'{stamp}' is not an RFC 3339 timestamp"),
                ));
            }
        }
        problems
    }
}

/// The store key of department records (beside the users' `activity`).
pub(super) const DEPARTMENTS: &str = "activity.departments";

/// A department as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DepartmentRecord {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Set by a delete: the record stays (soft delete) but is hidden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
}

impl DepartmentRecord {
    pub fn from_fixture(fixture: &DepartmentFixture) -> DepartmentRecord {
        DepartmentRecord {
            id: fixture.id.clone(),
            client_id: fixture.client_id.clone(),
            name: fixture.name.clone(),
            description: fixture.description.clone(),
            created_at: fixture.created_at.clone(),
            updated_at: fixture.updated_at.clone(),
            deleted_at: None,
        }
    }
}
