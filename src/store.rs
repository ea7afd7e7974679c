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
//! never looks inside them: what a record means is the vendor module's job.

use std::collections::HashMap;
use std::sync::Arc;

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use serde_json::Value;

type RecordKey = (&'static str, String);

/// The records every state starts from, as loaded from the fixtures.
#[derive(Debug, Default)]
pub(crate) struct Baseline {
    records: HashMap<RecordKey, Arc<Value>>,
}

impl Baseline {
    pub fn insert(&mut self, vendor: &'static str, id: String, record: Value) {
        self.records.insert((vendor, id), Arc::new(record));
    }
}

/// The whole in-memory world: the baseline, the default state and sessions.
#[derive(Debug)]
pub(crate) struct Store {
    baseline: Arc<Baseline>,
    default_state: Arc<State>,
    sessions: DashMap<String, Arc<State>>,
}

impl Store {
    pub fn new(baseline: Baseline) -> Store {
        let baseline = Arc::new(baseline);
        Store {
            default_state: Arc::new(State::new(Arc::clone(&baseline))),
            baseline,
            sessions: DashMap::new(),
        }
    }

    /// The state a request sees: its session's, or the default one.
    pub fn state(&self, session: Option<&str>) -> Arc<State> {
        match session {
            None => Arc::clone(&self.default_state),
            Some(id) => Arc::clone(
                self.sessions
                    .entry(id.to_owned())
                    .or_insert_with(|| Arc::new(State::new(Arc::clone(&self.baseline))))
                    .value(),
            ),
        }
    }

    /// Back to the fixtures: the default state and every session.
    pub fn reset_all(&self) {
        self.default_state.reset();
        self.sessions.clear();
    }

    /// Back to the fixtures for one session only.
    pub fn reset_session(&self, session: &str) {
        self.sessions.remove(session);
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

/// One writable view of the users. All access goes through domain methods;
/// no guard ever leaves this type, so none can be held across an `.await`.
#[derive(Debug)]
pub(crate) struct State {
    baseline: Arc<Baseline>,
    /// `Some` = the record as changed here, `None` = deleted here.
    overlay: DashMap<RecordKey, Option<Arc<Value>>>,
}

impl State {
    fn new(baseline: Arc<Baseline>) -> State {
        State {
            baseline,
            overlay: DashMap::new(),
        }
    }

    pub fn get(&self, vendor: &'static str, id: &str) -> Option<Arc<Value>> {
        let key = (vendor, id.to_owned());
        match self.overlay.get(&key) {
            Some(changed) => changed.value().clone(),
            None => self.baseline.records.get(&key).cloned(),
        }
    }

    /// Replaces a record with what `change` makes of it, atomically: the
    /// record's entry stays locked while `change` runs, so concurrent updates
    /// of one record are serialised and none is lost. `change` sees the
    /// current record and returns the new one, or an error that leaves the
    /// record untouched. `Ok(None)` means there is no such record.
    ///
    /// `change` must not call back into this `State`: the entry's map shard
    /// is write-locked while it runs, so a read of any record in the same
    /// shard would deadlock. Read what it needs before calling `update`.
    pub fn update<E>(
        &self,
        vendor: &'static str,
        id: &str,
        change: impl FnOnce(&Value) -> Result<Value, E>,
    ) -> Result<Option<Arc<Value>>, E> {
        match self.overlay.entry((vendor, id.to_owned())) {
            Entry::Occupied(mut entry) => {
                let Some(current) = entry.get() else {
                    return Ok(None);
                };
                let updated = Arc::new(change(current)?);
                entry.insert(Some(Arc::clone(&updated)));
                Ok(Some(updated))
            }
            Entry::Vacant(entry) => {
                let Some(current) = self.baseline.records.get(entry.key()) else {
                    return Ok(None);
                };
                let updated = Arc::new(change(current)?);
                entry.insert(Some(Arc::clone(&updated)));
                Ok(Some(updated))
            }
        }
    }

    /// Creates or replaces a record outright (admin seeding).
    pub fn put(&self, vendor: &'static str, id: String, record: Value) {
        self.overlay.insert((vendor, id), Some(Arc::new(record)));
    }

    /// Deletes a record; true when it existed.
    pub fn delete(&self, vendor: &'static str, id: &str) -> bool {
        let existed = self.get(vendor, id).is_some();
        self.overlay.insert((vendor, id.to_owned()), None);
        existed
    }

    /// Every record of a vendor, fixture order not guaranteed.
    pub fn all(&self, vendor: &'static str) -> Vec<Arc<Value>> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for entry in self.overlay.iter() {
            if entry.key().0 == vendor {
                seen.insert(entry.key().1.clone());
                if let Some(record) = entry.value() {
                    out.push(Arc::clone(record));
                }
            }
        }
        for ((v, id), record) in &self.baseline.records {
            if *v == vendor && !seen.contains(id) {
                out.push(Arc::clone(record));
            }
        }
        out
    }

    pub fn reset(&self) {
        self.overlay.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> Store {
        let mut baseline = Baseline::default();
        baseline.insert("v", "u1".into(), json!({"n": 1}));
        Store::new(baseline)
    }

    fn bump(record: &Value) -> Result<Value, ()> {
        Ok(json!({"n": record["n"].as_i64().unwrap_or_default() + 1}))
    }

    #[test]
    fn sessions_see_their_own_writes_only() {
        let store = store();
        store.state(Some("a")).update("v", "u1", bump).expect("ok");
        assert_eq!(
            *store.state(Some("a")).get("v", "u1").expect("some"),
            json!({"n": 2})
        );
        assert_eq!(
            *store.state(Some("b")).get("v", "u1").expect("some"),
            json!({"n": 1})
        );
        assert_eq!(
            *store.state(None).get("v", "u1").expect("some"),
            json!({"n": 1})
        );
    }

    #[test]
    fn a_failed_change_leaves_the_record_untouched() {
        let store = store();
        let state = store.state(None);
        let result: Result<_, &str> = state.update("v", "u1", |_| Err("no"));
        assert_eq!(result, Err("no"));
        assert_eq!(*state.get("v", "u1").expect("some"), json!({"n": 1}));
    }

    #[test]
    fn reset_brings_back_deleted_and_changed_records() {
        let store = store();
        let state = store.state(None);
        state.update("v", "u1", bump).expect("ok");
        assert!(state.delete("v", "u1"));
        assert!(state.get("v", "u1").is_none());
        assert_eq!(state.update("v", "u1", bump), Ok(None));
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
                        store.state(None).update("v", "u1", bump).expect("ok");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(
            *store.state(None).get("v", "u1").expect("some"),
            json!({"n": 4001})
        );
    }
}
