//! The date forms Relesys' .NET API reads, and the forms it writes.
//!
//! Read (for `birthDate`, `employmentDate`, `employmentEndDate` and date
//! filters): RFC 3339 (`2019-01-01T09:00:00+01:00`), a datetime without a
//! zone (`2019-01-01T09:00:00`, taken as UTC), `yyyy-MM-dd`, and the
//! invariant-culture forms `MM-dd-yyyy` (what the public client
//! `getsno/relesys-users` sends, e.g. `02-05-1991` = 5 February 1991),
//! `MM/dd/yyyy` and `yyyy/MM/dd`. Anything else is a 400.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use crate::timestamps;

const DATES: &[&[BorrowedFormatItem<'static>]] = &[
    format_description!("[year]-[month]-[day]"),
    format_description!("[month]-[day]-[year]"),
    format_description!("[month]/[day]/[year]"),
    format_description!("[year]/[month]/[day]"),
];

const LOCAL_DATETIMES: &[&[BorrowedFormatItem<'static>]] = &[
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
];

/// The instant `text` names, in any of the accepted forms, within the
/// years 0001–9999 (a .NET `DateTime`'s range; a negative year or the year
/// 10000 in UTC is a 400, never a record that no longer reads).
pub(super) fn parse(text: &str) -> Option<OffsetDateTime> {
    any_form(text).filter(timestamps::in_range)
}

fn any_form(text: &str) -> Option<OffsetDateTime> {
    if let Some(at) = timestamps::parse(text) {
        return Some(at);
    }
    for format in LOCAL_DATETIMES {
        if let Ok(at) = PrimitiveDateTime::parse(text, format) {
            return Some(at.assume_utc());
        }
    }
    DATES
        .iter()
        .find_map(|format| Date::parse(text, format).ok())
        .map(|date| date.midnight().assume_utc())
}

/// A datetime as .NET writes a UTC `DateTime` (`2018-12-30T13:30:00Z`).
pub(super) fn datetime(at: OffsetDateTime) -> String {
    timestamps::format_dotnet_utc(at)
}

/// A date-only member (`birthDate`) as Relesys shows it: `…T00:00:00Z`.
pub(super) fn date(at: OffsetDateTime) -> String {
    let day = at
        .checked_to_offset(time::UtcOffset::UTC)
        .unwrap_or(at)
        .date();
    datetime(day.midnight().assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_dotnet_reads_all_name_the_same_day() {
        for text in [
            "1991-02-05",
            "02-05-1991",
            "02/05/1991",
            "1991/02/05",
            "1991-02-05T00:00:00",
            "1991-02-05T00:00:00.000",
            "1991-02-05T01:00:00+01:00",
        ] {
            let at = parse(text).unwrap_or_else(|| panic!("{text} reads"));
            assert_eq!(date(at), "1991-02-05T00:00:00Z", "{text}");
        }
        for text in [
            "30/12/2002",
            "13-01-2000",
            "2002-12-30 10:00",
            "yesterday",
            "",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
