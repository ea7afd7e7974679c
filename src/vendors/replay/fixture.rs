//! `fixtures/replay.json`: its format (and so its JSON Schema), and the
//! checks that turn it into a [`Replay`] and its initial records.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Replay, COMPANIES, NAME, TEAMS};
use crate::diagnostics::{FileProblem, Parsed, SourceFile};
use crate::store::{Record, State, Text};
use crate::timestamps;
use crate::vendors::snapshot::{check_fixed_members, check_record_size, Document, FixedMembers};
use crate::vendors::{
    check_credential, fixture_records, is_hyphenated_uuid, restored_users, LoadOptions, Loaded,
    Restored, StoredUser,
};

/// `fixtures/replay.json`: companies (a tree), their teams and their users.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayFixture {
    #[serde(default)]
    pub settings: Settings,
    pub companies: Vec<CompanyFixture>,
    /// Teams (`teamId` of the legacy user shape and of Invite User); none
    /// are required.
    #[serde(default)]
    pub teams: Vec<TeamRecord>,
    /// Users and pending invitations, as the API shows them, plus the
    /// `companyId` they belong to, their `teamId` and their legacy role.
    pub users: Vec<UserRecord>,
}

/// Choices where Replay's docs are silent (docs/vendors/replay.md).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Whether the legacy shape (`GET /api/user` and `GET /api/user/{id}`
    /// without a child company) shows pending invitations as well as users.
    /// Default `true`; `false` shows users (active and disabled) only.
    #[serde(default = "yes")]
    pub legacy_shape_includes_invitations: bool,
    /// What a create retried with the same `externalId` (`POST /api/user`,
    /// `POST /api/company/child`) gets when its other members differ from
    /// the existing record's: `existing` (the default; the record as it is,
    /// 200, as the pages say a retry does) or `conflict` (409).
    #[serde(default)]
    pub retry_with_other_members: RetryWithOtherMembers,
    /// The envelope of `GET /api/team` (undocumented): `teams` (the default,
    /// `{"teams": [...]}`, as the child-scoped user list's `{"users": [...]}`)
    /// or `array` (a bare array).
    #[serde(default)]
    pub team_list: TeamList,
    /// The status of a `PATCH` of a disabled user ("Disabled users cannot
    /// be updated via this endpoint"; no status is documented): `400` (the
    /// default) or `409`.
    #[serde(default = "default_disabled_update_status")]
    pub disabled_update_status: u16,
    /// The status of a create that made a new record (`POST /api/user`,
    /// `POST /api/company/child`; no code is documented): `201` (the
    /// default) or `200`. A retry's answer is 200 either way.
    #[serde(default = "default_created_status")]
    pub created_status: u16,
}

fn default_disabled_update_status() -> u16 {
    400
}

fn default_created_status() -> u16 {
    201
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            legacy_shape_includes_invitations: true,
            retry_with_other_members: RetryWithOtherMembers::default(),
            team_list: TeamList::default(),
            disabled_update_status: default_disabled_update_status(),
            created_status: default_created_status(),
        }
    }
}

/// See [`Settings::retry_with_other_members`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetryWithOtherMembers {
    #[default]
    Existing,
    Conflict,
}

/// See [`Settings::team_list`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TeamList {
    #[default]
    Teams,
    Array,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyFixture {
    pub id: String,
    /// Unique across all companies (case-insensitively).
    pub name: String,
    /// The parent company, for child companies.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The `x-api-key` values that act as this company.
    #[serde(default)]
    pub api_keys: Vec<String>,
    /// The parent's `externalId` for this child (idempotent re-creation
    /// with `POST /api/company/child` returns it).
    #[serde(default)]
    pub external_id: Option<String>,
    /// RFC 3339; default `2024-01-01T00:00:00.000Z`.
    #[serde(default)]
    pub created_at: Option<String>,
    /// The website given when the company was created through the API.
    #[serde(default)]
    pub url: Option<String>,
    /// The summary given when the company was created through the API.
    #[serde(default)]
    pub summary: Option<String>,
}

/// A team: an entry of the fixture's `teams` and, as it is, a record of the
/// `replay.teams` kind (`PATCH /api/team/{teamId}` changes it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamRecord {
    pub id: String,
    pub company_id: String,
    pub name: String,
    /// `null` (the default) or a text.
    #[serde(default)]
    pub description: Option<String>,
    /// `Default` (the default), `Integration` or `LeadGen`.
    #[serde(default, rename = "type")]
    pub kind: TeamType,
    /// Whether the team uses a TURN connection; default `false`.
    #[serde(default)]
    pub use_turn_connection: bool,
    /// RFC 3339; default `2024-01-01T00:00:00.000Z`.
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TeamType {
    #[default]
    Default,
    Integration,
    LeadGen,
}

/// A stored record: the API's fields in the seed's order, plus `companyId`,
/// `teamId` and `legacyRole`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserRecord {
    /// `user.id` for users, `invitation.id` for pending invitations.
    pub id: Text,
    pub email: Text,
    pub first_name: Option<Text>,
    pub last_name: Option<Text>,
    /// `User`, `Manager` or `Disabled`.
    pub role: Text,
    /// `invited`, `active` or `disabled`.
    pub status: Text,
    pub external_id: Option<Text>,
    pub created_at: Text,
    /// Set for `invited` records only.
    pub invitation_url: Option<Text>,
    pub company_id: Text,
    /// A team of the same company, or `null`.
    #[serde(default)]
    pub team_id: Option<Text>,
    /// The role in the legacy shape: `Rep`, `Manager` or `Integration`.
    /// `Manager` exactly when `role` is `Manager` (disabled users keep
    /// theirs). When absent: `Manager` for managers, else `Rep`.
    #[serde(default)]
    pub legacy_role: Option<Text>,
    /// Invitations made by Invite User (`POST /api/user/invite`): when they
    /// expire ("30 days from creation"). Absent on other records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<Text>,
    /// Invitations made by Invite User: how often they were resent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_count: Option<u32>,
}

impl StoredUser for UserRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

/// `createdAt` of a fixture company or team that gives none.
const DEFAULT_CREATED_AT: &str = "2024-01-01T00:00:00.000Z";

pub(super) fn load(file: &SourceFile, options: &LoadOptions) -> Result<Loaded, Vec<FileProblem>> {
    let Parsed {
        value: fixture,
        mut problems,
        places,
    } = file.parse_fixture::<ReplayFixture>()?;
    let mut bad = |pointer: String, message: String| {
        problems.push(file.problem(places.original(&pointer), message))
    };

    let companies = companies(&fixture.companies, &mut bad);
    let api_keys = api_keys(&fixture.companies, &companies, &mut bad);
    if !matches!(fixture.settings.disabled_update_status, 400 | 409) {
        bad(
            "/settings/disabled_update_status".to_owned(),
            format!(
                "{} is not one of 400, 409",
                fixture.settings.disabled_update_status
            ),
        );
    }
    if !matches!(fixture.settings.created_status, 200 | 201) {
        bad(
            "/settings/created_status".to_owned(),
            format!("{} is not one of 200, 201", fixture.settings.created_status),
        );
    }
    let (teams, team_records) = teams(&fixture.teams, &companies, &mut bad);
    let replay = Replay::new(
        fixture.settings,
        companies,
        api_keys,
        teams,
        options.max_record_bytes,
    );
    let users: Vec<UserRecord> = fixture.users.into_iter().map(with_legacy_role).collect();
    let records = fixture_records(users, |u| replay.record_problems(u), &mut bad);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Loaded {
        vendor: Arc::new(replay),
        records,
        other_kinds: team_records,
    })
}

/// The record with its legacy role filled in when the fixture left it out.
pub(super) fn with_legacy_role(mut user: UserRecord) -> UserRecord {
    if user.legacy_role.is_none() {
        user.legacy_role = Some(legacy_role_for(&user.role, None).into());
    }
    user
}

/// The legacy role that goes with a unified `role` (inferred): `Manager`
/// for managers; users stay `Integration` if they were, else `Rep`;
/// disabled users keep the one they had.
pub(super) fn legacy_role_for<'a>(role: &str, previous: Option<&'a str>) -> &'a str {
    match (role, previous) {
        ("Manager", _) => "Manager",
        ("User", Some("Integration")) => "Integration",
        ("Disabled", Some(previous)) => previous,
        _ => "Rep",
    }
}

/// The members of `replay.json` that API calls create or change (users and
/// invitations; child companies; teams, by `PATCH /api/team/{teamId}`);
/// settings only a restart does.
const STATE_MEMBERS: &[&str] = &["companies", "teams", "users"];

/// A company of a snapshot: the fixture's as written there, or one created
/// at runtime in the fixture's format (it has no API keys).
#[derive(Serialize)]
#[serde(untagged)]
enum CompanyEntry {
    Fixture(serde_json::Value),
    Created(CreatedCompany),
}

#[derive(Serialize)]
struct CreatedCompany {
    id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
}

impl Replay {
    /// See [`crate::vendors::Vendor::snapshot`].
    pub(super) fn snapshot_document(&self, state: &State, startup: &serde_json::Value) -> Document {
        let mut companies: Vec<CompanyEntry> = startup["companies"]
            .as_array()
            .into_iter()
            .flatten()
            .cloned()
            .map(CompanyEntry::Fixture)
            .collect();
        let mut created = state.all_typed::<Company>(COMPANIES);
        created.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        companies.extend(created.into_iter().map(|c| {
            let c = Arc::unwrap_or_clone(c);
            CompanyEntry::Created(CreatedCompany {
                id: c.id,
                name: c.name,
                parent_id: c.parent_company_id,
                external_id: c.external_id,
                created_at: c.created_at,
                url: c.url,
                summary: c.summary,
            })
        }));
        let mut teams = state.all_typed::<TeamRecord>(TEAMS);
        teams.sort_by(|a, b| a.id.cmp(&b.id));
        let mut users = state.all_typed::<UserRecord>(NAME);
        users.sort_by(|a, b| a.id.cmp(&b.id));
        Document::new(FixedMembers::of(startup, STATE_MEMBERS))
            .member("companies", companies)
            .member("teams", teams)
            .member("users", users)
    }

    /// See [`crate::vendors::Vendor::restore`]: the fixture's companies
    /// must all be there as they are (with their API keys, which are
    /// credentials); any other company is one created at runtime, which
    /// holds no API key. Users are checked as the fixture's, against all of
    /// them.
    pub(super) fn read_snapshot(
        &self,
        file: &SourceFile,
        startup: &serde_json::Value,
    ) -> Result<Restored, Vec<FileProblem>> {
        let Parsed {
            value: fixture,
            mut problems,
            places,
        } = file.parse_fixture::<ReplayFixture>()?;
        let mut bad = |pointer: String, message: String| {
            problems.push(file.problem(places.original(&pointer), message))
        };
        check_fixed_members(file, startup, STATE_MEMBERS, &mut bad);
        let all = companies(&fixture.companies, &mut bad);
        let keys = api_keys(&fixture.companies, &all, &mut bad);
        let mut created = Vec::new();
        for (i, company) in fixture.companies.iter().enumerate() {
            let id = company.id.to_ascii_lowercase();
            match (self.companies.get(&id), all.get(&id)) {
                (Some(running), Some(given)) if running != given => bad(
                    format!("/companies/{i}"),
                    format!("company '{}' is the running fixture's and no API call changes it: it must equal it", company.id),
                ),
                (None, Some(given)) => {
                    if !company.api_keys.is_empty() {
                        bad(
                            format!("/companies/{i}/api_keys"),
                            "a company the running fixture does not have was created through the API, which gives it no API key".to_owned(),
                        );
                    }
                    check_record_size(format!("/companies/{i}"), given, self.max_record_bytes, &mut bad);
                    created.push((id, Record::typed(given.clone())));
                }
                _ => {}
            }
        }
        if keys != self.api_keys {
            bad(
                "/companies".to_owned(),
                "the companies' api_keys must equal the running fixture's: they are credentials, which no API call changes".to_owned(),
            );
        }
        for (id, company) in &self.companies {
            if !all.contains_key(id) {
                bad(
                    "/companies".to_owned(),
                    format!("company '{}' of the running fixture is missing: no API call deletes a company", company.id),
                );
            }
        }
        // Teams are state (PATCH changes them) but no API call creates,
        // deletes or moves one: the snapshot's must be the running ones.
        let (owners, teams) = teams(&fixture.teams, &all, &mut bad);
        if owners != self.teams {
            bad(
                "/teams".to_owned(),
                "the teams (their ids and companies) must be the running fixture's: no API call creates, deletes or moves a team".to_owned(),
            );
        }
        for (i, team) in fixture.teams.iter().enumerate() {
            check_record_size(format!("/teams/{i}"), team, self.max_record_bytes, &mut bad);
        }
        let teams = teams
            .into_iter()
            .map(|(_, id, record)| (id, record))
            .collect();
        let users: Vec<UserRecord> = fixture.users.into_iter().map(with_legacy_role).collect();
        let users = restored_users(
            users,
            |u| self.record_problems_in(u, &|id| all.contains_key(&id.to_ascii_lowercase())),
            self.max_record_bytes,
            &mut bad,
        );
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Restored {
            users: users.len(),
            kinds: vec![(NAME, users), (COMPANIES, created), (TEAMS, teams)],
        })
    }
}

/// Lower-cased company id → the company; checks ids, names and parents.
fn companies(
    fixture: &[CompanyFixture],
    bad: &mut dyn FnMut(String, String),
) -> HashMap<String, Company> {
    let mut companies = HashMap::new();
    let mut names = HashSet::new();
    for (i, company) in fixture.iter().enumerate() {
        let created_at = company
            .created_at
            .clone()
            .unwrap_or_else(|| DEFAULT_CREATED_AT.to_owned());
        if timestamps::parse(&created_at).is_none() {
            bad(
                format!("/companies/{i}/created_at"),
                format!("'{created_at}' is not a date-time"),
            );
        }
        if !names.insert(company.name.to_lowercase()) {
            bad(
                format!("/companies/{i}/name"),
                format!("duplicate company name '{}'", company.name),
            );
        }
        let record = Company {
            id: company.id.to_ascii_lowercase(),
            name: company.name.clone(),
            parent_company_id: company.parent_id.as_ref().map(|p| p.to_ascii_lowercase()),
            external_id: company.external_id.clone(),
            created_at,
            url: company.url.clone(),
            summary: company.summary.clone(),
        };
        if !is_hyphenated_uuid(&company.id) {
            bad(
                format!("/companies/{i}/id"),
                format!("'{}' is not a UUID", company.id),
            );
        } else if companies.insert(record.id.clone(), record).is_some() {
            bad(
                format!("/companies/{i}/id"),
                format!("duplicate company id '{}'", company.id),
            );
        }
    }
    companies
}

/// `x-api-key` → lower-cased company id; also checks every `parent_id`.
fn api_keys(
    fixture: &[CompanyFixture],
    companies: &HashMap<String, Company>,
    bad: &mut dyn FnMut(String, String),
) -> HashMap<String, String> {
    let mut api_keys = HashMap::new();
    for (i, company) in fixture.iter().enumerate() {
        if let Some(parent) = &company.parent_id {
            if !companies.contains_key(&parent.to_ascii_lowercase())
                || parent.eq_ignore_ascii_case(&company.id)
            {
                bad(
                    format!("/companies/{i}/parent_id"),
                    format!("no other company has id '{parent}'"),
                );
            }
        }
        for (j, key) in company.api_keys.iter().enumerate() {
            check_credential(key, format!("/companies/{i}/api_keys/{j}"), bad);
            if api_keys
                .insert(key.clone(), company.id.to_ascii_lowercase())
                .is_some()
            {
                bad(
                    format!("/companies/{i}/api_keys/{j}"),
                    format!("duplicate API key '{key}'"),
                );
            }
        }
    }
    api_keys
}

/// A record of another kind than users: (store key, id, record).
type KindRecord = (&'static str, String, Record);

/// Lower-cased team id → its company's lower-cased id (a team never
/// moves), and the teams as records of [`TEAMS`] (their `createdAt`
/// filled in).
fn teams(
    fixture: &[TeamRecord],
    companies: &HashMap<String, Company>,
    bad: &mut dyn FnMut(String, String),
) -> (HashMap<String, String>, Vec<KindRecord>) {
    let mut owners = HashMap::new();
    let mut records = Vec::new();
    for (i, team) in fixture.iter().enumerate() {
        let company = team.company_id.to_ascii_lowercase();
        if !companies.contains_key(&company) {
            bad(
                format!("/teams/{i}/company_id"),
                format!("no company has id '{}'", team.company_id),
            );
        }
        if let Some(problem) = name_problem(&team.name) {
            bad(format!("/teams/{i}/name"), problem);
        }
        let mut record = team.clone();
        let created_at = record
            .created_at
            .get_or_insert_with(|| DEFAULT_CREATED_AT.to_owned());
        if timestamps::parse(created_at).is_none() {
            bad(
                format!("/teams/{i}/created_at"),
                format!("'{created_at}' is not a date-time"),
            );
        }
        let id = team.id.to_ascii_lowercase();
        if !is_hyphenated_uuid(&team.id) {
            bad(
                format!("/teams/{i}/id"),
                format!("'{}' is not a UUID", team.id),
            );
        } else if owners.insert(id.clone(), company).is_some() {
            bad(
                format!("/teams/{i}/id"),
                format!("duplicate team id '{}'", team.id),
            );
        }
        records.push((TEAMS, id, Record::typed(record)));
    }
    (owners, records)
}

impl Replay {
    /// Every way `user` breaks the fixture's rules, as (pointer, message).
    pub(super) fn record_problems(&self, user: &UserRecord) -> Vec<(String, String)> {
        self.record_problems_in(user, &|id| self.is_fixture_company(id))
    }

    /// [`Replay::record_problems`] with `is_company` saying which companies
    /// exist (a snapshot brings the ones created at runtime).
    pub(super) fn record_problems_in(
        &self,
        user: &UserRecord,
        is_company: &dyn Fn(&str) -> bool,
    ) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut bad = |pointer: &str, message: String| problems.push((pointer.to_owned(), message));
        if !is_hyphenated_uuid(&user.id) {
            bad("/id", format!("'{}' is not a UUID", user.id));
        }
        if !is_company(&user.company_id) {
            bad(
                "/companyId",
                format!("no company has id '{}'", user.company_id),
            );
        }
        if !user.email.contains('@') {
            bad(
                "/email",
                format!("'{}' is not an e-mail address", user.email),
            );
        }
        for (pointer, name) in [
            ("/firstName", &user.first_name),
            ("/lastName", &user.last_name),
        ] {
            if let Some(problem) = name.as_deref().and_then(name_problem) {
                bad(pointer, problem);
            }
        }
        if timestamps::parse(&user.created_at).is_none() {
            bad(
                "/createdAt",
                format!("'{}' is not a date-time", user.created_at),
            );
        }
        if let Some(at) = &user.expiration_date {
            if timestamps::parse(at).is_none() {
                bad("/expirationDate", format!("'{at}' is not a date-time"));
            }
        }
        // The legacy shape's schema types `firstName` as a required string
        // (list-users, get-user-by-id): only an invitation may lack one.
        if user.first_name.is_none() && user.status != "invited" {
            bad(
                "/firstName",
                "users (active or disabled) need a first name".to_owned(),
            );
        }
        if let Some(problem) = status_problem(user) {
            bad("/status", problem);
        }
        if let Some(problem) = legacy_role_problem(user) {
            bad("/legacyRole", problem);
        }
        if let Some(team) = &user.team_id {
            if !self.team_is_in(team, &user.company_id) {
                bad(
                    "/teamId",
                    format!("no team of company '{}' has id '{team}'", user.company_id),
                );
            }
        }
        problems
    }
}

/// `legacyRole` is one of the legacy roles and fits `role`.
fn legacy_role_problem(user: &UserRecord) -> Option<String> {
    let legacy = user.legacy_role.as_deref()?;
    if !matches!(legacy, "Rep" | "Manager" | "Integration") {
        return Some(format!(
            "'{legacy}' is not one of Rep, Manager, Integration"
        ));
    }
    let fits = match user.role.as_str() {
        "Manager" => legacy == "Manager",
        "User" => legacy != "Manager",
        _ => true,
    };
    (!fits).then(|| format!("legacy role '{legacy}' does not fit role '{}'", user.role))
}

/// `role`, `status` and `invitationUrl` must agree: `Disabled` ⇔
/// `disabled`, and an `invitationUrl` exactly for invitations.
fn status_problem(user: &UserRecord) -> Option<String> {
    let consistent = match user.status.as_str() {
        "invited" => {
            matches!(user.role.as_str(), "User" | "Manager") && user.invitation_url.is_some()
        }
        "active" => {
            matches!(user.role.as_str(), "User" | "Manager") && user.invitation_url.is_none()
        }
        "disabled" => user.role == "Disabled" && user.invitation_url.is_none(),
        other => return Some(format!("'{other}' is not one of invited, active, disabled")),
    };
    (!consistent).then(|| {
        format!(
            "status '{}' does not fit role '{}' and invitationUrl (Disabled ⇔ disabled; invitationUrl exactly for invited)",
            user.status, user.role
        )
    })
}

/// A company, from the fixture or created at runtime (then stored so).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Company {
    /// Lower-cased.
    pub id: String,
    pub name: String,
    /// Lower-cased; `None` for a top-level company.
    pub parent_company_id: Option<String>,
    pub external_id: Option<String>,
    pub created_at: String,
    pub url: Option<String>,
    pub summary: Option<String>,
}

/// Names are 1–255 characters (Unicode scalar values, not bytes).
pub(super) fn name_problem(name: &str) -> Option<String> {
    let length = name.chars().count();
    if length == 0 {
        Some("Must be at least 1 character".to_owned())
    } else if length > 255 {
        Some(format!("Must be at most 255 characters (got {length})"))
    } else {
        None
    }
}
