//! The user collection: `GET /clients/{client_id}/users` (search, filter,
//! sort, cursor pages) and `GET /clients/{client_id}/users/summary`
//! (https://api-docs.amm-scalepad.com/users/list, /users/summary).

use std::collections::HashMap;
use std::sync::Arc;

use hyper::StatusCode;
use serde_json::{json, Value};
use time::Duration;

use super::departments::instant;
use super::fixture::DepartmentRecord;
use super::error::ActivityError;
use super::fixture::UserRecord;
use super::paging::{self, Keyed, Order, Query, SortKey};
use super::users::{department_ref_bytes, render_user};
use super::{path_uuid, Activity};
use crate::http::Reply;
use crate::vendors::{is_hyphenated_uuid, lowercase_id, Request};

/// "A user is considered stale if their last activity is older than
/// stale_threshold (default: 48 hours)".
const DEFAULT_STALE_THRESHOLD: u64 = 172_800;

impl Activity {
    pub(super) fn list_users(&self, request: &Request<'_>) -> Result<Reply, ActivityError> {
        let access = self.authenticate(request)?;
        let client_id = path_uuid(request, "client_id")?;
        let query = Query::parse(
            request,
            &[
                "q",
                "department_id",
                "sort_by",
                "sort_order",
                "page_size",
                "cursor",
            ],
            self.settings.unknown_query_parameters,
        )?;
        let sort_by = query.choice("sort_by", &["username", "last_activity", "created_at"])?;
        let order = query.order()?;
        let page_size = query.page_size()?;
        let q = query.get("q").unwrap_or_default().to_lowercase();
        let department = match query.get("department_id") {
            Some(id) if is_hyphenated_uuid(id) => Some(id.to_ascii_lowercase()),
            Some(id) => {
                return Err(ActivityError::invalid_field(
                    "Query parameter 'department_id' is not a valid UUID",
                    "department_id",
                    Some(json!(id)),
                ))
            }
            None => None,
        };
        let order_name = if order == Order::Desc { "desc" } else { "asc" };
        let filter = department.as_deref().unwrap_or_default();
        let fingerprint =
            paging::fingerprint(&[&client_id, "users", sort_by, order_name, &q, filter]);
        let after = paging::cursor(&query, fingerprint)?;
        self.authorise(access, &client_id)?;
        self.client_exists(&client_id)?;
        let departments = self.client_departments(request.state, &client_id);
        if let Some(id) = &department {
            if !departments.contains_key(id) {
                return Err(ActivityError::DepartmentNotFound {
                    department_id: id.clone(),
                });
            }
        }

        let items: Vec<Keyed<Arc<UserRecord>>> = self
            .client_users(request.state, &client_id)
            .into_iter()
            // Every name contains the empty search (the usual list), so the
            // lower-cased copies are made only for a search.
            .filter(|u| {
                q.is_empty()
                    || u.username.to_lowercase().contains(&q)
                    || u.user_key.to_lowercase().contains(&q)
            })
            .filter(|u| match &department {
                Some(id) => u.departments.iter().any(|d| d.eq_ignore_ascii_case(id)),
                None => true,
            })
            .map(|u| Keyed {
                key: match sort_by {
                    "last_activity" => {
                        SortKey::Time(u.last_activity.at.as_deref().and_then(instant))
                    }
                    "created_at" => SortKey::Time(instant(&u.created_at)),
                    _ => SortKey::Text(u.username.to_lowercase()),
                },
                id: u.id.to_ascii_lowercase(),
                item: u,
            })
            .collect();
        let page = paging::page(items, order, page_size, after.as_ref(), fingerprint);
        embedded_within_bounds(&page.items, &departments)?;
        let body = page.render(|u| render_user(u, &departments));
        Ok(Reply::json(StatusCode::OK, &body))
    }

    /// Active vs stale users at the request's clock: stale when the last
    /// activity is older than the threshold, or there never was any.
    pub(super) fn user_summary(&self, request: &Request<'_>) -> Result<Reply, ActivityError> {
        let access = self.authenticate(request)?;
        let client_id = path_uuid(request, "client_id")?;
        let query = Query::parse(
            request,
            &["stale_threshold"],
            self.settings.unknown_query_parameters,
        )?;
        let threshold = stale_threshold(query.get("stale_threshold"))?;
        self.authorise(access, &client_id)?;
        self.client_exists(&client_id)?;

        // A threshold reaching before the earliest representable time makes
        // every user with any activity active.
        let cutoff = i64::try_from(threshold)
            .ok()
            .and_then(|seconds| request.now().checked_sub(Duration::seconds(seconds)))
            .map(|t| t.unix_timestamp_nanos());
        let users = self.client_users(request.state, &client_id);
        let active = users
            .iter()
            .filter(
                |u| match (u.last_activity.at.as_deref().and_then(instant), cutoff) {
                    (Some(at), Some(cutoff)) => at >= cutoff,
                    (Some(_), None) => true,
                    (None, _) => false,
                },
            )
            .count();
        let stale = users.len().saturating_sub(active);
        Ok(Reply::json(
            StatusCode::OK,
            &json!({
                "active_users": active,
                "stale_users": stale,
                "stale_threshold": threshold,
            }),
        ))
    }
}

/// The most bytes of `DepartmentRef`s one page of users may embed (32 MiB):
/// each user repeats its departments, so a page could otherwise grow with
/// users × memberships × department size. Past it, 507; a smaller
/// `page_size` gets the same users.
pub(super) const MAX_EMBEDDED_BYTES: usize = 32 * 1024 * 1024;

/// 507 when the page's users would embed more than [`MAX_EMBEDDED_BYTES`]
/// of departments, counted before anything is built.
fn embedded_within_bounds(
    users: &[Arc<UserRecord>],
    departments: &HashMap<String, Arc<DepartmentRecord>>,
) -> Result<(), ActivityError> {
    let mut sizes: HashMap<&str, usize> = HashMap::with_capacity(departments.len());
    let mut total: usize = 0;
    for user in users {
        for id in &user.departments {
            let lower = lowercase_id(id);
            let Some(department) = departments.get(lower.as_ref()) else {
                continue;
            };
            let size = *sizes
                .entry(department.id.as_str())
                .or_insert_with(|| department_ref_bytes(department));
            total = total.saturating_add(size);
            if total > MAX_EMBEDDED_BYTES {
                return Err(ActivityError::AnswerTooLarge {
                    limit: MAX_EMBEDDED_BYTES,
                });
            }
        }
    }
    Ok(())
}

/// `stale_threshold`: seconds, a positive integer (default 172800).
fn stale_threshold(raw: Option<&str>) -> Result<u64, ActivityError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_STALE_THRESHOLD);
    };
    match raw.parse::<u64>() {
        Ok(n) if n > 0 && raw.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(invalid_stale_threshold(Some(Value::String(raw.to_owned())))),
    }
}

/// The documented 400: "Invalid stale_threshold value (must be a positive
/// integer)".
pub(super) fn invalid_stale_threshold(value: Option<Value>) -> ActivityError {
    ActivityError::invalid_field(
        "stale_threshold must be a positive integer",
        "stale_threshold",
        value,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::activity::fixture::LastActivity;

    fn department(n: usize) -> Arc<DepartmentRecord> {
        Arc::new(DepartmentRecord {
            id: format!("00000000-0000-4000-8000-{n:012}"),
            client_id: "c".into(),
            name: "n".repeat(255),
            description: Some("d".repeat(1000)),
            created_at: String::new(),
            updated_at: String::new(),
            deleted_at: None,
        })
    }

    fn user(departments: &[Arc<DepartmentRecord>]) -> Arc<UserRecord> {
        Arc::new(UserRecord {
            id: "u".into(),
            client_id: "c".into(),
            username: "u".into(),
            user_key: "u".into(),
            last_activity: LastActivity {
                at: None,
                desktop_at: None,
                web_at: None,
            },
            departments: departments.iter().map(|d| d.id.to_uppercase()).collect(),
            created_at: String::new(),
            updated_at: String::new(),
        })
    }

    #[test]
    fn a_page_that_would_embed_too_many_department_bytes_is_refused_before_it_is_built() {
        let all: Vec<Arc<DepartmentRecord>> = (0..100).map(department).collect();
        let live: HashMap<String, Arc<DepartmentRecord>> =
            all.iter().map(|d| (d.id.clone(), Arc::clone(d))).collect();
        let one_ref = department_ref_bytes(&all[0]);
        assert_eq!(
            one_ref,
            serde_json::to_string(
                &json!({"id": all[0].id, "name": all[0].name, "description": all[0].description})
            )
            .map(|s| s.len())
            .unwrap_or_default()
        );
        // Users in every department: the page's size is users × refs.
        let per_user = one_ref * all.len();
        let fits = MAX_EMBEDDED_BYTES / per_user;
        let page: Vec<Arc<UserRecord>> = (0..fits).map(|_| user(&all)).collect();
        assert_eq!(embedded_within_bounds(&page, &live), Ok(()));
        let mut over = page.clone();
        over.push(user(&all));
        assert_eq!(
            embedded_within_bounds(&over, &live),
            Err(ActivityError::AnswerTooLarge {
                limit: MAX_EMBEDDED_BYTES
            })
        );
        // A department that is not live embeds nothing.
        assert_eq!(embedded_within_bounds(&over, &HashMap::new()), Ok(()));
    }
}
