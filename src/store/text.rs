//! [`Text`]: a string member of a stored record that copies of the record
//! share. A write changes a copy of the stored record (the store's records
//! never change in place), so with `String` members every write made one
//! heap block per member it did not touch; a `Text` is copied by counting
//! a reference. It reads, writes and describes itself (JSON Schema) exactly
//! as a `String` does.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use schemars::gen::SchemaGenerator;
use schemars::schema::Schema;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A shared, immutable string: a record member copies share.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Text(Arc<str>);

impl Text {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text(Arc::from(text))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text(Arc::from(text))
    }
}

impl From<Cow<'_, str>> for Text {
    fn from(text: Cow<'_, str>) -> Text {
        Text(Arc::from(text.as_ref()))
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, text: &str) -> Result<Text, E> {
                Ok(Text::from(text))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl JsonSchema for Text {
    fn is_referenceable() -> bool {
        String::is_referenceable()
    }

    fn schema_name() -> String {
        String::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        String::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        String::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_reads_writes_and_describes_itself_as_a_string_does() {
        for json in [r#""plain""#, r#""Kr\u00fcger \"q\" \\ \n""#, r#""""#] {
            let text: Text = serde_json::from_str(json).expect("reads");
            let string: String = serde_json::from_str(json).expect("reads");
            assert_eq!(text, string);
            assert_eq!(
                serde_json::to_string(&text).ok(),
                serde_json::to_string(&string).ok()
            );
        }
        assert!(serde_json::from_str::<Text>("7").is_err());
        assert!(serde_json::from_str::<Text>("null").is_err());
        let schema = |s: Schema| serde_json::to_value(s).ok();
        let mut generator = SchemaGenerator::default();
        assert_eq!(
            schema(Text::json_schema(&mut generator)),
            schema(String::json_schema(&mut generator))
        );
        assert_eq!(Text::schema_name(), String::schema_name());
    }

    #[test]
    fn copies_share_one_string() {
        let text = Text::from("shared");
        let copy = text.clone();
        assert!(std::ptr::eq(text.as_ptr(), copy.as_ptr()));
        assert_eq!(copy, "shared");
    }
}
