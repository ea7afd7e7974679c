//! `/api/user/{userId}` (GET, PATCH) and `GET /api/user`.

use std::sync::Arc;

use hyper::StatusCode;
use serde::Serialize;

use super::body;
use super::error::ReplayError;
use super::fixture::{legacy_role_for, UserRecord};
use super::query;
use super::shapes::{list_order, Legacy, Unified};
use super::{Replay, NAME};
use crate::http::Reply;
use crate::vendors::Request;

/// The legacy list: `{data, pagination}`.
#[derive(Serialize)]
struct LegacyPage<'a> {
    data: Vec<Legacy<'a>>,
    pagination: Pagination,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    total: usize,
    offset: usize,
    limit: usize,
    has_more: bool,
}

/// The child-scoped list: `{users}`.
#[derive(Serialize)]
struct UnifiedPage<'a> {
    users: Vec<Unified<'a>>,
}

impl Replay {
    /// Legacy shape for the caller's own company; with `?childCompanyId=`
    /// the unified shape, for that direct child only.
    pub(super) fn get_user(&self, request: &Request<'_>) -> Result<Reply, ReplayError> {
        let company = self.authenticate(request)?;
        let user_id = body::uuid_value("userId", request.param("userId"))?;
        let child = query::get_user(request.call.query.as_deref())?;
        match child {
            Some(child) => {
                let child = self.direct_child(request.state, company, &child)?;
                let user = find_in_company(request, &user_id, &child)?;
                Ok(Reply::json(StatusCode::OK, &Unified::from(&*user)))
            }
            None => {
                let user = find_in_company(request, &user_id, company)?;
                if !self.in_legacy_shape(&user) {
                    return Err(ReplayError::UserNotFound);
                }
                Ok(Reply::json(StatusCode::OK, &Legacy::from(&*user)))
            }
        }
    }

    /// Names and role of an invitation or active user; a disabled one is
    /// refused whatever the body asks.
    pub(super) fn update_user(&self, request: &Request<'_>) -> Result<Reply, ReplayError> {
        let company = self.authenticate(request)?;
        let user_id = body::uuid_value("userId", request.param("userId"))?;
        let update = body::update(&request.json(true)?)?;
        let scope = match &update.child_company_id {
            Some(child) => self.direct_child(request.state, company, child)?,
            None => company.to_owned(),
        };
        let updated = request
            .state
            .update_typed(NAME, &user_id, |user: &mut UserRecord| {
                if !user.company_id.eq_ignore_ascii_case(&scope) {
                    return Err(ReplayError::UserNotFound);
                }
                if user.status == "disabled" {
                    return Err(ReplayError::UserDisabled);
                }
                if let Some(role) = &update.role {
                    let legacy = legacy_role_for(role, user.legacy_role.as_deref()).to_owned();
                    user.role.clone_from(role);
                    user.legacy_role = Some(legacy);
                }
                if let Some(name) = &update.first_name {
                    user.first_name = Some(name.clone());
                }
                if let Some(name) = &update.last_name {
                    user.last_name = Some(name.clone());
                }
                Ok(())
            })?
            .ok_or(ReplayError::UserNotFound)?;
        Ok(Reply::json(StatusCode::OK, &Unified::from(&*updated)))
    }

    /// `GET /api/user`: a page of the caller's company in the legacy shape,
    /// or of a direct child's as `{users}` in the unified shape.
    pub(super) fn list_users(&self, request: &Request<'_>) -> Result<Reply, ReplayError> {
        let company = self.authenticate(request)?;
        let query = query::list(request.call.query.as_deref())?;
        let scope = match &query.child_company_id {
            Some(child) => Some(self.direct_child(request.state, company, child)?),
            None => None,
        };
        let mut users: Vec<Arc<UserRecord>> = request
            .state
            .all_typed::<UserRecord>(NAME)
            .into_iter()
            .filter(|u| {
                u.company_id
                    .eq_ignore_ascii_case(scope.as_deref().unwrap_or(company))
            })
            .filter(|u| scope.is_some() || self.in_legacy_shape(u))
            .collect();
        users.sort_by(|a, b| list_order(a, b));
        let page = users.iter().skip(query.offset).take(query.limit);
        if scope.is_some() {
            let users = page.map(|u| Unified::from(&**u)).collect();
            return Ok(Reply::json(StatusCode::OK, &UnifiedPage { users }));
        }
        let data: Vec<Legacy<'_>> = page.map(|u| Legacy::from(&**u)).collect();
        let pagination = Pagination {
            total: users.len(),
            offset: query.offset,
            limit: query.limit,
            has_more: query.offset.saturating_add(data.len()) < users.len(),
        };
        Ok(Reply::json(
            StatusCode::OK,
            &LegacyPage { data, pagination },
        ))
    }

    /// Whether the legacy shape shows this record (invitations: by setting).
    fn in_legacy_shape(&self, user: &UserRecord) -> bool {
        user.status != "invited" || self.settings.legacy_shape_includes_invitations
    }
}

/// The record if it belongs to `company`; otherwise it does not exist for
/// this caller (never leak another company's users).
fn find_in_company(
    request: &Request<'_>,
    user_id: &str,
    company: &str,
) -> Result<Arc<UserRecord>, ReplayError> {
    request
        .state
        .read::<UserRecord>(NAME, user_id)?
        .filter(|user| user.company_id.eq_ignore_ascii_case(company))
        .ok_or(ReplayError::UserNotFound)
}
