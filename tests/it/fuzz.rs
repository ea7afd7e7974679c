//! A bounded, seeded fuzzer per vendor: structured-but-hostile requests
//! (valid requests from the vendors' docs, mutated) sent over HTTP to an
//! in-process server. Every request must get an answer below 500 (unless a
//! scenario it named asks for a 5xx or a dropped connection) within 5 s;
//! the server keeps answering `/__admin/health`; and every stored user
//! still passes its vendor's fixture validation (each record read through
//! `GET /__admin/{vendor}/users` is `PUT` back to `/__admin/{vendor}/users/{id}`,
//! which validates it like a fixture entry).
//!
//! - `USERMOCK_FUZZ_SECS`: seconds per vendor (default 3, so `cargo test`
//!   stays fast; the long runs: `USERMOCK_FUZZ_SECS=600 cargo test --release
//!   --test fuzz relesys -- --nocapture`).
//! - `USERMOCK_FUZZ_SEED`: replay a run (the seed is printed at the start).
//!   Requests are generated from the seed alone (never from answers), so a
//!   seed replays the same requests in the same order.
//!
//! Requests found to misbehave are printed whole and saved under the
//! system's temporary folder (`usermock-fuzz-<vendor>-<seed>-<n>.http`) for
//! minimising; minimised ones live in `tests/fuzz-seeds/`.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::TestServer;
use fastrand::Rng;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A request slower than this is a hang, not a slow answer.
const HANG: Duration = Duration::from_secs(5);
/// Every this many requests: health, and every stored record re-validated.
const CHECK_EVERY: u64 = 300;
/// Every this many requests the state goes back to the fixtures, so the
/// run keeps starting from records the emulation accepts writes to.
const RESET_EVERY: u64 = 3000;
/// `Options::default().max_body`.
const MAX_BODY: usize = 1024 * 1024;
/// `Options::default().max_header_bytes`.
const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Sessions the generator uses (besides the shared state).
const SESSIONS: [&str; 2] = ["fuzz-a", "fuzz-b"];
/// At most this many findings are kept whole (all are counted).
const MAX_FINDINGS: usize = 20;

// ------------------------------------------------------------------ vendors --

struct Route {
    path: &'static str,
    methods: &'static [&'static str],
}

/// What the generator knows about a vendor: its routes, the values of its
/// path parameters, credentials, query parameters and valid bodies.
struct Spec {
    vendor: &'static str,
    host: &'static str,
    routes: Vec<Route>,
    params: Vec<(&'static str, Vec<&'static str>)>,
    credentials: Vec<(&'static str, &'static str)>,
    content_types: Vec<&'static str>,
    query: fn(&mut Rng) -> (String, String),
    body: fn(&mut Rng, &str, &str) -> Payload,
}

enum Payload {
    Json(Value),
    Form(String),
}

const ACTIVITY_CLIENTS: [&str; 2] = [
    "aa7cf840-9ca9-46a3-9778-9015d6580d50",
    "b5e0c3d2-6f4a-4c1b-9e8d-7a6b5c4d3e2f",
];
const ACTIVITY_DEPARTMENTS: [&str; 6] = [
    "d1a2b3c4-e5f6-7890-abcd-ef1234567890",
    "e2b3c4d5-f6a7-8901-bcde-f12345678901",
    "f3c4d5e6-a7b8-4012-8def-123456789012",
    "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "4b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d",
    "7c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f",
];
const ACTIVITY_USERS: [&str; 6] = [
    "a1d97031-04e2-4907-a249-093f7436207b",
    "5b2e8f61-3c7d-4a9e-b1f0-6d4c2a8e9b37",
    "c7d4e2a9-8b1f-4e6c-9a3d-5f2b7e1c8d40",
    "1e9f4b3a-2d8c-4f7e-a6b5-c0d9e8f7a6b5",
    "9f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f",
    "3f1c2b4a-5d6e-4f70-8a91-b2c3d4e5f601",
];

fn activity() -> Spec {
    Spec {
        vendor: "activity",
        host: "api.example.com",
        routes: vec![
            Route {
                path: "/v2/clients/{client_id}",
                methods: &["GET"],
            },
            Route {
                path: "/v2/clients/{client_id}/users",
                methods: &["GET"],
            },
            Route {
                path: "/v2/clients/{client_id}/users/summary",
                methods: &["GET"],
            },
            Route {
                path: "/v2/clients/{client_id}/users/{user_id}",
                methods: &["GET", "PATCH", "PATCH", "PATCH"],
            },
            Route {
                path: "/v2/clients/{client_id}/departments",
                methods: &["GET", "POST"],
            },
            Route {
                path: "/v2/clients/{client_id}/departments/{department_id}",
                methods: &["GET", "PATCH", "DELETE"],
            },
            Route {
                path: "/v2/clients/{client_id}/departments/{department_id}/members",
                methods: &["POST"],
            },
            Route {
                path: "/v2/clients/{client_id}/departments/{department_id}/members/remove",
                methods: &["POST"],
            },
        ],
        params: vec![
            ("client_id", ACTIVITY_CLIENTS.to_vec()),
            ("user_id", ACTIVITY_USERS.to_vec()),
            ("department_id", ACTIVITY_DEPARTMENTS.to_vec()),
        ],
        credentials: vec![
            ("authorization", "Bearer activity-admin"),
            ("authorization", "Bearer activity-admin"),
            ("authorization", "Bearer activity-limited"),
        ],
        content_types: vec!["application/json", "application/merge-patch+json"],
        query: |rng| {
            let key = *pick(
                rng,
                &[
                    "q",
                    "department_id",
                    "sort_by",
                    "sort_order",
                    "page_size",
                    "cursor",
                    "stale_threshold",
                ],
            );
            let value = match key {
                "department_id" => pick(rng, &ACTIVITY_DEPARTMENTS).to_string(),
                "sort_by" => pick(
                    rng,
                    &[
                        "username",
                        "last_activity",
                        "created_at",
                        "member_count",
                        "name",
                    ],
                )
                .to_string(),
                "sort_order" => pick(rng, &["asc", "desc"]).to_string(),
                "page_size" | "stale_threshold" => number_text(rng),
                "cursor" => base64ish(rng),
                _ => text(rng),
            };
            (key.to_owned(), value)
        },
        body: |rng, route, _method| {
            let ids = |rng: &mut Rng, from: &[&str]| -> Value {
                let n = rng.usize(0..4);
                Value::from((0..n).map(|_| *pick(rng, from)).collect::<Vec<_>>())
            };
            Payload::Json(match route {
                r if r.ends_with("{user_id}") => {
                    json!({ "departments": ids(rng, &ACTIVITY_DEPARTMENTS) })
                }
                r if r.ends_with("/members") || r.ends_with("/remove") => {
                    json!({ "user_ids": ids(rng, &ACTIVITY_USERS) })
                }
                _ => {
                    json!({ "name": format!("Dept {}", rng.u16(..)), "description": "made by the fuzzer" })
                }
            })
        },
    }
}

const RELESYS_USERS: [&str; 5] = [
    "6cd99267-5adf-462d-88a2-6f86b7b2a164",
    "8a1e5c3f-2b7d-4e9a-b6c4-0d2f8e1a7b35",
    "3d7b9f21-6c4e-4a8b-9e0d-5f1a2c3b4d6e",
    "f0e1d2c3-b4a5-4697-8877-665544332211",
    "a9b8c7d6-e5f4-4321-8fed-cba987654321",
];
const RELESYS_DEPARTMENTS: [&str; 3] = [
    "5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5",
    "27744bfa-d16b-4a6a-8f9a-8a79351f9c5f",
    "b3f1c2d4-8e7a-4c5b-9d6e-1f2a3b4c5d6e",
];
const RELESYS_GROUPS: [&str; 3] = [
    "22360293-0789-4346-ba9a-5609fa65703c",
    "d7acaa63-ea93-4b39-a868-22bea4e7d625",
    "e4d3c2b1-a098-4f7e-8d6c-5b4a39281706",
];
const RELESYS_PATHS: [&str; 30] = [
    "",
    "/",
    "/id",
    "/url",
    "/status",
    "/name",
    "/Name",
    "/title",
    "/userName",
    "/email",
    "/secondaryEmail",
    "/phoneNumber",
    "/phoneNumber/countryCode",
    "/PhoneNumber/Number",
    "/secondaryPhoneNumber",
    "/birthDate",
    "/primaryDepartmentId",
    "/additionalDepartments",
    "/additionalDepartments/0",
    "/additionalDepartments/-",
    "/userGroups",
    "/userGroups/1",
    "/userGroups/-",
    "/userGroups/0/id",
    "/customFields",
    "/customFields/customfieldone",
    "/customFields/shoesize",
    "/employmentDate",
    "/employmentType",
    "/lastModifiedDateTime",
];

fn relesys() -> Spec {
    Spec {
        vendor: "relesys",
        host: "api.relesysapp.net",
        routes: vec![
            Route {
                path: "/api/v1.3/users",
                methods: &["GET", "POST"],
            },
            Route {
                path: "/api/v1.3/users/{userId}",
                methods: &["GET", "PATCH", "PATCH", "PATCH", "PATCH"],
            },
            Route {
                path: "/api/v1.3/users/{userId}/status",
                methods: &["PUT"],
            },
            Route {
                path: "/api/v1.3/departments",
                methods: &["GET", "POST"],
            },
            Route {
                path: "/api/v1.3/departments/{departmentId}",
                methods: &["GET", "PATCH", "PATCH", "DELETE"],
            },
            Route {
                path: "/api/v1.3/userGroups",
                methods: &["GET", "POST"],
            },
            Route {
                path: "/api/v1.3/userGroups/{userGroupId}",
                methods: &["GET", "PATCH", "PATCH", "DELETE"],
            },
            Route {
                path: "/api/v1.3/customfields/users",
                methods: &["GET"],
            },
            Route {
                path: "/login/oauth/authorize",
                methods: &["POST"],
            },
        ],
        params: vec![
            ("userId", RELESYS_USERS.to_vec()),
            ("departmentId", RELESYS_DEPARTMENTS.to_vec()),
            ("userGroupId", RELESYS_GROUPS.to_vec()),
        ],
        credentials: vec![
            ("authorization", "Bearer relesys-admin"),
            ("authorization", "Bearer relesys-admin"),
            ("authorization", "Bearer relesys-readonly"),
        ],
        content_types: vec![
            "application/json-patch+json",
            "application/json",
            "application/x-www-form-urlencoded",
        ],
        query: |rng| {
            let field = *pick(
                rng,
                &[
                    "name",
                    "status",
                    "title",
                    "email",
                    "birthDate",
                    "creationDateTime",
                    "id",
                    "primaryDepartmentId",
                    "externalId",
                    "userName",
                    "NAME",
                ],
            );
            let op = *pick(
                rng,
                &[
                    "", "", "[ne]", "[lt]", "[lte]", "[gt]", "[gte]", "[like]", "[", "[]",
                ],
            );
            match rng.u8(..6) {
                0 => ("limit".into(), number_text(rng)),
                1 => ("offset".into(), number_text(rng)),
                2 => {
                    let made_up = base64ish(rng);
                    let issued_like = "0123456789abcdef0123456789abcdef".to_owned();
                    (
                        "cursor".into(),
                        if rng.bool() { issued_like } else { made_up },
                    )
                }
                3 => {
                    let n = if chance(rng, 0.05) {
                        rng.usize(100..3000)
                    } else {
                        rng.usize(1..4)
                    };
                    let keys: Vec<String> = (0..n)
                        .map(|_| {
                            format!(
                                "{}{}",
                                pick(rng, &["", "-", "+", "--"]),
                                pick(
                                    rng,
                                    &["name", "status", "creationDateTime", "birthDate", "id", "x"]
                                )
                            )
                        })
                        .collect();
                    ("sort".into(), keys.join(","))
                }
                _ => {
                    let value = match field {
                        "status" => pick(
                            rng,
                            &["Activated", "Disabled", "Pending", "LoginBlocked", "null"],
                        )
                        .to_string(),
                        "birthDate" | "creationDateTime" => date_text(rng),
                        "id" | "primaryDepartmentId" => pick(rng, &RELESYS_DEPARTMENTS).to_string(),
                        _ => text(rng),
                    };
                    (format!("{field}{op}"), value)
                }
            }
        },
        body: |rng, route, method| match (route, method) {
            ("/login/oauth/authorize", _) => {
                let mut parts = vec![
                    "grant_type=client_credentials".to_owned(),
                    format!(
                        "client_id={}",
                        pick(
                            rng,
                            &[
                                "0f8fad5b-d9cb-469f-a165-70867728950e",
                                "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                                "x"
                            ]
                        )
                    ),
                    format!(
                        "client_secret={}",
                        pick(
                            rng,
                            &["relesys-admin-secret", "relesys-readonly-secret", ""]
                        )
                    ),
                    format!(
                        "scope={}",
                        pick(
                            rng,
                            &[
                                "relesys.api.users",
                                "relesys.api%20relesys.api:read",
                                "relesys.api.users:write+relesys.api",
                                "nope"
                            ]
                        )
                    ),
                ];
                if chance(rng, 0.3) {
                    parts.remove(rng.usize(..parts.len()));
                }
                if chance(rng, 0.2) {
                    let again = pick(rng, &parts).clone();
                    parts.push(again);
                }
                rng.shuffle(&mut parts);
                Payload::Form(parts.join("&"))
            }
            ("/api/v1.3/users/{userId}/status", _) => Payload::Json(json!({
                "status": pick(rng, &["Activated", "Disabled", "Pending", "LoginBlocked", "Deleted"]),
            })),
            ("/api/v1.3/departments" | "/api/v1.3/userGroups", "POST") => Payload::Json(json!({
                "name": format!("Fuzz {}", rng.u16(..)),
                "parentId": pick(rng, &RELESYS_DEPARTMENTS),
                "type": pick(rng, &["Store", "Castle"]),
            })),
            (_, "POST") => Payload::Json(json!({
                "name": format!("Fuzz {}", rng.u16(..)),
                "primaryDepartmentId": pick(rng, &RELESYS_DEPARTMENTS),
                "userGroups": [{"id": pick(rng, &RELESYS_GROUPS)}],
                "customFields": {"shoesize": "42"},
                "birthDate": date_text(rng),
            })),
            _ => Payload::Json(json_patch(rng)),
        },
    }
}

/// A JSON Patch document: ordinary operations on the user's members, and
/// now and then a copy/move loop that would grow or tangle the record.
fn json_patch(rng: &mut Rng) -> Value {
    match rng.u8(..20) {
        0 => {
            // The copy bomb: each copy doubles /customFields.
            let n = rng.usize(1..40);
            Value::from((0..n).map(|i| json!({"op": "copy", "from": "/customFields", "path": format!("/customFields/k{i}")})).collect::<Vec<_>>())
        }
        1 => {
            // Moves into their own children, and arrays grown by copies.
            let (from, path) = *pick(
                rng,
                &[
                    ("/customFields", "/customFields/x"),
                    ("/phoneNumber", "/phoneNumber/number"),
                    ("/userGroups", "/userGroups/0"),
                    ("/userGroups/0", "/userGroups/-"),
                    ("/additionalDepartments", "/additionalDepartments/-"),
                    ("/name", "/name"),
                ],
            );
            let op = *pick(rng, &["move", "copy"]);
            let n = rng.usize(1..300);
            Value::from(vec![json!({"op": op, "from": from, "path": path}); n])
        }
        2 => {
            // Many small operations.
            let n = rng.usize(100..3000);
            Value::from(
                (0..n)
                    .map(|i| json!({"op": "replace", "path": "/title", "value": format!("t{i}")}))
                    .collect::<Vec<_>>(),
            )
        }
        _ => {
            let n = rng.usize(0..6);
            Value::from((0..n).map(|_| patch_op(rng)).collect::<Vec<_>>())
        }
    }
}

fn patch_op(rng: &mut Rng) -> Value {
    let op = *pick(
        rng,
        &[
            "add", "remove", "replace", "replace", "move", "copy", "test", "bogus", "REPLACE",
        ],
    );
    let path = patch_path(rng);
    let mut out = json!({"op": op, "path": path});
    if matches!(op, "move" | "copy") || chance(rng, 0.1) {
        out["from"] = Value::from(patch_path(rng));
    }
    if matches!(op, "add" | "replace" | "test") || chance(rng, 0.1) {
        out["value"] = relesys_value(rng, &path);
    }
    out
}

fn patch_path(rng: &mut Rng) -> String {
    match rng.u8(..10) {
        0 => pick(
            rng,
            &[
                "/customFields/~0",
                "/customFields/a~1b",
                "/~2",
                "/userGroups/01",
                "/userGroups/-1",
                "/userGroups/99999999999999999999",
                "/phoneNumber/number/x/y",
                "//",
                "/customFields/",
                "name",
                "/userGroups/0/id/x",
            ],
        )
        .to_string(),
        1 => format!(
            "/customFields/{}",
            pick(rng, &["customfieldtwo", "unknown", "", "ÆØÅ", "k0"])
        ),
        2 => "/a".repeat(rng.usize(1..2000)),
        _ => pick(rng, &RELESYS_PATHS).to_string(),
    }
}

fn relesys_value(rng: &mut Rng, path: &str) -> Value {
    if chance(rng, 0.3) {
        return any_value(rng, 3);
    }
    let lower = path.to_ascii_lowercase();
    match lower.as_str() {
        "/status" => json!(pick(
            rng,
            &["Activated", "Disabled", "Pending", "LoginBlocked"]
        )),
        "/phonenumber" | "/secondaryphonenumber" => {
            json!({"countryCode": pick(rng, &[45, 0, 1000, -1]), "number": pick(rng, &["12345678", "12a", ""])})
        }
        "/birthdate" | "/employmentdate" => json!(date_text(rng)),
        "/primarydepartmentid" => json!(pick(rng, &RELESYS_DEPARTMENTS)),
        "/additionaldepartments" => json!([{"id": pick(rng, &RELESYS_DEPARTMENTS)}]),
        "/usergroups" => {
            json!([{"id": pick(rng, &RELESYS_GROUPS)}, {"id": pick(rng, &RELESYS_GROUPS)}])
        }
        "/usergroups/-" | "/usergroups/1" => json!({"id": pick(rng, &RELESYS_GROUPS)}),
        "/customfields" => json!({"customfieldone": text(rng), "shoesize": "41"}),
        "/email" | "/secondaryemail" => json!(pick(rng, &["a@b.dk", "not-an-email", "x@y"])),
        _ => json!(text(rng)),
    }
}

const AWORK_USERS: [&str; 8] = [
    "9b2f6c1e-3d4a-4e5b-8c7d-1a2b3c4d5e6f",
    "4e8d2a1b-7c6f-4d3e-9a8b-2c1d0e9f8a7b",
    "7d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d",
    "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
    "8e9f0a1b-2c3d-4e4f-9a5b-6c7d8e9f0a1b",
    "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
    "3a4b5c6d-7e8f-4091-a2b3-c4d5e6f7a8b9",
    "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b",
];

fn awork() -> Spec {
    Spec {
        vendor: "awork",
        host: "api.awork.com",
        routes: vec![
            Route {
                path: "/api/v1/users",
                methods: &["GET"],
            },
            Route {
                path: "/api/v1/users/me",
                methods: &["GET"],
            },
            Route {
                path: "/api/v1/me",
                methods: &["GET"],
            },
            Route {
                path: "/api/v1/users/{userId}",
                methods: &["GET", "PUT", "PUT", "PUT", "DELETE"],
            },
            Route {
                path: "/api/v1/users/{userId}/deactivate",
                methods: &["POST"],
            },
            Route {
                path: "/api/v1/users/{userId}/activate",
                methods: &["POST"],
            },
            Route {
                path: "/api/v1/users/{userId}/setarchived",
                methods: &["POST"],
            },
            Route {
                path: "/api/v1/invitations",
                methods: &["POST"],
            },
        ],
        params: vec![("userId", AWORK_USERS.to_vec())],
        credentials: vec![
            ("authorization", "Bearer awork-admin"),
            ("authorization", "Bearer awork-admin"),
            ("authorization", "Bearer awork-member"),
            ("authorization", "Bearer awork-hr"),
            ("authorization", "Bearer awork-manager"),
            ("authorization", "Bearer awork-reader"),
        ],
        content_types: vec![
            "application/json",
            "application/json; charset=utf-8",
            "text/json",
        ],
        query: |rng| match rng.u8(..6) {
            0 => ("page".into(), number_text(rng)),
            1 => ("pageSize".into(), number_text(rng)),
            2 => ("orderby".into(), awork_orderby(rng)),
            3 => (
                pick(rng, &["showArchived", "includeSummary"]).to_string(),
                pick(rng, &["true", "false", "1", "TRUE", ""]).to_string(),
            ),
            _ => ("filterby".into(), awork_filter(rng, 0)),
        },
        body: |rng, route, _method| {
            Payload::Json(match route {
                "/api/v1/users/{userId}" => json!({
                    "firstName": text(rng), "lastName": "Fuzz", "title": "Dr.", "position": "Tester",
                    "gender": pick(rng, &["male", "female", "other", "robot"]),
                    "language": pick(rng, &["en-GB", "de", "zh-Hant-TW", "es-419", "xx", "en_GB"]),
                    "birthDate": date_text(rng),
                }),
                "/api/v1/users/{userId}/setarchived" => json!({"isArchived": rng.bool()}),
                "/api/v1/invitations" => json!({
                    "workspaceId": "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "invitationFlow": "invite",
                    "email": format!("fuzz{}@example.com", rng.u16(..)),
                    "roleId": pick(rng, &["2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6f", "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"]),
                    "firstName": "Fuzz", "teamIds": ["7b6c5d4e-3f2a-4b1c-8d9e-0f1a2b3c4d5e"], "skipSendingEmail": true,
                }),
                _ => json!({}),
            })
        },
    }
}

/// An awork `filterby` expression: the guide's operators, combined and
/// nested, and now and then nested (or chained) thousands deep.
fn awork_filter(rng: &mut Rng, depth: u32) -> String {
    const ATOMS: [&str; 14] = [
        "firstName eq 'Mara'",
        "startswith(lastName,'B')",
        "contains(tolower(firstName),'a')",
        "createdOn gt datetime'2020-01-01T00:00:00Z'",
        "status/isDeactivated eq false",
        "id eq guid'9b2f6c1e-3d4a-4e5b-8c7d-1a2b3c4d5e6f'",
        "isArchived eq true",
        "birthDate lt datetime'1990-01-01'",
        "firstName eq null",
        "substringof('a',firstName)",
        "endswith(firstName,'a')",
        "x eq 1",
        "firstName in ('a','b')",
        "firstName eq 'it''s'",
    ];
    match rng.u8(..12) {
        0 if depth == 0 => {
            let n = rng.usize(10..20_000);
            format!("{}{}{}", "(".repeat(n), pick(rng, &ATOMS), ")".repeat(n))
        }
        1 if depth == 0 => format!(
            "{}{}",
            "not ".repeat(rng.usize(10..5_000)),
            pick(rng, &ATOMS)
        ),
        2 if depth == 0 => vec![*pick(rng, &ATOMS); rng.usize(10..1_000)].join(" and "),
        3 if depth == 0 => {
            let n = rng.usize(10..5_000);
            format!("{}firstName{}", "tolower(".repeat(n), ")".repeat(n))
        }
        4 | 5 if depth < 4 => format!(
            "{} {} {}",
            awork_filter(rng, depth + 1),
            pick(rng, &["and", "or", "AND", "xor"]),
            awork_filter(rng, depth + 1)
        ),
        6 if depth < 4 => format!("not ({})", awork_filter(rng, depth + 1)),
        7 => {
            let atom = *pick(rng, &ATOMS);
            mangle(rng, atom)
        }
        _ => pick(rng, &ATOMS).to_string(),
    }
}

fn awork_orderby(rng: &mut Rng) -> String {
    let n = if chance(rng, 0.05) {
        rng.usize(100..3000)
    } else {
        rng.usize(1..4)
    };
    (0..n)
        .map(|_| {
            format!(
                "{}{}",
                pick(
                    rng,
                    &[
                        "lastName",
                        "FirstName",
                        "createdOn",
                        "birthDate",
                        "status/isDeactivated",
                        "nope",
                        ""
                    ]
                ),
                pick(rng, &["", " desc", " asc", " DESC", " sideways"])
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

const REPLAY_USERS: [&str; 6] = [
    "3c90c3cc-0d44-4b50-8888-8dd25736052a",
    "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
    "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
    "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a",
    "0a000000-0000-4000-8000-000000000001",
];
const REPLAY_COMPANIES: [&str; 5] = [
    "11111111-1111-4111-8111-111111111111",
    "22222222-2222-4222-8222-222222222222",
    "33333333-3333-4333-8333-333333333333",
    "55555555-5555-4555-8555-555555555555",
    "44444444-4444-4444-8444-444444444444",
];

fn replay() -> Spec {
    Spec {
        vendor: "replay",
        host: "app.replay.sale",
        routes: vec![
            Route {
                path: "/api/user",
                methods: &["GET", "POST"],
            },
            Route {
                path: "/api/user/{userId}",
                methods: &["GET", "PATCH", "PATCH", "PATCH"],
            },
            Route {
                path: "/api/company/child",
                methods: &["POST"],
            },
        ],
        params: vec![("userId", REPLAY_USERS.to_vec())],
        credentials: vec![
            ("x-api-key", "replay-parent"),
            ("x-api-key", "replay-parent"),
            ("x-api-key", "replay-child"),
            ("x-api-key", "replay-grandchild"),
            ("x-api-key", "replay-sibling"),
            ("x-api-key", "replay-other"),
        ],
        content_types: vec!["application/json", "application/json; charset=utf-8"],
        query: |rng| {
            let key = *pick(
                rng,
                &["child_company_id", "childCompanyId", "offset", "limit"],
            );
            let value = match key {
                "offset" | "limit" => number_text(rng),
                _ => pick(rng, &REPLAY_COMPANIES).to_string(),
            };
            (key.to_owned(), value)
        },
        body: |rng, route, method| {
            let child = pick(rng, &REPLAY_COMPANIES).to_string();
            Payload::Json(match (route, method) {
                ("/api/company/child", _) => json!({
                    "name": format!("Fuzz Co {}", rng.u16(..)), "externalId": format!("acct-{}", rng.u8(..)),
                    "url": pick(rng, &["https://fuzz.example", "not a url", "x:y"]), "summary": text(rng),
                }),
                ("/api/user", _) => json!({
                    "email": format!("fuzz{}@example.com", rng.u16(..)), "firstName": text(rng),
                    "lastName": "Fuzz", "role": pick(rng, &["User", "Manager", "Admin", "Disabled"]),
                    "externalId": format!("ext-{}", rng.u8(..)), "childCompanyId": child,
                }),
                _ => {
                    let mut body = json!({"firstName": text(rng), "lastName": "Doe", "role": pick(rng, &["User", "Manager", "Disabled"])});
                    if rng.bool() {
                        body["childCompanyId"] = Value::from(child);
                    }
                    body
                }
            })
        },
    }
}

/// Every registered vendor, and what the generators pick from across
/// vendors: path prefixes and `Host` values (with wrong ones mixed in).
struct Registered {
    vendors: Vec<usermock::VendorInfo>,
    prefixes: Vec<&'static str>,
    hosts: Vec<&'static str>,
}

fn registered() -> &'static Registered {
    static REGISTERED: std::sync::OnceLock<Registered> = std::sync::OnceLock::new();
    REGISTERED.get_or_init(|| {
        let server =
            usermock::Usermock::new(&usermock::Options::default()).expect("default server");
        let vendors = server.vendors();
        let mut prefixes: Vec<&'static str> = vendors.iter().map(|v| v.name).collect();
        prefixes.extend(["nope", "__admin"]);
        let mut hosts: Vec<&'static str> = vendors.iter().map(|v| v.real_host).collect();
        hosts.extend(["API.AWORK.COM:443", "evil"]);
        Registered {
            vendors,
            prefixes,
            hosts,
        }
    })
}

/// A generator for a vendor nobody wrote one for, from what the registry
/// and its fixture say: its routes and methods, every `id` in its fixture
/// as path parameters, every credential-looking string in its fixture sent
/// both as a bearer token and as an API key, and hostile JSON bodies.
fn generic(vendor: &usermock::VendorInfo) -> Spec {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let fixture: Value = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/{}.json", vendor.name)),
    )
    .ok()
    .and_then(|text| serde_json::from_str(&text).ok())
    .unwrap_or(Value::Null);
    let (mut ids, mut secrets) = (Vec::new(), Vec::new());
    collect_strings(&fixture, "", &mut |key, value| {
        let key = key.to_ascii_lowercase();
        if key == "id" || key.ends_with("id") {
            ids.push(leak(value.to_owned()));
        } else if ["token", "key", "secret", "credential"]
            .iter()
            .any(|k| key.contains(k))
        {
            secrets.push(leak(value.to_owned()));
        }
    });
    ids.extend(["00000000-0000-0000-0000-000000000000", "1", "nope"]);
    let mut credentials: Vec<(&'static str, &'static str)> = secrets
        .iter()
        .flat_map(|s| {
            [
                ("authorization", leak(format!("Bearer {s}"))),
                ("x-api-key", *s),
            ]
        })
        .collect();
    credentials.push(("authorization", "Bearer nope"));
    let mut routes: Vec<Route> = Vec::new();
    let mut params: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for (method, pattern) in &vendor.routes {
        for name in pattern
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        {
            if !params.iter().any(|(n, _)| *n == name) {
                params.push((leak(name.to_owned()), ids.clone()));
            }
        }
        let method = leak(method.clone());
        match routes.iter_mut().find(|r| r.path == pattern) {
            Some(route) => {
                let mut methods = route.methods.to_vec();
                methods.push(method);
                route.methods = Box::leak(methods.into_boxed_slice());
            }
            None => routes.push(Route {
                path: leak(pattern.clone()),
                methods: Box::leak(vec![method].into_boxed_slice()),
            }),
        }
    }
    Spec {
        vendor: vendor.name,
        host: vendor.real_host,
        routes,
        params,
        credentials,
        content_types: vec!["application/json", "application/merge-patch+json"],
        query: |rng| (text(rng), text(rng)),
        body: |rng, _route, _method| {
            let mut body = Map::new();
            for _ in 0..rng.usize(0..5) {
                body.insert(text(rng), any_value(rng, 2));
            }
            Payload::Json(Value::Object(body))
        },
    }
}

/// Calls `found(key, value)` for every string member in `node`.
fn collect_strings(node: &Value, key: &str, found: &mut dyn FnMut(&str, &str)) {
    match node {
        Value::String(value) => found(key, value),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, key, found)),
        Value::Object(members) => members
            .iter()
            .for_each(|(k, v)| collect_strings(v, k, found)),
        _ => {}
    }
}

// ------------------------------------------------------------ hostile values --

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(..items.len())]
}

fn chance(rng: &mut Rng, p: f64) -> bool {
    rng.f64() < p
}

/// A string a validator has to think about.
fn text(rng: &mut Rng) -> String {
    let text = text_unchecked(rng);
    held_back(text, "Name")
}

fn text_unchecked(rng: &mut Rng) -> String {
    match rng.u8(..16) {
        0 => String::new(),
        1 => "a".repeat(rng.usize(200..5_000)),
        2 => "é".repeat(rng.usize(1..3_000)),
        3 => "🦀".repeat(rng.usize(1..300)),
        4 => pick(
            rng,
            &[
                "\u{0}",
                "\u{202e}RTL",
                "\u{feff}",
                "\u{10ffff}",
                "﷽",
                "a\u{301}",
                "\r\n",
                "\t",
                "\u{7f}",
            ],
        )
        .to_string(),
        5 => pick(
            rng,
            &[
                "null",
                "true",
                "1e309",
                "-0",
                "NaN",
                "../../etc/passwd",
                "%00",
                "<script>",
                "${jndi:x}",
                "'",
                "\"",
                "\\",
                "/",
                "~1",
            ],
        )
        .to_string(),
        6 => pick(
            rng,
            &[
                "00000000-0000-0000-0000-000000000000",
                "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
                "{6cd99267-5adf-462d-88a2-6f86b7b2a164}",
                "6cd992675adf462d88a26f86b7b2a164",
            ],
        )
        .to_string(),
        7 => date_text(rng),
        _ => format!("Name {}", rng.u32(..)),
    }
}

fn date_text(rng: &mut Rng) -> String {
    let date = pick(
        rng,
        &[
            "2001-02-03",
            "2026-02-30",
            "9999-12-31T23:59:59.9999999Z",
            "0001-01-01",
            "+002026-01-01",
            "12-30-2002",
            "12/30/2002",
            "2002/12/30",
            "2030-01-01T00:00:00+14:00",
            "2002-12-30T00:00:00",
            "yesterday",
            "1970-01-01T00:00:00.123456789012Z",
            "2026-13-01",
            "-0001-01-01",
            "9999-12-31T23:59:59-01:00",
            "0000-01-01",
            "-9999-12-31",
        ],
    )
    .to_string();
    held_back(date, "2001-02-03")
}

fn number_text(rng: &mut Rng) -> String {
    pick(
        rng,
        &[
            "0",
            "1",
            "10",
            "500",
            "501",
            "1000",
            "1001",
            "-1",
            "1.5",
            "1e3",
            "18446744073709551616",
            "9223372036854775807",
            "007",
            "",
            " 1",
            "0x10",
            "+5",
            "NaN",
        ],
    )
    .to_string()
}

fn base64ish(rng: &mut Rng) -> String {
    let n = rng.usize(0..200);
    (0..n)
        .map(|_| *pick(rng, &['A', 'z', '0', '-', '_', '=', '+', '/', '%']))
        .collect()
}

fn any_value(rng: &mut Rng, depth: u32) -> Value {
    match rng.u8(..12) {
        0 => Value::Null,
        1 => Value::from(rng.bool()),
        2 => json!(pick(rng, &[0i64, -1, 45, 999, 1000, i64::MAX, i64::MIN])),
        3 => json!(pick(rng, &[u64::MAX, 1 << 53])),
        4 => json!(pick(rng, &[0.5f64, -0.0, 1e308, 5e-324])),
        5 | 6 if depth > 0 => Value::from(
            (0..rng.usize(0..4))
                .map(|_| any_value(rng, depth - 1))
                .collect::<Vec<_>>(),
        ),
        7 if depth > 0 => {
            let mut m = Map::new();
            for _ in 0..rng.usize(0..4) {
                m.insert(text(rng), any_value(rng, depth - 1));
            }
            Value::Object(m)
        }
        _ => Value::from(text(rng)),
    }
}

/// A copy of `s` with a few characters changed, dropped, doubled or
/// upper-cased.
fn mangle(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..rng.usize(1..4) {
        if chars.is_empty() {
            break;
        }
        let at = rng.usize(..chars.len());
        match rng.u8(..5) {
            0 => {
                chars.remove(at);
            }
            1 => chars.insert(
                at,
                *pick(rng, &['(', ')', '\'', ',', ' ', 'x', '/', '%', '~', 'é']),
            ),
            2 => chars[at] = chars[at].to_ascii_uppercase(),
            3 => chars.insert(at, chars[at]),
            _ => chars.truncate(at),
        }
    }
    chars.into_iter().collect()
}

/// The root or, by chance, a node below it.
fn random_node<'a>(rng: &mut Rng, node: &'a mut Value) -> &'a mut Value {
    let len = match &*node {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    if len == 0 || rng.bool() {
        return node;
    }
    let i = rng.usize(..len);
    match node {
        Value::Object(m) => random_node(rng, m.values_mut().nth(i).expect("in range")),
        Value::Array(a) => random_node(rng, &mut a[i]),
        other => other,
    }
}

/// Changes one place of a JSON value: a type swap, a null, a removed or
/// unknown member, a huge or odd string, deep nesting, a long array.
fn mutate(rng: &mut Rng, value: &mut Value) {
    let total = value.to_string().len();
    let node = random_node(rng, value);
    match rng.u8(..10) {
        0 => *node = Value::Null,
        1 => *node = any_value(rng, 2),
        2 => *node = Value::from(text(rng)),
        3 => {
            let depth = rng.usize(10..200);
            for _ in 0..depth {
                // (Built by hand: `json!` would serialise the value again.)
                *node = if rng.bool() {
                    Value::Array(vec![node.take()])
                } else {
                    Value::Object(Map::from_iter([("x".to_owned(), node.take())]))
                };
            }
        }
        4 => {
            // A long array of copies, kept under about 1 MiB.
            let size = node.to_string().len().max(1);
            let room = (1usize << 20).saturating_sub(total);
            let copies = rng.usize(2..2_000).min(room / size).max(1);
            *node = Value::from(vec![node.clone(); copies]);
        }
        5 => {
            if let Value::Object(m) = node {
                if let Some(key) = m.keys().nth(rng.usize(..m.len().max(1))).cloned() {
                    m.remove(&key);
                }
            }
        }
        6 => {
            if let Value::Object(m) = node {
                let odd = text(rng);
                let key = pick(
                    rng,
                    &[
                        "nickname".to_owned(),
                        "id".to_owned(),
                        "__proto__".to_owned(),
                        odd,
                    ],
                )
                .clone();
                m.insert(key, any_value(rng, 1));
            }
        }
        7 => *node = Value::from(vec![any_value(rng, 1)]),
        8 => *node = Value::Object(Map::from_iter([("value".to_owned(), node.take())])),
        _ => *node = Value::from("x".repeat(rng.usize(10_000..200_000))),
    }
}

/// The body's bytes, sometimes broken as text: cut, padded, doubled keys,
/// very deep raw nesting, huge numbers, invalid UTF-8, or just too large.
fn raw_body(rng: &mut Rng, text: String) -> Vec<u8> {
    let mut bytes = text.into_bytes();
    match rng.u8(..40) {
        0 => bytes.truncate(rng.usize(..=bytes.len())),
        1 => bytes.extend_from_slice(b" trailing"),
        2 => bytes = b"[".repeat(rng.usize(100..200_000)),
        3 => {
            bytes = format!(
                "{}1{}",
                "{\"a\":".repeat(rng.usize(100..50_000)),
                "}".repeat(10)
            )
            .into_bytes()
        }
        4 => bytes = b"{\"firstName\":1e999999,\"departments\":-0.0e-99999}".to_vec(),
        5 => {
            bytes =
                b"{\"name\":\"a\",\"name\":\"b\",\"departments\":[],\"departments\":null}".to_vec()
        }
        6 => bytes = vec![0xff, 0xfe, b'{', 0xc3, b'}'],
        7 => bytes.splice(0..0, [0xef, 0xbb, 0xbf]).for_each(drop),
        8 => bytes = b"{\"firstName\":\"\\ud800\",\"title\":\"\\u0000\"}".to_vec(),
        9 => bytes = vec![b' '; rng.usize(1_000_000..1_100_000)],
        10 => bytes.clear(),
        11 if !bytes.is_empty() => {
            let at = rng.usize(..bytes.len());
            bytes[at] = rng.u8(..);
        }
        _ => {}
    }
    bytes
}

// ------------------------------------------------------------------- seeds --

/// A minimised input that found something, from `tests/fuzz-seeds/`.
/// While `open` (not fixed yet), the generator holds back its `avoid`
/// values, so the short pass in `cargo test` keeps looking for new problems
/// instead of finding this one again; `USERMOCK_FUZZ_KNOWN=1` sends them.
#[derive(serde::Deserialize)]
struct Seed {
    finding: String,
    open: bool,
    #[serde(default)]
    avoid: Vec<String>,
    /// Send every request on one keep-alive connection, written by hand.
    #[serde(default)]
    one_connection: bool,
    requests: Vec<SeedRequest>,
}

#[derive(serde::Deserialize)]
struct SeedRequest {
    method: String,
    path: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<Value>,
    /// A large body: `[text, times]`, the text repeated.
    #[serde(default)]
    body_repeat: Option<(String, usize)>,
}

fn seeds() -> Vec<(String, Seed)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-seeds");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("seed file");
            let seed =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (
                path.file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned(),
                seed,
            )
        })
        .collect()
}

/// `value`, or `instead` while an open finding holds `value` back.
fn held_back(value: String, instead: &str) -> String {
    static AVOID: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let avoid = AVOID.get_or_init(|| {
        if std::env::var("USERMOCK_FUZZ_KNOWN").is_ok_and(|v| v == "1") {
            return Vec::new();
        }
        seeds()
            .into_iter()
            .filter(|(_, s)| s.open)
            .flat_map(|(_, s)| s.avoid)
            .collect()
    });
    if avoid.contains(&value) {
        instead.to_owned()
    } else {
        value
    }
}

impl SeedRequest {
    fn to_req(&self) -> Req {
        let body = match (&self.body, &self.body_repeat) {
            (_, Some((text, times))) => text.repeat(*times).into_bytes(),
            (None, None) => Vec::new(),
            (Some(Value::String(text)), None) => text.clone().into_bytes(),
            (Some(json), None) => json.to_string().into_bytes(),
        };
        let scenarios = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("x-usermock-scenario"))
            .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_owned()))
            .collect();
        Req {
            method: self.method.clone(),
            target: self.path.clone(),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
                .collect(),
            body,
            raw: false,
            chunked: false,
            malformed: false,
            scenarios,
            write_route: (!matches!(self.method.as_str(), "GET" | "HEAD"))
                .then(|| self.path.clone()),
        }
    }
}

/// Every seed, replayed on a fresh server with the fuzzer's checks. A seed
/// of a fixed finding must pass; an open one is reported either way.
#[test]
fn fuzz_seeds_replay() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut regressions = Vec::new();
    for (name, seed) in seeds() {
        let problems = runtime.block_on(replay_seed(&seed));
        match (seed.open, problems.is_empty()) {
            (false, true) => {}
            (false, false) => regressions.push(format!(
                "{name} ({}):\n{}",
                seed.finding,
                problems.join("\n")
            )),
            (true, false) => eprintln!("fuzz seed {name}: still open: {}", seed.finding),
            (true, true) => eprintln!(
                "fuzz seed {name}: passes now: set \"open\": false to keep it as a regression test"
            ),
        }
    }
    assert!(
        regressions.is_empty(),
        "fixed findings are back:\n{}",
        regressions.join("\n\n")
    );
}

async fn replay_seed(seed: &Seed) -> Vec<String> {
    let server = TestServer::start().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HANG + Duration::from_secs(5))
        .build()
        .expect("client");
    let shipped = shipped();
    let vendor = seed.requests.iter().find_map(|r| {
        usermock::vendor_names()
            .into_iter()
            .find(|v| r.path.starts_with(&format!("/{v}/")))
    });
    let mut state = Run {
        vendor: vendor.unwrap_or("activity"),
        seed: 0,
        findings: Vec::new(),
        finding_count: 0,
        signatures: Default::default(),
        quiet: true,
    };
    let reqs: Vec<Req> = seed.requests.iter().map(SeedRequest::to_req).collect();
    let mut on_one = if seed.one_connection {
        send_on_one_connection(&server.base, &reqs)
            .await
            .into_iter()
    } else {
        Vec::new().into_iter()
    };
    for (n, req) in reqs.iter().enumerate() {
        let at = Instant::now();
        let outcome = match on_one.next() {
            Some(outcome) => outcome,
            None => send(&client, &server.base, req).await,
        };
        if let Verdict::Down = state
            .judge(&server, &shipped, req, outcome, at.elapsed(), n as u64 + 1)
            .await
        {
            break;
        }
    }
    if healthy(&server).await {
        check_records(&server, &mut state, &[]).await;
    }
    state
        .findings
        .iter()
        .map(|f| format!("{}\n{}", f.what, f.answer))
        .collect()
}

// ---------------------------------------------------------------- requests --

/// One generated request, as sent.
#[derive(Clone)]
struct Req {
    method: String,
    /// Path and query, exactly as written on the request line.
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    /// Sent by hand over TCP (odd framing or bytes reqwest would refuse).
    raw: bool,
    /// Chunked framing instead of Content-Length (raw only).
    chunked: bool,
    /// Not valid HTTP/1.1: the server may close without an answer.
    malformed: bool,
    scenarios: Vec<String>,
    write_route: Option<String>,
}

impl Req {
    fn render(&self) -> String {
        let mut out = format!(
            "{} {}{}\n",
            self.method,
            clip(self.target.as_bytes(), 300),
            if self.raw { "   (raw TCP)" } else { "" }
        );
        for (k, v) in &self.headers {
            out.push_str(&format!("{}: {}\n", clip(k.as_bytes(), 100), clip(v, 200)));
        }
        if self.chunked {
            out.push_str("(chunked)\n");
        }
        out.push_str(&format!("\n{}", clip(&self.body, 1500)));
        out
    }

    /// A body beyond `--max-body` (413) or a head beyond the header limit
    /// or with too many fields (431) is refused unread and the connection closed: a client still
    /// writing the body may see a broken pipe instead of the answer.
    fn refused_unread(&self) -> bool {
        let head = self.target.len()
            + self.method.len()
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len() + 4)
                .sum::<usize>();
        // hyper refuses more than 100 header fields with 431, too.
        self.body.len() > MAX_BODY || head + 200 > MAX_HEADER_BYTES || self.headers.len() > 95
    }

    /// One line naming a successful write, for a later record problem.
    fn summary(&self, n: u64, status: u16) -> String {
        let session = self
            .headers
            .iter()
            .find(|(k, _)| k == "x-usermock-session")
            .map(|(_, v)| clip(v, 40))
            .unwrap_or_else(|| "-".into());
        format!(
            "#{n} {} {} (session {session}, {} bytes body) -> {status}",
            self.method,
            clip(self.target.as_bytes(), 150),
            self.body.len()
        )
    }

    /// The whole request, for minimising.
    fn wire(&self, host: &str) -> Vec<u8> {
        self.wire_on(host, false)
    }

    /// The request as written; `keep_alive` leaves out `Connection: close`.
    fn wire_on(&self, host: &str, keep_alive: bool) -> Vec<u8> {
        let close = if keep_alive {
            ""
        } else {
            "Connection: close\r\n"
        };
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.target).into_bytes();
        if !self
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("host"))
        {
            out.extend_from_slice(format!("Host: {host}\r\n").as_bytes());
        }
        for (k, v) in &self.headers {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        if self.chunked {
            out.extend_from_slice(format!("Transfer-Encoding: chunked\r\n{close}\r\n").as_bytes());
            for piece in self.body.chunks(7000) {
                out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                out.extend_from_slice(piece);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        } else {
            out.extend_from_slice(
                format!("Content-Length: {}\r\n{close}\r\n", self.body.len()).as_bytes(),
            );
            out.extend_from_slice(&self.body);
        }
        out
    }
}

fn clip(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() <= max {
        text.into_owned()
    } else {
        format!(
            "{}… ({} bytes)",
            text.chars().take(max).collect::<String>(),
            bytes.len()
        )
    }
}

/// What the shipped scenarios may answer: per name, the 5xx statuses its
/// rules can give and whether it drops or cuts the connection. Scenarios
/// that hold a request for seconds (`any-timeout`, `any-slow`) are left out:
/// they are slow on purpose.
struct Shipped {
    names: Vec<String>,
    server_errors: BTreeMap<String, Vec<u16>>,
    breaks: BTreeMap<String, bool>,
}

fn shipped() -> Shipped {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut out = Shipped {
        names: Vec::new(),
        server_errors: BTreeMap::new(),
        breaks: BTreeMap::new(),
    };
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).expect("scenario file");
        let doc: Value = serde_json::from_str(&text).expect("scenario JSON");
        let name = doc["name"].as_str().expect("name").to_owned();
        if text.contains("\"timeout\"") || text.contains("delay_ms") {
            continue;
        }
        let mut statuses = Vec::new();
        collect_statuses(&doc, &mut statuses);
        statuses.retain(|s| *s >= 500);
        let breaks = ["connection_reset", "close_after_headers", "truncated_body"]
            .iter()
            .any(|k| text.contains(&format!("\"{k}\"")));
        // Another vendor's scenario is inert here, and sent all the same.
        out.server_errors.insert(name.clone(), statuses);
        out.breaks.insert(name.clone(), breaks);
        out.names.push(name);
    }
    out
}

fn collect_statuses(value: &Value, into: &mut Vec<u16>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "status" {
                    if let Some(s) = v.as_u64() {
                        into.push(s as u16);
                    }
                }
                collect_statuses(v, into);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_statuses(v, into)),
        _ => {}
    }
}

const ODD_METHODS: [&str; 12] = [
    "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", "POST", "PATCH", "GET", "patch", "PROPFIND",
    "M-SEARCH", "X",
];

fn generate(rng: &mut Rng, spec: &Spec, shipped: &Shipped) -> Req {
    let route = pick(rng, &spec.routes);
    let mut method = pick(rng, route.methods).to_string();
    if chance(rng, 0.1) {
        method = pick(rng, &ODD_METHODS).to_string();
        if chance(rng, 0.05) {
            method = "A".repeat(rng.usize(100..5_000));
        }
    }

    // The path: the route with its parameters filled in, mostly validly.
    let mut segments: Vec<String> = Vec::new();
    for seg in route.path.split('/').skip(1) {
        let value = match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let values = &spec
                    .params
                    .iter()
                    .find(|(n, _)| *n == name)
                    .expect("param values")
                    .1;
                let id = pick(rng, values).to_string();
                if chance(rng, 0.15) {
                    odd_id(rng, &id)
                } else {
                    id
                }
            }
            None => seg.to_owned(),
        };
        segments.push(value);
    }
    if chance(rng, 0.08) {
        match rng.u8(..6) {
            0 => segments.push(String::new()),
            1 => segments
                .push(pick(rng, &["..", ".", "x", "%2e%2e", "users", "summary"]).to_string()),
            2 => {
                segments.pop();
            }
            3 => segments.insert(
                rng.usize(..=segments.len()),
                pick(rng, &["..", "", "%2F", ";x=1"]).to_string(),
            ),
            4 => segments.push("a".repeat(rng.usize(1_000..40_000))),
            _ => segments = segments.iter().map(|s| s.to_ascii_uppercase()).collect(),
        }
    }
    let vendor_path = format!("/{}", segments.join("/"));
    let by_host = chance(rng, 0.1);
    let mut target = if by_host {
        vendor_path
    } else if chance(rng, 0.03) {
        format!("/{}{}", pick(rng, &registered().prefixes), vendor_path)
    } else {
        format!("/{}{}", spec.vendor, vendor_path)
    };

    // The query.
    if chance(rng, 0.35) {
        let mut pairs = Vec::new();
        for _ in 0..rng.usize(1..4) {
            let (k, v) = (spec.query)(rng);
            let (k, v) = if chance(rng, 0.1) {
                (mangle(rng, &k), mangle(rng, &v))
            } else {
                (k, v)
            };
            pairs.push(format!("{}={}", encode(&k), encode(&v)));
            if chance(rng, 0.1) {
                pairs.push(pairs[pairs.len() - 1].clone());
            }
        }
        if chance(rng, 0.05) {
            pairs.push(pick(rng, &["=", "&&", "a", "a=%zz", "%ff=1", "x=1=2"]).to_string());
        }
        target.push('?');
        target.push_str(&pairs.join("&"));
    }

    // Headers.
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    if by_host {
        headers.push(("host".into(), spec.host.as_bytes().to_vec()));
    }
    let (auth_name, auth_value) = *pick(rng, &spec.credentials);
    match rng.u8(..40) {
        0 => {}
        1 => headers.push((auth_name.into(), b"Bearer".to_vec())),
        2 => headers.push((
            auth_name.into(),
            format!("Bearer {}", "x".repeat(rng.usize(1_000..20_000))).into_bytes(),
        )),
        3 => headers.push((
            auth_name.into(),
            auth_value.to_ascii_lowercase().into_bytes(),
        )),
        4 => headers.push((auth_name.into(), format!("{auth_value}  ").into_bytes())),
        5 => {
            headers.push((auth_name.into(), auth_value.as_bytes().to_vec()));
            headers.push((
                auth_name.into(),
                pick(rng, &spec.credentials).1.as_bytes().to_vec(),
            ));
        }
        6 => headers.push((auth_name.into(), vec![b'B', 0xe9, 0xff, b' ', 0x80])),
        7 => headers.push(("authorization".into(), b"Basic YWRtaW46YWRtaW4=".to_vec())),
        _ => headers.push((auth_name.into(), auth_value.as_bytes().to_vec())),
    }
    let mut payload = (spec.body)(rng, route.path, &method);
    let mutations = if rng.bool() { 0 } else { rng.usize(1..4) };
    if let Payload::Json(value) = &mut payload {
        for _ in 0..mutations {
            mutate(rng, value);
        }
    }
    let (body, default_type) = match payload {
        Payload::Json(value) => (value.to_string(), spec.content_types[0]),
        Payload::Form(text) => (text, "application/x-www-form-urlencoded"),
    };
    let body = if method == "GET" && chance(rng, 0.9) {
        Vec::new()
    } else {
        raw_body(rng, body)
    };
    if !body.is_empty() {
        match rng.u8(..12) {
            0 => {}
            1 => headers.push((
                "content-type".into(),
                pick(rng, &spec.content_types).as_bytes().to_vec(),
            )),
            2 => headers.push((
                "content-type".into(),
                pick(
                    rng,
                    &[
                        "text/plain",
                        "APPLICATION/JSON",
                        "application/json;charset=latin1",
                        "multipart/form-data; boundary=x",
                        ";;;",
                        "application/",
                        "application/vnd.x+json",
                    ],
                )
                .as_bytes()
                .to_vec(),
            )),
            _ => headers.push(("content-type".into(), default_type.as_bytes().to_vec())),
        }
    }
    let mut known_drop = false;
    let session: Option<String> = match rng.u8(..10) {
        0 | 1 => Some(pick(rng, &SESSIONS).to_string()),
        2 if chance(rng, 0.3) => {
            let bad = pick(
                rng,
                &[
                    "".to_owned(),
                    "has space".to_owned(),
                    "é".to_owned(),
                    "x".repeat(129),
                ],
            )
            .clone();
            headers.push(("x-usermock-session".into(), bad.into_bytes()));
            // While that finding is open, the connection is not reused
            // (and the body, refused unread, may fail to go out).
            if held_back("invalid-session-with-body".into(), "").is_empty() {
                headers.push(("connection".into(), b"close".to_vec()));
                known_drop = true;
            }
            None
        }
        _ => None,
    };
    if let Some(s) = &session {
        headers.push(("x-usermock-session".into(), s.as_bytes().to_vec()));
    }
    let mut scenarios = Vec::new();
    if chance(rng, 0.06) {
        for _ in 0..rng.usize(1..3) {
            scenarios.push(pick(rng, &shipped.names).clone());
        }
        let mut value = scenarios.join(",");
        if chance(rng, 0.1) {
            value = pick(
                rng,
                &[
                    "nope".to_owned(),
                    format!("{value}, "),
                    "ünknown".to_owned(),
                    format!("{value},{value}"),
                ],
            )
            .clone();
        }
        headers.push(("x-usermock-scenario".into(), value.into_bytes()));
    }
    if chance(rng, 0.1) {
        for _ in 0..rng.usize(1..5) {
            let (k, v) = match rng.u8(..8) {
                0 => ("x-big".to_owned(), vec![b'a'; rng.usize(1_000..40_000)]),
                1 => (
                    "accept".to_owned(),
                    pick(rng, &["text/html", "*/*", "application/xml", ""])
                        .as_bytes()
                        .to_vec(),
                ),
                2 => ("content-encoding".to_owned(), b"gzip".to_vec()),
                3 => ("expect".to_owned(), b"100-continue".to_vec()),
                4 => ("x-forwarded-host".to_owned(), spec.host.as_bytes().to_vec()),
                5 => (
                    "host".to_owned(),
                    pick(rng, &registered().hosts).as_bytes().to_vec(),
                ),
                6 => (format!("x-{}", rng.u32(..)), text(rng).into_bytes()),
                _ => ("cookie".to_owned(), vec![b'c'; rng.usize(1..500)]),
            };
            headers.push((k, v));
        }
    }
    if chance(rng, 0.01) {
        for i in 0..rng.usize(100..400) {
            headers.push((format!("x-many-{i}"), b"1".to_vec()));
        }
    }

    // Over raw TCP: odd bytes in the target, chunked or broken framing.
    let mut raw = chance(rng, 0.1) || (method.starts_with("AAAA") && chance(rng, 0.5));
    let mut chunked = false;
    let mut malformed = false;
    if raw {
        match rng.u8(..10) {
            0 => target = target.replacen('/', "/../", 1),
            1 => target = target.replace('/', "//"),
            2 => {
                let odd = *pick(
                    rng,
                    &[
                        "/%2e%2e",
                        "/%2E%2e/%2e%2e",
                        "%00",
                        "/%ff%fe",
                        "#frag",
                        "/\u{e9}",
                    ],
                );
                target.push_str(odd);
            }
            3 => target = format!("http://{}{}", pick(rng, &[spec.host, "127.0.0.1"]), target),
            4 => chunked = true,
            5 => {
                // Both framings at once (the smuggling case): the body is
                // sent chunked, with a Content-Length beside it.
                chunked = true;
                let length = rng.usize(..=body.len());
                headers.push(("content-length".into(), length.to_string().into_bytes()));
                malformed = true;
            }
            6 => {
                headers.push(("content-length".into(), b"5".to_vec()));
                malformed = true;
            }
            7 => {
                headers.push(("bad header".into(), b"x".to_vec()));
                malformed = true;
            }
            8 => method = pick(rng, &["CONNECT", "GET", "BREW"]).to_string(),
            _ => target = "*".into(),
        }
        if target.bytes().any(|b| b >= 0x80 || b == b'#') {
            malformed = true;
        }
    }
    // What reqwest cannot send goes raw as well (it would also take an
    // interim `100 Continue` for the answer).
    if headers.iter().any(|(k, _)| k == "expect") {
        raw = true;
    }
    if !raw
        && (Method::from_bytes(method.as_bytes()).is_err()
            || headers.iter().any(|(k, v)| {
                HeaderName::from_bytes(k.as_bytes()).is_err() || HeaderValue::from_bytes(v).is_err()
            }))
    {
        raw = true;
    }
    // While that finding is open, a body over the limit closes the connection.
    if body.len() > MAX_BODY && held_back("unknown-route-with-large-body".into(), "").is_empty() {
        headers.push(("connection".into(), b"close".to_vec()));
    }
    malformed |= known_drop;
    let write_route = (!matches!(method.as_str(), "GET" | "HEAD")).then(|| route.path.to_owned());
    Req {
        method,
        target,
        headers,
        body,
        raw,
        chunked,
        malformed,
        scenarios,
        write_route,
    }
}

/// An id as a careless or hostile client might send it.
fn odd_id(rng: &mut Rng, id: &str) -> String {
    match rng.u8(..10) {
        0 => id.to_ascii_uppercase(),
        1 => id.replace('-', ""),
        2 => format!("{{{id}}}"),
        3 => id[..id.len() - 1].to_owned(),
        4 => format!("{id}0"),
        5 => "00000000-0000-4000-8000-000000000000".into(),
        6 => "me".into(),
        7 => pick(
            rng,
            &["%20", "%00", "%2e%2e", "%C3%A9", "%ZZ", "-1", "0", "null"],
        )
        .to_string(),
        8 => "f".repeat(rng.usize(37..5_000)),
        _ => mangle(rng, id),
    }
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ----------------------------------------------------------------- sending --

enum Outcome {
    Answered { status: u16, body: Vec<u8> },
    Dropped(String),
}

async fn send(client: &reqwest::Client, base: &str, req: &Req) -> Outcome {
    if req.raw {
        return send_raw(base, req).await;
    }
    let url = match reqwest::Url::parse(&format!("{base}{}", req.target)) {
        Ok(url) => url,
        Err(_) => return send_raw(base, req).await,
    };
    let method = Method::from_bytes(req.method.as_bytes()).expect("checked");
    let mut builder = client.request(method, url);
    for (k, v) in &req.headers {
        let name = HeaderName::from_bytes(k.as_bytes()).expect("checked");
        let value = HeaderValue::from_bytes(v).expect("checked");
        builder = builder.header(name, value);
    }
    if !req.body.is_empty() {
        builder = builder.body(req.body.clone());
    }
    match builder.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(body) => Outcome::Answered {
                    status,
                    body: body.to_vec(),
                },
                Err(e) => Outcome::Dropped(format!(
                    "status {status}, then the body broke: {}",
                    causes(&e)
                )),
            }
        }
        // What reqwest cannot build (a target beyond 64 KiB) goes raw.
        Err(e) if e.is_builder() => send_raw(base, req).await,
        Err(e) => Outcome::Dropped(causes(&e)),
    }
}

/// What went wrong, without the (possibly huge) URL: the error's causes.
fn causes(e: &reqwest::Error) -> String {
    let mut out = String::new();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        out.push_str(&format!("{c}; "));
        cause = c.source();
    }
    format!(
        "{out}(timeout: {}, connect: {})",
        e.is_timeout(),
        e.is_connect()
    )
}

/// Writes the request by hand and reads one answer (status line, headers,
/// a `Content-Length` or chunked body), or until the server closes.
async fn send_raw(base: &str, req: &Req) -> Outcome {
    let addr = base.trim_start_matches("http://");
    let mut stream = match tokio::net::TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return Outcome::Dropped(format!("connect: {e}")),
    };
    // The server may answer (413, 431, 400) and close before the whole
    // request is written: a failed write is not an answer yet.
    let _ = stream.write_all(&req.wire(addr)).await;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let deadline = tokio::time::Instant::now() + HANG + Duration::from_secs(5);
    loop {
        if let Some((status, body)) = parse_answer(&buf) {
            return Outcome::Answered { status, body };
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => return Outcome::Dropped("no answer and no close within 10 s".into()),
        }
    }
    // An answer cut short (a HEAD's, or a fault's), after any interim 100.
    let mut buf = &buf[..];
    while buf.starts_with(b"HTTP/1.1 100") {
        match buf.windows(4).position(|w| w == b"\r\n\r\n") {
            Some(end) => buf = &buf[end + 4..],
            None => break,
        }
    }
    match buf.strip_prefix(b"HTTP/1.") {
        Some(rest) if rest.len() >= 5 => {
            let status = std::str::from_utf8(&rest[2..5])
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let body = buf
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|i| buf[i + 4..].to_vec())
                .unwrap_or_default();
            Outcome::Answered { status, body }
        }
        _ => Outcome::Dropped(format!(
            "closed after {} bytes: {}",
            buf.len(),
            clip(buf, 200)
        )),
    }
}

/// Writes the requests one after the other on one keep-alive connection,
/// each after the previous answer, as a pooling client would.
async fn send_on_one_connection(base: &str, reqs: &[Req]) -> Vec<Outcome> {
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    for req in reqs {
        if let Err(e) = stream.write_all(&req.wire_on(addr, true)).await {
            out.push(Outcome::Dropped(format!("write: {e}")));
            continue;
        }
        buf.clear();
        let deadline = tokio::time::Instant::now() + HANG;
        let outcome = loop {
            if let Some((status, body)) = parse_answer(&buf) {
                break Outcome::Answered { status, body };
            }
            match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
                Ok(Ok(0)) => break Outcome::Dropped("closed without an answer".into()),
                Ok(Err(e)) => break Outcome::Dropped(format!("read: {e}")),
                Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
                Err(_) => break Outcome::Dropped("no answer within 5 s".into()),
            }
        };
        out.push(outcome);
        // As a keep-alive client does: an answer that closes the connection
        // means the next request goes on a new one.
        let head_end = buf
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(buf.len());
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        if head.contains("\r\nconnection: close") {
            stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        }
    }
    out
}

fn parse_answer(buf: &[u8]) -> Option<(u16, Vec<u8>)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let status: u16 = head.get(9..12)?.parse().ok()?;
    let body = &buf[end + 4..];
    if status == 100 {
        return parse_answer(body);
    }
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    match length {
        Some(n) if body.len() >= n => Some((status, body[..n].to_vec())),
        Some(_) => None,
        None if head.contains("transfer-encoding: chunked") => body
            .ends_with(b"0\r\n\r\n")
            .then(|| (status, body.to_vec())),
        None => None,
    }
}

// ---------------------------------------------------------------- the loop --

struct Finding {
    what: String,
    request: String,
    answer: String,
}

struct Run {
    vendor: &'static str,
    seed: u64,
    findings: Vec<Finding>,
    finding_count: usize,
    signatures: std::collections::BTreeSet<String>,
    /// Replaying seeds: no files, no printing.
    quiet: bool,
}

impl Run {
    fn found(
        &mut self,
        signature: String,
        what: String,
        req: Option<&Req>,
        base: &str,
        answer: String,
    ) {
        self.finding_count += 1;
        if !self.signatures.insert(signature) || self.findings.len() >= MAX_FINDINGS {
            return;
        }
        let request = req.map(Req::render).unwrap_or_default();
        if self.quiet {
            self.findings.push(Finding {
                what,
                request,
                answer,
            });
            return;
        }
        if let Some(req) = req {
            let file = std::env::temp_dir().join(format!(
                "usermock-fuzz-{}-{}-{}.http",
                self.vendor,
                self.seed,
                self.findings.len()
            ));
            let _ = std::fs::write(&file, req.wire(base.trim_start_matches("http://")));
            eprintln!(
                "fuzz {}: saved the request to {}",
                self.vendor,
                file.display()
            );
        }
        eprintln!(
            "fuzz {}: FINDING: {what}\n--- request\n{request}\n--- answer\n{answer}\n---",
            self.vendor
        );
        self.findings.push(Finding {
            what,
            request,
            answer,
        });
    }
}

enum Verdict {
    Answered(u16),
    DroppedAsAsked,
    Dropped,
    Down,
}

impl Run {
    /// Checks one answer: below 500 unless a scenario of the request asks
    /// for that 5xx, an answer unless a scenario breaks the connection (or
    /// the request was not valid HTTP), and within [`HANG`].
    async fn judge(
        &mut self,
        server: &TestServer,
        shipped: &Shipped,
        req: &Req,
        outcome: Outcome,
        took: Duration,
        n: u64,
    ) -> Verdict {
        let allowed_5xx: Vec<u16> = req
            .scenarios
            .iter()
            .flat_map(|s| shipped.server_errors.get(s).cloned().unwrap_or_default())
            .collect();
        let may_break = req
            .scenarios
            .iter()
            .any(|s| shipped.breaks.get(s).copied().unwrap_or(false));
        let route = req.write_route.clone().unwrap_or_default();
        if took > HANG {
            let what = format!("request #{n} took {took:?}");
            self.found(
                format!("slow {} {route}", req.method),
                what,
                Some(req),
                &server.base,
                String::new(),
            );
        }
        match outcome {
            Outcome::Answered { status, body } => {
                if status >= 500 && !allowed_5xx.contains(&status) {
                    self.found(
                        format!("{status} {} {route} {}", req.method, clip(&body, 60)),
                        format!("request #{n} got {status} without a scenario asking for it"),
                        Some(req),
                        &server.base,
                        format!("{status}\n{}", clip(&body, 2000)),
                    );
                }
                Verdict::Answered(status)
            }
            Outcome::Dropped(_) if may_break || req.malformed || req.refused_unread() => {
                Verdict::DroppedAsAsked
            }
            Outcome::Dropped(why) => {
                let what = format!("request #{n}: no answer ({why})");
                self.found(
                    format!("dropped {} {route}", req.method),
                    what,
                    Some(req),
                    &server.base,
                    why.clone(),
                );
                if healthy(server).await {
                    Verdict::Dropped
                } else {
                    let what =
                        format!("the server stopped answering /__admin/health after request #{n}");
                    self.found("down".into(), what, Some(req), &server.base, why);
                    Verdict::Down
                }
            }
        }
    }
}

fn settings() -> (Duration, u64) {
    let secs: f64 = std::env::var("USERMOCK_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let seed = std::env::var("USERMOCK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    (
        Duration::from_secs_f64(secs.clamp(0.0, 24.0 * 3600.0)),
        seed,
    )
}

fn fuzz(spec: Spec) {
    let (budget, seed) = settings();
    eprintln!(
        "fuzz {}: seed {seed} (USERMOCK_FUZZ_SEED={seed} replays it), {} s",
        spec.vendor,
        budget.as_secs_f64()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(spec, budget, seed));
}

async fn run(spec: Spec, budget: Duration, seed: u64) {
    let server = TestServer::start().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HANG + Duration::from_secs(5))
        .build()
        .expect("client");
    let shipped = shipped();
    let mut rng = Rng::with_seed(seed);
    let mut state = Run {
        vendor: spec.vendor,
        seed,
        findings: Vec::new(),
        finding_count: 0,
        signatures: Default::default(),
        quiet: false,
    };
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let (mut sent, mut raw, mut dropped_on_purpose, mut checked_records, mut slowest) =
        (0u64, 0u64, 0u64, 0u64, Duration::ZERO);
    let mut writes_since_check: Vec<String> = Vec::new();
    // USERMOCK_FUZZ_TRACE=FIRST-LAST prints those requests and answers.
    let trace = std::env::var("USERMOCK_FUZZ_TRACE")
        .ok()
        .and_then(|t| {
            let (a, b) = t.split_once('-')?;
            Some(a.parse::<u64>().ok()?..=b.parse::<u64>().ok()?)
        })
        .unwrap_or(0..=0); // requests count from 1: none
    let started = Instant::now();
    // Bounded in time and in count.
    while started.elapsed() < budget && sent < 50_000_000 {
        let req = generate(&mut rng, &spec, &shipped);
        sent += 1;
        raw += u64::from(req.raw);
        let at = Instant::now();
        let outcome = send(&client, &server.base, &req).await;
        let took = at.elapsed();
        slowest = slowest.max(took);
        if trace.contains(&sent) {
            let answer = match &outcome {
                Outcome::Answered { status, body } => format!("{status} {}", clip(body, 300)),
                Outcome::Dropped(why) => format!("dropped: {}", clip(why.as_bytes(), 300)),
            };
            eprintln!("#{sent} {}\n=> {answer}\n", req.render());
        }
        match state
            .judge(&server, &shipped, &req, outcome, took, sent)
            .await
        {
            Verdict::Answered(status) => {
                *statuses.entry(status).or_default() += 1;
                if (200..300).contains(&status) && req.write_route.is_some() {
                    writes_since_check.push(req.summary(sent, status));
                }
            }
            Verdict::DroppedAsAsked => dropped_on_purpose += 1,
            Verdict::Dropped => {}
            Verdict::Down => break,
        }
        if sent % CHECK_EVERY == 0 {
            if !healthy(&server).await {
                state.found(
                    "down".into(),
                    format!("the server stopped answering /__admin/health by request #{sent}"),
                    None,
                    &server.base,
                    String::new(),
                );
                break;
            }
            checked_records += check_records(&server, &mut state, &writes_since_check).await;
            writes_since_check.clear();
        }
        if sent % RESET_EVERY == 0 {
            let reset = server
                .send(server.request(Method::POST, "/__admin/reset"))
                .await;
            assert_eq!(reset.status, 200, "{}", reset.text);
        }
    }
    let healthy_at_end = healthy(&server).await;
    checked_records += check_records(&server, &mut state, &writes_since_check).await;
    let elapsed = started.elapsed();
    let histogram: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}:{n}")).collect();
    eprintln!(
        "fuzz {}: seed {seed}: {sent} requests ({raw} raw) in {:.1} s ({:.0}/s); statuses {}; {dropped_on_purpose} dropped as asked; slowest {:?}; {checked_records} stored records re-validated; {} findings",
        spec.vendor,
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64().max(0.001),
        histogram.join(" "),
        slowest,
        state.finding_count,
    );
    assert!(
        healthy_at_end,
        "the server stopped answering /__admin/health"
    );
    if !state.findings.is_empty() {
        let mut report = format!(
            "{} findings for {} (seed {seed}):\n",
            state.finding_count, spec.vendor
        );
        for f in &state.findings {
            report.push_str(&format!(
                "\n* {}\n--- request\n{}\n--- answer\n{}\n",
                f.what, f.request, f.answer
            ));
        }
        panic!("{report}");
    }
}

async fn healthy(server: &TestServer) -> bool {
    let ask = server
        .request(Method::GET, "/__admin/health")
        .timeout(HANG)
        .send();
    matches!(tokio::time::timeout(HANG, ask).await, Ok(Ok(r)) if r.status() == 200)
}

/// Reads every user of the vendor (shared state and each session) and puts
/// each back through the admin API, which validates it like a fixture
/// entry. Returns how many records were checked.
async fn check_records(server: &TestServer, state: &mut Run, writes: &[String]) -> u64 {
    let vendor = state.vendor;
    let mut checked = 0;
    let mut broken = false;
    for session in std::iter::once(None).chain(SESSIONS.iter().map(Some)) {
        let with_session = |b: reqwest::RequestBuilder| match session {
            Some(s) => b.header("x-usermock-session", *s),
            None => b,
        };
        let list = server
            .send(with_session(
                server.request(Method::GET, &format!("/__admin/{vendor}/users")),
            ))
            .await;
        assert_eq!(list.status, 200, "{}", list.text);
        let users = list.json()["users"].as_array().cloned().unwrap_or_default();
        for user in users {
            checked += 1;
            let id = user["id"].as_str().unwrap_or_default().to_owned();
            let put = server
                .send(
                    with_session(server.request(
                        Method::PUT,
                        &format!("/__admin/{vendor}/users/{}", encode(&id)),
                    ))
                    .json(&user),
                )
                .await;
            let problem = if put.status != 200 {
                Some(format!("{}: {}", put.status, put.text))
            } else if put.json() != user {
                Some(format!("stored again, the record changed: {}", put.text))
            } else {
                None
            };
            if let Some(problem) = problem {
                broken = true;
                let context = format!(
                    "session {:?}, user {id}:\n{}\nsuccessful writes since the previous check:\n{}",
                    session,
                    clip(user.to_string().as_bytes(), 3000),
                    writes.join("\n")
                );
                state.found(
                    format!("invalid record {}", clip(problem.as_bytes(), 80)),
                    format!("a stored {vendor} record fails fixture validation ({context})"),
                    None,
                    &server.base,
                    problem,
                );
            }
        }
    }
    if broken {
        // Start again from the fixtures, so one broken record is reported once.
        server
            .send(server.request(Method::POST, "/__admin/reset"))
            .await;
    }
    checked
}

#[test]
fn activity_fuzz() {
    fuzz(activity());
}

/// The vendors with a generator written for them above; every other
/// registered vendor is fuzzed by [`every_other_registered_vendor_is_fuzzed`].
const WRITTEN_FOR: [&str; 4] = ["activity", "awork", "relesys", "replay"];

#[test]
fn every_vendor_with_a_written_generator_is_registered() {
    let names = usermock::vendor_names();
    for vendor in WRITTEN_FOR {
        assert!(
            names.contains(&vendor),
            "tests/it/fuzz.rs has a generator for '{vendor}', which is not a registered vendor"
        );
    }
}

#[test]
fn every_other_registered_vendor_is_fuzzed() {
    for vendor in registered().vendors.iter() {
        if !WRITTEN_FOR.contains(&vendor.name) {
            fuzz(generic(vendor));
        }
    }
}

#[test]
fn relesys_fuzz() {
    fuzz(relesys());
}

#[test]
fn awork_fuzz() {
    fuzz(awork());
}

#[test]
fn replay_fuzz() {
    fuzz(replay());
}
