//! Teams: `PATCH /api/team/{teamId}`
//! (https://docs.replay.sale/api-reference/team/update-team) and
//! `GET /api/team`, which Invite User names but whose page was not found:
//! its items are shown as Update Team answers one team (inferred).
//!
//! Teams are records of the `replay.teams` kind, loaded from the fixture's
//! `teams`, so a change is seen only in its session and a reset drops it.

use std::cmp::Ordering;
use std::sync::Arc;

use hyper::StatusCode;
use serde::Serialize;

use super::body;
use super::error::ReplayError;
use super::fixture::{TeamList, TeamRecord, TeamType};
use super::notes;
use super::query;
use super::{Replay, TEAMS};
use crate::http::Reply;
use crate::timestamps;
use crate::vendors::Request;

/// A team as Update Team answers it, in its documented member order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TeamResponse<'a> {
    id: &'a str,
    name: &'a str,
    company_id: &'a str,
    created_at: &'a str,
    description: &'a Option<String>,
    #[serde(rename = "type")]
    kind: TeamType,
    use_turn_connection: bool,
}

impl<'a> From<&'a TeamRecord> for TeamResponse<'a> {
    fn from(team: &'a TeamRecord) -> TeamResponse<'a> {
        TeamResponse {
            id: &team.id,
            name: &team.name,
            company_id: &team.company_id,
            created_at: team.created_at.as_deref().unwrap_or_default(),
            description: &team.description,
            kind: team.kind,
            use_turn_connection: team.use_turn_connection,
        }
    }
}

#[derive(Serialize)]
struct TeamsPage<'a> {
    teams: Vec<TeamResponse<'a>>,
}

impl Replay {
    /// `GET /api/team`: the caller's teams, oldest first.
    pub(super) fn list_teams(&self, request: &Request<'_>) -> Result<Reply, ReplayError> {
        let company = self.authenticate(request)?;
        query::note_unknown(request, &[]);
        let mut teams: Vec<Arc<TeamRecord>> = request
            .state
            .all_typed::<TeamRecord>(TEAMS)
            .into_iter()
            .filter(|t| t.company_id.eq_ignore_ascii_case(company))
            .collect();
        teams.sort_by(|a, b| team_order(a, b));
        let items: Vec<TeamResponse<'_>> = teams.iter().map(|t| TeamResponse::from(&**t)).collect();
        request.note(
            notes::TEAM_LIST_SHAPE,
            format!(
                "the list's envelope ({}), its order (oldest createdAt first) and its items' members are usermock's",
                match self.settings.team_list {
                    TeamList::Teams => "{\"teams\": [...]}",
                    TeamList::Array => "a bare array",
                }
            ),
            notes::TEAM_LIST,
        );
        Ok(match self.settings.team_list {
            TeamList::Teams => Reply::json(StatusCode::OK, &TeamsPage { teams: items }),
            TeamList::Array => Reply::json(StatusCode::OK, &items),
        })
    }

    /// `PATCH /api/team/{teamId}`: only the members given change.
    pub(super) fn update_team(&self, request: &Request<'_>) -> Result<Reply, ReplayError> {
        let company = self.authenticate(request)?;
        let team_id = body::uuid_value("teamId", request.param("teamId"))?;
        let update = body::team_update(&request.json(true)?)?;
        if !self.team_is_in(&team_id, company) {
            return Err(ReplayError::TeamNotFound);
        }
        let updated = request
            .state
            .update_typed(TEAMS, &team_id, |team: &mut TeamRecord| {
                if let Some(name) = &update.name {
                    team.name.clone_from(name);
                }
                if let Some(description) = &update.description {
                    team.description.clone_from(description);
                }
                if let Some(kind) = update.kind {
                    team.kind = kind;
                }
                if let Some(turn) = update.use_turn_connection {
                    team.use_turn_connection = turn;
                }
                Ok::<(), ReplayError>(())
            })?
            .ok_or(ReplayError::TeamNotFound)?;
        Ok(Reply::json(StatusCode::OK, &TeamResponse::from(&*updated)))
    }
}

/// Oldest `createdAt` first, then by id (Replay documents no order).
fn team_order(a: &TeamRecord, b: &TeamRecord) -> Ordering {
    let at = |t: &TeamRecord| t.created_at.as_deref().and_then(timestamps::parse);
    at(a).cmp(&at(b)).then_with(|| a.id.cmp(&b.id))
}
