//! Credentials for a conformance run: from the environment, a JSON file, or
//! the default fixture's. Every value is a secret except the tenant
//! parameters (`client_id` of ScalePad's client); secrets are never printed
//! and are blanked out of anything recorded.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// Where the credentials come from (`--credentials fixture|env|FILE`).
#[derive(Debug, Clone)]
pub enum Source {
    Fixture,
    Env,
    File(std::path::PathBuf),
}

impl Source {
    pub fn parse(text: &str) -> Source {
        match text {
            "fixture" => Source::Fixture,
            "env" => Source::Env,
            path => Source::File(path.into()),
        }
    }
}

/// The fields a vendor's credentials have, and which are not secret.
pub fn fields(vendor: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match vendor {
        // `client_id`: the ScalePad client every route is scoped under; the
        // API has no list of clients, so the tenant names it.
        "activity" => (&["key", "limited_key", "client_id"], &["client_id"]),
        "relesys" => (
            &[
                "client_id",
                "client_secret",
                "scope",
                "limited_client_id",
                "limited_client_secret",
                "limited_scope",
                "token",
                "limited_token",
            ],
            &["scope", "limited_scope"],
        ),
        // `role_id`: the role an invitation gives (awork serves no role
        // list on the routes usermock emulates).
        "awork" => (&["token", "limited_token", "role_id"], &["role_id"]),
        // `child_company_id`: a direct child company of the key's company,
        // for the child-scoped routes.
        "replay" => (
            &["key", "limited_key", "child_company_id"],
            &["child_company_id"],
        ),
        _ => (&[], &[]),
    }
}

/// The environment variable for `field` of `vendor`:
/// `USERMOCK_CONFORM_RELESYS_CLIENT_SECRET`.
pub fn env_name(vendor: &str, field: &str) -> String {
    format!(
        "USERMOCK_CONFORM_{}_{}",
        vendor.to_ascii_uppercase(),
        field.to_ascii_uppercase()
    )
}

/// One vendor's credentials: field → value.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    values: BTreeMap<String, String>,
    public: Vec<&'static str>,
}

impl Credentials {
    pub fn load(vendor: &str, source: &Source) -> Result<Credentials, String> {
        let (names, public) = fields(vendor);
        let mut values = BTreeMap::new();
        match source {
            Source::Fixture => {
                for (field, value) in fixture(vendor) {
                    values.insert((*field).to_owned(), (*value).to_owned());
                }
            }
            Source::Env => {
                for field in names {
                    if let Ok(value) = std::env::var(env_name(vendor, field)) {
                        if !value.is_empty() {
                            values.insert((*field).to_owned(), value);
                        }
                    }
                }
            }
            Source::File(path) => {
                values = from_file(path, vendor)?;
                if let Some(unknown) = values.keys().find(|k| !names.contains(&k.as_str())) {
                    return Err(format!(
                        "{}: unknown {vendor} credential field '{unknown}' (known: {})",
                        path.display(),
                        names.join(", ")
                    ));
                }
            }
        }
        Ok(Credentials {
            values,
            public: public.to_vec(),
        })
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.values.get(field).map(String::as_str)
    }

    pub fn set(&mut self, field: &str, value: String) {
        self.values.insert(field.to_owned(), value);
    }

    /// The values to blank out of anything recorded or printed.
    pub fn secrets(&self) -> Vec<String> {
        self.values
            .iter()
            .filter(|(k, _)| !self.public.contains(&k.as_str()))
            .map(|(_, v)| v.clone())
            .filter(|v| v.len() >= 4)
            .collect()
    }

    /// `cred.<field>` variables for the cases.
    pub fn variables(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.values
            .iter()
            .map(|(k, v)| (format!("cred.{k}"), v.clone()))
    }
}

fn from_file(path: &Path, vendor: &str) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the credentials file {}: {e}", path.display()))?;
    // The parse error is not shown: it could quote a secret.
    let all: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "the credentials file {} is not JSON (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    let mut values = BTreeMap::new();
    if let Some(own) = all.get(vendor) {
        let Some(own) = own.as_object() else {
            return Err(format!(
                "{}: '{vendor}' must be an object of strings",
                path.display()
            ));
        };
        for (field, value) in own {
            let Some(value) = value.as_str() else {
                return Err(format!(
                    "{}: {vendor}.{field} must be a string",
                    path.display()
                ));
            };
            values.insert(field.clone(), value.to_owned());
        }
    }
    Ok(values)
}

/// The default fixture's credentials (`fixtures/<vendor>.json`): a full
/// one and a limited one per vendor. A test verifies the corpus with them,
/// so they cannot drift from the fixtures unnoticed.
fn fixture(vendor: &str) -> &'static [(&'static str, &'static str)] {
    match vendor {
        "activity" => &[
            ("key", "activity-admin"),
            ("limited_key", "activity-limited"),
            ("client_id", "aa7cf840-9ca9-46a3-9778-9015d6580d50"),
        ],
        "relesys" => &[
            ("client_id", "0f8fad5b-d9cb-469f-a165-70867728950e"),
            ("client_secret", "relesys-admin-secret"),
            ("limited_client_id", "7c9e6679-7425-40de-944b-e07fc1f90ae7"),
            ("limited_client_secret", "relesys-readonly-secret"),
        ],
        "awork" => &[
            ("token", "awork-admin"),
            ("limited_token", "awork-member"),
            ("role_id", "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6f"),
        ],
        "replay" => &[
            ("key", "replay-parent"),
            ("limited_key", "replay-child"),
            ("child_company_id", "22222222-2222-4222-8222-222222222222"),
        ],
        _ => &[],
    }
}

/// How a vendor is authenticated: which header, and how a credential
/// becomes its value.
pub fn auth_header(vendor: &str, credential: &str) -> (&'static str, String) {
    match vendor {
        "replay" => ("x-api-key", credential.to_owned()),
        _ => ("authorization", format!("Bearer {credential}")),
    }
}

/// The credential field a role uses (`main` → `key`), after any token
/// fetch has filled `token`/`limited_token`.
pub fn role_field(vendor: &str, role: &str) -> Option<&'static str> {
    let limited = role == "limited";
    Some(match (vendor, limited) {
        ("activity" | "replay", false) => "key",
        ("activity" | "replay", true) => "limited_key",
        ("relesys" | "awork", false) => "token",
        ("relesys" | "awork", true) => "limited_token",
        _ => return None,
    })
}
