//! What the states may hold beyond the fixtures, in records and in bytes,
//! per state and in total, and the accounting that keeps them to it.
//!
//! A state holds an overlay entry for each record created, changed or
//! deleted in it. Each entry costs [`ENTRY_OVERHEAD`] plus its id plus its
//! record's size as compact JSON; the overlay's records and bytes are
//! counted against the state's bounds and, through one shared [`Budget`],
//! against the totals of every state. The JSON size stands in for the
//! memory a record takes (the typed form is about as big; a listing that
//! turns it into JSON keeps that copy too), so the totals bound memory to a
//! small multiple of `total_bytes`.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

/// Bytes counted for an overlay entry besides its id and its record: the
/// map slot, the `Arc`s and the record's bookkeeping.
pub(crate) const ENTRY_OVERHEAD: usize = 128;

/// The caps (`--max-session-records`, `--max-session-bytes`,
/// `--max-total-records`, `--max-total-bytes`). The shared state (requests
/// without `X-Usermock-Session`) is held to the per-session caps too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreBounds {
    /// Records one state may create, change or delete (default 100,000).
    pub session_records: usize,
    /// Bytes one state may hold beyond the fixtures (default 32 MiB).
    pub session_bytes: usize,
    /// Records all states together (default 1,000,000).
    pub total_records: usize,
    /// Bytes all states together (default 256 MiB).
    pub total_bytes: usize,
    /// The largest one record may be, as compact JSON (`--max-record-bytes`,
    /// default 64 KiB): every string member of every record kind is
    /// bounded by it, whatever route wrote it.
    pub record_bytes: usize,
}

impl Default for StoreBounds {
    fn default() -> StoreBounds {
        StoreBounds {
            session_records: 100_000,
            session_bytes: 32 * 1024 * 1024,
            total_records: 1_000_000,
            total_bytes: 256 * 1024 * 1024,
            record_bytes: 64 * 1024,
        }
    }
}

/// A write the caps refuse; nothing was written. Vendors answer it as 507
/// Insufficient Storage in their own format; the admin API in usermock's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoreFull {
    pub cap: Cap,
    pub limit: usize,
}

/// Which cap a write would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cap {
    SessionRecords,
    SessionBytes,
    TotalRecords,
    TotalBytes,
    RecordBytes,
}

impl Cap {
    /// The flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            Cap::SessionRecords => "--max-session-records",
            Cap::SessionBytes => "--max-session-bytes",
            Cap::TotalRecords => "--max-total-records",
            Cap::TotalBytes => "--max-total-bytes",
            Cap::RecordBytes => "--max-record-bytes",
        }
    }
}

impl StoreFull {
    /// One sentence for an answer, in no vendor's voice in particular.
    pub fn message(&self) -> String {
        if self.cap == Cap::RecordBytes {
            return format!(
                "Insufficient storage: one record may be at most {} bytes.",
                self.limit
            );
        }
        let (scope, unit) = match self.cap {
            Cap::SessionRecords => ("this session", "records"),
            Cap::SessionBytes => ("this session", "bytes"),
            Cap::TotalRecords => ("the server", "records"),
            Cap::TotalBytes | Cap::RecordBytes => ("the server", "bytes"),
        };
        format!(
            "Insufficient storage: {scope} may hold at most {} {unit} of changes; delete records or reset.",
            self.limit
        )
    }
}

/// Counts of records and bytes.
#[derive(Debug, Default)]
pub(super) struct Usage {
    records: AtomicUsize,
    bytes: AtomicUsize,
}

impl Usage {
    #[cfg(test)]
    pub fn records(&self) -> usize {
        self.records.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Adds `records` and `bytes` unless either would pass its limit.
    fn reserve(
        &self,
        records: usize,
        bytes: usize,
        limits: (usize, usize),
        caps: (Cap, Cap),
    ) -> Result<(), StoreFull> {
        add_within(&self.records, records, limits.0, caps.0)?;
        if let Err(full) = add_within(&self.bytes, bytes, limits.1, caps.1) {
            self.records.fetch_sub(records, Ordering::Relaxed);
            return Err(full);
        }
        Ok(())
    }

    fn release(&self, records: usize, bytes: usize) {
        sub_floor(&self.records, records);
        sub_floor(&self.bytes, bytes);
    }
}

fn add_within(counter: &AtomicUsize, n: usize, limit: usize, cap: Cap) -> Result<(), StoreFull> {
    if n == 0 {
        return Ok(());
    }
    counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
            held.checked_add(n).filter(|after| *after <= limit)
        })
        .map(|_| ())
        .map_err(|_| StoreFull { cap, limit })
}

fn sub_floor(counter: &AtomicUsize, n: usize) {
    // Never below zero, whatever a bug in the accounting does.
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
        Some(held.saturating_sub(n))
    });
}

/// The caps and what all states hold together; one per store.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    pub bounds: StoreBounds,
    total: Usage,
}

impl Budget {
    pub fn new(bounds: StoreBounds) -> Budget {
        Budget {
            bounds,
            total: Usage::default(),
        }
    }

    #[cfg(test)]
    pub fn total(&self) -> (usize, usize) {
        (self.total.records(), self.total.bytes())
    }

    /// Moves one state's holding by a change: the growth is checked against
    /// the state's caps, then the totals; a shrink always goes through.
    /// Callers hold the state's write lock, so the state's own counts do not
    /// move underneath.
    pub(super) fn change(
        &self,
        held: &Usage,
        from: (usize, usize),
        to: (usize, usize),
    ) -> Result<(), StoreFull> {
        let grow = (to.0.saturating_sub(from.0), to.1.saturating_sub(from.1));
        let shrink = (from.0.saturating_sub(to.0), from.1.saturating_sub(to.1));
        let b = &self.bounds;
        held.reserve(
            grow.0,
            grow.1,
            (b.session_records, b.session_bytes),
            (Cap::SessionRecords, Cap::SessionBytes),
        )?;
        if let Err(full) = self.total.reserve(
            grow.0,
            grow.1,
            (b.total_records, b.total_bytes),
            (Cap::TotalRecords, Cap::TotalBytes),
        ) {
            held.release(grow.0, grow.1);
            return Err(full);
        }
        held.release(shrink.0, shrink.1);
        self.total.release(shrink.0, shrink.1);
        Ok(())
    }

    /// [`Budget::change`] for a delete, which always goes through: a
    /// tombstone of a fixture record is the most it can add, and the
    /// fixtures bound those.
    pub(super) fn force(&self, held: &Usage, from: (usize, usize), to: (usize, usize)) {
        let grow = (to.0.saturating_sub(from.0), to.1.saturating_sub(from.1));
        let shrink = (from.0.saturating_sub(to.0), from.1.saturating_sub(to.1));
        for usage in [held, &self.total] {
            usage.records.fetch_add(grow.0, Ordering::Relaxed);
            usage.bytes.fetch_add(grow.1, Ordering::Relaxed);
            usage.release(shrink.0, shrink.1);
        }
    }

    /// Gives back everything a state held (it was reset or dropped).
    pub(super) fn release_all(&self, held: &Usage) {
        let records = held.records.swap(0, Ordering::Relaxed);
        let bytes = held.bytes.swap(0, Ordering::Relaxed);
        self.total.release(records, bytes);
    }
}

/// A value's size as compact JSON, counted without building the text.
pub(crate) fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // A value that does not serialise is caught where it is read back.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// What one overlay entry costs.
pub(super) fn entry_bytes(id: &str, record_bytes: usize) -> usize {
    ENTRY_OVERHEAD
        .saturating_add(id.len())
        .saturating_add(record_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tight() -> Budget {
        Budget::new(StoreBounds {
            session_records: 2,
            session_bytes: 1000,
            total_records: 3,
            total_bytes: 1500,
            record_bytes: 1000,
        })
    }

    #[test]
    fn growth_past_a_state_cap_is_refused_and_changes_nothing() {
        let budget = tight();
        let a = Usage::default();
        assert_eq!(budget.change(&a, (0, 0), (1, 400)), Ok(()));
        assert_eq!(
            budget.change(&a, (0, 0), (1, 700)),
            Err(StoreFull {
                cap: Cap::SessionBytes,
                limit: 1000
            })
        );
        assert_eq!((a.records(), a.bytes()), (1, 400));
        assert_eq!(budget.total(), (1, 400));
        assert_eq!(budget.change(&a, (0, 0), (1, 100)), Ok(()));
        assert_eq!(
            budget.change(&a, (0, 0), (1, 1)),
            Err(StoreFull {
                cap: Cap::SessionRecords,
                limit: 2
            })
        );
    }

    #[test]
    fn the_totals_bind_across_states_and_shrinking_always_works() {
        let budget = tight();
        let (a, b) = (Usage::default(), Usage::default());
        assert_eq!(budget.change(&a, (0, 0), (2, 900)), Ok(()));
        assert_eq!(
            budget.change(&b, (0, 0), (1, 700)),
            Err(StoreFull {
                cap: Cap::TotalBytes,
                limit: 1500
            })
        );
        assert_eq!((b.records(), b.bytes()), (0, 0));
        assert_eq!(budget.change(&a, (1, 500), (0, 0)), Ok(()));
        assert_eq!(budget.change(&b, (0, 0), (1, 700)), Ok(()));
        assert_eq!(budget.total(), (2, 1100));
        budget.release_all(&a);
        assert_eq!(budget.total(), (1, 700));
    }

    #[test]
    fn json_len_is_the_compact_text_length() {
        let value = serde_json::json!({"a": [1, "é"], "b": null});
        assert_eq!(json_len(&value), value.to_string().len());
    }
}
