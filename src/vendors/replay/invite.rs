//! `POST /api/user`: invite a user to the caller's company or a direct
//! child; idempotent on `externalId`.

use std::sync::Arc;

use hyper::StatusCode;

use super::body;
use super::error::ReplayError;
use super::fixture::{legacy_role_for, UserRecord};
use super::shapes::Unified;
use super::{Replay, NAME};
use crate::http::Reply;
use crate::timestamps;
use crate::vendors::Request;

impl Replay {
    /// 201 with the new invitation; 200 with the existing record on a retry
    /// (same `externalId` and `email` in the same company).
    pub(super) fn invite_user(&self, request: &Request<'_>) -> Result<Reply, ReplayError> {
        let company = self.authenticate(request)?;
        let invite = body::invite(&request.json(true)?)?;
        // The checks (the child company exists, e-mail and externalId are
        // free) and the insert are one step: no other creation, and no
        // reset that drops the child company, can come between. The
        // vendor's creation lock first, then the state's, everywhere.
        let _creating = self.creating();
        let _step = request.state.lock();
        let scope = match &invite.child_company_id {
            Some(child) => self.direct_child(request.state, company, child)?,
            None => company.to_owned(),
        };
        let records: Vec<Arc<UserRecord>> = request.state.all_typed(NAME);
        if let Some(external_id) = &invite.external_id {
            let retried = records.iter().find(|u| {
                u.company_id.eq_ignore_ascii_case(&scope)
                    && u.external_id.as_ref() == Some(external_id)
            });
            if let Some(existing) = retried {
                return if existing.email.eq_ignore_ascii_case(&invite.email) {
                    Ok(Reply::json(StatusCode::OK, &Unified::from(&**existing)))
                } else {
                    Err(ReplayError::InvitationExternalIdTaken)
                };
            }
        }
        if records
            .iter()
            .any(|u| u.email.eq_ignore_ascii_case(&invite.email))
        {
            return Err(ReplayError::EmailTaken);
        }
        let id = uuid::Uuid::new_v4().to_string();
        let record = UserRecord {
            invitation_url: Some(format!("https://app.replay.sale/invite/{id}")),
            id,
            email: invite.email,
            first_name: Some(invite.first_name),
            last_name: invite.last_name,
            legacy_role: Some(legacy_role_for(&invite.role, None).to_owned()),
            role: invite.role,
            status: "invited".to_owned(),
            external_id: invite.external_id,
            created_at: timestamps::format_millis(request.now()),
            company_id: scope,
            team_id: None,
        };
        request.state.put_typed(NAME, record.id.clone(), &record)?;
        Ok(Reply::json(StatusCode::CREATED, &Unified::from(&record)))
    }
}
