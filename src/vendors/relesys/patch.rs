//! `PATCH /users/{userId}`: an RFC 6902 JSON Patch document applied to a
//! copy of the stored user, one operation at a time, so that
//!
//! - each operation sees the effect of the earlier ones, with the .NET
//!   model's semantics: removing an optional member sets it to `null`
//!   (it stays a member, so `remove /title` then `replace /title` works);
//! - paths name members case-insensitively, as ASP.NET Core's JSON Patch
//!   does (`/Name` is `/name`); custom-field keys stay exact (inferred);
//! - the copy never grows past `--max-record-bytes` (default 64 KiB): a `copy` of a member
//!   into its own child doubles the record with each operation, so the size
//!   is checked after each one and the patch refused before it can grow.
//!
//! A patch that only replaces (or adds, which for a member the user always
//! has is the same) whole members, the usual one, is applied to the typed
//! user directly, with the same result and the same size bound
//! (see [`replaced_members`]); any other goes through the JSON document.
//!
//! The result must still read as a valid [`User`] and pass
//! [`References::problems`], or nothing changes and the answer is a 400 naming
//! the operation at fault.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;

use json_patch::jsonptr::{PointerBuf, Token};
use json_patch::PatchOperation;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::RelesysError;
use super::user::{References, Status, User, MEMBERS, OPTIONAL_MEMBERS, READ_ONLY};
use crate::diagnostics::pointer_of;
use crate::vendors::present;

/// What a JSON Patch may touch in one kind of record (a user, a
/// department, a user group): its members in wire names, which of them are
/// nullable (removing one sets `null`, as the .NET model does), which the
/// system owns, and the member names one and two levels down.
pub(super) struct Model {
    /// "user", "department", "user group": for messages.
    pub what: &'static str,
    pub members: &'static [&'static str],
    pub optional: &'static [&'static str],
    pub read_only: &'static [&'static str],
    /// The member names of the object a member's value is.
    pub nested: fn(&str) -> &'static [&'static str],
    /// The member names of the objects in a member's list.
    pub items: fn(&str) -> &'static [&'static str],
    /// Whether a member that is not optional must stay (a `remove` of it
    /// is a 400) rather than fall back to its default when read.
    pub keep_required: bool,
}

/// The user's model.
pub(super) const USER: Model = Model {
    what: "user",
    members: MEMBERS,
    optional: OPTIONAL_MEMBERS,
    read_only: READ_ONLY,
    nested: nested_names,
    items: item_names,
    keep_required: false,
};

/// The operations of a JSON Patch document (a JSON array), each read on its
/// own so that a mistake names its index.
pub(super) fn parse_ops(
    items: Vec<Value>,
    model: &Model,
) -> Result<Vec<PatchOperation>, RelesysError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value::<PatchOperation>(item)
                .map(|op| canonical(op, model))
                .map_err(|e| {
                    RelesysError::invalid(format!(
                        "Operation {i} is not a valid JSON Patch operation: {e}"
                    ))
                })
        })
        .collect()
}

/// [`parse_ops`] for operations read straight from the body.
pub(super) fn canonical_ops(ops: Vec<PatchOperation>, model: &Model) -> Vec<PatchOperation> {
    ops.into_iter().map(|op| canonical(op, model)).collect()
}

/// One operation of a patch as it usually comes: `op`, `path`, and the
/// `value` or `from` its kind takes, nothing else, read in one pass
/// (json_patch's own reading buffers each operation whole before it
/// chooses the kind). Any other operation fails to read or to convert,
/// and the body goes to the JSON-tree route ([`parse_ops`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UsualOp<'a> {
    #[serde(borrow)]
    op: Cow<'a, str>,
    #[serde(borrow)]
    path: Cow<'a, str>,
    #[serde(default, deserialize_with = "present")]
    value: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    from: Option<String>,
}

/// The operations, when each is a [`UsualOp`] of a known kind with valid
/// pointers.
pub(super) fn usual_ops(ops: Vec<UsualOp<'_>>) -> Option<Vec<PatchOperation>> {
    ops.into_iter().map(UsualOp::operation).collect()
}

impl UsualOp<'_> {
    fn operation(self) -> Option<PatchOperation> {
        use json_patch::{
            AddOperation, CopyOperation, MoveOperation, RemoveOperation, ReplaceOperation,
            TestOperation,
        };
        use PatchOperation as Op;
        let path = PointerBuf::parse(self.path.into_owned()).ok()?;
        let from = |from: String| PointerBuf::parse(from).ok();
        Some(match (&*self.op, self.value, self.from) {
            ("add", Some(value), None) => Op::Add(AddOperation { path, value }),
            ("remove", None, None) => Op::Remove(RemoveOperation { path }),
            ("replace", Some(value), None) => Op::Replace(ReplaceOperation { path, value }),
            ("move", None, Some(f)) => Op::Move(MoveOperation { from: from(f)?, path }),
            ("copy", None, Some(f)) => Op::Copy(CopyOperation { from: from(f)?, path }),
            ("test", Some(value), None) => Op::Test(TestOperation { path, value }),
            _ => return None,
        })
    }
}

/// The operation with its pointers' member names spelled as the model's.
fn canonical(op: PatchOperation, model: &Model) -> PatchOperation {
    use PatchOperation as Op;
    match op {
        Op::Add(mut o) => {
            o.path = canonical_pointer(o.path, model);
            Op::Add(o)
        }
        Op::Remove(mut o) => {
            o.path = canonical_pointer(o.path, model);
            Op::Remove(o)
        }
        Op::Replace(mut o) => {
            o.path = canonical_pointer(o.path, model);
            Op::Replace(o)
        }
        Op::Move(mut o) => {
            o.path = canonical_pointer(o.path, model);
            o.from = canonical_pointer(o.from, model);
            Op::Move(o)
        }
        Op::Copy(mut o) => {
            o.path = canonical_pointer(o.path, model);
            o.from = canonical_pointer(o.from, model);
            Op::Copy(o)
        }
        Op::Test(mut o) => {
            o.path = canonical_pointer(o.path, model);
            Op::Test(o)
        }
    }
}

/// Matches each token against the member names of the typed model at its
/// level; tokens that name no member (and dictionary keys) stay as sent.
fn canonical_pointer(pointer: PointerBuf, model: &Model) -> PointerBuf {
    // Most pointers are spelled as the model already: keep them rather than
    // rebuild an equal one (a parsed pointer's encoding is the only one its
    // tokens have, so the rebuilt pointer would be the same string).
    if spelled_as_the_model(&pointer, model) {
        return pointer;
    }
    let mut tokens: Vec<String> = pointer.tokens().map(|t| t.decoded().into_owned()).collect();
    let member = tokens.first().map(|t| spelled(t, model.members));
    if let Some(member) = member {
        tokens[0] = member.clone();
        if let Some(second) = tokens.get_mut(1) {
            *second = spelled(second, (model.nested)(&member));
        }
        if let Some(third) = tokens.get_mut(2) {
            *third = spelled(third, (model.items)(&member));
        }
    }
    PointerBuf::from_tokens(tokens.iter().map(|t| Token::new(t.as_str())))
}

/// The member names of the object a member's value is (none for most).
fn nested_names(member: &str) -> &'static [&'static str] {
    match member {
        "phoneNumber" | "secondaryPhoneNumber" => &["countryCode", "number"],
        _ => &[],
    }
}

/// The member names of the objects in a member's list (none for most).
fn item_names(member: &str) -> &'static [&'static str] {
    match member {
        "additionalDepartments" | "userGroups" => &["id", "dataSource"],
        _ => &[],
    }
}

/// True when [`canonical_pointer`] would change no token of `pointer`.
fn spelled_as_the_model(pointer: &PointerBuf, model: &Model) -> bool {
    // A token keeps its spelling unless it matches a name of its level
    // case-insensitively but not exactly (the names of a level differ in
    // more than case, so at most one matches).
    let fits = |token: Option<Token<'_>>, names: &[&str]| {
        token.is_none_or(|token| {
            let token = token.decoded();
            !names
                .iter()
                .any(|name| name.eq_ignore_ascii_case(&token) && *name != token)
        })
    };
    let mut tokens = pointer.tokens();
    let Some(first) = tokens.next() else {
        return true;
    };
    let first = first.decoded();
    let Some(member) = model
        .members
        .iter()
        .find(|name| name.eq_ignore_ascii_case(&first))
    else {
        return true;
    };
    if *member != first {
        return false;
    }
    fits(tokens.next(), (model.nested)(member)) && fits(tokens.next(), (model.items)(member))
}

fn spelled(token: &str, names: &[&str]) -> String {
    names
        .iter()
        .find(|name| name.eq_ignore_ascii_case(token))
        .map_or_else(|| token.to_owned(), |name| (*name).to_owned())
}

/// Rejects operations that would change a read-only member (a `test` only
/// reads, and so does a `copy`'s `from`).
pub(super) fn reject_read_only(ops: &[PatchOperation], model: &Model) -> Result<(), RelesysError> {
    for (i, op) in ops.iter().enumerate() {
        let written = match op {
            PatchOperation::Test(_) => [None, None],
            PatchOperation::Move(m) => [Some(op.path()), Some(&*m.from)],
            _ => [Some(op.path()), None],
        };
        for pointer in written.into_iter().flatten() {
            if pointer.is_root() {
                return Err(RelesysError::invalid(format!(
                    "Operation {i} ({}): the whole {} cannot be replaced; patch its members",
                    describe(op),
                    model.what
                )));
            }
            let first = pointer.first();
            let member = first.as_ref().map(|t| t.decoded()).unwrap_or_default();
            if model.read_only.contains(&&*member) {
                return Err(RelesysError::invalid(format!(
                    "Operation {i} ({}): '/{member}' is read-only",
                    describe(op)
                )));
            }
        }
    }
    Ok(())
}

/// Applies `ops` to a copy of `before` and returns the patched user, valid
/// and normalised, or the 400 that explains why not.
/// `dropped` receives the custom-field keys dropped under
/// `unknown_custom_fields: drop`.
pub(super) fn apply(
    before: &User,
    before_size: Option<usize>,
    ops: &[PatchOperation],
    references: &References,
    max_bytes: usize,
    dropped: &mut Vec<String>,
) -> Result<User, RelesysError> {
    let user = match replaced_members(before, before_size, ops, max_bytes) {
        Some(user) => user,
        None => patched_document(before, ops, &USER, max_bytes)?,
    };
    let blame = |pointer: &str| blame(ops, pointer);
    if let Some((pointer, message)) = references.problems(&user).into_iter().next() {
        return Err(RelesysError::invalid(format!(
            "{}{pointer}: {message}",
            blame(&pointer)
        )));
    }
    if let Err(message) = status_change_allowed(before.status, user.status) {
        return Err(RelesysError::invalid(format!(
            "{}/status: {message}",
            blame("/status")
        )));
    }
    let mut user = user;
    dropped.extend(references.dropped_keys(&user));
    references.normalise(&mut user);
    Ok(user)
}

/// `ops` applied one by one to `before` written out as a JSON document,
/// read back as its type: any patch, with RFC 6902's semantics.
pub(super) fn patched_document<T: Serialize + DeserializeOwned>(
    before: &T,
    ops: &[PatchOperation],
    model: &Model,
    max_bytes: usize,
) -> Result<T, RelesysError> {
    let mut doc = serde_json::to_value(before).map_err(|_| internal())?;
    let mut size = json_size(&doc);
    for (i, op) in ops.iter().enumerate() {
        let grows = growth(&doc, op);
        let mut next = size.saturating_add_signed(grows);
        if next > max_bytes {
            // The running estimate may overcount: measure before refusing,
            // and refuse before the operation allocates anything.
            next = json_size(&doc).saturating_add_signed(grows);
            if next > max_bytes {
                return Err(RelesysError::invalid(format!(
                    "Operation {i} ({}): the {} would grow beyond {max_bytes} bytes",
                    describe(op),
                    model.what
                )));
            }
        }
        json_patch::patch_unsafe(&mut doc, std::slice::from_ref(op)).map_err(|e| {
            RelesysError::invalid(format!("Operation {i} ({}): {}", describe(op), e.kind))
        })?;
        // Only a `remove`, a `move` or a write of the whole document can
        // take a member away; after any other operation every optional
        // member is still there and restoring them would change nothing.
        if matches!(op, PatchOperation::Remove(_) | PatchOperation::Move(_)) || op.path().is_root()
        {
            keep_optional_members(&mut doc, model);
        }
        size = next;
    }
    typed(&doc, ops, model)
}

/// The usual patch, one that only replaces top-level members, applied to
/// the typed user directly instead of through a JSON document: `None` for
/// any other patch, and for any this cannot settle exactly as
/// [`patched_document`] would (a value that does not read as its member, a
/// size estimate over `max_bytes`), which then decides from scratch.
///
/// Why the result is the same: the document holds every member (`User`
/// writes each one), so such a replace cannot fail; [`typed`] then reads
/// each member from its value on its own, with the same `&Value`
/// deserializer used here, and the untouched members read back as they
/// were. The size estimate is the one [`patched_document`] keeps, step by
/// step: it starts at the user's JSON length (the same bytes whether
/// written directly or through a `Value`), and each replace adds its
/// value's length less that of what the document holds at the path then:
/// the value of the last earlier replace of the member, or the member as
/// `before` has it.
///
/// An `add` of a member is such a replace too: the document already holds
/// the member, and RFC 6902 §4.1 has an `add` to an existing object member
/// replace its value (the documented example patch opens with one). Its
/// size estimate in [`patched_document`] counts the member's key as well
/// ([`growth`]), so an `add` whose result plus that key would pass
/// `max_bytes` is left to the document route, which refuses it there.
fn replaced_members(
    before: &User,
    before_size: Option<usize>,
    ops: &[PatchOperation],
    max_bytes: usize,
) -> Option<User> {
    if !ops
        .iter()
        .all(|op| matches!(op, PatchOperation::Replace(_) | PatchOperation::Add(_)))
    {
        return None;
    }
    let mut user = before.clone();
    let mut size = before_size.unwrap_or_else(|| json_size(before));
    // The size of the value each path was last replaced with in this patch
    // (kept, not searched for: a patch may hold many thousand operations).
    let mut latest: HashMap<&str, usize> = HashMap::new();
    for op in ops {
        let (path, value, slack) = match op {
            PatchOperation::Replace(o) => (&o.path, &o.value, 0),
            PatchOperation::Add(o) => (&o.path, &o.value, o.path.as_str().len().saturating_add(4)),
            _ => return None,
        };
        let mut tokens = path.tokens();
        let (Some(name), None) = (tokens.next(), tokens.next()) else {
            return None;
        };
        let member = writable_member(&mut user, &name.decoded())?;
        let added = json_size(value);
        let replaced = latest
            .insert(path.as_str(), added)
            .unwrap_or_else(|| member.json_size());
        size = size.saturating_add_signed(difference(added, replaced));
        if size.saturating_add(slack) > max_bytes || !member.read(value) {
            return None;
        }
    }
    Some(user)
}

/// A member of the typed user as [`replaced_members`] replaces it.
trait Member {
    /// Its length written as compact JSON.
    fn json_size(&self) -> usize;
    /// Sets it to `value` read as its type (as [`typed`] reads the member
    /// from the document); false, and unchanged, when it does not read.
    fn read(&mut self, value: &Value) -> bool;
}

impl<T: Serialize + DeserializeOwned> Member for T {
    fn json_size(&self) -> usize {
        json_size(self)
    }

    fn read(&mut self, value: &Value) -> bool {
        match T::deserialize(value) {
            Ok(read) => {
                *self = read;
                true
            }
            Err(_) => false,
        }
    }
}

/// The member a patch may write named `name` (wire name, as spelled after
/// [`parse_ops`]); `None` for read-only members and anything else, which
/// are left to [`patched_document`].
fn writable_member<'a>(user: &'a mut User, name: &str) -> Option<&'a mut dyn Member> {
    Some(match name {
        "status" => &mut user.status,
        "externalId" => &mut user.external_id,
        "name" => &mut user.name,
        "userName" => &mut user.user_name,
        "title" => &mut user.title,
        "dataSource" => &mut user.data_source,
        "email" => &mut user.email,
        "secondaryEmail" => &mut user.secondary_email,
        "phoneNumber" => &mut user.phone_number,
        "secondaryPhoneNumber" => &mut user.secondary_phone_number,
        "birthDate" => &mut user.birth_date,
        "primaryDepartmentId" => &mut user.primary_department_id,
        "additionalDepartments" => &mut user.additional_departments,
        "userGroups" => &mut user.user_groups,
        "employmentDate" => &mut user.employment_date,
        "employmentEndDate" => &mut user.employment_end_date,
        "customFields" => &mut user.custom_fields,
        "employmentType" => &mut user.employment_type,
        _ => return None,
    })
}

/// The patched document as its type, or the 400 naming what does not fit.
fn typed<T: DeserializeOwned>(
    doc: &Value,
    ops: &[PatchOperation],
    model: &Model,
) -> Result<T, RelesysError> {
    if let Value::Object(members) = doc {
        if model.keep_required {
            let gone = model
                .members
                .iter()
                .find(|m| !model.optional.contains(m) && !members.contains_key(**m));
            if let Some(gone) = gone {
                let pointer = format!("/{gone}");
                return Err(RelesysError::invalid(format!(
                    "{}'{pointer}' cannot be removed from a {}",
                    blame(ops, &pointer),
                    model.what
                )));
            }
        }
        if let Some(unknown) = members
            .keys()
            .find(|k| !model.members.contains(&k.as_str()))
        {
            let pointer = format!("/{unknown}");
            return Err(RelesysError::invalid(format!(
                "{}'{pointer}' is not a member of a {}",
                blame(ops, &pointer),
                model.what
            )));
        }
    }
    // Plain serde first: tracking the path costs an allocation per member
    // read. Only a failure needs the path, and the same document gives the
    // same failure again.
    if let Ok(record) = T::deserialize(doc) {
        return Ok(record);
    }
    serde_path_to_error::deserialize(doc).map_err(|e| {
        let mut pointer = pointer_of(e.path());
        let message = e.into_inner().to_string();
        // serde reports a missing member at its parent; name the member.
        if let Some(member) = message
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'))
        {
            pointer = format!("{pointer}/{member}");
        }
        RelesysError::invalid(format!("{}{pointer}: {message}", blame(ops, &pointer)))
    })
}

/// A removed optional member of the .NET model is `null`, not gone.
fn keep_optional_members(doc: &mut Value, model: &Model) {
    if let Value::Object(members) = doc {
        for member in model.optional {
            if !members.contains_key(*member) {
                members.insert((*member).to_owned(), Value::Null);
            }
        }
    }
}

/// How many bytes `op` adds to `doc` at most (negative when it shrinks it):
/// the new value plus its key, less a value it replaces in an object.
fn growth(doc: &Value, op: &PatchOperation) -> isize {
    let size_at = |pointer: &str| doc.pointer(pointer).map_or(0, json_size);
    let replaced = |pointer: &str| match pointer.rfind('/') {
        Some(cut) if doc.pointer(&pointer[..cut]).is_some_and(Value::is_object) => size_at(pointer),
        _ => 0,
    };
    let key = |pointer: &str| pointer.len().saturating_add(4);
    let (added, removed) = match op {
        PatchOperation::Add(o) => {
            let path = o.path.as_str();
            (
                json_size(&o.value).saturating_add(key(path)),
                replaced(path),
            )
        }
        PatchOperation::Replace(o) => (json_size(&o.value), size_at(o.path.as_str())),
        PatchOperation::Remove(o) => (0, size_at(o.path.as_str())),
        PatchOperation::Copy(o) => {
            let path = o.path.as_str();
            let copied = size_at(o.from.as_str()).saturating_add(key(path));
            (copied, replaced(path))
        }
        PatchOperation::Move(o) => (key(o.path.as_str()), 0),
        PatchOperation::Test(_) => (0, 0),
    };
    difference(added, removed)
}

/// `added - removed` in bytes, saturating.
fn difference(added: usize, removed: usize) -> isize {
    let added = isize::try_from(added).unwrap_or(isize::MAX);
    let removed = isize::try_from(removed).unwrap_or(isize::MAX);
    added.saturating_sub(removed)
}

/// The length of `value` written as compact JSON, without writing it.
pub(super) fn json_size<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

fn internal() -> RelesysError {
    RelesysError::Shared(crate::vendors::SharedError::Internal)
}

/// Which status changes a PATCH may make (inferred; docs/vendors/relesys.md).
pub(super) fn status_change_allowed(from: Status, to: Status) -> Result<(), String> {
    use Status::*;
    match (from, to) {
        _ if from == to => Ok(()),
        (_, Disabled) | (Disabled | LoginBlocked, Activated) => Ok(()),
        (Pending, Activated) => {
            Err("a Pending user becomes Activated by accepting the invitation".into())
        }
        (_, Pending | LoginBlocked) => Err(format!(
            "the status '{to:?}' is set by Relesys, not through the API"
        )),
        _ => Err(format!(
            "the status cannot change from '{from:?}' to '{to:?}'"
        )),
    }
}

/// "Operation N (op /path): " for the last operation that wrote the
/// top-level member of `pointer`; empty when none did.
pub(super) fn blame(ops: &[PatchOperation], pointer: &str) -> String {
    let member = pointer
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    ops.iter()
        .enumerate()
        .rev()
        .find(|(_, op)| {
            !matches!(op, PatchOperation::Test(_))
                && op.path().first().is_some_and(|t| t.decoded() == member)
        })
        .map(|(i, op)| format!("Operation {i} ({}): ", describe(op)))
        .unwrap_or_default()
}

pub(super) fn describe(op: &PatchOperation) -> String {
    let name = match op {
        PatchOperation::Add(_) => "add",
        PatchOperation::Remove(_) => "remove",
        PatchOperation::Replace(_) => "replace",
        PatchOperation::Move(_) => "move",
        PatchOperation::Copy(_) => "copy",
        PatchOperation::Test(_) => "test",
    };
    format!("{name} {}", op.path().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The respelling as it was before pointers already spelled as the
    /// model were kept as they are: every pointer rebuilt.
    fn rebuilt(pointer: &PointerBuf) -> PointerBuf {
        let mut tokens: Vec<String> = pointer.tokens().map(|t| t.decoded().into_owned()).collect();
        let member = tokens.first().map(|t| spelled(t, MEMBERS));
        if let Some(member) = member {
            tokens[0] = member.clone();
            if let Some(second) = tokens.get_mut(1) {
                *second = spelled(second, nested_names(&member));
            }
            if matches!(member.as_str(), "additionalDepartments" | "userGroups") {
                if let Some(third) = tokens.get_mut(2) {
                    *third = spelled(third, &["id", "dataSource"]);
                }
            }
        }
        PointerBuf::from_tokens(tokens.iter().map(|t| Token::new(t.as_str())))
    }

    const SEED: &str = r#"{"id":"6cd99267-5adf-462d-88a2-6f86b7b2a164","url":null,"departmentUrl":null,"status":"Activated","creationDateTime":"2026-03-31T11:00:26.7209011Z","lastModifiedDateTime":"2026-03-31T11:00:26.7209011Z","externalId":"N\"U\u0001A","name":"New User A","userName":"UserNameA","title":"Üser Title A","dataSource":"RelesysAPI","email":"personalmaila@testmail.com","secondaryEmail":null,"phoneNumber":{"countryCode":-45,"number":"12345678"},"secondaryPhoneNumber":null,"birthDate":"2002-12-30T00:00:00Z","primaryDepartmentId":"5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5","additionalDepartments":[{"id":"27744bfa-d16b-4a6a-8f9a-8a79351f9c5f","dataSource":null}],"userGroups":[],"employmentDate":null,"employmentEndDate":"2021-12-30T13:30:00Z","customFields":{"b":"2","a\\/~":"1"},"employmentType":"Full-time manager"}"#;

    fn seed() -> User {
        serde_json::from_str(SEED).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_user_written_directly_is_as_long_as_written_through_a_value() {
        let user = seed();
        let value = serde_json::to_value(&user).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(json_size(&user), json_size(&value));
        // SEED is written as serde_json writes it (escapes included).
        assert_eq!(json_size(&user), SEED.len());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        /// Whatever the typed route settles, the document route settles the
        /// same way: same user, same size decisions.
        #[test]
        fn replacing_members_on_the_typed_user_is_the_document_route(
            picks in proptest::collection::vec((0..10usize, 0..17usize, 0..21usize), 0..5),
            slack in 0..400usize,
            roomy in proptest::bool::ANY,
        ) {
            const PATHS: [&str; 17] = [
                "/name", "/title", "/status", "/phoneNumber", "/phoneNumber/number",
                "/additionalDepartments", "/userGroups", "/customFields", "/birthDate",
                "/id", "/url", "/Name", "/nickname", "/customFields/x", "",
                "/externalId", "/secondaryPhoneNumber",
            ];
            let values = [
                json!("x"), json!("a\u{1}\"b\\é"), Value::Null, json!(7), json!(-3),
                json!(45.0), json!({"countryCode": 45, "number": "1"}),
                json!({"number": "22", "countryCode": -3}), json!({"countryCode": 1}),
                json!({"Activated": null}), json!("Activated"), json!("Disabled"),
                json!([{"id": "27744bfa-d16b-4a6a-8f9a-8a79351f9c5f"}]), json!([]),
                json!({}), json!({"a": "b", "c": "d"}), json!({"a": 1}),
                json!("t".repeat(300)), json!([{"id": "x", "dataSource": null}]),
                json!({"Disabled": []}),
                // Reads as 20 memberships that write 360 bytes longer.
                Value::Array(vec![json!({"id": "x"}); 20]),
            ];
            let items: Vec<Value> = picks
                .iter()
                .map(|&(kind, path, value)| {
                    match kind {
                        2 => json!({"op": "remove", "path": PATHS[path]}),
                        _ => {
                            let op = match kind { 0 => "add", 1 => "test", _ => "replace" };
                            json!({"op": op, "path": PATHS[path], "value": values[value].clone()})
                        }
                    }
                })
                .collect();
            let text = serde_json::to_vec(&items).unwrap_or_else(|e| panic!("{e}"));
            let ops = parse_ops(items, &USER).unwrap_or_else(|e| panic!("{e:?}"));
            // Read straight from the body, the same operations.
            let direct = read_straight(&text);
            proptest::prop_assert!(direct.is_some(), "every drawn operation is a usual one");
            proptest::prop_assert_eq!(&direct.map(|d| canonical_ops(d, &USER)), &Some(ops.clone()));
            let before = seed();
            let max_bytes = if roomy { 65536 } else { SEED.len() - 200 + slack };
            if let Some(user) = replaced_members(&before, None, &ops, max_bytes) {
                proptest::prop_assert_eq!(patched_document(&before, &ops, &USER, max_bytes), Ok(user));
            }
        }
    }

    /// Every body that reads straight as operations reads as the same
    /// operations through a JSON tree (the way a body that does not is
    /// read, for its error message).
    #[test]
    fn operations_read_from_the_body_are_those_read_through_json() {
        let bodies = [
            r#"[{"op":"add","path":"/Name","value":"N\"\u00e9\ud83d\ude00"}]"#,
            r#"[{"path":"/title","value":null,"op":"replace"},{"op":"remove","path":"/title"}]"#,
            r#"[{"op":"replace","path":"/phoneNumber","value":{"number":"1","countryCode":45,"number":"2"}}]"#,
            r#"[{"op":"add","path":"/customFields/a~1b","value":[1,-2,3.5,1e300,18446744073709551616,0.1]}]"#,
            r#"[{"op":"copy","from":"/name","path":"/title","extra":{"x":1}}]"#,
            r#"[{"op":"move","from":"/TITLE","path":"/name"},{"op":"test","path":"","value":{}}]"#,
            r#"  [ ]  "#,
            r#"[{"op":"test","path":"/title","value":null},{"op":"copy","from":"/title","path":"/name"}]"#,
            r#"[{"op":"replace","path":"/title","value":"t","from":"/name"}]"#,
            r#"[{"op":"add","path":"/x","value":1,"value":2}]"#,
            r#"[{"op":"add","op":"replace","path":"/x","value":1}]"#,
            r#"[{"op":"nope","path":"/x"}]"#,
            r#"[{"op":"add","path":"x","value":1}]"#,
            r#"[{"op":"add","path":"/x"}]"#,
            r#"[1]"#,
        ];
        let mut read = 0;
        for body in bodies {
            let through_json = match serde_json::from_str::<Value>(body) {
                Ok(Value::Array(items)) => parse_ops(items, &USER).ok(),
                _ => None,
            };
            if let Some(direct) = read_straight(body.as_bytes()) {
                assert_eq!(Some(canonical_ops(direct, &USER)), through_json, "{body}");
                read += 1;
            }
        }
        // Left to the tree: the copy with another member, the replace with
        // a `from`, the duplicate `value` and `op`, the unknown op, the
        // relative path, the add without a value, the number.
        assert_eq!(read, 7);
    }

    /// The operations a body reads as straight, as the PATCH route reads
    /// them (`Request::json_as` with [`usual_ops`]).
    fn read_straight(body: &[u8]) -> Option<Vec<PatchOperation>> {
        serde_json::from_slice::<Vec<UsualOp<'_>>>(body)
            .ok()
            .and_then(usual_ops)
    }

    #[test]
    fn the_typed_route_takes_the_usual_patch_and_only_replaces() {
        let ops = |items: Value| match items {
            Value::Array(items) => parse_ops(items, &USER).unwrap_or_else(|e| panic!("{e:?}")),
            _ => panic!("an array"),
        };
        let before = seed();
        let usual = ops(json!([
            {"op": "replace", "path": "/name", "value": "N"},
            {"op": "replace", "path": "/Title", "value": "T"},
            {"op": "replace", "path": "/phoneNumber", "value": {"countryCode": 45, "number": "1"}},
        ]));
        let typed = replaced_members(&before, None, &usual, 65536);
        assert!(typed.is_some());
        assert_eq!(patched_document(&before, &usual, &USER, 65536).ok(), typed);
        // The documented example's `add` of a member is a replace of it.
        let added = ops(json!([
            {"op": "add", "path": "/name", "value": "N"},
            {"op": "replace", "path": "/Title", "value": "T"},
            {"op": "add", "path": "/phoneNumber", "value": {"countryCode": 45, "number": "1"}},
        ]));
        assert_eq!(replaced_members(&before, None, &added, 65536), typed);
        // Near the bound an `add` counts its key as the document route does:
        // every bound either route settles, both settle alike, and the
        // typed route leaves the last bytes before refusal to the other.
        let grows = ops(json!([{"op": "add", "path": "/title", "value": "t".repeat(300)}]));
        let mut decided = (0, 0);
        for max_bytes in SEED.len()..SEED.len() + 400 {
            let document = patched_document(&before, &grows, &USER, max_bytes);
            match replaced_members(&before, None, &grows, max_bytes) {
                Some(user) => {
                    assert_eq!(document, Ok(user), "{max_bytes}");
                    decided.0 += 1;
                }
                None => decided.1 += usize::from(document.is_err()),
            }
        }
        assert!(decided.0 > 0 && decided.1 > 0, "{decided:?}");
        for other in [
            json!([{"op": "add", "path": "/customFields/x", "value": "N"}]),
            json!([{"op": "add", "path": "/nickname", "value": "N"}]),
            json!([{"op": "replace", "path": "/phoneNumber/number", "value": "1"}]),
            json!([{"op": "replace", "path": "/id", "value": "x"}]),
            json!([{"op": "replace", "path": "/name", "value": 7}]),
        ] {
            assert_eq!(replaced_members(&before, None, &ops(other), 65536), None);
        }
        // Over the bound: left to the document route, which measures.
        assert_eq!(replaced_members(&before, None, &usual, SEED.len() - 30), None);
        // A member replaced twice: the second replace takes away what the
        // document holds, the first value as sent (memberships without a
        // data source), not that value as the typed user writes it (each
        // with `"dataSource":null`, 360 bytes more); near the bound this
        // decides whether the patch is refused.
        let twice = ops(json!([
            {"op": "replace", "path": "/userGroups", "value": vec![json!({"id": "x"}); 20]},
            {"op": "replace", "path": "/userGroups", "value": vec![json!({"id": "x"}); 30]},
        ]));
        let mut settled = 0;
        for max_bytes in SEED.len()..SEED.len() + 1000 {
            if let Some(user) = replaced_members(&before, None, &twice, max_bytes) {
                assert_eq!(
                    patched_document(&before, &twice, &USER, max_bytes),
                    Ok(user),
                    "{max_bytes}"
                );
                settled += 1;
            }
        }
        assert!(settled > 0);
    }

    #[test]
    fn a_pointer_is_kept_exactly_when_rebuilding_it_gives_the_same_string() {
        let members = MEMBERS.iter().flat_map(|m| {
            [
                (*m).to_owned(),
                m.to_ascii_uppercase(),
                m.to_ascii_lowercase(),
            ]
        });
        let mut heads: Vec<String> = members.collect();
        heads.extend(["", "x", "a~b", "a/b", "~", "nope"].map(str::to_owned));
        let tails = [
            "",
            "/countryCode",
            "/COUNTRYCODE",
            "/number",
            "/Number",
            "/0",
            "/-",
            "/0/id",
            "/0/ID",
            "/0/dataSource",
            "/0/datasource",
            "/0/id/x",
            "/id/ID",
            "/~0~1",
            "/a~1b/~0",
            "/",
            "//",
            "/x/Number",
        ];
        let mut checked = 0;
        for head in &heads {
            for tail in tails {
                let text = format!("/{}{tail}", head.replace('~', "~0").replace('/', "~1"));
                let pointer = PointerBuf::parse(text.clone()).unwrap_or_else(|e| panic!("{e}"));
                let expected = rebuilt(&pointer);
                assert_eq!(
                    canonical_pointer(pointer.clone(), &USER),
                    expected,
                    "{text}"
                );
                checked += 1;
            }
        }
        let root = PointerBuf::new();
        assert_eq!(canonical_pointer(root.clone(), &USER), rebuilt(&root));
        assert!(checked > 1000);
    }
}
