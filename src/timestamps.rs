//! RFC 3339 timestamps as the vendors write them.

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

/// Parses any RFC 3339 timestamp whose UTC instant lies in the years
/// 0001–9999 (what every vendor's format can write). Anything else is
/// refused here, so no later conversion to UTC can overflow:
/// `9999-12-31T23:59:59-01:00` is in the year 10000 once in UTC.
pub(crate) fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok().filter(in_range)
}

/// True for an instant whose UTC date is in the years 0001–9999.
pub(crate) fn in_range(at: &OffsetDateTime) -> bool {
    at.checked_to_offset(UtcOffset::UTC)
        .is_some_and(|utc| (1..=9999).contains(&utc.year()))
}

/// `at` in UTC; an instant outside the representable range (which
/// [`parse`] never yields) becomes the nearest end of it.
fn utc(at: OffsetDateTime) -> OffsetDateTime {
    at.checked_to_offset(UtcOffset::UTC)
        .unwrap_or(if at.year() > 0 {
            time::PrimitiveDateTime::MAX.assume_utc()
        } else {
            time::PrimitiveDateTime::MIN.assume_utc()
        })
}

/// `2026-02-24T22:00:00.000Z`: UTC, exactly three fractional digits, `Z`.
pub(crate) fn format_millis(at: OffsetDateTime) -> String {
    let at = utc(at);
    format_digits(at, at.millisecond().into(), 3).unwrap_or_else(|| {
        let fmt = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        at.format(&fmt)
            .unwrap_or_else(|_| String::from("1970-01-01T00:00:00.000Z"))
    })
}

/// The timestamp of a write that follows `previous`: `now` (the request's
/// clock), truncated to milliseconds, but never earlier than `previous`, so
/// a record's `updated_at` never goes backwards. Two writes within one
/// millisecond (or a fixture holding a time in the future) keep the same
/// value rather than running ahead of the clock.
pub(crate) fn next_write_millis(previous: Option<&str>, now: OffsetDateTime) -> String {
    let now = now - Duration::nanoseconds(i64::from(now.nanosecond() % 1_000_000));
    let at = match previous.and_then(parse) {
        Some(prev) if prev > now => prev,
        _ => now,
    };
    format_millis(at)
}

/// .NET's round-trip UTC form with 100 ns precision, as Relesys writes
/// `lastModifiedDateTime`: `2026-03-31T11:00:26.7209011Z`.
pub(crate) fn format_ticks(at: OffsetDateTime) -> String {
    let at = utc(at);
    format_digits(at, at.nanosecond() / 100, 7).unwrap_or_else(|| {
        let fmt = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z"
        );
        at.format(&fmt)
            .unwrap_or_else(|_| String::from("1970-01-01T00:00:00.0000000Z"))
    })
}

/// `YYYY-MM-DDTHH:MM:SS.fffZ` with `fraction` written in `digits` digits
/// (no `.` and no fraction when `digits` is 0), for a UTC instant in the
/// years 0001–9999 (`None` otherwise: the callers fall back to `time`'s
/// formatter). Written digit by digit: every write formats a timestamp,
/// and `time`'s format descriptions cost several times as much
/// (docs/performance.md).
fn format_digits(at: OffsetDateTime, fraction: u32, digits: u32) -> Option<String> {
    let mut out = String::with_capacity(28);
    // Writing into a `String` cannot fail.
    write_digits(&mut out, at, fraction, digits)?.ok()?;
    Some(out)
}

/// [`format_digits`] written into `out`.
fn write_digits<W: fmt::Write>(
    out: &mut W,
    at: OffsetDateTime,
    fraction: u32,
    digits: u32,
) -> Option<fmt::Result> {
    let year = u32::try_from(at.year())
        .ok()
        .filter(|y| (1..=9999).contains(y))?;
    let mut write = || -> fmt::Result {
        push_digits(out, year, 4)?;
        out.write_char('-')?;
        push_digits(out, u8::from(at.month()).into(), 2)?;
        out.write_char('-')?;
        push_digits(out, at.day().into(), 2)?;
        out.write_char('T')?;
        push_digits(out, at.hour().into(), 2)?;
        out.write_char(':')?;
        push_digits(out, at.minute().into(), 2)?;
        out.write_char(':')?;
        push_digits(out, at.second().into(), 2)?;
        if digits > 0 {
            out.write_char('.')?;
            push_digits(out, fraction, digits)?;
        }
        out.write_char('Z')
    };
    Some(write())
}

/// `value`'s last `width` decimal digits, zero-padded.
fn push_digits<W: fmt::Write>(out: &mut W, value: u32, width: u32) -> fmt::Result {
    for place in (0..width).rev() {
        let digit = value / 10u32.pow(place) % 10;
        out.write_char(char::from(b'0' + digit as u8))?;
    }
    Ok(())
}

/// A short text built on the stack: a timestamp [`write_ticks`] writes
/// (at most 28 bytes, `2026-12-07T12:34:56.1234567Z`, in the years
/// 0001–9999), handed to a serialiser as one string. Writing past its
/// room fails rather than cutting the text.
pub(crate) struct StackText {
    bytes: [u8; 32],
    len: usize,
}

impl StackText {
    pub(crate) fn new() -> StackText {
        StackText {
            bytes: [0; 32],
            len: 0,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so this is always UTF-8.
        std::str::from_utf8(self.bytes.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let end = self.len.checked_add(text.len()).ok_or(fmt::Error)?;
        let room = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        room.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// [`format_ticks`] written straight into `out` (a serialiser's buffer,
/// through `Display`): no string of its own, unless the instant is outside
/// the years 0001–9999.
pub(crate) fn write_ticks<W: fmt::Write>(out: &mut W, at: OffsetDateTime) -> fmt::Result {
    let at = utc(at);
    match write_digits(out, at, at.nanosecond() / 100, 7) {
        Some(written) => written,
        None => out.write_str(&format_ticks(at)),
    }
}

/// Like [`next_write_millis`], at 100 ns precision.
pub(crate) fn next_write_ticks(previous: Option<&str>, now: OffsetDateTime) -> String {
    let now = now - Duration::nanoseconds(i64::from(now.nanosecond() % 100));
    let at = match previous.and_then(parse) {
        Some(prev) if prev > now => prev,
        _ => now,
    };
    format_ticks(at)
}

/// A datetime as a .NET API serialises a UTC `DateTime`: seconds, then only
/// the significant fractional digits (at most 7), then `Z`:
/// `2018-12-30T13:30:00Z`, `2018-12-30T13:30:00.5Z`.
pub(crate) fn format_dotnet_utc(at: OffsetDateTime) -> String {
    let at = utc(at);
    // Written digit by digit like the other formats (Relesys renders its
    // dates on every user answer); `time`'s formatter is the fallback.
    let (mut ticks, mut digits) = (at.nanosecond() / 100, 7);
    while digits > 0 && ticks % 10 == 0 {
        ticks /= 10;
        digits -= 1;
    }
    format_digits(at, ticks, digits).unwrap_or_else(|| format_dotnet_utc_by_time(at))
}

/// [`format_dotnet_utc`] through `time`'s format descriptions.
fn format_dotnet_utc_by_time(at: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let base = at
        .format(&fmt)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00"));
    let ticks = at.nanosecond() / 100;
    if ticks == 0 {
        format!("{base}Z")
    } else {
        let fraction = format!("{ticks:07}");
        format!("{base}.{}Z", fraction.trim_end_matches('0'))
    }
}

/// Parses an RFC 3339 datetime or a bare `YYYY-MM-DD` date (midnight UTC).
pub(crate) fn parse_date_or_datetime(text: &str) -> Option<OffsetDateTime> {
    parse(text).or_else(|| {
        let fmt = format_description!("[year]-[month]-[day]");
        time::Date::parse(text, &fmt)
            .ok()
            .map(|d| d.midnight().assume_utc())
            .filter(in_range)
    })
}

/// .NET ticks: 100 ns intervals since 0001-01-01T00:00:00Z.
pub(crate) fn utc_ticks(at: OffsetDateTime) -> i64 {
    const TICKS_AT_UNIX_EPOCH: i128 = 621_355_968_000_000_000;
    let ticks = TICKS_AT_UNIX_EPOCH + at.unix_timestamp_nanos() / 100;
    i64::try_from(ticks).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_outside_the_years_1_to_9999_are_refused() {
        // The year 10000 once in UTC: found by the fuzzer (it used to panic).
        assert_eq!(parse("9999-12-31T23:59:59-01:00"), None);
        assert_eq!(parse_date_or_datetime("-0001-01-01"), None);
        assert_eq!(parse_date_or_datetime("0000-12-31"), None);
        assert!(parse("9999-12-31T23:59:59Z").is_some());
        assert!(parse_date_or_datetime("0001-01-01").is_some());
    }

    proptest::proptest! {
        /// The hand-written formatter writes exactly what `time`'s format
        /// descriptions write, over the whole range of years.
        #[test]
        fn digits_are_written_as_time_writes_them(
            seconds in -62_135_596_800i64..253_402_300_799i64,
            nanos in 0u32..1_000_000_000,
        ) {
            let at = OffsetDateTime::from_unix_timestamp(seconds).expect("in range")
                + Duration::nanoseconds(i64::from(nanos));
            let millis = format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            );
            let ticks = format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z"
            );
            let at = utc(at);
            if in_range(&at) {
                proptest::prop_assert_eq!(format_dotnet_utc(at), format_dotnet_utc_by_time(at));
                let whole = at.replace_nanosecond(0).expect("valid");
                proptest::prop_assert_eq!(format_dotnet_utc(whole), format_dotnet_utc_by_time(whole));
                proptest::prop_assert_eq!(format_millis(at), at.format(&millis).expect("formats"));
                proptest::prop_assert_eq!(format_ticks(at), at.format(&ticks).expect("formats"));
                let mut written = String::new();
                proptest::prop_assert!(write_ticks(&mut written, at).is_ok());
                proptest::prop_assert_eq!(&written, &format_ticks(at));
                let mut on_stack = StackText::new();
                proptest::prop_assert!(write_ticks(&mut on_stack, at).is_ok());
                proptest::prop_assert_eq!(on_stack.as_str(), written);
            }
        }
    }

    #[test]
    fn stack_text_refuses_what_does_not_fit_and_keeps_what_did() {
        use std::fmt::Write;
        let mut text = StackText::new();
        assert!(text.write_str(&"9".repeat(30)).is_ok());
        assert!(text.write_str("abc").is_err());
        assert_eq!(text.as_str(), "9".repeat(30));
        assert!(text.write_str("é").is_ok());
        assert_eq!(text.as_str().chars().count(), 31);
        assert!(text.write_char('é').is_err());
    }

    #[test]
    fn milliseconds_are_always_three_digits() {
        let at = parse("2026-02-24T22:00:00Z").expect("valid");
        assert_eq!(format_millis(at), "2026-02-24T22:00:00.000Z");
        let at = parse("2026-02-24T23:00:00.5+01:00").expect("valid");
        assert_eq!(format_millis(at), "2026-02-24T22:00:00.500Z");
    }

    #[test]
    fn a_write_never_goes_back_nor_runs_ahead_of_the_clock() {
        let now = parse("2026-02-24T22:00:00.123456Z").expect("valid");
        // A stored time in the future is kept, never passed.
        assert_eq!(
            next_write_millis(Some("2999-01-01T00:00:00.000Z"), now),
            "2999-01-01T00:00:00.000Z"
        );
        // Writes within one millisecond share it instead of running ahead.
        let first = next_write_millis(Some("2026-02-24T21:00:00.000Z"), now);
        assert_eq!(first, "2026-02-24T22:00:00.123Z");
        assert_eq!(next_write_millis(Some(&first), now), first);
    }

    #[test]
    fn dotnet_datetimes_keep_only_significant_fraction_digits() {
        let at = parse("2018-12-30T14:30:00+01:00").expect("valid");
        assert_eq!(format_dotnet_utc(at), "2018-12-30T13:30:00Z");
        let at = parse("2018-12-30T13:30:00.250Z").expect("valid");
        assert_eq!(format_dotnet_utc(at), "2018-12-30T13:30:00.25Z");
        assert_eq!(
            format_dotnet_utc(parse_date_or_datetime("2002-12-30").expect("date")),
            "2002-12-30T00:00:00Z"
        );
    }

    #[test]
    fn ticks_have_seven_digits_and_move_forward() {
        let at = parse("2026-03-31T11:00:26.7209011Z").expect("valid");
        assert_eq!(format_ticks(at), "2026-03-31T11:00:26.7209011Z");
        assert_eq!(
            next_write_ticks(Some("2999-01-01T00:00:00.0000000Z"), at),
            "2999-01-01T00:00:00.0000000Z"
        );
        assert_eq!(
            next_write_ticks(Some("2000-01-01T00:00:00.0000000Z"), at),
            "2026-03-31T11:00:26.7209011Z"
        );
    }

    #[test]
    fn ticks_count_from_the_year_one() {
        let at = parse("2024-01-01T00:00:00Z").expect("valid");
        assert_eq!(utc_ticks(at), 638_396_640_000_000_000);
    }
}
