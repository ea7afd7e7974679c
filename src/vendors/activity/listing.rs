//! The user collection: `GET /clients/{client_id}/users` (search, filter,
//! sort, cursor pages) and `GET /clients/{client_id}/users/summary`
//! (https://api-docs.amm-scalepad.com/users/list, /users/summary).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{json, Value};
use time::Duration;

use super::departments::instant;
use super::fixture::DepartmentRecord;
use super::error::ActivityError;
use super::fixture::UserRecord;
use super::paging::{self, Keyed, Order, Page, Query, SortKey};
use super::users::{write_user, DepartmentRef, Shell};
use super::{path_uuid, Activity};
use crate::vendors::Api;
use crate::http::Reply;
use crate::store::{BrokenRecord, Shown};
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

        let mut users: Vec<Shown<UserRecord>> = request.state.all_shown(Activity::NAME);
        users.retain(|u| {
            let user = &u.record;
            user.client_id.eq_ignore_ascii_case(&client_id)
                // Every name contains the empty search (the usual list), so
                // the lower-cased copies are made only for a search.
                && (q.is_empty()
                    || user.username.to_lowercase().contains(&q)
                    || user.user_key.to_lowercase().contains(&q))
                && match &department {
                    Some(id) => user.departments.iter().any(|d| d.eq_ignore_ascii_case(id)),
                    None => true,
                }
        });
        let items: Vec<Keyed<&Shown<UserRecord>>> = users
            .iter()
            .map(|u| Keyed {
                key: match sort_by {
                    "last_activity" => {
                        SortKey::Time(u.record.last_activity.at.as_deref().and_then(instant))
                    }
                    "created_at" => SortKey::Time(instant(&u.record.created_at)),
                    _ => SortKey::Text(paging::lowercase(&u.record.username)),
                },
                id: lowercase_id(&u.record.id),
                item: u,
            })
            .collect();
        let page = paging::page(items, order, page_size, after.as_ref(), fingerprint);
        let refs = department_refs(page.items.iter().map(|u| &*u.record), &departments)?;
        Ok(Reply::json_text(StatusCode::OK, page_text(&page, &refs)?))
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

/// The page's departments, each as a user embeds it (its `DepartmentRef`
/// JSON), by lower-cased id: written once for the page, however many of its
/// users embed it. 507 when the page's users would embed more than
/// [`MAX_EMBEDDED_BYTES`] of them, counted before the page is built.
fn department_refs<'d, 'u>(
    users: impl Iterator<Item = &'u UserRecord>,
    departments: &'d HashMap<String, Arc<DepartmentRecord>>,
) -> Result<HashMap<&'d str, Vec<u8>>, ActivityError> {
    let mut refs: HashMap<&str, Vec<u8>> = HashMap::new();
    let mut total: usize = 0;
    for user in users {
        for id in &user.departments {
            let lower = lowercase_id(id);
            let Some((key, department)) = departments.get_key_value(lower.as_ref()) else {
                continue;
            };
            let text = match refs.entry(key.as_str()) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(new) => new.insert(serde_json::to_vec(&DepartmentRef::of(
                    department,
                ))
                .map_err(|err| {
                    tracing::error!(%err, "a department does not serialise");
                    BrokenRecord
                })?),
            };
            total = total.saturating_add(text.len());
            if total > MAX_EMBEDDED_BYTES {
                return Err(ActivityError::AnswerTooLarge {
                    limit: MAX_EMBEDDED_BYTES,
                });
            }
        }
    }
    Ok(refs)
}

/// The page as the vendor answers it, `{data, total_count, next_cursor}`:
/// each user's kept [`Shell`] with its live departments from `refs` copied
/// in, so a listed user is not serialised again (a tests holds the bytes to
/// serde_json's).
fn page_text(
    page: &Page<&Shown<UserRecord>>,
    refs: &HashMap<&str, Vec<u8>>,
) -> Result<Bytes, ActivityError> {
    let shells = page
        .items
        .iter()
        .map(|u| u.view_text::<Shell>())
        .collect::<Result<Vec<Bytes>, BrokenRecord>>()?;
    let embedded: usize = page
        .items
        .iter()
        .flat_map(|u| &u.record.departments)
        .filter_map(|id| refs.get(lowercase_id(id).as_ref()))
        .fold(0, |size, text| size.saturating_add(text.len()).saturating_add(1));
    let size = shells
        .iter()
        .fold(embedded, |size, shell| size.saturating_add(shell.len()).saturating_add(1))
        .saturating_add(128);
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"{\"data\":[");
    for (i, (user, shell)) in page.items.iter().zip(&shells).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_user(&mut out, shell, |out| {
            let live = user
                .record
                .departments
                .iter()
                .filter_map(|id| refs.get(lowercase_id(id).as_ref()));
            for (i, text) in live.enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(text);
            }
            Ok(())
        })?;
    }
    out.extend_from_slice(b"],\"total_count\":");
    out.extend_from_slice(page.total_count.to_string().as_bytes());
    out.extend_from_slice(b",\"next_cursor\":");
    serde_json::to_writer(&mut out, &page.next_cursor).map_err(|err| {
        tracing::error!(%err, "a cursor does not serialise");
        BrokenRecord
    })?;
    out.push(b'}');
    Ok(Bytes::from(out))
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
    use crate::store::Text;
    use crate::vendors::activity::fixture::LastActivity;
    use crate::vendors::activity::users::{department_ref_bytes, render_user};

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

    fn user(departments: &[Arc<DepartmentRecord>]) -> UserRecord {
        UserRecord {
            id: "u".into(),
            client_id: "c".into(),
            username: "u".into(),
            user_key: "u".into(),
            last_activity: LastActivity {
                at: None,
                desktop_at: None,
                web_at: None,
            },
            departments: departments
                .iter()
                .map(|d| d.id.to_uppercase().into())
                .collect(),
            created_at: Text::default(),
            updated_at: Text::default(),
        }
    }

    fn live(all: &[Arc<DepartmentRecord>]) -> HashMap<String, Arc<DepartmentRecord>> {
        all.iter().map(|d| (d.id.clone(), Arc::clone(d))).collect()
    }

    #[test]
    fn a_page_that_would_embed_too_many_department_bytes_is_refused_before_it_is_built() {
        let all: Vec<Arc<DepartmentRecord>> = (0..100).map(department).collect();
        let live = live(&all);
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
        let page: Vec<UserRecord> = (0..fits).map(|_| user(&all)).collect();
        let refs = department_refs(page.iter(), &live).expect("within bounds");
        assert_eq!(refs.len(), all.len(), "each department written once");
        let mut over = page.clone();
        over.push(user(&all));
        assert_eq!(
            department_refs(over.iter(), &live).err(),
            Some(ActivityError::AnswerTooLarge {
                limit: MAX_EMBEDDED_BYTES
            })
        );
        // A department that is not live embeds nothing.
        assert_eq!(
            department_refs(over.iter(), &HashMap::new()).map(|refs| refs.len()),
            Ok(0)
        );
    }

    /// The page written from the users' kept texts is, byte for byte, what
    /// serde_json writes for the same page: users with no, some, unknown
    /// and upper-cased departments, text that needs escaping, a department
    /// with no description, with and without a next cursor, and empty.
    #[test]
    fn a_page_written_from_kept_texts_is_serde_json_s_page() {
        let mut odd = department(7);
        if let Some(d) = Arc::get_mut(&mut odd) {
            d.name = "R&D \"east\" \\ 東 \u{1}".into();
            d.description = None;
        }
        let all = vec![department(1), department(2), odd];
        let live = live(&all);
        let mut users = vec![user(&[]), user(&all), user(&all[1..2])];
        users[0].username = "\"quoted\" \\ ünï \n".into();
        users[0].last_activity.at = Some("2026-01-02T03:04:05Z".into());
        users[1].departments.push("00000000-0000-4000-8000-999999999999".into());
        users[2].id = "id with \t tab".into();
        // After the departments, text that holds `[` and the key itself.
        users[1].created_at = "a,\"departments\":[b".into();
        users[1].updated_at = "[[".into();
        for (items, next_cursor) in [
            (users.clone(), None),
            (users.clone(), Some("abc-_".to_owned())),
            (Vec::new(), None),
        ] {
            let page = Page {
                items: items
                    .into_iter()
                    .map(|u| Shown::stored(&u))
                    .collect(),
                total_count: 12,
                next_cursor,
            };
            let refs = department_refs(page.items.iter().map(|u| &*u.record), &live)
                .expect("within bounds");
            let page = Page {
                items: page.items.iter().collect(),
                total_count: page.total_count,
                next_cursor: page.next_cursor.clone(),
            };
            let written = page_text(&page, &refs).expect("writes");
            let expected = serde_json::to_vec(&page.render(|u| render_user(&u.record, &live)))
                .expect("serialises");
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&expected)
            );
            // Written a second time from the kept texts, the same again.
            assert_eq!(page_text(&page, &refs).expect("writes"), written);
        }
    }
}
