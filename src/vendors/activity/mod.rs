//! ScalePad activity monitoring (`activity`): its user resource,
//! `PATCH /v2/clients/{client_id}/users/{user_id}` and the rest.
//!
//! Sources: the update-user page ("the seed",
//! https://api-docs.amm-scalepad.com/users/update) and the vendor's public
//! docs at https://api-docs.amm-scalepad.com; `docs/vendors/activity.md`
//! lists each rule with its source and marks what usermock inferred. The
//! fixture's `settings` switch the inferred choices.
//!
//! Layout: `fixture` (file format, schema, checks), `error` (the
//! envelope), `users` (get and update one user), `listing` (list and
//! summary), `departments`, `clients`, `paging` (query strings, cursors),
//! this file (authentication, the route table, scenarios).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use hyper::Method;
use serde_json::Value;

use crate::diagnostics::{FileProblem, SourceFile};
use crate::http::{Call, Reply};
use crate::store::State;
use crate::vendors::{
    is_hyphenated_uuid, seed_in, seeded_user, stored, Api, BodyKind, Document, ErrorRequest,
    Request, Restored, Routes, SeedRefused, UnseedRefused, unseed_in, VendorSpec,
};

mod clients;
mod departments;
mod error;
mod fixture;
mod listing;
mod paging;
mod users;

use fixture::DepartmentRecord;
use error::ActivityError;
use fixture::{ClientFixture, Settings, UserRecord};

pub(crate) const SPEC: VendorSpec = VendorSpec {
    name: Activity::NAME,
    embedded_fixture: include_str!("../../../fixtures/activity.json"),
    load: fixture::load,
    fixture_schema: || schemars::schema_for!(fixture::ActivityFixture),
    #[cfg(test)]
    sample_writes,
};

const CLIENT: &str = "/v2/clients/{client_id}";
const USERS: &str = "/v2/clients/{client_id}/users";
const SUMMARY: &str = "/v2/clients/{client_id}/users/summary";
const USER: &str = "/v2/clients/{client_id}/users/{user_id}";
const DEPARTMENTS: &str = "/v2/clients/{client_id}/departments";
const DEPARTMENT: &str = "/v2/clients/{client_id}/departments/{department_id}";
const MEMBERS: &str = "/v2/clients/{client_id}/departments/{department_id}/members";
const MEMBERS_REMOVE: &str = "/v2/clients/{client_id}/departments/{department_id}/members/remove";

/// What a credential may reach.
#[derive(Debug)]
pub(crate) enum Access {
    AllClients,
    /// Lower-cased client ids.
    Clients(HashSet<String>),
}

impl Access {
    fn allows(&self, client_id: &str) -> bool {
        match self {
            Access::AllClients => true,
            Access::Clients(ids) => ids.contains(client_id),
        }
    }
}

pub(crate) struct Activity {
    settings: Settings,
    /// Keyed by lower-cased id, here and in every map below.
    clients: HashMap<String, ClientFixture>,
    /// The fixture's departments; a request's state may hold newer
    /// versions (see `departments`).
    departments: HashMap<String, Arc<DepartmentRecord>>,
    credentials: HashMap<String, Access>,
    /// `--max-record-bytes`: a restored record may be no larger.
    max_record_bytes: usize,
    routes: Routes<Activity>,
}

impl Activity {
    fn new(
        settings: Settings,
        clients: HashMap<String, ClientFixture>,
        departments: HashMap<String, DepartmentRecord>,
        credentials: HashMap<String, Access>,
        max_record_bytes: usize,
    ) -> Activity {
        let departments = departments
            .into_iter()
            .map(|(id, d)| (id, Arc::new(d)))
            .collect();
        use BodyKind::{JsonObject, None as NoBody};
        use Method as M;
        Activity {
            settings,
            clients,
            departments,
            credentials,
            max_record_bytes,
            routes: Routes::new(&[
                (M::GET, CLIENT, NoBody, Activity::get_client),
                (M::GET, USERS, NoBody, Activity::list_users),
                (M::GET, SUMMARY, NoBody, Activity::user_summary),
                (M::GET, USER, NoBody, Activity::get_user),
                (M::PATCH, USER, JsonObject, Activity::update_user),
                (M::GET, DEPARTMENTS, NoBody, Activity::list_departments),
                (
                    M::POST,
                    DEPARTMENTS,
                    JsonObject,
                    Activity::create_department,
                ),
                (M::GET, DEPARTMENT, NoBody, Activity::get_department),
                (
                    M::PATCH,
                    DEPARTMENT,
                    JsonObject,
                    Activity::update_department,
                ),
                (M::DELETE, DEPARTMENT, NoBody, Activity::delete_department),
                (M::POST, MEMBERS, JsonObject, Activity::add_members),
                (
                    M::POST,
                    MEMBERS_REMOVE,
                    JsonObject,
                    Activity::remove_members,
                ),
            ]),
        }
    }

    /// 401 unless the request carries a known bearer token.
    fn authenticate(&self, request: &Request<'_>) -> Result<&Access, ActivityError> {
        let token = request
            .call
            .bearer_token()
            .ok_or(ActivityError::Unauthenticated {
                reason: "missing bearer token",
            })?;
        self.credentials
            .get(token)
            .ok_or(ActivityError::Unauthenticated {
                reason: "unknown token",
            })
    }

    /// 403 unless the credential may access `client_id` (checked before the
    /// client's existence, so a limited token learns nothing of others).
    fn authorise(&self, access: &Access, client_id: &str) -> Result<(), ActivityError> {
        if access.allows(client_id) {
            Ok(())
        } else {
            Err(ActivityError::Forbidden {
                client_id: client_id.to_owned(),
            })
        }
    }

    /// 404 unless the client exists.
    fn client_exists(&self, client_id: &str) -> Result<(), ActivityError> {
        if self.clients.contains_key(client_id) {
            Ok(())
        } else {
            Err(ActivityError::ClientNotFound {
                client_id: client_id.to_owned(),
            })
        }
    }
}

impl Api for Activity {
    type Error = ActivityError;
    const NAME: &'static str = "activity";
    const REAL_HOST: &'static str = "api.example.com";
    const BASE_PATH: &'static str = "/v2";

    fn routes(&self) -> &Routes<Activity> {
        &self.routes
    }

    fn render(&self, error: &ActivityError) -> Reply {
        error.render(self.settings.status_messages)
    }

    fn scenario_error(&self, request: &ErrorRequest, call: &Call) -> Option<ActivityError> {
        let param = |name: &str| self.path_param(call, name);
        let body = || serde_json::from_slice::<Value>(&call.body).unwrap_or(Value::Null);
        Some(match (request.status, request.kind.as_deref()) {
            (400, None | Some("invalid_request")) => ActivityError::invalid("Invalid request body"),
            (400, Some("invalid_stale_threshold")) => listing::invalid_stale_threshold(
                query_value(call, "stale_threshold").map(Value::String),
            ),
            (400, Some("department_name_required")) => {
                ActivityError::invalid_field("Department name is required", "name", None)
            }
            (400, Some("invalid_cursor")) => {
                ActivityError::invalid_field("Invalid cursor", "cursor", None)
            }
            (401, None) => ActivityError::Unauthenticated {
                reason: "unknown token",
            },
            (403, None) => ActivityError::Forbidden {
                client_id: param("client_id"),
            },
            // Every department id of the request's own body, as if none existed.
            (404, None | Some("departments_not_found")) => ActivityError::DepartmentsNotFound {
                ids: users::parse_department_ids(&body()["departments"]).unwrap_or_default(),
            },
            (404, Some("user_not_found")) => ActivityError::UserNotFound {
                user_id: param("user_id"),
            },
            (404, Some("client_not_found")) => ActivityError::ClientNotFound {
                client_id: param("client_id"),
            },
            (404, Some("department_not_found")) => ActivityError::DepartmentNotFound {
                department_id: param("department_id"),
            },
            (409, None | Some("conflict")) => ActivityError::DepartmentNameTaken {
                name: body()["name"].as_str().unwrap_or_default().to_owned(),
            },
            (500, None) => ActivityError::Internal,
            _ => return None,
        })
    }

    fn seed(&self, state: &State, id: &str, record: &Value) -> Result<Value, SeedRefused> {
        // Department deletes and membership writes hold the same lock.
        seed_in(state, Activity::NAME, id, || {
            let user: UserRecord = seeded_user(id, record, |u| self.user_problems_now(state, u))?;
            stored(&user)
        })
    }

    fn unseed(&self, state: &State, id: &str) -> Result<(), UnseedRefused> {
        // ScalePad has no user delete. Nothing refers to a user: a
        // department's members are the users whose `departments` name it,
        // so the memberships go with the user and `member_count` drops
        // (inferred, as a department delete takes its memberships away).
        unseed_in(state, Activity::NAME, id, |_| Ok(()))
    }

    fn snapshot(&self, state: &State, startup: &Value) -> Document {
        self.snapshot_document(state, startup)
    }

    fn restore(&self, file: &SourceFile, startup: &Value) -> Result<Restored, Vec<FileProblem>> {
        self.read_snapshot(file, startup)
    }
}

impl Activity {
    /// The `{name}` segment of `call`'s path under this vendor's routes,
    /// lower-cased; empty when no route captures it.
    fn path_param(&self, call: &Call, name: &str) -> String {
        self.routes
            .patterns()
            .iter()
            .find_map(|pattern| {
                pattern
                    .captures(&call.path)
                    .and_then(|captures| captures.get(name).map(str::to_ascii_lowercase))
            })
            .unwrap_or_default()
    }
}

/// The decoded value of a query parameter of `call`.
fn query_value(call: &Call, name: &str) -> Option<String> {
    form_urlencoded::parse(call.query.as_deref().unwrap_or_default().as_bytes())
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// A path id must be a UUID (400 otherwise); returned lower-cased.
fn path_uuid<'r>(request: &Request<'r>, name: &str) -> Result<Cow<'r, str>, ActivityError> {
    let value = request.param(name);
    if is_hyphenated_uuid(value) {
        Ok(crate::vendors::lowercase_id(value))
    } else {
        Err(ActivityError::invalid_field(
            format!("Path parameter '{name}' is not a valid UUID"),
            name,
            Some(Value::String(value.to_owned())),
        ))
    }
}

/// One valid write through each write route, in an order in which each
/// succeeds: the snapshot test replays them and checks that every kind of
/// record they touch is in this vendor's snapshot.
#[cfg(test)]
#[rustfmt::skip]
fn sample_writes() -> Vec<crate::vendors::SampleWrite> {
    use serde_json::{json, Value};
    const CLIENT: &str = "/v2/clients/aa7cf840-9ca9-46a3-9778-9015d6580d50";
    const DEPARTMENT: &str = "d1a2b3c4-e5f6-7890-abcd-ef1234567890";
    const OTHER_DEPARTMENT: &str = "e2b3c4d5-f6a7-8901-bcde-f12345678901";
    const USER: &str = "a1d97031-04e2-4907-a249-093f7436207b";
    let activity = ("authorization", "Bearer activity-admin");
    vec![
        (Method::POST, format!("{CLIENT}/departments"), activity, json!({"name": "Kinds"})),
        (Method::PATCH, format!("{CLIENT}/departments/{DEPARTMENT}"), activity, json!({"name": "Renamed"})),
        (Method::PATCH, format!("{CLIENT}/users/{USER}"), activity, json!({"departments": [DEPARTMENT]})),
        (Method::POST, format!("{CLIENT}/departments/{DEPARTMENT}/members"), activity, json!({"user_ids": [USER]})),
        (Method::POST, format!("{CLIENT}/departments/{DEPARTMENT}/members/remove"), activity, json!({"user_ids": [USER]})),
        (Method::DELETE, format!("{CLIENT}/departments/{OTHER_DEPARTMENT}"), activity, Value::Null),
    ]
}
