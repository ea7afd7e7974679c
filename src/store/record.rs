//! One stored record, held as the vendor's own type once a vendor has read
//! or written it, and as JSON for the admin API and snapshots.
//!
//! Why both: a vendor reads and writes records as its typed struct on every
//! request, and turning JSON into a struct and back on each of them was the
//! largest per-request cost (docs/performance.md). Fixture and admin-seeded
//! records arrive as JSON and are decoded once, on first typed use; records
//! a vendor writes are stored typed and turned into JSON only when the admin
//! API asks for them.

use std::any::{Any, TypeId};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::BrokenRecord;

type Typed = Arc<dyn Any + Send + Sync>;

/// A way an answer shows a stored record other than as the record's own
/// JSON (a vendor's view of its stored type). The text it writes is kept
/// with the record like that JSON would be, so it must be no larger than
/// the record's own JSON: docs/limits.md counts a shown record's text at
/// most its counted size again.
pub(crate) trait View: 'static {
    /// The stored type it shows.
    type Of;
    fn write(record: &Self::Of, out: &mut Vec<u8>) -> serde_json::Result<()>;
}

pub(crate) struct Record {
    json: OnceLock<Arc<Value>>,
    typed: OnceLock<Typed>,
    /// Turns `typed` back into JSON (set by [`Record::typed`]).
    to_json: Option<fn(&(dyn Any + Send + Sync)) -> Option<Value>>,
    /// Measures `typed` as compact JSON without building it (set by
    /// [`Record::typed`]).
    json_len: Option<fn(&(dyn Any + Send + Sync)) -> Option<usize>>,
    /// Its size as compact JSON, what the store's caps count: set when a
    /// state stores it, measured on first use otherwise.
    bytes: OnceLock<usize>,
    /// Its compact JSON as the type named writes it (what an answer that
    /// shows it holds): kept by the write that had it, or written on first
    /// use. A record never changes (a write stores a new one), so the text
    /// is never stale. Boxed: most records are never shown, and every one
    /// carries this member (16 bytes rather than 56).
    text: OnceLock<Box<(TypeId, Bytes)>>,
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("json", &self.json.get())
            .field("typed", &self.typed.get().is_some())
            .finish()
    }
}

impl Record {
    /// A record as JSON (fixtures, admin seeding, snapshots).
    pub fn json(value: Value) -> Record {
        Record {
            json: OnceLock::from(Arc::new(value)),
            typed: OnceLock::new(),
            to_json: None,
            json_len: None,
            bytes: OnceLock::new(),
            text: OnceLock::new(),
        }
    }

    /// A record as the vendor's type (what a vendor writes).
    pub fn typed<U: Serialize + Send + Sync + 'static>(record: U) -> Record {
        Record::shared(Arc::new(record))
    }

    /// [`Record::typed`] for a value the writer keeps a handle to.
    pub fn shared<U: Serialize + Send + Sync + 'static>(record: Arc<U>) -> Record {
        fn to_json<U: Serialize + 'static>(any: &(dyn Any + Send + Sync)) -> Option<Value> {
            any.downcast_ref::<U>()
                .and_then(|u| serde_json::to_value(u).ok())
        }
        fn json_len<U: Serialize + 'static>(any: &(dyn Any + Send + Sync)) -> Option<usize> {
            any.downcast_ref::<U>().map(super::budget::json_len)
        }
        let typed: Typed = record;
        Record {
            json: OnceLock::new(),
            typed: OnceLock::from(typed),
            to_json: Some(to_json::<U>),
            json_len: Some(json_len::<U>),
            bytes: OnceLock::new(),
            text: OnceLock::new(),
        }
    }

    /// The record with its size already measured (the writer had it).
    pub(super) fn measured(self, bytes: usize) -> Record {
        let _ = self.bytes.set(bytes);
        self
    }

    /// The record with its compact JSON as `U` writes it (the writer had it).
    pub(super) fn with_text<U: 'static>(self, text: Bytes) -> Record {
        let _ = self.text.set(Box::new((TypeId::of::<U>(), text)));
        self
    }

    /// The compact JSON of `record`, this record read as `U`: kept from the
    /// first time it is asked for (or from the write that had it).
    pub(super) fn text_of<U: Serialize + 'static>(
        &self,
        record: &U,
    ) -> Result<Bytes, BrokenRecord> {
        self.kept_text(TypeId::of::<U>(), |out| serde_json::to_writer(out, record))
    }

    /// `record` (this record read as `V::Of`) as the view `V` writes it,
    /// kept like [`Record::text_of`]'s text and in its place.
    pub(super) fn view_text<V: View>(&self, record: &V::Of) -> Result<Bytes, BrokenRecord> {
        self.kept_text(TypeId::of::<V>(), |out| V::write(record, out))
    }

    /// The text kept under `kind`, or the one `write` writes, then kept
    /// (one text per record: a record shown two ways keeps the first).
    fn kept_text(
        &self,
        kind: TypeId,
        write: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>,
    ) -> Result<Bytes, BrokenRecord> {
        if let Some((kept, text)) = self.text.get().map(Box::as_ref) {
            if *kept == kind {
                return Ok(text.clone());
            }
        }
        // Sized to the record's measure, so the text kept takes no more
        // than the size the caps count (docs/limits.md; a view is never
        // larger than the record it shows).
        let mut text = Vec::with_capacity(self.bytes());
        write(&mut text).map_err(|err| {
            tracing::error!(%err, "a stored record does not serialise");
            BrokenRecord
        })?;
        let text = Bytes::from(text);
        // A concurrent reader may have set it already; either is equal.
        let _ = self.text.set(Box::new((kind, text.clone())));
        Ok(text)
    }

    /// Whether its text has been written (for tests of when it is).
    #[cfg(test)]
    pub(super) fn has_text(&self) -> bool {
        self.text.get().is_some()
    }

    /// Its size as compact JSON as `U` writes it, when it was stored as a
    /// `U` (a record stored as JSON and read as a `U` is `None`: its JSON
    /// may differ from the `U`'s, in member order or defaults).
    pub(super) fn bytes_as<U: 'static>(&self) -> Option<usize> {
        let stored_typed = self.to_json.is_some();
        let is_u = self.typed.get().is_some_and(|t| t.as_ref().is::<U>());
        (stored_typed && is_u).then(|| self.bytes())
    }

    /// Its size as compact JSON (0 when it does not serialise). A typed
    /// record is measured as it is: turning it into JSON to measure it
    /// would keep a JSON tree of it as well (a restored snapshot's records
    /// once took several times their size so).
    pub(super) fn bytes(&self) -> usize {
        *self.bytes.get_or_init(|| {
            if let (Some(typed), Some(json_len)) = (self.typed.get(), self.json_len) {
                if let Some(len) = json_len(typed.as_ref()) {
                    return len;
                }
            }
            match self.as_json() {
                Ok(json) => super::budget::json_len(&*json),
                Err(_) => 0,
            }
        })
    }

    /// The record as JSON, made once when it was stored typed.
    pub fn as_json(&self) -> Result<Arc<Value>, BrokenRecord> {
        if let Some(json) = self.json.get() {
            return Ok(Arc::clone(json));
        }
        let value = match (self.typed.get(), self.to_json) {
            (Some(typed), Some(to_json)) => to_json(typed.as_ref()),
            _ => None,
        }
        .ok_or_else(|| {
            tracing::error!("a stored record does not serialise");
            BrokenRecord
        })?;
        Ok(Arc::clone(self.json.get_or_init(|| Arc::new(value))))
    }

    /// The record as `U`: the stored value when it is one, else decoded from
    /// JSON (and kept, so the next read costs nothing).
    pub fn as_typed<U>(&self, vendor: &str, id: &str) -> Result<Arc<U>, BrokenRecord>
    where
        U: DeserializeOwned + Send + Sync + 'static,
    {
        if let Some(typed) = self.typed.get() {
            if let Ok(record) = Arc::clone(typed).downcast::<U>() {
                return Ok(record);
            }
        }
        let json = self.as_json()?;
        let record: U = U::deserialize(&*json).map_err(|err| {
            tracing::error!(vendor, id, %err, "a stored record does not read as its vendor's type");
            BrokenRecord
        })?;
        let record = Arc::new(record);
        let typed: Typed = Arc::clone(&record) as Typed;
        // A record read as JSON first keeps the decoded form for next time
        // (a concurrent reader may have set it already; either is equal).
        let _ = self.typed.set(typed);
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct User {
        id: String,
        n: i64,
    }

    #[test]
    fn json_records_are_decoded_once_and_typed_ones_serialised_on_demand() {
        let from_json = Record::json(json!({"id": "u", "n": 1}));
        let first = from_json.as_typed::<User>("v", "u").expect("reads");
        let again = from_json.as_typed::<User>("v", "u").expect("reads");
        assert!(Arc::ptr_eq(&first, &again), "decoded once, then kept");

        let typed = Record::typed(User {
            id: "u".into(),
            n: 2,
        });
        assert_eq!(*typed.as_json().expect("json"), json!({"id": "u", "n": 2}));
        assert_eq!(typed.as_typed::<User>("v", "u").expect("typed").n, 2);
    }

    #[test]
    fn a_typed_record_is_measured_without_keeping_a_json_copy() {
        let user = User {
            id: "u".into(),
            n: 12,
        };
        let typed = Record::typed(user.clone());
        assert_eq!(
            typed.bytes(),
            serde_json::to_string(&user).map_or(0, |t| t.len())
        );
        assert!(typed.json.get().is_none(), "no JSON tree kept beside it");
        let from_json = Record::json(json!({"id": "u", "n": 12}));
        assert_eq!(from_json.bytes(), typed.bytes());
    }

    #[test]
    fn a_size_is_lent_as_a_type_s_only_when_stored_as_that_type() {
        let user = User {
            id: "u\"".into(),
            n: 12,
        };
        let written = serde_json::to_string(&user).map_or(0, |t| t.len());
        assert_eq!(Record::typed(user).bytes_as::<User>(), Some(written));
        assert_eq!(Record::typed(7_u8).bytes_as::<User>(), None);
        // Stored as JSON with its keys in another order and a space: read
        // as a `User`, its measure is not the `User`'s.
        let from_json = Record::json(json!({"n": 12, "id": "u\"", "x": " "}));
        from_json.as_typed::<User>("v", "u").expect("reads");
        assert_eq!(from_json.bytes_as::<User>(), None);
    }

    #[test]
    fn a_record_s_text_is_its_typed_json_written_once() {
        // Keys out of the type's order, as a fixture may have them.
        let from_json = Record::json(json!({"n": 3, "id": "u"}));
        let user = from_json.as_typed::<User>("v", "u").expect("reads");
        let text = from_json.text_of(&*user).expect("text");
        assert_eq!(&text[..], br#"{"id":"u","n":3}"#);
        assert_eq!(user.n, 3);
        let again = from_json.text_of(&*user).expect("text");
        assert_eq!(again.as_ptr(), text.as_ptr(), "written once, then kept");
        // A text kept under another type is not taken for this one's.
        let other = Record::json(json!({"id": "u", "n": 4})).with_text::<String>(Bytes::from("x"));
        let user = other.as_typed::<User>("v", "u").expect("reads");
        let text = other.text_of(&*user).expect("text");
        assert_eq!(&text[..], br#"{"id":"u","n":4}"#);
    }

    /// A view of `User` that leaves `n` out.
    struct IdOnly;

    impl View for IdOnly {
        type Of = User;
        fn write(user: &User, out: &mut Vec<u8>) -> serde_json::Result<()> {
            serde_json::to_writer(out, &json!({ "id": user.id }))
        }
    }

    #[test]
    fn a_view_s_text_is_kept_in_place_of_the_record_s_own() {
        let record = Record::json(json!({"id": "u", "n": 5}));
        let user = record.as_typed::<User>("v", "u").expect("reads");
        let view = record.view_text::<IdOnly>(&user).expect("text");
        assert_eq!(&view[..], br#"{"id":"u"}"#);
        let again = record.view_text::<IdOnly>(&user).expect("text");
        assert_eq!(again.as_ptr(), view.as_ptr(), "written once, then kept");
        // The record's own text is not the view's, nor the other way round.
        let own = record.text_of(&*user).expect("text");
        assert_eq!(&own[..], br#"{"id":"u","n":5}"#);
        let shown_first = Record::json(json!({"id": "u", "n": 6}));
        let user = shown_first.as_typed::<User>("v", "u").expect("reads");
        shown_first.text_of(&*user).expect("text");
        let view = shown_first.view_text::<IdOnly>(&user).expect("text");
        assert_eq!(&view[..], br#"{"id":"u"}"#);
    }

    #[test]
    fn a_record_that_does_not_read_as_the_type_is_refused() {
        let broken = Record::json(json!({"id": "u", "n": "many"}));
        assert_eq!(broken.as_typed::<User>("v", "u").err(), Some(BrokenRecord));
    }
}
