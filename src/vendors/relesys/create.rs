//! `POST /users` (docs page users-post-createuser): `name`,
//! `primaryDepartmentId` and `userGroups` are required; the other
//! documented members are optional and validated as a PATCH validates them.
//! `password` is write-only: accepted (a non-empty string) but never shown.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::error::RelesysError;
use super::patch::json_size;
use super::user::User;
use crate::diagnostics::pointer_of;
use crate::timestamps;

/// The members a new user may carry, in wire names (`employmentType` from
/// the v1.3 user, inferred to be settable as on PATCH).
const CREATE_MEMBERS: &[&str] = &[
    "name",
    "primaryDepartmentId",
    "userGroups",
    "additionalDepartments",
    "birthDate",
    "customFields",
    "dataSource",
    "email",
    "employmentDate",
    "employmentEndDate",
    "externalId",
    "password",
    "phoneNumber",
    "secondaryEmail",
    "secondaryPhoneNumber",
    "title",
    "userName",
    "employmentType",
];

const REQUIRED: &[&str] = &["name", "primaryDepartmentId", "userGroups"];

/// The user that `body` describes, typed but not yet checked against the
/// organisation (that comes after the scope check). Member names match
/// case-insensitively, as .NET model binding does; an unknown member is a
/// 400 rather than silently ignored (inferred). A user larger than
/// `max_bytes` of JSON (`--max-record-bytes`) is a 400 too.
pub(super) fn new_user(
    body: Map<String, Value>,
    id: String,
    now: OffsetDateTime,
    max_bytes: usize,
) -> Result<User, RelesysError> {
    let mut members = Map::new();
    for (key, value) in body {
        let Some(name) = CREATE_MEMBERS.iter().find(|m| m.eq_ignore_ascii_case(&key)) else {
            return Err(RelesysError::invalid(format!(
                "'/{key}' is not a member of a new user"
            )));
        };
        if members.insert((*name).to_owned(), value).is_some() {
            return Err(RelesysError::invalid(format!("'/{name}' is given twice")));
        }
    }
    for required in REQUIRED {
        if members.get(*required).is_none_or(Value::is_null) {
            return Err(RelesysError::invalid(format!(
                "/{required}: the member is required"
            )));
        }
    }
    match members.remove("password") {
        None | Some(Value::Null) => {}
        Some(Value::String(password)) if !password.is_empty() => {}
        Some(_) => {
            return Err(RelesysError::invalid(
                "/password: must be a non-empty string",
            ))
        }
    }
    let stamp = timestamps::format_ticks(now);
    let mut doc = Map::new();
    doc.insert("id".into(), Value::String(id));
    doc.insert("status".into(), Value::String("Activated".into()));
    doc.insert("creationDateTime".into(), Value::String(stamp.clone()));
    doc.insert("lastModifiedDateTime".into(), Value::String(stamp));
    doc.insert("dataSource".into(), Value::String("RelesysAPI".into()));
    doc.extend(members);
    let doc = Value::Object(doc);
    if json_size(&doc) > max_bytes {
        return Err(RelesysError::invalid(format!(
            "The user would be larger than {max_bytes} bytes"
        )));
    }
    serde_path_to_error::deserialize(&doc).map_err(|e| {
        let pointer = pointer_of(e.path());
        RelesysError::invalid(format!("{pointer}: {}", e.into_inner()))
    })
}
