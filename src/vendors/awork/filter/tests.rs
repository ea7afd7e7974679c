use time::macros::datetime;

use super::*;

/// Wednesday, 2026-12-09, 14:30 UTC.
const CLOCK: OffsetDateTime = datetime!(2026-12-09 14:30 UTC);

/// Every `filterby` example of developers.awork.com/filtering
/// (`fern/pages/filtering.mdx`), as the page writes it. Those about other
/// resources name properties users do not have, so they are checked for
/// syntax here; `users_own_versions` below has each with a user's property.
const PAGE_EXAMPLES: &[&str] = &[
    "firstName eq 'Sebastian'",
    "name eq 'awork & co'",
    "name eq 'user''s task'",
    "company/name eq 'awork'",
    "not firstName eq 'Sebastian'",
    "plannedDuration le 200 and plannedDuration gt 3.5",
    "plannedDuration le 200 or plannedDuration gt 300",
    "lists/any(l: l/name eq 'Draft') eq false",
    "duration le 6000 and duration gt 1000",
    "birthDate ge datetime'2018-04-03T00:00'",
    "id eq guid'12345678-aaaa-bbbb-cccc-ddddeeeeffff'",
    "firstName eq 'Neil'",
    "firstName ne 'Neil'",
    "endswith(firstName,'Neil')",
    "startswith(firstName,'Neil')",
    "substringof('Neil',firstName)",
    "birthDate gt datetime'2018-04-03T00:00'",
    "birthDate lt datetime'2018-04-03T00:00'",
    "birthDate le datetime'2018-04-03T00:00'",
    "tags/any(t: t/name in ('Draft','In Progress'))",
    "members/any(p: p/firstName eq 'Neil')",
    "members/count() lt 10",
    "members/count(m: m/firstName eq 'Neil') gt 0",
    "tolower(name) eq 'website'",
    "id eq me.id",
    "dueOn lt now",
    "dueOn gt sow",
    "dueOn gt eow",
    "dueOn gt som",
    "dueOn lt eom",
    "dueOn eq today",
    "dueOn gt today-30d",
    "dueOn gt today+5d",
    // The data-type table's literals.
    "x eq null",
    "x eq true",
    "x eq 0x22",
    "x eq datetime'2000-12-12T12:00'",
    "x eq 2.345M",
    "x eq 2.029",
    "x eq 2.0f",
    "x eq 32",
    "x eq 64L",
    "x eq 'Hello awork'",
];

#[test]
fn every_example_of_the_filtering_page_is_read() {
    for example in PAGE_EXAMPLES {
        let read = parse::syntax(example, CLOCK);
        assert!(read.is_ok(), "{example}: {read:?}");
    }
}

#[test]
fn the_page_examples_about_other_resources_are_refused_on_users_for_their_names_only() {
    for (example, detail) in [
        (
            "company/name eq 'awork'",
            "'company/name' is not a filterable property of users.",
        ),
        (
            "lists/any(l: l/name eq 'Draft') eq false",
            "'lists' is not a collection of users.",
        ),
        (
            "members/count() lt 10",
            "'members' is not a collection of users.",
        ),
        (
            "dueOn lt now",
            "'dueOn' is not a filterable property of users.",
        ),
    ] {
        assert_eq!(
            parse(example, CLOCK).map(|_| ()),
            Err(invalid(detail)),
            "{example}"
        );
    }
}

#[test]
fn users_own_versions_of_the_page_examples_type_check() {
    for ok in [
        "firstName eq 'Sebastian'",
        "not firstName eq 'Sebastian'",
        "(firstName eq 'a' or lastName eq 'b') and isArchived eq false",
        "startswith(firstName,'Neil')",
        "endswith(firstName,'Neil')",
        "substringof('Neil',firstName)",
        "tolower(lastName) eq 'website'",
        "birthDate ge datetime'2018-04-03T00:00'",
        "id eq guid'12345678-aaaa-bbbb-cccc-ddddeeeeffff'",
        "id eq me.id",
        "resourceVersion gt 64L and resourceVersion lt 2.5M",
        "title eq 'user''s task'",
        "status/isDeactivated eq true",
        "teams/any(t: t/name eq 'Draft') eq false",
        "tags/any(t: t/name in ('Draft','In Progress'))",
        "teams/any(p: p/name eq 'Neil')",
        "teams/count() lt 10",
        "userContactInfos/count(c: c/type eq 'email') gt 0",
        "teams/any()",
        "firstName in ('a','b')",
        "createdOn lt now",
        "createdOn gt sow",
        "createdOn gt eow",
        "createdOn gt som",
        "createdOn lt eom",
        "birthDate eq today",
        "birthDate gt today-30d",
        "birthDate gt today+5d",
        "resourceVersion gt 0x22 and resourceVersion ne 2.0f and resourceVersion ne 32",
    ] {
        assert!(parse(ok, CLOCK).is_ok(), "{ok}: {:?}", parse(ok, CLOCK));
    }
}

#[test]
fn anything_else_is_refused() {
    for bad in [
        "",
        "firstName",
        "firstName eq",
        "nickname eq 'x'",
        "id eq 'x'",
        "firstName eq 3",
        "members/any(p: p/firstName eq 'x')",
        "teams/any(t: t/nickname eq 'x')",
        "teams/any(t: t/name)",
        "teams/any(t t/name eq 'x')",
        "teams/all(t: t/name eq 'x')",
        "teams/any(t: tags/any(g: g/name eq 'x'))",
        "teams/count() eq true",
        "firstName in ()",
        "firstName in ('a',)",
        "firstName in ('a', lastName)",
        "firstName in (1, 2)",
        "createdOn gt today+d",
        "createdOn gt today+1000000d",
        "createdOn gt today*5d",
        "firstName eq 'open",
        "isArchived gt false",
        "(firstName eq 'a'",
        "firstName eq 'a')",
        "1x eq 1",
        "startswith(firstName, 3)",
        "firstName eq now",
    ] {
        assert!(parse(bad, CLOCK).is_err(), "{bad}");
    }
}

#[test]
fn hostile_filters_are_refused_quickly_and_never_overflow_the_stack() {
    let deep = format!("{}isAgent eq true{}", "(".repeat(100), ")".repeat(100));
    assert!(parse(&deep, CLOCK).is_err());
    let nots = format!("{}isAgent eq true", "not ".repeat(100));
    assert!(parse(&nots, CLOCK).is_err());
    let calls = format!("{}lastName{}", "tolower(".repeat(100), ")".repeat(100));
    assert!(parse(&format!("{calls} eq 'x'"), CLOCK).is_err());
    // A long chain is flat, not deep: fine up to the token bound, refused beyond.
    let chain = vec!["isAgent eq true"; 1000].join(" and ");
    assert!(parse(&chain, CLOCK).is_ok());
    let too_long = vec!["isAgent eq true"; 2000].join(" or ");
    assert!(parse(&too_long, CLOCK).is_err());
    let list = format!("firstName in ({})", vec!["'x'"; 5000].join(","));
    assert!(parse(&list, CLOCK).is_err());
}

fn day(text: &str) -> Val {
    match parse::expression(&format!("createdOn eq {text}"), CLOCK) {
        Ok((Expr::Cmp(_, _, right), _)) => match *right {
            Expr::Lit(v) => v,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn date_keywords_are_read_on_the_clock_in_utc() {
    use time::macros::date;
    assert_eq!(day("now"), Val::Time(CLOCK));
    assert_eq!(day("today"), Val::Day(date!(2026 - 12 - 09)));
    assert_eq!(day("today-30d"), Val::Day(date!(2026 - 11 - 09)));
    assert_eq!(day("today+5d"), Val::Day(date!(2026 - 12 - 14)));
    assert_eq!(day("sow"), Val::Time(datetime!(2026-12-07 00:00 UTC)));
    assert_eq!(
        day("eow"),
        Val::Time(datetime!(2026-12-13 23:59:59.9999999 UTC))
    );
    assert_eq!(day("som"), Val::Time(datetime!(2026-12-01 00:00 UTC)));
    assert_eq!(
        day("eom"),
        Val::Time(datetime!(2026-12-31 23:59:59.9999999 UTC))
    );
}

#[test]
fn a_day_compares_as_its_whole_interval() {
    use time::macros::date;
    let d = date!(2026 - 12 - 09);
    let morning = datetime!(2026-12-09 00:00 UTC);
    let night = datetime!(2026-12-09 23:59:59 UTC);
    let before = datetime!(2026-12-08 23:59:59 UTC);
    let after = datetime!(2026-12-10 00:00 UTC);
    for (t, eq, gt, ge, lt, le) in [
        (morning, true, false, true, false, true),
        (night, true, false, true, false, true),
        (before, false, false, false, true, true),
        (after, false, true, true, false, false),
    ] {
        assert_eq!(on_day(Op::Eq, t, d), eq, "{t} eq");
        assert_eq!(on_day(Op::Ne, t, d), !eq, "{t} ne");
        assert_eq!(on_day(Op::Gt, t, d), gt, "{t} gt");
        assert_eq!(on_day(Op::Ge, t, d), ge, "{t} ge");
        assert_eq!(on_day(Op::Lt, t, d), lt, "{t} lt");
        assert_eq!(on_day(Op::Le, t, d), le, "{t} le");
        // `today gt t` is `t lt today`.
        assert_eq!(
            compares(Op::Gt, &Val::Day(d), &Val::Time(t)),
            lt,
            "{t} mirrored"
        );
    }
}

#[test]
fn loose_readings_are_reported() {
    let read = parse("FirstName eq 'a' and createdOn gt sow", CLOCK).expect("valid");
    assert_eq!(
        read.loose,
        vec![
            (
                parse::NOTE_PROPERTY_CASE,
                "the filter's 'FirstName' was read as 'firstName'".to_owned()
            ),
            (
                parse::NOTE_DATES_UTC,
                "'sow' was read in UTC on the request's clock: 2026-12-07T00:00:00.0000000Z"
                    .to_owned()
            ),
        ]
    );
    assert!(parse("firstName eq 'a'", CLOCK)
        .expect("valid")
        .loose
        .is_empty());
}
