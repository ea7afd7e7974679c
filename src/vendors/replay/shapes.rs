//! The two shapes Replay shows a user in: the unified `UserCrudResponse`
//! (the seed's; child-scoped reads, create and update) and the legacy one
//! (reads of the caller's own company).

use std::cmp::Ordering;

use serde::Serialize;

use super::fixture::{legacy_role_for, UserRecord};
use crate::timestamps;

/// `UserCrudResponse`, in the seed's member order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Unified<'a> {
    id: &'a str,
    email: &'a str,
    first_name: &'a Option<String>,
    last_name: &'a Option<String>,
    role: &'a str,
    status: &'a str,
    external_id: &'a Option<String>,
    created_at: &'a str,
    invitation_url: &'a Option<String>,
}

impl<'a> From<&'a UserRecord> for Unified<'a> {
    fn from(user: &'a UserRecord) -> Unified<'a> {
        Unified {
            id: &user.id,
            email: &user.email,
            first_name: &user.first_name,
            last_name: &user.last_name,
            role: &user.role,
            status: &user.status,
            external_id: &user.external_id,
            created_at: &user.created_at,
            invitation_url: &user.invitation_url,
        }
    }
}

/// The legacy user, in the docs' member order; `role` is `Rep`, `Manager`
/// or `Integration`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Legacy<'a> {
    id: &'a str,
    first_name: &'a Option<String>,
    email: &'a str,
    role: &'a str,
    created_at: &'a str,
    last_name: &'a Option<String>,
    team_id: &'a Option<String>,
}

impl<'a> From<&'a UserRecord> for Legacy<'a> {
    fn from(user: &'a UserRecord) -> Legacy<'a> {
        let role = match &user.legacy_role {
            Some(role) => role.as_str(),
            None => legacy_role_for(&user.role, None),
        };
        Legacy {
            id: &user.id,
            first_name: &user.first_name,
            email: &user.email,
            role,
            created_at: &user.created_at,
            last_name: &user.last_name,
            team_id: &user.team_id,
        }
    }
}

/// The order of every list (inferred; Replay documents none): oldest
/// `createdAt` first, then by id, so pages never skip nor repeat a record.
pub(super) fn list_order(a: &UserRecord, b: &UserRecord) -> Ordering {
    let at = |u: &UserRecord| timestamps::parse(&u.created_at);
    at(a).cmp(&at(b)).then_with(|| a.id.cmp(&b.id))
}
