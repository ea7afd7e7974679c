//! Helpers the activity test modules share (activity.rs,
//! activity_departments.rs, activity_lists.rs).

use serde_json::{json, Value};

/// ScalePad's error body: `{"error": {"code", "message", "details"}}`.
pub fn error_body(code: &str, message: &str, details: Value) -> Value {
    json!({"error": {"code": code, "message": message, "details": details}})
}

/// Now, as activity writes `updated_at`: RFC 3339, UTC, milliseconds.
pub fn now_millis() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .expect("formats")
}
