//! The admin API's OpenAPI document as served: `openapi.json` with the
//! vendor keys filled in from the registry, so the file never lists
//! vendors and a new vendor needs no edit here.
//!
//! Two markers in the file stand for the registry:
//! - `"x-usermock-vendor-enum": true` on a schema becomes `"enum": [keys]`
//!   (plus `null` when the schema's `type` allows null);
//! - `"x-usermock-vendor-properties": SCHEMA` becomes `"properties"` with
//!   one member per vendor key, each `SCHEMA`.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use crate::vendors;

const SOURCE: &str = include_str!("openapi.json");

const ENUM_MARKER: &str = "x-usermock-vendor-enum";
const PROPERTIES_MARKER: &str = "x-usermock-vendor-properties";

/// Built once: the document is the same for the life of the process.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<&str> = vendors::ALL.iter().map(|s| s.name).collect();
    render(SOURCE, &names)
});

/// The document served at `/__admin/openapi.json`.
pub(crate) fn document() -> &'static str {
    &DOCUMENT
}

/// `source` with its markers replaced by `names`. The source is the
/// crate's own file, checked by the tests; were it ever unreadable the
/// source is served as it is rather than nothing.
fn render(source: &str, names: &[&str]) -> String {
    let Ok(mut document) = serde_json::from_str::<Value>(source) else {
        tracing::error!("src/admin/openapi.json is not JSON");
        return source.to_owned();
    };
    fill(&mut document, names);
    serde_json::to_string_pretty(&document).unwrap_or_else(|_| source.to_owned())
}

fn fill(node: &mut Value, names: &[&str]) {
    match node {
        Value::Object(object) => {
            if object.remove(ENUM_MARKER).is_some() {
                let nullable = match object.get("type") {
                    Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
                    _ => false,
                };
                let mut values: Vec<Value> = names.iter().map(|n| Value::from(*n)).collect();
                if nullable {
                    values.push(Value::Null);
                }
                object.insert("enum".to_owned(), Value::Array(values));
            }
            if let Some(schema) = object.remove(PROPERTIES_MARKER) {
                let properties: Map<String, Value> = names
                    .iter()
                    .map(|n| ((*n).to_owned(), schema.clone()))
                    .collect();
                object.insert("properties".to_owned(), Value::Object(properties));
            }
            object.values_mut().for_each(|v| fill(v, names));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| fill(v, names)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_markers_become_the_registry_s_keys() {
        let source = r#"{"a": {"type": "string", "x-usermock-vendor-enum": true},
            "b": {"type": ["string", "null"], "x-usermock-vendor-enum": true},
            "c": {"type": "object", "x-usermock-vendor-properties": {"type": "integer"}}}"#;
        let rendered: Value =
            serde_json::from_str(&render(source, &["one", "two"])).unwrap_or_default();
        assert_eq!(
            rendered,
            serde_json::json!({
                "a": {"type": "string", "enum": ["one", "two"]},
                "b": {"type": ["string", "null"], "enum": ["one", "two", null]},
                "c": {"type": "object", "properties": {"one": {"type": "integer"}, "two": {"type": "integer"}}}
            })
        );
    }

    #[test]
    fn the_file_itself_names_no_vendor_as_a_value_or_member() {
        // Vendor keys live only in the registry: the file marks where they go.
        let source: Value = serde_json::from_str(SOURCE).unwrap_or_default();
        let mut found = Vec::new();
        fn walk(node: &Value, keys: &[&str], found: &mut Vec<String>) {
            match node {
                Value::Object(object) => {
                    for (name, value) in object {
                        if name == "enum" || name == "properties" {
                            let listed: Vec<&str> = match value {
                                Value::Array(v) => v.iter().filter_map(Value::as_str).collect(),
                                Value::Object(m) => m.keys().map(String::as_str).collect(),
                                _ => Vec::new(),
                            };
                            found.extend(
                                listed
                                    .iter()
                                    .filter(|l| keys.contains(l))
                                    .map(|l| format!("{name}: {l}")),
                            );
                        }
                        walk(value, keys, found);
                    }
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, keys, found)),
                _ => {}
            }
        }
        let keys: Vec<&str> = vendors::ALL.iter().map(|s| s.name).collect();
        walk(&source, &keys, &mut found);
        assert!(
            found.is_empty(),
            "src/admin/openapi.json lists vendor keys ({found:?}); use the x-usermock-vendor-* markers"
        );
    }
}
