//! Companies: the fixture's tree, plus children created at runtime with
//! `POST /api/company/child`. Those are records in the request's state
//! under their own key, so a session's new child is invisible to other
//! sessions and a reset drops it; the vendor holds only the fixture's.

use std::borrow::Cow;
use std::sync::Arc;

use hyper::StatusCode;
use serde::Serialize;

use super::body::{self, ChildCompany};
use super::error::ReplayError;
use super::fixture::{Company, RetryWithOtherMembers};
use super::invite::{note_created, note_retry, note_retry_with_other_members};
use super::{Replay, COMPANIES};
use crate::http::Reply;
use crate::store::{BrokenRecord, State};
use crate::timestamps;
use crate::vendors::{lowercase_id, Request};

/// `POST /api/company/child`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChildCompanyResponse<'a> {
    id: &'a str,
    name: &'a str,
    parent_company_id: &'a Option<String>,
    external_id: &'a Option<String>,
    created_at: &'a str,
}

impl Company {
    fn reply(&self, status: StatusCode) -> Reply {
        Reply::json(
            status,
            &ChildCompanyResponse {
                id: &self.id,
                name: &self.name,
                parent_company_id: &self.parent_company_id,
                external_id: &self.external_id,
                created_at: &self.created_at,
            },
        )
    }
}

impl Replay {
    /// Whether the company with this id (any case), from the fixture or
    /// `state`, exists and `test` holds for it (read in place, not copied).
    pub(super) fn company_is(
        &self,
        state: &State,
        id: &str,
        test: impl FnOnce(&Company) -> bool,
    ) -> Result<bool, BrokenRecord> {
        let id = lowercase_id(id);
        match self.companies.get(id.as_ref()) {
            Some(company) => Ok(test(company)),
            None => Ok(state
                .read::<Company>(COMPANIES, &id)?
                .is_some_and(|company| test(&company))),
        }
    }

    /// Every company: the fixture's, then those created in `state`.
    fn all_companies(&self, state: &State) -> Vec<Company> {
        let mut all: Vec<Company> = self.companies.values().cloned().collect();
        all.extend(
            state
                .all_typed::<Company>(COMPANIES)
                .into_iter()
                .map(Arc::unwrap_or_clone),
        );
        all
    }

    /// `child` (lower-cased) when it is a direct child of `company`: not the
    /// caller itself, not a grandchild, a sibling or an unknown company.
    pub(super) fn direct_child<'c>(
        &self,
        state: &State,
        company: &str,
        child: &'c str,
    ) -> Result<Cow<'c, str>, ReplayError> {
        let child = lowercase_id(child);
        let is_child = |found: &Company| found.parent_company_id.as_deref() == Some(company);
        if self.company_is(state, &child, is_child)? {
            Ok(child)
        } else {
            Err(ReplayError::NotDirectChild {
                company: child.into_owned(),
            })
        }
    }

    /// `POST /api/company/child`: 201 with the new child, or 200 with the
    /// existing one on a retry with the same `externalId` ("When externalId
    /// is supplied, the call is idempotent").
    pub(super) fn create_child_company(&self, request: &Request<'_>) -> Result<Reply, ReplayError> {
        let parent = self.authenticate(request)?.to_owned();
        let wanted = body::child_company(&request.json(true)?)?;
        // Check-then-insert must not interleave with another creation (the
        // vendor's creation lock first, then the state's, everywhere).
        let _creating = self.creating();
        let _step = request.state.lock();
        let companies = self.all_companies(request.state);
        if let Some(external_id) = &wanted.external_id {
            let retried = companies.iter().find(|c| {
                c.parent_company_id.as_deref() == Some(parent.as_str())
                    && c.external_id.as_ref() == Some(external_id)
            });
            if let Some(existing) = retried {
                let differing = differing_members(existing, &wanted);
                if !differing.is_empty() {
                    if self.settings.retry_with_other_members == RetryWithOtherMembers::Conflict {
                        return Err(ReplayError::ChildExternalIdTaken);
                    }
                    note_retry_with_other_members(request, &differing);
                }
                note_retry(request);
                return Ok(existing.reply(StatusCode::OK));
            }
        }
        let name = wanted.name.to_lowercase();
        if companies.iter().any(|c| c.name.to_lowercase() == name) {
            return Err(ReplayError::CompanyNameTaken);
        }
        let company = Company {
            id: uuid::Uuid::new_v4().to_string(),
            name: wanted.name,
            parent_company_id: Some(parent),
            external_id: wanted.external_id,
            created_at: timestamps::format_millis(request.now()),
            url: wanted.url,
            summary: wanted.summary,
        };
        request
            .state
            .put_typed(COMPANIES, company.id.clone(), &company)?;
        let status = self.created_status();
        note_created(request, status);
        Ok(company.reply(status))
    }
}

/// The members of a retried create that differ from the existing child
/// (names compared regardless of case; members the retry leaves out are
/// not compared).
fn differing_members(existing: &Company, wanted: &ChildCompany) -> Vec<&'static str> {
    let mut differing = Vec::new();
    if existing.name.to_lowercase() != wanted.name.to_lowercase() {
        differing.push("name");
    }
    if wanted.url.is_some() && existing.url != wanted.url {
        differing.push("url");
    }
    if wanted.summary.is_some() && existing.summary != wanted.summary {
        differing.push("summary");
    }
    differing
}
