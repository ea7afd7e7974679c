//! The two shapes Replay shows a user in: the unified `UserCrudResponse`
//! (the seed's; child-scoped reads, create and update) and the legacy one
//! (reads of the caller's own company).

use std::cmp::Ordering;

use serde::Serialize;

use super::fixture::{legacy_role_for, UserRecord};
use crate::store::{Text, View};
use crate::timestamps;

/// `UserCrudResponse`, in the seed's member order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Unified<'a> {
    id: &'a str,
    email: &'a str,
    first_name: &'a Option<Text>,
    last_name: &'a Option<Text>,
    role: &'a str,
    status: &'a str,
    external_id: &'a Option<Text>,
    created_at: &'a str,
    invitation_url: &'a Option<Text>,
}

impl<'a> From<&'a UserRecord> for Unified<'a> {
    fn from(user: &'a UserRecord) -> Unified<'a> {
        Unified {
            id: &user.id,
            email: &user.email,
            first_name: &user.first_name,
            last_name: &user.last_name,
            role: &user.role,
            status: &user.status,
            external_id: &user.external_id,
            created_at: &user.created_at,
            invitation_url: &user.invitation_url,
        }
    }
}

/// The legacy user, in the docs' member order; `role` is `Rep`, `Manager`
/// or `Integration`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Legacy<'a> {
    id: &'a str,
    first_name: &'a Option<Text>,
    email: &'a str,
    role: &'a str,
    created_at: &'a str,
    last_name: &'a Option<Text>,
    team_id: &'a Option<Text>,
}

impl<'a> From<&'a UserRecord> for Legacy<'a> {
    fn from(user: &'a UserRecord) -> Legacy<'a> {
        let role = match &user.legacy_role {
            Some(role) => role.as_str(),
            None => legacy_role_for(&user.role, None),
        };
        Legacy {
            id: &user.id,
            first_name: &user.first_name,
            email: &user.email,
            role,
            created_at: &user.created_at,
            last_name: &user.last_name,
            team_id: &user.team_id,
        }
    }
}

/// [`Unified`] as the text a shown record keeps (a [`View`]: its members
/// are the record's own, fewer, so it is never larger than the record).
pub(super) struct UnifiedText;

impl View for UnifiedText {
    type Of = UserRecord;

    fn write(user: &UserRecord, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, &Unified::from(user))
    }
}

/// [`Legacy`] as the text a shown record keeps. Never larger than the
/// record either: its `role` ("Integration" at the longest) stands for the
/// record's `role` and `legacyRole`, and it leaves out `companyId`.
pub(super) struct LegacyText;

impl View for LegacyText {
    type Of = UserRecord;

    fn write(user: &UserRecord, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, &Legacy::from(user))
    }
}

/// The order of every list (inferred; Replay documents none): oldest
/// `createdAt` first, then by id, so pages never skip nor repeat a record.
pub(super) fn list_order(a: &UserRecord, b: &UserRecord) -> Ordering {
    let at = |u: &UserRecord| timestamps::parse(&u.created_at);
    at(a).cmp(&at(b)).then_with(|| a.id.cmp(&b.id))
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::store::Shown;

    /// Each kept text is serde_json's bytes for its shape, and no longer
    /// than the record it shows (what docs/limits.md counts on), for every
    /// user of the embedded fixture and for the longest shapes: a legacy
    /// `Integration`, text that needs escaping, and members left empty.
    #[test]
    fn the_kept_texts_are_the_shapes_and_never_longer_than_the_record() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../fixtures/replay.json"))
                .unwrap_or_else(|e| panic!("{e}"));
        let mut users: Vec<UserRecord> =
            serde_json::from_value(fixture["users"].clone()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!users.is_empty());
        let mut odd = users[0].clone();
        odd.first_name = Some("\"Zoë\" \\ \u{1}".into());
        odd.last_name = None;
        odd.team_id = None;
        odd.legacy_role = Some("Integration".into());
        odd.role = "User".into();
        odd.external_id = None;
        odd.invitation_url = None;
        users.push(odd);
        for user in users {
            let record_len = serde_json::to_vec(&user).map_or(0, |t| t.len());
            let unified = serde_json::to_vec(&Unified::from(&user)).unwrap_or_default();
            let legacy = serde_json::to_vec(&Legacy::from(&user)).unwrap_or_default();
            for (expected, legacy_first) in [(&unified, false), (&legacy, true)] {
                let shown = Shown::stored(&user);
                let text = if legacy_first {
                    shown.view_text::<LegacyText>()
                } else {
                    shown.view_text::<UnifiedText>()
                }
                .unwrap_or_else(|e| panic!("{e:?}"));
                assert_eq!(&text[..], &expected[..], "{}", user.id);
                assert!(text.len() <= record_len, "{}", user.id);
            }
        }
    }
}
