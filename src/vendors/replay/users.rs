//! `/api/user/{userId}` (GET, PATCH) and `GET /api/user`.

use std::sync::Arc;

use hyper::StatusCode;
use serde::Serialize;

use super::body;
use super::error::ReplayError;
use super::fixture::{legacy_role_for, UserRecord};
use super::notes;
use super::query;
use super::shapes::{list_order, Legacy, LegacyText, Unified, UnifiedText};
use super::{Replay, NAME};
use crate::http::Reply;
use crate::store::Shown;
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
        let query = query::get_user(request.call.query.as_deref())?;
        query::note_unknown(request, &["childCompanyId", "child_company_id"]);
        if query.list_spelling {
            request.note(
                notes::CHILD_COMPANY_QUERY_SPELLING,
                "the child company was read from child_company_id (the list route's spelling); this page writes ?childCompanyId=",
                notes::GET_USER_QUERY,
            );
        }
        match query.child_company_id {
            Some(child) => {
                let child = self.direct_child(request.state, company, &child)?;
                let user = find_in_company(request, &user_id, &child)?;
                Ok(Reply::json_text(
                    StatusCode::OK,
                    user.view_text::<UnifiedText>()?,
                ))
            }
            None => {
                let user = find_in_company(request, &user_id, company)?;
                let treated = self.in_legacy_shape(&user.record);
                note_legacy_shape(
                    request,
                    usize::from(treated == InLegacy::Invitation),
                    usize::from(treated == InLegacy::HiddenNameless),
                );
                if !treated.shown() {
                    return Err(ReplayError::UserNotFound);
                }
                Ok(Reply::json_text(
                    StatusCode::OK,
                    user.view_text::<LegacyText>()?,
                ))
            }
        }
    }

    /// Names and role of an invitation or active user; a disabled one is
    /// refused whatever the body asks.
    pub(super) fn update_user(&self, request: &Request<'_>) -> Result<Reply, ReplayError> {
        let company = self.authenticate(request)?;
        let user_id = body::uuid_value("userId", request.param("userId"))?;
        let update = match request.json_as(true, body::UpdateBody::accepted)? {
            Ok(update) => update,
            Err(value) => body::update(&value)?,
        };
        let scope: std::borrow::Cow<'_, str> = match &update.child_company_id {
            Some(child) => self.direct_child(request.state, company, child)?,
            None => company.into(),
        };
        let disabled_status = self.settings.disabled_update_status;
        let changes_role = update.role.is_some();
        let changes_nothing =
            update.first_name.is_none() && update.last_name.is_none() && !changes_role;
        let updated = request
            .state
            .update_typed(NAME, &user_id, |user: &mut UserRecord| {
                if !user.company_id.eq_ignore_ascii_case(&scope) {
                    return Err(ReplayError::UserNotFound);
                }
                if user.status == "disabled" {
                    return Err(ReplayError::UserDisabled {
                        status: disabled_status,
                    });
                }
                if let Some(role) = &update.role {
                    let legacy = legacy_role_for(role, user.legacy_role.as_deref());
                    if user.legacy_role.as_deref() != Some(legacy) {
                        user.legacy_role = Some(legacy.into());
                    }
                    user.role = role.clone();
                }
                // Moved, not copied: the body's names are not needed after.
                if let Some(name) = update.first_name {
                    user.first_name = Some(name);
                }
                if let Some(name) = update.last_name {
                    user.last_name = Some(name);
                }
                Ok(())
            })?
            .ok_or(ReplayError::UserNotFound)?;
        if changes_role {
            note_legacy_role(request, &updated);
        }
        if changes_nothing {
            request.note(
                notes::EMPTY_USER_UPDATE,
                "no firstName, lastName or role to change: 200 with the record unchanged",
                notes::UPDATE_USER_FIELDS,
            );
        }
        Ok(Reply::json(StatusCode::OK, &Unified::from(&*updated)))
    }

    /// `GET /api/user`: a page of the caller's company in the legacy shape,
    /// or of a direct child's as `{users}` in the unified shape.
    pub(super) fn list_users(&self, request: &Request<'_>) -> Result<Reply, ReplayError> {
        let company = self.authenticate(request)?;
        let query = query::list(request.call.query.as_deref())?;
        query::note_unknown(request, &["child_company_id", "offset", "limit"]);
        let scope = match &query.child_company_id {
            Some(child) => Some(self.direct_child(request.state, company, child)?),
            None => None,
        };
        let (mut invitations, mut nameless) = (0_usize, 0_usize);
        let mut users: Vec<Arc<UserRecord>> = request
            .state
            .all_typed::<UserRecord>(NAME)
            .into_iter()
            .filter(|u| {
                u.company_id
                    .eq_ignore_ascii_case(scope.as_deref().unwrap_or(company))
            })
            .filter(|u| {
                if scope.is_some() {
                    return true;
                }
                let treated = self.in_legacy_shape(u);
                match treated {
                    InLegacy::Invitation => invitations = invitations.saturating_add(1),
                    InLegacy::HiddenNameless => nameless = nameless.saturating_add(1),
                    InLegacy::User | InLegacy::Hidden => {}
                }
                treated.shown()
            })
            .collect();
        note_legacy_shape(request, invitations, nameless);
        users.sort_by(|a, b| list_order(a, b));
        let page: Vec<&Arc<UserRecord>> =
            users.iter().skip(query.offset).take(query.limit).collect();
        if page.len() > 1 {
            request.note(
                notes::LIST_ORDER,
                "the records are in usermock's order: oldest createdAt first, then by id",
                notes::NO_ORDER,
            );
        }
        if scope.is_some() {
            if query.paged {
                request.note(
                    notes::CHILD_LIST_PAGING,
                    "offset and limit were applied to the child-scoped {users} list, which has no pagination object",
                    notes::LIST_USERS,
                );
            }
            let users = page.iter().map(|u| Unified::from(&***u)).collect();
            return Ok(Reply::json(StatusCode::OK, &UnifiedPage { users }));
        }
        let data: Vec<Legacy<'_>> = page.iter().map(|u| Legacy::from(&***u)).collect();
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

    /// How the legacy shape treats this record. Invitations: shown by
    /// setting, and only with a first name, which that shape's schema
    /// requires (usermock never invents one).
    fn in_legacy_shape(&self, user: &UserRecord) -> InLegacy {
        if user.status != "invited" {
            InLegacy::User
        } else if !self.settings.legacy_shape_includes_invitations {
            InLegacy::Hidden
        } else if user.first_name.is_none() {
            InLegacy::HiddenNameless
        } else {
            InLegacy::Invitation
        }
    }
}

/// See [`Replay::in_legacy_shape`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InLegacy {
    User,
    Invitation,
    /// By `settings.legacy_shape_includes_invitations: false`.
    Hidden,
    HiddenNameless,
}

impl InLegacy {
    fn shown(self) -> bool {
        matches!(self, InLegacy::User | InLegacy::Invitation)
    }
}

/// Notes how many of a legacy answer's records the legacy-shape rules
/// decided: invitations shown, and invitations left out for want of a name.
fn note_legacy_shape(request: &Request<'_>, shown: usize, nameless: usize) {
    if shown > 0 {
        request.note(
            notes::LEGACY_SHAPE_INVITATIONS,
            format!("the legacy shape counts {shown} pending invitation(s) (settings.legacy_shape_includes_invitations)"),
            notes::LEGACY_SHAPE,
        );
    }
    if nameless > 0 {
        request.note(
            notes::LEGACY_NAMELESS_INVITATION,
            format!("{nameless} pending invitation(s) without a first name, which the legacy shape requires, were left out"),
            notes::LEGACY_SHAPE,
        );
    }
}

/// Notes the legacy role a write stored by usermock's mapping.
pub(super) fn note_legacy_role(request: &Request<'_>, user: &UserRecord) {
    request.note(
        notes::LEGACY_ROLE_MAPPING,
        format!(
            "the legacy shape will show {} as {} for the role {}",
            user.id,
            user.legacy_role.as_deref().unwrap_or_default(),
            user.role
        ),
        notes::ROLE_VOCABULARIES,
    );
}

/// The record if it belongs to `company`; otherwise it does not exist for
/// this caller (never leak another company's users).
fn find_in_company(
    request: &Request<'_>,
    user_id: &str,
    company: &str,
) -> Result<Shown<UserRecord>, ReplayError> {
    request
        .state
        .read_shown::<UserRecord>(NAME, user_id)?
        .filter(|user| user.record.company_id.eq_ignore_ascii_case(company))
        .ok_or(ReplayError::UserNotFound)
}
