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

use std::collections::HashMap;
use std::sync::Arc;

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::clock::Clock;
use crate::session::Session;

mod record;

pub(crate) use record::Record;

/// One kind of record (a vendor's users, or another kind under its own key
/// such as `activity.departments`), by id. Kinds are kept apart so reading
/// or listing one never walks another's records.
type Kind = HashMap<String, Arc<Record>>;

/// A state's changes to one kind: `Some` = changed here, `None` = deleted.
type Changes = DashMap<String, Option<Arc<Record>>>;

/// The records every state starts from, as loaded from the fixtures.
#[derive(Debug, Default)]
pub(crate) struct Baseline {
    kinds: HashMap<&'static str, Kind>,
}

impl Baseline {
    pub fn insert(&mut self, vendor: &'static str, id: String, record: Record) {
        self.kinds
            .entry(vendor)
            .or_default()
            .insert(id, Arc::new(record));
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
    pub fn new(baseline: Baseline, clock: Arc<Clock>, bounds: SessionBounds) -> Store {
        let baseline = Arc::new(baseline);
        Store {
            default_state: Arc::new(State::new(Arc::clone(&baseline), Arc::clone(&clock))),
            clock,
            baseline,
            sessions: DashMap::new(),
            bounds,
            epoch: std::time::Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn fresh_state(&self) -> State {
        let clock = Arc::new(Clock::following(&self.clock));
        State::new(Arc::clone(&self.baseline), clock)
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
    /// `vendor.<kind>`) in one state with `kinds` (a snapshot restore): the
    /// baseline's are hidden, the state's earlier changes dropped, the given
    /// ones put. A kind of the vendor that `kinds` does not name is left
    /// empty, so a vendor whose snapshot misses a kind loses it visibly
    /// instead of keeping records the snapshot never held. Each kind is
    /// built aside and swapped in whole.
    pub fn replace_vendor(
        &self,
        state: &State,
        vendor: &str,
        kinds: Vec<(&'static str, Vec<(String, Record)>)>,
    ) {
        let mut replaced: HashMap<&'static str, Changes> = HashMap::new();
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
        state.overlay.retain(|kind, _| !belongs_to(kind, vendor));
        for (kind, changes) in replaced {
            state.overlay.insert(kind, Arc::new(changes));
        }
    }

    /// Back to the fixtures for one vendor in one state: every change to
    /// any of its kinds is dropped (a snapshot restore that leaves it out).
    pub fn reset_vendor(&self, state: &State, vendor: &str) {
        state.overlay.retain(|kind, _| !belongs_to(kind, vendor));
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

/// One writable view of the users. All access goes through domain methods;
/// no guard ever leaves this type, so none can be held across an `.await`.
#[derive(Debug)]
pub(crate) struct State {
    baseline: Arc<Baseline>,
    /// The global clock, or the session's own (which follows it until set).
    clock: Arc<Clock>,
    /// `Some` = the record as changed here, `None` = deleted here.
    overlay: DashMap<&'static str, Arc<Changes>>,
}

impl State {
    fn new(baseline: Arc<Baseline>, clock: Arc<Clock>) -> State {
        State {
            baseline,
            clock,
            overlay: DashMap::new(),
        }
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
    pub fn put(&self, vendor: &'static str, id: String, record: Value) {
        self.changes(vendor)
            .insert(id, Some(Arc::new(Record::json(record))));
    }

    /// Deletes a record; true when it existed.
    pub fn delete(&self, vendor: &'static str, id: &str) -> bool {
        let existed = self.record(vendor, id).is_some();
        self.changes(vendor).insert(id.to_owned(), None);
        existed
    }

    /// Every record of a vendor, in no particular order.
    fn records(&self, vendor: &'static str) -> Vec<(String, Arc<Record>)> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        if let Some(changes) = self.overlay.get(vendor) {
            for entry in changes.iter() {
                seen.insert(entry.key().clone());
                if let Some(record) = entry.value() {
                    out.push((entry.key().clone(), Arc::clone(record)));
                }
            }
        }
        let baseline = self.baseline.kinds.get(vendor).into_iter().flatten();
        for (id, record) in baseline {
            if !seen.contains(id) {
                out.push((id.clone(), Arc::clone(record)));
            }
        }
        out
    }

    /// Every record of a vendor as JSON, in no particular order.
    pub fn all(&self, vendor: &'static str) -> Vec<Arc<Value>> {
        self.records(vendor)
            .into_iter()
            .filter_map(|(_, r)| r.as_json().ok())
            .collect()
    }

    pub fn reset(&self) {
        self.overlay.clear();
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

    /// Changes a record atomically: `change` edits a copy of it as the
    /// vendor's type and may refuse with the vendor's error, leaving it
    /// untouched. The record's entry stays locked while `change` runs, so
    /// concurrent updates of one record are serialised and none is lost.
    /// Returns the record as stored, or `None` when there is no such record.
    ///
    /// `change` must not call back into this `State`: the entry's map shard
    /// is write-locked while it runs, so a read of any record in the same
    /// shard would deadlock. Read what it needs before calling this.
    pub fn update_typed<U, E>(
        &self,
        vendor: &'static str,
        id: &str,
        change: impl FnOnce(&mut U) -> Result<(), E>,
    ) -> Result<Option<Arc<U>>, E>
    where
        U: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        E: From<BrokenRecord>,
    {
        // One copy per update: the edited record is stored and returned as
        // the same `Arc`.
        let apply = |current: &Record| -> Result<(Arc<U>, Arc<Record>), E> {
            let mut record = (*current.as_typed::<U>(vendor, id)?).clone();
            change(&mut record)?;
            let record = Arc::new(record);
            let stored = Arc::new(Record::shared(Arc::clone(&record)));
            Ok((record, stored))
        };
        let changes = self.changes(vendor);
        let updated = match changes.entry(id.to_owned()) {
            Entry::Occupied(mut entry) => {
                let Some(current) = entry.get() else {
                    return Ok(None);
                };
                let (record, stored) = apply(current)?;
                entry.insert(Some(stored));
                Some(record)
            }
            Entry::Vacant(entry) => {
                let Some(current) = self.baseline.get(vendor, id) else {
                    return Ok(None);
                };
                let (record, stored) = apply(current)?;
                entry.insert(Some(stored));
                Some(record)
            }
        };
        Ok(updated)
    }

    /// Creates or replaces a record from the vendor's type.
    pub fn put_typed<U>(
        &self,
        vendor: &'static str,
        id: String,
        record: &U,
    ) -> Result<(), BrokenRecord>
    where
        U: Serialize + Clone + Send + Sync + 'static,
    {
        self.changes(vendor)
            .insert(id, Some(Arc::new(Record::typed(record.clone()))));
        Ok(())
    }

    /// Every record of a vendor that reads as `U` (a broken one is logged
    /// and left out), in no particular order.
    pub fn all_typed<U>(&self, vendor: &'static str) -> Vec<Arc<U>>
    where
        U: DeserializeOwned + Send + Sync + 'static,
    {
        self.records(vendor)
            .iter()
            .filter_map(|(id, r)| r.as_typed::<U>(vendor, id).ok())
            .collect()
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
    }

    impl From<BrokenRecord> for Refused {
        fn from(_: BrokenRecord) -> Refused {
            Refused::Broken
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
        state.put("v", "u2".into(), json!({"n": "not a number"}));
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
