//! The rules usermock's Replay answers by that Replay's pages do not state:
//! each rule's stable id (named beside the rule in
//! `docs/vendors/replay.md`) and where the silence it fills is. An answer
//! that relies on one carries a note with its id (`Request::note`).

// ---------------------------------------------------------------- rule ids --

/// Every error answer: Replay documents no error body.
pub(super) const ERROR_BODY: &str = "error-body";
/// A body member the route's schema does not have was refused.
pub(super) const UNKNOWN_MEMBER: &str = "unknown-member";
/// A query parameter the route does not document was ignored.
pub(super) const UNKNOWN_QUERY_PARAMETER: &str = "unknown-query-parameter";
/// A list of two or more records came in usermock's order.
pub(super) const LIST_ORDER: &str = "list-order";
/// `offset`/`limit` were applied to the child-scoped `{users}` list.
pub(super) const CHILD_LIST_PAGING: &str = "child-list-paging";
/// The legacy shape showed a pending invitation.
pub(super) const LEGACY_SHAPE_INVITATIONS: &str = "legacy-shape-invitations";
/// The legacy shape left out an invitation without a first name.
pub(super) const LEGACY_NAMELESS_INVITATION: &str = "legacy-nameless-invitation";
/// A write stored a legacy role (`Rep`/`Manager`/`Integration`) by
/// usermock's mapping from the unified role.
pub(super) const LEGACY_ROLE_MAPPING: &str = "legacy-role-mapping";
/// `GET /api/user/{userId}` read the child company from
/// `child_company_id` (the list's spelling) instead of `childCompanyId`.
pub(super) const CHILD_COMPANY_QUERY_SPELLING: &str = "child-company-query-spelling";
/// 201 for a created record, 200 for one returned by a retry.
pub(super) const CREATE_STATUS: &str = "create-status";
/// A retry with the same `externalId` differed in its other members.
pub(super) const RETRY_WITH_OTHER_MEMBERS: &str = "retry-with-other-members";
/// `POST /api/user`'s `invitationUrl` takes Invite User's documented form.
pub(super) const INVITATION_URL_FORM: &str = "invitation-url-form";
/// Invite User answers 200 whether it created or resent.
pub(super) const INVITE_USER_STATUS: &str = "invite-user-status";
/// Invite User resent an open invitation of the same e-mail address.
pub(super) const INVITE_RESEND: &str = "invite-resend";
/// Invite User replaced an expired invitation of the same address.
pub(super) const INVITE_EXPIRED_REPLACED: &str = "invite-expired-replaced";
/// `sendEmail: true`: usermock sends no e-mail.
pub(super) const SEND_EMAIL: &str = "send-email";
/// A user `PATCH` without a field to change was answered 200.
pub(super) const EMPTY_USER_UPDATE: &str = "empty-user-update";
/// `GET /api/team`'s envelope, order and members are usermock's.
pub(super) const TEAM_LIST_SHAPE: &str = "team-list-shape";

// ----------------------------------------------------------------- sources --

pub(super) const NO_ERROR_BODY: &str = "inferred: Replay's API reference (https://docs.replay.sale/api-reference/user/update-user and the other user pages) documents no error body, and no status but the 403 for a company that is not a direct child";
pub(super) const NO_UNKNOWN_MEMBERS: &str =
    "inferred: Replay's API reference does not say what a member outside a route's schema gets";
pub(super) const NO_QUERY_PARAMETERS: &str =
    "inferred: Replay's API reference does not say what an undocumented query parameter gets";
pub(super) const NO_ORDER: &str =
    "inferred: https://docs.replay.sale/api-reference/user/list-users documents no order";
pub(super) const LIST_USERS: &str = "inferred: https://docs.replay.sale/api-reference/user/list-users documents offset and limit for the route, and only the legacy shape's pagination";
pub(super) const LEGACY_SHAPE: &str = "inferred: https://docs.replay.sale/api-reference/user/list-users and get-user-by-id do not say whether the legacy shape holds pending invitations; their schema types firstName as a required string";
pub(super) const ROLE_VOCABULARIES: &str = "inferred: https://docs.replay.sale/api-reference/user/get-user-by-id gives both role vocabularies (Rep|Manager|Integration and User|Manager|Disabled), no mapping";
pub(super) const GET_USER_QUERY: &str = "inferred: https://docs.replay.sale/api-reference/user/get-user-by-id writes ?childCompanyId= in its description; list-users names the parameter child_company_id";
pub(super) const CREATE_CODES: &str = "inferred: https://docs.replay.sale/api-reference/user/create-user-invite and company/create-child-company label the retry answer but give no status codes";
pub(super) const RETRY: &str = "inferred: https://docs.replay.sale/api-reference/user/create-user-invite (\"a retry with the same externalId for the same company returns the existing invitation\") and company/create-child-company do not say what a retry with other members gets";
pub(super) const INVITATION_URL: &str = "inferred: https://docs.replay.sale/api-reference/user/create-user-invite types invitationUrl as a string; the form is https://docs.replay.sale/api-reference/user/invite-user's example";
pub(super) const INVITE_USER: &str = "inferred: https://docs.replay.sale/api-reference/user/invite-user says \"Invitation created or resent successfully\" and gives no status code, nor when an invitation is resent rather than created";
pub(super) const SEND_EMAIL_SOURCE: &str =
    "https://docs.replay.sale/api-reference/user/invite-user: \"When true, Replay sends the invitation email\"";
pub(super) const UPDATE_USER_FIELDS: &str = "inferred: https://docs.replay.sale/api-reference/user/update-user marks every body member optional and does not say what a body without one gets (update-team refuses one: \"At least one field must be provided\")";
pub(super) const TEAM_LIST: &str = "inferred: https://docs.replay.sale/api-reference/user/invite-user names GET /api/team; its page was not found, so each team is shown as https://docs.replay.sale/api-reference/team/update-team answers one";
