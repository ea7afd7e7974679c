//! `GET /clients/{client_id}`: the client organisation, with its partner
//! and active enrollment token (https://api-docs.amm-scalepad.com/clients/details).

use hyper::StatusCode;
use serde_json::json;

use super::error::ActivityError;
use super::{path_uuid, Activity};
use crate::http::Reply;
use crate::vendors::Request;

impl Activity {
    pub(super) fn get_client(&self, request: &Request<'_>) -> Result<Reply, ActivityError> {
        let access = self.authenticate(request)?;
        let client_id = path_uuid(request, "client_id")?;
        self.authorise(access, &client_id)?;
        let client = self
            .clients
            .get(client_id.as_ref())
            .ok_or_else(|| ActivityError::ClientNotFound {
                client_id: client_id.to_string(),
            })?;
        Ok(Reply::json(
            StatusCode::OK,
            &json!({
                "id": client.id,
                "name": client.name,
                "status": client.status,
                "partner": client.partner,
                "enrollment_token": client.enrollment_token,
                "created_at": client.created_at,
                "updated_at": client.updated_at,
            }),
        ))
    }
}
