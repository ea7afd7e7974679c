//! `fixtures/awork.json`: the workspace's settings, tokens and users, and
//! the checks that turn it into an [`Awork`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use super::form::{user_problems, ValueRule};
use super::user::User;
use super::{Awork, Caller, RateLimits, World};

/// The largest `pageSize` awork accepts, "maximum of 1000" (pagination
/// guide); a fixture's default page size must fit.
pub(super) const MAX_PAGE_SIZE: u32 = 1000;
use crate::diagnostics::{FileProblem, Parsed, SourceFile};
use crate::rate_limit::RateLimiter as Limiter;
use crate::store::State;
use crate::vendors::snapshot::{check_fixed_members, users_only, Document, USERS_ONLY};
use crate::vendors::{
    check_credential, fixture_records, is_hyphenated_uuid, restored_users, Api, LoadOptions,
    Loaded, Restored,
};

/// `fixtures/awork.json`: one workspace.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AworkFixture {
    #[serde(default)]
    pub settings: Settings,
    /// The workspace every token and user belongs to (`GET /users/me`).
    #[serde(default)]
    pub workspace: WorkspaceFixture,
    /// The workspace's roles; `POST /invitations` takes one's id, and the
    /// members of admin roles are who "the last admin" rule counts.
    #[serde(default)]
    pub roles: Vec<RoleFixture>,
    /// The workspace's teams (`teamIds` of an invitation, a user's `teams`).
    #[serde(default)]
    pub teams: Vec<TeamFixture>,
    /// Bearer tokens, each acting as one workspace user.
    pub credentials: Vec<CredentialFixture>,
    /// Users exactly as `GET /users/{id}` shows them.
    pub users: Vec<User>,
}

/// The spec's `WorkspaceOfUser`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceFixture {
    /// A GUID.
    pub id: String,
    pub name: Option<String>,
    /// The workspace's default URL, e.g. `https://ncnstn.awork.com`.
    pub url: Option<String>,
}

impl Default for WorkspaceFixture {
    fn default() -> WorkspaceFixture {
        WorkspaceFixture {
            id: "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d".to_owned(),
            name: Some("Workspace".to_owned()),
            url: Some("https://workspace.awork.com".to_owned()),
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleFixture {
    /// A GUID.
    pub id: String,
    /// For people reading the fixture (and the admin API's refusal to
    /// delete a member); awork's user answers do not show roles.
    pub name: String,
    /// Whether this is an admin role.
    #[serde(default)]
    pub is_admin: bool,
    /// The users holding this role.
    #[serde(default)]
    pub user_ids: Vec<String>,
}

/// The spec's `TeamModel`, as a user's `teams` shows it.
#[derive(Debug, Clone, serde::Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamFixture {
    /// A GUID.
    pub id: String,
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// What PUT does with an updatable field the body leaves out: `clear`
    /// (default: set it to null, as a replacing PUT would) or `keep`. An
    /// explicit `null` always clears.
    #[serde(default)]
    pub omitted_fields: OmittedFields,
    /// `pageSize` of `GET /users` when the query has none: 10 (the spec's
    /// default) unless set; awork's paging guide says 1000.
    #[serde(default = "default_page_size")]
    pub default_page_size: u32,
    /// `ignore` (default, like .NET model binding) or `reject` body members
    /// that are not updatable (read-only or unknown).
    #[serde(default)]
    pub other_fields: OtherFields,
    #[serde(default)]
    pub rate_limit: RateLimitSettings,
    /// Whether `POST /invitations` needs a `roleId`: `required` (default:
    /// the guide's minimal call sends one) or `optional` (the spec marks it
    /// nullable; the invited user then joins no role).
    #[serde(default)]
    pub invitation_role: InvitationRole,
    /// The values `gender` takes on `PUT /users/{userId}`: `listed` (default:
    /// `male`, `female`, `other`, the list awork documents for invitations)
    /// or `any` (the spec's `UserForm` has no list: any text of at most 25).
    #[serde(default)]
    pub gender_values: ValueRule,
    /// The values `language` takes on `PUT /users/{userId}`: `listed`
    /// (default: an ISO 639-1 code, alone or with script/region as in the
    /// spec's `en-GB`) or `any` (any text of at most 25, the spec's schema).
    #[serde(default)]
    pub language_values: ValueRule,
}

/// Whether an invitation must name a role.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitationRole {
    #[default]
    Required,
    Optional,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            omitted_fields: OmittedFields::default(),
            default_page_size: default_page_size(),
            other_fields: OtherFields::default(),
            rate_limit: RateLimitSettings::default(),
            invitation_role: InvitationRole::default(),
            gender_values: ValueRule::default(),
            language_values: ValueRule::default(),
        }
    }
}

fn default_page_size() -> u32 {
    10
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OmittedFields {
    Keep,
    #[default]
    Clear,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OtherFields {
    #[default]
    Ignore,
    Reject,
}

/// awork limits per workspace: 50/second on every plan, 1000/minute
/// (3000/minute on Enterprise plans), per developers.awork.com/rate-limits.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Off by default; `--rate-limit awork` turns it on too.
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_per_second")]
    pub requests_per_second: u32,
    #[serde(default = "default_per_minute")]
    pub requests_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> RateLimitSettings {
        RateLimitSettings {
            enabled: false,
            requests_per_second: default_per_second(),
            requests_per_minute: default_per_minute(),
        }
    }
}

fn default_per_second() -> u32 {
    50
}

fn default_per_minute() -> u32 {
    1000
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialFixture {
    pub token: String,
    /// The workspace user this token acts as (`updatedBy` of its writes).
    pub user_id: String,
    /// Whether that user has the workspace's admin role.
    #[serde(default)]
    pub is_admin: bool,
    /// Feature permissions, e.g. `user-master-data:write`,
    /// `user-master-data:read`, `user-manage-config:write`,
    /// `user-manage-config:delete`, `project-manage-config:write`.
    #[serde(default)]
    pub permissions: Vec<String>,
}

pub(super) fn load(file: &SourceFile, options: &LoadOptions) -> Result<Loaded, Vec<FileProblem>> {
    let Parsed {
        value: mut fixture,
        mut problems,
        places,
    } = file.parse_fixture::<AworkFixture>()?;
    let mut bad = |pointer: String, message: String| {
        problems.push(file.problem(places.original(&pointer), message))
    };

    let (gender, language) = (
        fixture.settings.gender_values,
        fixture.settings.language_values,
    );
    let user_ids: HashSet<String> = fixture
        .users
        .iter()
        .map(|u| u.id.to_ascii_lowercase())
        .collect();
    let records = fixture_records(
        std::mem::take(&mut fixture.users),
        |user| user_problems(user, gender, language),
        &mut bad,
    );
    let credentials = credentials(&fixture, &user_ids, &mut bad);
    check_workspace(&fixture, &user_ids, &mut bad);
    if !problems.is_empty() {
        return Err(problems);
    }

    let settings = &fixture.settings;
    let limits = &settings.rate_limit;
    let rate_limits = (limits.enabled || options.rate_limit).then(|| RateLimits {
        per_second: Limiter::new(limits.requests_per_second, Duration::from_secs(1)),
        per_minute: Limiter::new(limits.requests_per_minute, Duration::from_secs(60)),
    });
    let admins = fixture
        .roles
        .iter()
        .filter(|r| r.is_admin)
        .flat_map(|r| r.user_ids.iter().map(|id| id.to_ascii_lowercase()))
        .collect();
    Ok(Loaded {
        vendor: Arc::new(Awork::new(World {
            omitted_fields: settings.omitted_fields,
            other_fields: settings.other_fields,
            invitation_role: settings.invitation_role,
            gender_values: settings.gender_values,
            language_values: settings.language_values,
            invitation_secret: (fastrand::u64(..), fastrand::u64(..)),
            default_page_size: settings.default_page_size,
            credentials,
            rate_limits,
            requests_per_minute: limits.requests_per_minute,
            workspace: fixture.workspace.clone(),
            roles: fixture.roles.clone(),
            teams: fixture.teams.clone(),
            admins,
            max_record_bytes: options.max_record_bytes,
        })),
        records,
        other_kinds: Vec::new(),
    })
}

/// The members of `awork.json` that API calls create or change: the users
/// (an invitation creates one; deleting one marks it deleted, so the
/// credentials and roles naming it stay valid). Settings, workspace,
/// roles, teams and credentials only a restart changes.
const STATE_MEMBERS: &[&str] = USERS_ONLY;

impl Awork {
    /// See [`crate::vendors::Vendor::snapshot`].
    pub(super) fn snapshot_document(&self, state: &State, startup: &serde_json::Value) -> Document {
        users_only::<User>(state, Awork::NAME, startup)
    }

    /// See [`crate::vendors::Vendor::restore`]: the users checked as the
    /// fixture's, and every credential and role must still name one of them.
    pub(super) fn read_snapshot(
        &self,
        file: &SourceFile,
        startup: &serde_json::Value,
    ) -> Result<Restored, Vec<FileProblem>> {
        let Parsed {
            value: mut fixture,
            mut problems,
            places,
        } = file.parse_fixture::<AworkFixture>()?;
        let mut bad = |pointer: String, message: String| {
            problems.push(file.problem(places.original(&pointer), message))
        };
        check_fixed_members(file, startup, STATE_MEMBERS, &mut bad);
        let user_ids: HashSet<String> = fixture
            .users
            .iter()
            .map(|u| u.id.to_ascii_lowercase())
            .collect();
        credentials(&fixture, &user_ids, &mut bad);
        check_workspace(&fixture, &user_ids, &mut bad);
        let (gender, language) = (self.world.gender_values, self.world.language_values);
        let users = restored_users(
            std::mem::take(&mut fixture.users),
            |user| user_problems(user, gender, language),
            self.world.max_record_bytes,
            &mut bad,
        );
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Restored {
            users: users.len(),
            kinds: vec![(Awork::NAME, users)],
        })
    }
}

fn credentials(
    fixture: &AworkFixture,
    user_ids: &HashSet<String>,
    bad: &mut dyn FnMut(String, String),
) -> HashMap<String, Caller> {
    let mut credentials = HashMap::new();
    for (i, cred) in fixture.credentials.iter().enumerate() {
        check_credential(&cred.token, format!("/credentials/{i}/token"), bad);
        if !user_ids.contains(&cred.user_id.to_ascii_lowercase()) {
            bad(
                format!("/credentials/{i}/user_id"),
                format!("no user has id '{}'", cred.user_id),
            );
        }
        let caller = Caller {
            user_id: cred.user_id.to_ascii_lowercase(),
            is_admin: cred.is_admin,
            permissions: cred.permissions.iter().cloned().collect(),
        };
        if credentials.insert(cred.token.clone(), caller).is_some() {
            bad(
                format!("/credentials/{i}/token"),
                format!("duplicate token '{}'", cred.token),
            );
        }
    }
    credentials
}

/// The workspace, role and team ids are GUIDs, unique, and refer to users
/// and teams that exist; the default page size is one awork allows.
fn check_workspace(
    fixture: &AworkFixture,
    user_ids: &HashSet<String>,
    bad: &mut dyn FnMut(String, String),
) {
    if !is_hyphenated_uuid(&fixture.workspace.id) {
        bad(
            "/workspace/id".into(),
            format!("'{}' is not a GUID", fixture.workspace.id),
        );
    }
    if !(1..=MAX_PAGE_SIZE).contains(&fixture.settings.default_page_size) {
        bad(
            "/settings/default_page_size".into(),
            format!("must be 1 to {}", MAX_PAGE_SIZE),
        );
    }
    let mut seen = HashSet::new();
    for (i, role) in fixture.roles.iter().enumerate() {
        if !is_hyphenated_uuid(&role.id) || !seen.insert(role.id.to_ascii_lowercase()) {
            bad(
                format!("/roles/{i}/id"),
                format!("'{}' is not a unique GUID", role.id),
            );
        }
        for (j, user) in role.user_ids.iter().enumerate() {
            if !user_ids.contains(&user.to_ascii_lowercase()) {
                bad(
                    format!("/roles/{i}/user_ids/{j}"),
                    format!("no user has id '{user}'"),
                );
            }
        }
    }
    for (i, team) in fixture.teams.iter().enumerate() {
        if !is_hyphenated_uuid(&team.id) || !seen.insert(team.id.to_ascii_lowercase()) {
            bad(
                format!("/teams/{i}/id"),
                format!("'{}' is not a unique GUID", team.id),
            );
        }
    }
}
