//! RFC 3339 timestamps as the vendors write them.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

/// Parses any RFC 3339 timestamp (used to validate fixtures).
pub(crate) fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// `2026-02-24T22:00:00.000Z`: UTC, exactly three fractional digits, `Z`.
pub(crate) fn format_millis(at: OffsetDateTime) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.to_offset(UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00.000Z"))
}

/// The timestamp of a write that follows `previous`: now, truncated to
/// milliseconds, but strictly later than `previous` so that a record's
/// `updated_at` never goes backwards or repeats, even for two writes in the
/// same millisecond or when a fixture holds a time in the future.
pub(crate) fn next_write_millis(previous: Option<&str>) -> String {
    let now = OffsetDateTime::now_utc();
    let now = now - Duration::nanoseconds(i64::from(now.nanosecond() % 1_000_000));
    let at = match previous.and_then(parse) {
        Some(prev) if prev >= now => prev + Duration::milliseconds(1),
        _ => now,
    };
    format_millis(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_are_always_three_digits() {
        let at = parse("2026-02-24T22:00:00Z").expect("valid");
        assert_eq!(format_millis(at), "2026-02-24T22:00:00.000Z");
        let at = parse("2026-02-24T23:00:00.5+01:00").expect("valid");
        assert_eq!(format_millis(at), "2026-02-24T22:00:00.500Z");
    }

    #[test]
    fn a_write_after_a_future_timestamp_moves_one_millisecond_forward() {
        assert_eq!(
            next_write_millis(Some("2999-01-01T00:00:00.000Z")),
            "2999-01-01T00:00:00.001Z"
        );
    }

    #[test]
    fn a_write_after_a_past_timestamp_is_now() {
        let next = next_write_millis(Some("2000-01-01T00:00:00.000Z"));
        let parsed = parse(&next).expect("valid");
        assert!(parsed > OffsetDateTime::now_utc() - Duration::minutes(1));
    }
}
