//! Users in memory: the fixture baseline plus copy-on-write overlays.
//!
//! The fixtures load into one immutable [`Baseline`]. Every writable view of
//! it is a [`State`]: an overlay map holding only the records that changed
//! (or were deleted) since the last reset. The default state serves plain
//! requests; each `X-Usermock-Session` id gets a state of its own on first
//! use, so parallel tests never see each other's writes, and creating one
//! costs nothing until it is written to. Reset drops overlays (and a
//! snapshot, when needed, is a copy of one).
//!
//! Records are vendor-shaped JSON values keyed by `(vendor, id)`. The store
//! never interprets them: what a record means is the vendor module's job.
//! Vendors read and write them as their own types through the typed
//! accessors ([`State::read`], [`State::update_typed`], [`State::all_typed`]),
//! which are the one place a stored record is turned into a type and back,
//! and the one place a record that no longer reads is logged.
//!
//! Every write to a state holds the state's write lock, and
//! [`State::transaction`] holds it around a vendor's check and its writes,
//! so a rule that spans records (uniqueness, the last admin, a reference)
//! is checked and applied in one step; a reset takes the same lock. What a
//! state holds beyond the fixtures is capped in records and bytes, per
//! state and in total ([`StoreBounds`]); a write past a cap is refused with
//! [`StoreFull`] and changes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use dashmap::DashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::clock::Clock;
use crate::session::Session;

mod budget;
mod lock;
mod record;
mod text;

pub use budget::StoreBounds;
pub(crate) use budget::{json_len, Budget, StoreFull};
pub(crate) use record::{Record, View};
pub(crate) use text::Text;

/// One kind of record (a vendor's users, or another kind under its own key
/// such as `activity.departments`), by id. Kinds are kept apart so reading
/// or listing one never walks another's records.
type Kind = HashMap<String, Arc<Record>>;

/// Whole kinds of records by kind name, as a snapshot restores them.
pub(crate) type KindRecords = Vec<(&'static str, Vec<(String, Record)>)>;

/// A state's changes to one kind: `Some` = changed here, `None` = deleted.
type Changes = DashMap<String, Option<Arc<Record>>>;

/// The records every state starts from, as loaded from the fixtures.
#[derive(Debug, Default)]
pub(crate) struct Baseline {
    kinds: HashMap<&'static str, Kind>,
}

impl Baseline {
    pub fn insert(&mut self, vendor: &'static str, id: String, record: Record) {
        self.extend(vendor, [(id, record)]);
    }

    /// Adds records of one kind, its map grown once for all of them (a
    /// fixture may hold a million users; growing by doubling rehashes
    /// every key each time).
    pub fn extend(
        &mut self,
        vendor: &'static str,
        records: impl IntoIterator<Item = (String, Record), IntoIter: ExactSizeIterator>,
    ) {
        let records = records.into_iter();
        let kind = self.kinds.entry(vendor).or_default();
        kind.reserve(records.len());
        kind.extend(records.map(|(id, record)| (id, Arc::new(record))));
    }

    fn get(&self, vendor: &str, id: &str) -> Option<&Arc<Record>> {
        self.kinds.get(vendor).and_then(|kind| kind.get(id))
    }
}

/// The whole in-memory world: the baseline, the default state and sessions.
#[derive(Debug)]
pub(crate) struct Store {
    clock: Arc<Clock>,
    baseline: Arc<Baseline>,
    default_state: Arc<State>,
    sessions: DashMap<Arc<str>, SessionEntry>,
    bounds: SessionBounds,
    budget: Arc<Budget>,
    /// Monotonic origin of the sessions' `last_used` counters.
    epoch: std::time::Instant,
}

/// How many sessions may live, and for how long unused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionBounds {
    pub max_sessions: usize,
    pub idle: std::time::Duration,
}

impl Default for SessionBounds {
    fn default() -> SessionBounds {
        SessionBounds {
            max_sessions: 10_000,
            idle: std::time::Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug)]
struct SessionEntry {
    state: Arc<State>,
    created_at: time::OffsetDateTime,
    /// Milliseconds since the store's epoch.
    last_used: std::sync::atomic::AtomicU64,
}

/// One live session, as `GET /__admin/sessions` lists it.
#[derive(Debug, Clone)]
pub(crate) struct SessionInfo {
    pub id: Arc<str>,
    pub created_at: time::OffsetDateTime,
    pub idle: std::time::Duration,
}

impl Store {
    pub fn new(
        baseline: Baseline,
        clock: Arc<Clock>,
        bounds: SessionBounds,
        caps: StoreBounds,
    ) -> Store {
        let baseline = Arc::new(baseline);
        let budget = Arc::new(Budget::new(caps));
        Store {
            default_state: Arc::new(State::new(
                Arc::clone(&baseline),
                Arc::clone(&clock),
                Arc::clone(&budget),
            )),
            clock,
            baseline,
            sessions: DashMap::new(),
            bounds,
            budget,
            epoch: std::time::Instant::now(),
        }
    }

    /// Records and bytes all states hold beyond the fixtures, together.
    #[cfg(test)]
    pub fn held(&self) -> (usize, usize) {
        self.budget.total()
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn fresh_state(&self) -> State {
        let clock = Arc::new(Clock::following(&self.clock));
        State::new(Arc::clone(&self.baseline), clock, Arc::clone(&self.budget))
    }

    /// The state a read-only request sees: its session's if it exists,
    /// else a fresh one that is not kept (a session exists from its first
    /// write or admin call, not from a read).
    pub fn peek_state(&self, session: &Session) -> Arc<State> {
        match session {
            Session::Shared => Arc::clone(&self.default_state),
            Session::Named(id) => match self.sessions.get(id) {
                Some(entry) => {
                    entry
                        .last_used
                        .store(self.now_ms(), std::sync::atomic::Ordering::Relaxed);
                    Arc::clone(&entry.state)
                }
                None => Arc::new(self.fresh_state()),
            },
        }
    }

    /// Drops sessions unused for longer than the idle bound, then the least
    /// recently used ones beyond the count bound. Returns the dropped ids
    /// (their scenario activations and counters go too).
    pub fn expire_sessions(&self) -> Vec<Arc<str>> {
        let idle_ms = u64::try_from(self.bounds.idle.as_millis()).unwrap_or(u64::MAX);
        let now = self.now_ms();
        let mut dropped = Vec::new();
        self.sessions.retain(|id, entry| {
            let last = entry.last_used.load(std::sync::atomic::Ordering::Relaxed);
            let keep = now.saturating_sub(last) <= idle_ms;
            if !keep {
                dropped.push(Arc::clone(id));
            }
            keep
        });
        let excess = self.sessions.len().saturating_sub(self.bounds.max_sessions);
        if excess > 0 {
            let mut by_age: Vec<(u64, Arc<str>)> = self
                .sessions
                .iter()
                .map(|e| {
                    let last = e.last_used.load(std::sync::atomic::Ordering::Relaxed);
                    (last, Arc::clone(e.key()))
                })
                .collect();
            by_age.sort();
            for (_, id) in by_age.into_iter().take(excess) {
                tracing::warn!(session = %id, max_sessions = self.bounds.max_sessions, "session limit reached: dropping the least recently used session");
                self.sessions.remove(&id);
                dropped.push(id);
            }
        }
        dropped
    }

    /// Whether a session of this id lives now.
    pub fn has_session(&self, id: &str) -> bool {
        self.sessions.contains_key(id)
    }

    /// The live sessions, oldest first.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        let now = self.now_ms();
        let mut list: Vec<SessionInfo> = self
            .sessions
            .iter()
            .map(|e| {
                let last = e.last_used.load(std::sync::atomic::Ordering::Relaxed);
                SessionInfo {
                    id: Arc::clone(e.key()),
                    created_at: e.created_at,
                    idle: std::time::Duration::from_millis(now.saturating_sub(last)),
                }
            })
            .collect();
        list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        list
    }

    /// The global clock (the shared state's).
    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    /// The state a request sees: its session's, or the default one.
    pub fn state(&self, session: &Session) -> Arc<State> {
        match session {
            Session::Shared => Arc::clone(&self.default_state),
            Session::Named(id) => {
                let now = self.now_ms();
                if let Some(entry) = self.sessions.get(id) {
                    entry
                        .last_used
                        .store(now, std::sync::atomic::Ordering::Relaxed);
                    return Arc::clone(&entry.state);
                }
                let state = Arc::clone(
                    &self
                        .sessions
                        .entry(Arc::clone(id))
                        .or_insert_with(|| SessionEntry {
                            state: Arc::new(self.fresh_state()),
                            created_at: time::OffsetDateTime::now_utc(),
                            last_used: std::sync::atomic::AtomicU64::new(now),
                        })
                        .state,
                );
                if self.sessions.len() > self.bounds.max_sessions {
                    self.expire_sessions();
                }
                state
            }
        }
    }

    /// Back to the fixtures: the default state and every session.
    pub fn reset_all(&self) {
        self.default_state.reset();
        self.sessions.clear();
    }

    /// Replaces every record of every kind of `vendor` (its name, and each
    /// `vendor.<kind>`) in one state with `kinds`; see
    /// [`Store::replace_vendors`].
    #[cfg(test)]
    pub fn replace_vendor(
        &self,
        state: &State,
        vendor: &'static str,
        kinds: KindRecords,
    ) -> Result<(), StoreFull> {
        self.replace_vendors(state, &[vendor], vec![(vendor, kinds)])
    }

    /// A snapshot restore: every kind of every vendor in `vendors` (its
    /// name, and each `vendor.<kind>`) loses this state's changes; each
    /// vendor in `restored` then gets its kinds as given, the baseline's
    /// records hidden, while a vendor of `vendors` that `restored` leaves
    /// out is back at its fixture. A kind of a restored vendor that its
    /// entry does not name is left empty, so a vendor whose snapshot misses
    /// a kind loses it visibly instead of keeping records the snapshot
    /// never held. All of it is one step under the state's write lock and
    /// counted against the caps once, as a whole: past a cap, no vendor
    /// changes (a restore is all or nothing, whichever vendor the room ran
    /// out in).
    pub fn replace_vendors(
        &self,
        state: &State,
        vendors: &[&str],
        restored: Vec<(&str, KindRecords)>,
    ) -> Result<(), StoreFull> {
        let mut replaced: HashMap<&'static str, Changes> = HashMap::new();
        for (vendor, kinds) in restored {
            for (kind, ids) in self.baseline.kinds.iter() {
                if belongs_to(kind, vendor) {
                    let hidden = replaced.entry(kind).or_default();
                    for id in ids.keys() {
                        hidden.insert(id.clone(), None);
                    }
                }
            }
            for (kind, records) in kinds {
                let changes = replaced.entry(kind).or_default();
                for (id, record) in records {
                    changes.insert(id, Some(Arc::new(record)));
                }
            }
        }
        state.replace_kinds(
            |kind| vendors.iter().any(|vendor| belongs_to(kind, vendor)),
            replaced.into_iter().collect(),
        )
    }

    /// Back to the fixtures for one session only.
    pub fn reset_session(&self, session: &str) {
        self.sessions.remove(session);
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

/// Whether the store kind `kind` is one of `vendor`'s: its users (the
/// vendor's name) or another kind of it (`vendor.<kind>`).
fn belongs_to(kind: &str, vendor: &str) -> bool {
    kind.strip_prefix(vendor)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Held while a handler checks and writes as one step ([`State::lock`]).
pub(crate) struct StateLock<'a>(#[allow(dead_code)] lock::WriteGuard<'a>);

/// What an overlay entry costs against the caps.
fn entry_cost(id: &str, record: &Option<Arc<Record>>) -> usize {
    budget::entry_bytes(id, record.as_ref().map_or(0, |r| r.bytes()))
}

/// One writable view of the users. All access goes through domain methods;
/// no guard ever leaves this type, so none can be held across an `.await`.
#[derive(Debug)]
pub(crate) struct State {
    baseline: Arc<Baseline>,
    /// The global clock, or the session's own (which follows it until set).
    clock: Arc<Clock>,
    /// `Some` = the record as changed here, `None` = deleted here.
    overlay: DashMap<&'static str, Arc<Changes>>,
    /// Held by every write and transaction (see [`State::transaction`]).
    writes: lock::WriteLock,
    /// The caps, and what every state holds together.
    budget: Arc<Budget>,
    /// What this state's overlay holds, counted against the caps.
    held: budget::Usage,
}

impl Drop for State {
    fn drop(&mut self) {
        // A dropped session (reset, expired, evicted) frees its share.
        self.budget.release_all(&self.held);
    }
}

impl State {
    fn new(baseline: Arc<Baseline>, clock: Arc<Clock>, budget: Arc<Budget>) -> State {
        State {
            baseline,
            clock,
            overlay: DashMap::new(),
            writes: lock::WriteLock::default(),
            budget,
            held: budget::Usage::default(),
        }
    }

    /// Runs `work` with no other write to this state in between: what it
    /// reads stays true until it returns, so a rule that spans records (a
    /// unique e-mail, the last admin, a department a user refers to) is
    /// checked and applied in one step. `work` may read and write this state
    /// freely (the lock is re-entrant on its thread); it must not wait on
    /// anything else, and cannot `.await`. A reset waits for it.
    pub fn transaction<T>(&self, work: impl FnOnce() -> T) -> T {
        let _writing = self.writes.hold();
        work()
    }

    /// [`State::transaction`] as a guard, for a handler whose check and
    /// write are not one closure: no other write to this state happens
    /// until it is dropped. The guard cannot cross an `.await` (not `Send`).
    pub fn lock(&self) -> StateLock<'_> {
        StateLock(self.writes.hold())
    }

    /// Records and bytes this state holds beyond the fixtures.
    #[cfg(test)]
    pub fn held(&self) -> (usize, usize) {
        (self.held.records(), self.held.bytes())
    }

    /// Drops this state's changes to every kind `dropped` names and puts
    /// `replaced` (whole kinds of changes, built aside) in their place, in
    /// one step under the write lock and within the caps: past a cap,
    /// nothing changes. What a restore or a per-vendor reset is made of.
    pub(crate) fn replace_kinds(
        &self,
        dropped: impl Fn(&str) -> bool,
        replaced: Vec<(&'static str, Changes)>,
    ) -> Result<(), StoreFull> {
        let _writing = self.writes.hold();
        let limit = self.budget.bounds.record_bytes;
        let cost = |changes: &Changes| {
            changes.iter().fold((0usize, 0usize), |(n, b), e| {
                (
                    n.saturating_add(1),
                    b.saturating_add(entry_cost(e.key(), e.value())),
                )
            })
        };
        let mut from = (0usize, 0usize);
        for kind in self.overlay.iter().filter(|k| dropped(k.key())) {
            let (n, b) = cost(kind.value());
            from = (from.0.saturating_add(n), from.1.saturating_add(b));
        }
        let mut to = (0usize, 0usize);
        for (_, changes) in &replaced {
            let too_big = changes
                .iter()
                .any(|e| e.value().as_ref().is_some_and(|r| r.bytes() > limit));
            if too_big {
                return Err(StoreFull {
                    cap: budget::Cap::RecordBytes,
                    limit,
                });
            }
            let (n, b) = cost(changes);
            to = (to.0.saturating_add(n), to.1.saturating_add(b));
        }
        self.budget.change(&self.held, from, to)?;
        self.overlay.retain(|kind, _| !dropped(kind));
        for (kind, changes) in replaced {
            self.overlay.insert(kind, Arc::new(changes));
        }
        Ok(())
    }

    /// Puts `record` (or, `None`, deletes) at `id` within the caps: the
    /// one place an overlay entry is written.
    fn set(
        &self,
        vendor: &'static str,
        id: String,
        record: Option<Arc<Record>>,
    ) -> Result<(), StoreFull> {
        let _writing = self.writes.hold();
        let changes = self.changes(vendor);
        let from = match changes.get(&id) {
            Some(entry) => (1, entry_cost(&id, entry.value())),
            None => (0, 0),
        };
        if let Some(stored) = &record {
            let limit = self.budget.bounds.record_bytes;
            if stored.bytes() > limit {
                return Err(StoreFull {
                    cap: budget::Cap::RecordBytes,
                    limit,
                });
            }
        }
        // Deleting a record that only this state had leaves no trace.
        let vanish = record.is_none() && self.baseline.get(vendor, &id).is_none();
        let to = if vanish {
            (0, 0)
        } else {
            (1, entry_cost(&id, &record))
        };
        if record.is_none() {
            self.budget.force(&self.held, from, to);
        } else {
            self.budget
                .change(&self.held, from, to)
                .inspect_err(|full| {
                    tracing::warn!(
                        vendor,
                        cap = full.cap.flag(),
                        limit = full.limit,
                        "store cap reached: write refused"
                    );
                })?;
        }
        if vanish {
            changes.remove(&id);
        } else {
            changes.insert(id, record);
        }
        Ok(())
    }

    /// The clock this state's vendors read.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, by this state's clock.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// This state's changes to one kind, made on first use.
    fn changes(&self, vendor: &'static str) -> Arc<Changes> {
        if let Some(changes) = self.overlay.get(vendor) {
            return Arc::clone(&changes);
        }
        Arc::clone(&self.overlay.entry(vendor).or_default())
    }

    fn record(&self, vendor: &'static str, id: &str) -> Option<Arc<Record>> {
        let changed = self
            .overlay
            .get(vendor)
            .and_then(|changes| changes.get(id).map(|c| c.value().clone()));
        match changed {
            Some(changed) => changed,
            None => self.baseline.get(vendor, id).cloned(),
        }
    }

    /// A record as JSON (the admin API's view).
    pub fn get(&self, vendor: &'static str, id: &str) -> Option<Arc<Value>> {
        self.record(vendor, id).and_then(|r| r.as_json().ok())
    }

    /// Creates or replaces a record outright (admin seeding).
    pub fn put(&self, vendor: &'static str, id: String, record: Value) -> Result<(), StoreFull> {
        let bytes = json_len(&record);
        let record = Record::json(record).measured(bytes);
        self.set(vendor, id, Some(Arc::new(record)))
    }

    /// Deletes a record; true when it existed.
    pub fn delete(&self, vendor: &'static str, id: &str) -> bool {
        let _writing = self.writes.hold();
        let existed = self.record(vendor, id).is_some();
        // A delete always goes through (see `Budget::force`).
        if self.set(vendor, id.to_owned(), None).is_err() {
            return false;
        }
        existed
    }

    /// Every record of a vendor, in no particular order.
    #[cfg(test)]
    fn records(&self, vendor: &'static str) -> Vec<(String, Arc<Record>)> {
        let mut out = Vec::with_capacity(self.count_hint(vendor));
        self.each_record(vendor, |id, record| {
            out.push((id.to_owned(), Arc::clone(record)));
        });
        out
    }

    /// How many records [`State::each_record`] visits at most: the
    /// baseline's and this state's changes, which may overlap (a list is
    /// sized once rather than grown).
    fn count_hint(&self, vendor: &'static str) -> usize {
        let baseline = self.baseline.kinds.get(vendor).map_or(0, HashMap::len);
        let changed = self.overlay.get(vendor).map_or(0, |changes| changes.len());
        baseline.saturating_add(changed)
    }

    /// Visits every record of a vendor, in no particular order, copying
    /// no id: a snapshot or a list of a large state holds a pointer per
    /// record, not its id as well. `visit` must not write to the store.
    fn each_record(&self, vendor: &'static str, mut visit: impl FnMut(&str, &Arc<Record>)) {
        let baseline = self.baseline.kinds.get(vendor);
        // The baseline's ids this state changed or deleted, kept as they
        // were met (a write meanwhile cannot make one show twice or not
        // at all). Borrowed from the baseline, which never changes: a list
        // after many writes copies none of their ids.
        let mut shadowed: std::collections::HashSet<&str> = std::collections::HashSet::new();
        if let Some(changes) = self.overlay.get(vendor) {
            for entry in changes.iter() {
                if let Some((id, _)) = baseline.and_then(|kind| kind.get_key_value(entry.key())) {
                    shadowed.insert(id);
                }
                if let Some(record) = entry.value() {
                    visit(entry.key(), record);
                }
            }
        }
        for (id, record) in baseline.into_iter().flatten() {
            if !shadowed.contains(id.as_str()) {
                visit(id, record);
            }
        }
    }

    /// Every record of a vendor as JSON, in no particular order.
    pub fn all(&self, vendor: &'static str) -> Vec<Arc<Value>> {
        let mut all = Vec::with_capacity(self.count_hint(vendor));
        self.each_record(vendor, |_, record| all.extend(record.as_json().ok()));
        all
    }

    /// Back to the fixtures, after any write or transaction under way.
    pub fn reset(&self) {
        let _writing = self.writes.hold();
        self.overlay.clear();
        self.budget.release_all(&self.held);
    }

    /// The kinds of `vendor` this state has changed since its last reset,
    /// sorted (the snapshot tests check each is in the vendor's snapshot).
    #[cfg(test)]
    pub fn changed_kinds(&self, vendor: &str) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = self
            .overlay
            .iter()
            .map(|entry| *entry.key())
            .filter(|kind| belongs_to(kind, vendor))
            .collect();
        kinds.sort_unstable();
        kinds
    }

    /// A record as the vendor's type `U`, shared with the store (reading
    /// copies nothing); `Err` when it is stored but no longer reads as one
    /// (logged where found).
    pub fn read<U>(&self, vendor: &'static str, id: &str) -> Result<Option<Arc<U>>, BrokenRecord>
    where
        U: DeserializeOwned + Send + Sync + 'static,
    {
        match self.record(vendor, id) {
            Some(record) => Ok(Some(record.as_typed::<U>(vendor, id)?)),
            None => Ok(None),
        }
    }

    /// A record as the vendor's type with the stored record behind it (to
    /// show it through a [`View`]).
    pub fn read_shown<U>(
        &self,
        vendor: &'static str,
        id: &str,
    ) -> Result<Option<Shown<U>>, BrokenRecord>
    where
        U: DeserializeOwned + Send + Sync + 'static,
    {
        match self.record(vendor, id) {
            Some(record) => Ok(Some(Shown::new(record.as_typed::<U>(vendor, id)?, record))),
            None => Ok(None),
        }
    }

    /// [`State::all_typed`], each with the stored record behind it, whose
    /// text is written (and kept) only for those an answer shows.
    pub fn all_shown<U>(&self, vendor: &'static str) -> Vec<Shown<U>>
    where
        U: DeserializeOwned + Send + Sync + 'static,
    {
        let mut all = Vec::with_capacity(self.count_hint(vendor));
        self.each_record(vendor, |id, record| {
            if let Ok(typed) = record.as_typed::<U>(vendor, id) {
                all.push(Shown::new(typed, Arc::clone(record)));
            }
        });
        all
    }

    /// Changes a record atomically: `change` edits a copy of it as the
    /// vendor's type and may refuse with the vendor's error, leaving it
    /// untouched. The state's write lock is held while `change` runs, so
    /// concurrent updates are serialised and none is lost; `change` may read
    /// this state. A change that would pass a cap is refused with
    /// [`StoreFull`]. Returns the record as stored, or `None` when there is
    /// no such record.
    pub fn update_typed<U, E>(
        &self,
        vendor: &'static str,
        id: &str,
        change: impl FnOnce(&mut U) -> Result<(), E>,
    ) -> Result<Option<Arc<U>>, E>
    where
        U: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        E: From<BrokenRecord> + From<StoreFull>,
    {
        let stored = self.write_typed(vendor, id, lent(edited(change)), None)?;
        Ok(stored.map(|(record, _)| record))
    }

    /// [`State::update_typed`] for an answer that shows the record as
    /// stored: also gives the record's compact JSON (the text its size was
    /// measured on) inside `frame`'s two texts, so the answer's body is
    /// written out once instead of the record twice.
    pub fn update_typed_json<U, E>(
        &self,
        vendor: &'static str,
        id: &str,
        frame: Frame,
        change: impl FnOnce(&mut U) -> Result<(), E>,
    ) -> Result<Option<(Arc<U>, Bytes)>, E>
    where
        U: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        E: From<BrokenRecord> + From<StoreFull>,
    {
        let stored = self.write_typed(vendor, id, lent(edited(change)), Some(frame))?;
        Ok(stored.and_then(|(record, json)| Some((record, json?))))
    }

    /// Like [`State::update_typed`], for a change that builds the new
    /// record from the current one (a patch applied to a copy it makes
    /// itself): the current record is lent, not copied first, so the
    /// update makes one copy, not two.
    pub fn replace_typed<U, E>(
        &self,
        vendor: &'static str,
        id: &str,
        change: impl FnOnce(&U) -> Result<U, E>,
    ) -> Result<Option<Arc<U>>, E>
    where
        U: Serialize + DeserializeOwned + Send + Sync + 'static,
        E: From<BrokenRecord> + From<StoreFull>,
    {
        let stored = self.write_typed(vendor, id, lent(change), None)?;
        Ok(stored.map(|(record, _)| record))
    }

    /// [`State::replace_typed`] that also gives the record's compact JSON
    /// inside `frame` (see [`State::update_typed_json`]), and lends
    /// `change` the current record's size as compact JSON when the store
    /// knows it as `U` writes it (`None` otherwise: a record kept as JSON
    /// may be written otherwise once read as a `U`).
    pub fn replace_typed_json<U, E>(
        &self,
        vendor: &'static str,
        id: &str,
        frame: Frame,
        change: impl FnOnce(&U, Option<usize>) -> Result<U, E>,
    ) -> Result<Option<(Arc<U>, Bytes)>, E>
    where
        U: Serialize + DeserializeOwned + Send + Sync + 'static,
        E: From<BrokenRecord> + From<StoreFull>,
    {
        let stored = self.write_typed(vendor, id, change, Some(frame))?;
        Ok(stored.and_then(|(record, json)| Some((record, json?))))
    }

    /// The write behind the typed updates: under the write lock, the new
    /// record built from the current one, measured and stored. With a
    /// frame, it is written out as compact JSON inside the frame, and that
    /// text (less the frame) is its measure.
    fn write_typed<U, E>(
        &self,
        vendor: &'static str,
        id: &str,
        change: impl FnOnce(&U, Option<usize>) -> Result<U, E>,
        frame: Option<Frame>,
    ) -> Result<Option<Written<U>>, E>
    where
        U: Serialize + DeserializeOwned + Send + Sync + 'static,
        E: From<BrokenRecord> + From<StoreFull>,
    {
        let _writing = self.writes.hold();
        let Some(current) = self.record(vendor, id) else {
            return Ok(None);
        };
        let record = change(
            &*current.as_typed::<U>(vendor, id)?,
            current.bytes_as::<U>(),
        )?;
        let (bytes, json) = match frame {
            Some(Frame(open, close)) => {
                // A user is a few hundred bytes to a few KiB (as Reply::json).
                let mut text = Vec::with_capacity(1024);
                text.extend_from_slice(open);
                serde_json::to_writer(&mut text, &record).map_err(|err| {
                    tracing::error!(vendor, id, %err, "an updated record does not serialise");
                    BrokenRecord
                })?;
                let bytes = text.len().saturating_sub(open.len());
                text.extend_from_slice(close);
                (bytes, Some(Bytes::from(text)))
            }
            None => (json_len(&record), None),
        };
        let record = Arc::new(record);
        let mut stored = Record::shared(Arc::clone(&record)).measured(bytes);
        if let (Some(Frame(open, _)), Some(json)) = (frame, &json) {
            // The record's own text, a slice of the answer's: no copy.
            let end = open.len().saturating_add(bytes);
            stored = stored.with_text::<U>(json.slice(open.len()..end));
        }
        self.set(vendor, id.to_owned(), Some(Arc::new(stored)))?;
        Ok(Some((record, json)))
    }

    /// Creates or replaces a record from the vendor's type, within the caps.
    pub fn put_typed<U>(
        &self,
        vendor: &'static str,
        id: String,
        record: &U,
    ) -> Result<(), StoreFull>
    where
        U: Serialize + Clone + Send + Sync + 'static,
    {
        let bytes = json_len(record);
        let stored = Record::typed(record.clone()).measured(bytes);
        self.set(vendor, id, Some(Arc::new(stored)))
    }

    /// Every record of a vendor that reads as `U` (a broken one is logged
    /// and left out), in no particular order.
    pub fn all_typed<U>(&self, vendor: &'static str) -> Vec<Arc<U>>
    where
        U: DeserializeOwned + Send + Sync + 'static,
    {
        let mut all = Vec::with_capacity(self.count_hint(vendor));
        self.each_record(vendor, |id, record| {
            all.extend(record.as_typed::<U>(vendor, id).ok());
        });
        all
    }
}

/// A record a typed update stored, with its framed JSON when asked for.
type Written<U> = (Arc<U>, Option<Bytes>);

/// A record as the vendor's type, with the stored record behind it: its
/// compact JSON ([`Shown::text`]) is written once, when an answer first
/// shows it, and kept with the record.
pub(crate) struct Shown<U> {
    pub record: Arc<U>,
    stored: Arc<Record>,
}

impl<U> Shown<U> {
    pub fn new(record: Arc<U>, stored: Arc<Record>) -> Shown<U> {
        Shown { record, stored }
    }

    /// The record as the view `V` writes it (kept like [`Shown::text`]).
    pub fn view_text<V: View<Of = U>>(&self) -> Result<Bytes, BrokenRecord> {
        self.stored.view_text::<V>(&self.record)
    }
}

#[cfg(test)]
impl<U: Serialize + Clone + Send + Sync + 'static> Shown<U> {
    /// `record` as a vendor's write would store it (for tests of answers).
    pub fn stored(record: &U) -> Shown<U> {
        Shown::new(
            Arc::new(record.clone()),
            Arc::new(Record::typed(record.clone())),
        )
    }
}

impl<U: Serialize + Send + Sync + 'static> Shown<U> {
    /// The record's compact JSON.
    pub fn text(&self) -> Result<Bytes, BrokenRecord> {
        self.stored.text_of(&*self.record)
    }

    /// The length of [`Shown::text`] (the record's measure), known before
    /// it is written.
    pub fn text_len(&self) -> usize {
        self.stored.bytes()
    }
}

/// What goes before and after a record's JSON in an answer that shows it
/// (`{"data":` and `}`, or nothing).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame(pub &'static [u8], pub &'static [u8]);

impl Frame {
    /// The record's JSON alone.
    pub const BARE: Frame = Frame(b"", b"");

    /// `text` (a record's JSON) inside the frame.
    pub fn around(self, text: &[u8]) -> Bytes {
        let Frame(open, close) = self;
        let size = open
            .len()
            .saturating_add(text.len())
            .saturating_add(close.len());
        let mut body = Vec::with_capacity(size);
        body.extend_from_slice(open);
        body.extend_from_slice(text);
        body.extend_from_slice(close);
        Bytes::from(body)
    }
}

/// A change that has no use for the current record's size.
fn lent<U, E>(
    change: impl FnOnce(&U) -> Result<U, E>,
) -> impl FnOnce(&U, Option<usize>) -> Result<U, E> {
    |current, _| change(current)
}

/// An in-place edit as a change that builds the new record: one copy of
/// the current record, edited.
fn edited<U: Clone, E>(
    change: impl FnOnce(&mut U) -> Result<(), E>,
) -> impl FnOnce(&U) -> Result<U, E> {
    |current| {
        let mut record = current.clone();
        change(&mut record)?;
        Ok(record)
    }
}

/// A stored record that does not read as its vendor's type (or a typed
/// record that does not serialise). Fixtures and admin writes are
/// validated, so this only comes from a bug; it is logged where it is
/// found and answered as the vendor's internal error, never a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BrokenRecord;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Counter {
        n: i64,
    }

    #[derive(Debug, PartialEq)]
    enum Refused {
        No,
        Broken,
        Full,
    }

    impl From<BrokenRecord> for Refused {
        fn from(_: BrokenRecord) -> Refused {
            Refused::Broken
        }
    }

    impl From<StoreFull> for Refused {
        fn from(_: StoreFull) -> Refused {
            Refused::Full
        }
    }

    fn named(id: &str) -> Session {
        Session::Named(Arc::from(id))
    }

    fn store() -> Store {
        let mut baseline = Baseline::default();
        baseline.insert("v", "u1".into(), Record::json(json!({"n": 1})));
        Store::new(
            baseline,
            Clock::global(crate::clock::Setting::Real),
            SessionBounds::default(),
            StoreBounds::default(),
        )
    }

    fn bump(state: &State) -> Option<Arc<Counter>> {
        let bumped: Result<_, Refused> = state.update_typed("v", "u1", |c: &mut Counter| {
            c.n += 1;
            Ok(())
        });
        bumped.ok().flatten()
    }

    fn n(state: &State) -> Option<i64> {
        let read: Result<Option<Arc<Counter>>, BrokenRecord> = state.read("v", "u1");
        read.ok().flatten().map(|c| c.n)
    }

    /// The text an update hands back is the stored record's JSON and its
    /// measure: the state holds the same bytes as after a plain update.
    #[test]
    fn an_update_that_keeps_its_json_gives_the_record_as_stored_and_measured() {
        let (plain, kept) = (store(), store());
        bump(&plain.state(&Session::Shared));
        let state = kept.state(&Session::Shared);
        let written: Result<_, Refused> =
            state.update_typed_json("v", "u1", Frame::BARE, |c: &mut Counter| {
                c.n += 1;
                Ok(())
            });
        let (record, json) = written.ok().flatten().expect("updated");
        assert_eq!(*record, Counter { n: 2 });
        assert_eq!(&json[..], br#"{"n":2}"#);
        assert_eq!(n(&state), Some(2));
        assert_eq!(state.held(), plain.state(&Session::Shared).held());
        let framed = Frame(b"{\"data\":", b"}");
        let replaced: Result<_, Refused> =
            state.replace_typed_json("v", "u1", framed, |c: &Counter, size| {
                // Written as a Counter by the update: its size is lent.
                assert_eq!(size, Some(r#"{"n":2}"#.len()));
                Ok(Counter { n: c.n * 10 })
            });
        let (_, json) = replaced.ok().flatten().expect("replaced");
        assert_eq!(&json[..], br#"{"data":{"n":20}}"#);
        // The frame is not part of the record's measure.
        let measured = state.held();
        bump(&state);
        let (_, bytes) = state.held();
        assert_eq!(bytes, measured.1, "{{n:20}} and {{n:21}} are as long");
        let missing: Result<_, Refused> =
            state.replace_typed_json("v", "u9", Frame::BARE, |c: &Counter, _| Ok(c.clone()));
        assert_eq!(missing, Ok(None));
    }

    /// A listing reads the records typed; only those it shows get their
    /// text written and kept (docs/limits.md counts that memory against
    /// shown records only).
    #[test]
    fn only_the_records_a_listing_shows_keep_their_text() {
        let mut baseline = Baseline::default();
        for (id, n) in [("u1", 1), ("u2", 2)] {
            baseline.insert("v", id.into(), Record::json(json!({"n": n})));
        }
        let store = Store::new(
            baseline,
            Clock::global(crate::clock::Setting::Real),
            SessionBounds::default(),
            StoreBounds::default(),
        );
        let state = store.state(&Session::Shared);
        let listed = state.all_shown::<Counter>("v");
        assert_eq!(listed.len(), 2);
        let kept = |id: &str| state.record("v", id).is_some_and(|r| r.has_text());
        assert!(
            !kept("u1") && !kept("u2"),
            "nothing written before it is shown"
        );
        let shown = listed.iter().find(|s| s.record.n == 2).expect("u2 listed");
        assert_eq!(&shown.text().expect("text")[..], br#"{"n":2}"#);
        assert_eq!(shown.text_len(), 7);
        assert!(kept("u2") && !kept("u1"));
    }

    #[test]
    fn sessions_see_their_own_writes_only() {
        let store = store();
        bump(&store.state(&named("a")));
        assert_eq!(n(&store.state(&named("a"))), Some(2));
        assert_eq!(n(&store.state(&named("b"))), Some(1));
        assert_eq!(n(&store.state(&Session::Shared)), Some(1));
        assert_eq!(
            *store.state(&named("a")).get("v", "u1").expect("json"),
            json!({"n": 2})
        );
    }

    #[test]
    fn a_failed_change_leaves_the_record_untouched() {
        let store = store();
        let state = store.state(&Session::Shared);
        let result = state.update_typed("v", "u1", |_: &mut Counter| Err(Refused::No));
        assert_eq!(result, Err(Refused::No));
        assert_eq!(*state.get("v", "u1").expect("some"), json!({"n": 1}));
    }

    #[test]
    fn broken_records_are_refused_and_left_alone() {
        let store = store();
        let state = store.state(&Session::Shared);
        state
            .put("v", "u2".into(), json!({"n": "not a number"}))
            .expect("room");
        let broken: Result<Option<Arc<Counter>>, BrokenRecord> = state.read("v", "u2");
        assert_eq!(broken.err(), Some(BrokenRecord));
        let untouched = state.update_typed("v", "u2", |_: &mut Counter| Ok::<_, Refused>(()));
        assert_eq!(untouched, Err(Refused::Broken));
        assert_eq!(
            *state.get("v", "u2").expect("some"),
            json!({"n": "not a number"})
        );
        let all: Vec<Arc<Counter>> = state.all_typed("v");
        assert_eq!(all, vec![Arc::new(Counter { n: 1 })]);
    }

    #[test]
    fn reset_brings_back_deleted_and_changed_records() {
        let store = store();
        let state = store.state(&Session::Shared);
        bump(&state);
        assert!(state.delete("v", "u1"));
        assert!(state.get("v", "u1").is_none());
        assert_eq!(bump(&state), None);
        store.reset_all();
        assert_eq!(*state.get("v", "u1").expect("some"), json!({"n": 1}));
    }

    fn capped(caps: StoreBounds) -> Store {
        let mut baseline = Baseline::default();
        baseline.insert("v", "u1".into(), Record::json(json!({"n": 1})));
        Store::new(
            baseline,
            Clock::global(crate::clock::Setting::Real),
            SessionBounds::default(),
            caps,
        )
    }

    #[test]
    fn writes_past_a_session_cap_are_refused_and_deletes_free_room() {
        let store = capped(StoreBounds {
            session_records: 2,
            ..StoreBounds::default()
        });
        let state = store.state(&named("a"));
        let two = Counter { n: 2 };
        assert_eq!(state.put_typed("v", "u2".into(), &two), Ok(()));
        assert_eq!(state.put_typed("v", "u3".into(), &two), Ok(()));
        let refused = state.put_typed("v", "u4".into(), &two);
        assert_eq!(
            refused,
            Err(StoreFull {
                cap: budget::Cap::SessionRecords,
                limit: 2
            })
        );
        assert!(state.get("v", "u4").is_none(), "nothing was written");
        // Replacing a record it holds needs no new room.
        assert_eq!(state.put_typed("v", "u3".into(), &Counter { n: 3 }), Ok(()));
        // A record only this session had leaves no trace when deleted.
        assert!(state.delete("v", "u2"));
        assert_eq!(state.held().0, 1);
        assert_eq!(state.put_typed("v", "u4".into(), &two), Ok(()));
        // Another session has its own room.
        let other = store.state(&named("b"));
        assert_eq!(other.put_typed("v", "u4".into(), &two), Ok(()));
    }

    #[test]
    fn a_restore_is_one_step_within_the_caps() {
        let store = capped(StoreBounds {
            session_records: 3,
            ..StoreBounds::default()
        });
        let state = store.state(&named("a"));
        let records = |ids: &[&str]| -> Vec<(String, Record)> {
            ids.iter()
                .map(|id| ((*id).to_owned(), Record::json(json!({"n": 5}))))
                .collect()
        };
        // Three records and the fixture's tombstone: one past the cap.
        let refused = store.replace_vendor(&state, "v", vec![("v", records(&["a", "b", "c"]))]);
        assert_eq!(refused.map_err(|f| f.cap), Err(budget::Cap::SessionRecords));
        assert_eq!(n(&state), Some(1), "nothing changed");
        assert_eq!(state.held(), (0, 0));
        assert_eq!(
            store.replace_vendor(&state, "v", vec![("v", records(&["a", "b"]))]),
            Ok(())
        );
        assert_eq!(n(&state), None, "the fixture's record is hidden");
        assert_eq!(*state.get("v", "a").expect("restored"), json!({"n": 5}));
        assert_eq!(state.held().0, 3);
        // Restoring again replaces, it does not add.
        assert_eq!(
            store.replace_vendor(&state, "v", vec![("v", records(&["c"]))]),
            Ok(())
        );
        assert_eq!(state.held().0, 2);
        assert!(state.get("v", "a").is_none());
    }

    #[test]
    fn a_delete_goes_through_even_when_the_state_is_full() {
        let store = capped(StoreBounds {
            session_records: 1,
            ..StoreBounds::default()
        });
        let state = store.state(&named("a"));
        assert_eq!(state.put_typed("v", "u2".into(), &Counter { n: 2 }), Ok(()));
        // Deleting a fixture record leaves a tombstone past the cap.
        assert!(state.delete("v", "u1"));
        assert!(state.get("v", "u1").is_none());
        assert_eq!(state.held().0, 2);
        store.reset_session("a");
        drop(state);
        assert_eq!(store.held(), (0, 0));
    }

    #[test]
    fn the_byte_caps_count_each_record_and_a_dropped_session_gives_its_share_back() {
        let entry = budget::entry_bytes("u2", json_len(&Counter { n: 2 }));
        let store = capped(StoreBounds {
            session_bytes: entry * 3,
            total_bytes: entry * 4,
            ..StoreBounds::default()
        });
        let a = store.state(&named("a"));
        for id in ["u2", "u3", "u4"] {
            assert_eq!(a.put_typed("v", id.into(), &Counter { n: 2 }), Ok(()));
        }
        assert_eq!(a.held(), (3, entry * 3));
        let full = a.put_typed("v", "u5".into(), &Counter { n: 2 });
        assert_eq!(full.map_err(|f| f.cap), Err(budget::Cap::SessionBytes));
        // A record growing past the cap is refused too, and left as it was.
        let grown = a.update_typed("v", "u2", |c: &mut Counter| {
            c.n = 1_000_000;
            Ok::<_, Refused>(())
        });
        assert_eq!(grown, Err(Refused::Full));
        assert_eq!(*a.get("v", "u2").expect("kept"), json!({"n": 2}));

        let b = store.state(&named("b"));
        assert_eq!(b.put_typed("v", "u2".into(), &Counter { n: 2 }), Ok(()));
        let full = b.put_typed("v", "u3".into(), &Counter { n: 2 });
        assert_eq!(full.map_err(|f| f.cap), Err(budget::Cap::TotalBytes));
        drop(a);
        store.reset_session("a");
        assert_eq!(store.held(), (1, entry));
        assert_eq!(b.put_typed("v", "u3".into(), &Counter { n: 2 }), Ok(()));
        store.reset_all();
        drop(b);
        assert_eq!(store.held(), (0, 0));
    }

    #[test]
    fn a_transaction_sees_no_other_write_and_a_reset_waits_for_it() {
        let store = Arc::new(store());
        let state = store.state(&Session::Shared);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    let state = store.state(&Session::Shared);
                    for i in 0..300 {
                        // Check-then-write: only the first of all writers
                        // of a slot may take it.
                        state.transaction(|| {
                            let id = format!("slot{}", i % 50);
                            if state.get("v", &id).is_none() {
                                state.put("v", id, json!({"n": i})).expect("room");
                                bump(&state);
                            }
                        });
                        if i % 100 == 0 {
                            store.reset_all();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        // Every slot taken since the last reset bumped u1 exactly once.
        let slots = state
            .records("v")
            .iter()
            .filter(|(id, _)| id.starts_with("slot"))
            .count();
        let bumped = n(&state).map(|n| n - 1);
        assert_eq!(bumped, i64::try_from(slots).ok());
    }

    #[test]
    fn concurrent_updates_of_one_record_are_never_lost() {
        let store = Arc::new(store());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    for _ in 0..500 {
                        bump(&store.state(&Session::Shared));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(n(&store.state(&Session::Shared)), Some(4001));
    }
}
