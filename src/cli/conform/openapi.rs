//! awork's published OpenAPI document as a check on every awork answer, of
//! usermock and of whatever `record` targets. The parts of the document the
//! served routes use are vendored in `conformance/awork/openapi-subset.json`
//! (its `source` member names the repository, path and commits).

use serde_json::{json, Value};

const SUBSET: &str = include_str!("../../../conformance/awork/openapi-subset.json");
/// The spec's server URL path: its paths are relative to it.
const SERVER_PATH: &str = "/api/v1";

pub struct Spec {
    paths: Value,
    components: Value,
}

impl Spec {
    pub fn awork() -> Result<Spec, String> {
        let doc: Value = serde_json::from_str(SUBSET)
            .map_err(|e| format!("the vendored awork OpenAPI subset does not read: {e}"))?;
        let mut components = doc.get("components").cloned().unwrap_or(Value::Null);
        openapi30_to_json_schema(&mut components);
        Ok(Spec {
            paths: doc.get("paths").cloned().unwrap_or(Value::Null),
            components,
        })
    }

    /// Why `body`, answered with `status` by `method pattern` (a route
    /// pattern such as `/api/v1/users/{userId}`), breaks the document;
    /// empty when it conforms.
    pub fn check(&self, method: &str, pattern: &str, status: u16, body: &Value) -> Vec<String> {
        let path = pattern.strip_prefix(SERVER_PATH).unwrap_or(pattern);
        let Some(operation) = self
            .paths
            .get(path)
            .and_then(|p| p.get(method.to_ascii_lowercase()))
        else {
            return vec![format!(
                "{method} {path} is not in awork's OpenAPI document"
            )];
        };
        let documented = operation
            .get("responses")
            .and_then(|r| r.get(status.to_string()));
        let schema = match documented {
            Some(response) => match response
                .pointer("/content/application~1json/schema")
                .cloned()
            {
                Some(schema) => schema,
                None if body.is_null() => return Vec::new(),
                None => {
                    return vec![format!(
                        "{status} on {method} {path} is documented without a body, but one came"
                    )]
                }
            },
            // The error model of the guide's error-handling page: every
            // error answer has it, even where an operation lists no status.
            None if status >= 400 => json!({ "$ref": "#/components/schemas/ErrorResponse" }),
            None => {
                return vec![format!(
                    "{status} is not a documented answer of {method} {path}"
                )]
            }
        };
        if body.is_null() {
            return vec![format!(
                "{status} on {method} {path} is documented with a JSON body, but none came"
            )];
        }
        let mut root = schema;
        if let Some(map) = root.as_object_mut() {
            map.insert("components".to_owned(), self.components.clone());
        }
        let validator = match jsonschema::options()
            .should_validate_formats(true)
            .build(&root)
        {
            Ok(validator) => validator,
            Err(err) => return vec![format!("the schema does not compile: {err}")],
        };
        validator
            .iter_errors(body)
            .map(|e| format!("{} at '{}'", e, e.instance_path()))
            .collect()
    }
}

/// OpenAPI 3.0's `nullable: true` as JSON Schema (`type: [t, "null"]`).
fn openapi30_to_json_schema(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::String(t)) = map.get("type").cloned() {
                    map.insert("type".into(), json!([t, "null"]));
                }
                if let Some(Value::Array(values)) = map.get_mut("enum") {
                    if !values.contains(&Value::Null) {
                        values.push(Value::Null);
                    }
                }
            }
            map.values_mut().for_each(openapi30_to_json_schema);
        }
        Value::Array(items) => items.iter_mut().for_each(openapi30_to_json_schema),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_that_breaks_awork_s_schema_is_named_and_a_conforming_one_is_not() {
        let spec = Spec::awork().unwrap_or_else(|e| panic!("{e}"));
        let error = json!({
            "code": "not-found",
            "description": "The requested entity was not found.",
            "link": "https://developers.awork.com/#response-types",
            "details": [],
            "validationErrors": [],
            "traceId": "0123456789abcdef0123456789abcdef"
        });
        let path = "/api/v1/users/{userId}";
        assert_eq!(spec.check("GET", path, 404, &error), Vec::<String>::new());
        let broken = json!({"code": "not-found"});
        let problems = spec.check("GET", path, 404, &broken);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("\"description\" is a required property")),
            "{problems:?}"
        );
        assert_eq!(
            spec.check("GET", path, 201, &error),
            vec!["201 is not a documented answer of GET /users/{userId}".to_owned()]
        );
        assert_eq!(
            spec.check("DELETE", path, 204, &json!({"x": 1})),
            vec![
                "204 on DELETE /users/{userId} is documented without a body, but one came"
                    .to_owned()
            ]
        );
    }
}
