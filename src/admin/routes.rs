//! The admin API's route table: every (method, path) it answers and what
//! answers it. The 404 for an unknown path and the 405 with `Allow` derive
//! from it, and a test holds it equal to the paths of `openapi.json`.

use std::sync::LazyLock;

use hyper::header::HeaderValue;
use hyper::Method;

use crate::http::{Captures, PathPattern};

/// One admin operation: a route with one method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
    DashboardPage,
    DashboardRedirect,
    OpenApi,
    /// Liveness, for health checks that cannot hold the admin token: it
    /// says nothing but "up".
    Live,
    Health,
    Reset,
    ListRequests,
    ClearRequests,
    FindRequests,
    CountRequests,
    UnmatchedRequests,
    ListScenarios,
    PostScenarios,
    GetScenario,
    DeleteScenario,
    ActivateScenario,
    DeactivateScenario,
    GetClock,
    SetClock,
    UnsetClock,
    AdvanceClock,
    TakeSnapshot,
    RestoreSnapshot,
    ListSessions,
    ListUsers,
    GetUser,
    PutUser,
    DeleteUser,
}

impl Endpoint {
    /// The dashboard is static and without data, liveness says only "up":
    /// they need no admin token.
    fn public(self) -> bool {
        matches!(
            self,
            Endpoint::DashboardPage | Endpoint::DashboardRedirect | Endpoint::Live
        )
    }
}

/// The table as written: `(method, path pattern, endpoint)`.
const ROWS: &[(Method, &str, Endpoint)] = &[
    (Method::GET, "/__admin", Endpoint::DashboardRedirect),
    (Method::GET, "/__admin/", Endpoint::DashboardRedirect),
    (Method::GET, "/__admin/ui", Endpoint::DashboardPage),
    (Method::GET, "/__admin/openapi.json", Endpoint::OpenApi),
    (Method::GET, "/__admin/live", Endpoint::Live),
    (Method::HEAD, "/__admin/live", Endpoint::Live),
    (Method::GET, "/__admin/health", Endpoint::Health),
    (Method::POST, "/__admin/reset", Endpoint::Reset),
    (Method::GET, "/__admin/requests", Endpoint::ListRequests),
    (Method::DELETE, "/__admin/requests", Endpoint::ClearRequests),
    (
        Method::POST,
        "/__admin/requests/find",
        Endpoint::FindRequests,
    ),
    (
        Method::POST,
        "/__admin/requests/count",
        Endpoint::CountRequests,
    ),
    (
        Method::GET,
        "/__admin/requests/unmatched",
        Endpoint::UnmatchedRequests,
    ),
    (Method::GET, "/__admin/scenarios", Endpoint::ListScenarios),
    (Method::POST, "/__admin/scenarios", Endpoint::PostScenarios),
    (
        Method::GET,
        "/__admin/scenarios/{name}",
        Endpoint::GetScenario,
    ),
    (
        Method::DELETE,
        "/__admin/scenarios/{name}",
        Endpoint::DeleteScenario,
    ),
    (
        Method::POST,
        "/__admin/scenarios/{name}/activate",
        Endpoint::ActivateScenario,
    ),
    (
        Method::POST,
        "/__admin/scenarios/{name}/deactivate",
        Endpoint::DeactivateScenario,
    ),
    (Method::GET, "/__admin/clock", Endpoint::GetClock),
    (Method::PUT, "/__admin/clock", Endpoint::SetClock),
    (Method::DELETE, "/__admin/clock", Endpoint::UnsetClock),
    (
        Method::POST,
        "/__admin/clock/advance",
        Endpoint::AdvanceClock,
    ),
    (Method::GET, "/__admin/snapshot", Endpoint::TakeSnapshot),
    (Method::PUT, "/__admin/snapshot", Endpoint::RestoreSnapshot),
    (Method::GET, "/__admin/sessions", Endpoint::ListSessions),
    (Method::GET, "/__admin/{vendor}/users", Endpoint::ListUsers),
    (
        Method::GET,
        "/__admin/{vendor}/users/{id}",
        Endpoint::GetUser,
    ),
    (
        Method::PUT,
        "/__admin/{vendor}/users/{id}",
        Endpoint::PutUser,
    ),
    (
        Method::DELETE,
        "/__admin/{vendor}/users/{id}",
        Endpoint::DeleteUser,
    ),
];

/// One path of the table with every method it has.
pub(super) struct PathRoutes {
    pattern: PathPattern,
    /// Without parameters the path must be exactly the pattern (no
    /// trailing slash tolerated: `/__admin` and `/__admin/` are two routes).
    exact: bool,
    methods: Vec<(Method, Endpoint)>,
    allow: HeaderValue,
}

/// The table, parsed once: paths without parameters first, then the more
/// literal segments the earlier, ties in written order.
static TABLE: LazyLock<Vec<PathRoutes>> = LazyLock::new(|| {
    let mut table: Vec<PathRoutes> = Vec::new();
    for (method, pattern, endpoint) in ROWS {
        if let Some(path) = table.iter_mut().find(|p| p.pattern.as_str() == *pattern) {
            path.methods.push((method.clone(), *endpoint));
            continue;
        }
        match PathPattern::parse(pattern) {
            Ok(parsed) => table.push(PathRoutes {
                exact: !pattern.contains('{'),
                pattern: parsed,
                methods: vec![(method.clone(), *endpoint)],
                allow: HeaderValue::from_static(""),
            }),
            Err(err) => {
                tracing::error!(pattern, %err, "malformed admin route pattern");
                debug_assert!(false, "malformed admin route pattern {pattern}: {err}");
            }
        }
    }
    for path in &mut table {
        let allow: Vec<&str> = path.methods.iter().map(|(m, _)| m.as_str()).collect();
        path.allow = HeaderValue::from_str(&allow.join(", "))
            .unwrap_or_else(|_| HeaderValue::from_static(""));
    }
    table.sort_by_key(|p| (!p.exact, std::cmp::Reverse(p.pattern.literal_count())));
    table
});

/// What the table says about a request.
pub(super) enum Found<'p> {
    Route {
        endpoint: Endpoint,
        params: Captures<'static, 'p>,
    },
    /// The path is a route, not with this method.
    WrongMethod {
        allow: HeaderValue,
        public: bool,
    },
    NoRoute,
}

pub(super) fn find<'p>(method: &Method, path: &'p str) -> Found<'p> {
    for routes in TABLE.iter() {
        let params = if routes.exact {
            (routes.pattern.as_str() == path).then(Captures::default)
        } else {
            routes.pattern.captures(path)
        };
        let Some(params) = params else {
            continue;
        };
        return match routes.methods.iter().find(|(m, _)| m == method) {
            Some((_, endpoint)) => Found::Route {
                endpoint: *endpoint,
                params,
            },
            None => Found::WrongMethod {
                allow: routes.allow.clone(),
                public: routes.methods.iter().all(|(_, e)| e.public()),
            },
        };
    }
    Found::NoRoute
}

impl Found<'_> {
    /// The dashboard's page, its redirect and the OpenAPI document hold no
    /// data, so a link from another site may open them (the admin guard
    /// checks only their `Host`).
    pub(super) fn static_page(&self) -> bool {
        matches!(
            self,
            Found::Route {
                endpoint: Endpoint::DashboardPage | Endpoint::DashboardRedirect | Endpoint::OpenApi,
                ..
            }
        )
    }

    /// Whether answering needs the admin token.
    pub(super) fn public(&self) -> bool {
        match self {
            Found::Route { endpoint, .. } => endpoint.public(),
            Found::WrongMethod { public, .. } => *public,
            Found::NoRoute => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_table_and_the_openapi_document_have_the_same_routes() {
        let document: serde_json::Value =
            serde_json::from_str(include_str!("openapi.json")).unwrap_or_default();
        let methods = ["get", "put", "post", "delete", "patch", "head", "options"];
        let documented: BTreeSet<(String, String)> = document["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(path, item)| {
                item.as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(method, _)| methods.contains(&method.as_str()))
                    .map(|(method, _)| (method.to_ascii_uppercase(), path.clone()))
            })
            .collect();
        let table: BTreeSet<(String, String)> = ROWS
            .iter()
            .map(|(method, pattern, _)| (method.as_str().to_owned(), (*pattern).to_owned()))
            .collect();
        assert_eq!(
            table.difference(&documented).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "routes of src/admin/routes.rs missing from src/admin/openapi.json"
        );
        assert_eq!(
            documented.difference(&table).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "paths of src/admin/openapi.json that src/admin/routes.rs does not serve"
        );
    }

    #[test]
    fn every_pattern_of_the_table_parses() {
        let parsed: BTreeSet<&str> = TABLE.iter().map(|p| p.pattern.as_str()).collect();
        let written: BTreeSet<&str> = ROWS.iter().map(|(_, p, _)| *p).collect();
        assert_eq!(parsed, written);
    }

    #[test]
    fn a_path_answers_405_with_the_methods_of_its_rows_and_404_off_the_table() {
        let allow = |method: Method, path: &str| match find(&method, path) {
            Found::WrongMethod { allow, .. } => allow.to_str().unwrap_or_default().to_owned(),
            Found::Route { endpoint, .. } => format!("route {endpoint:?}"),
            Found::NoRoute => "404".to_owned(),
        };
        assert_eq!(allow(Method::PATCH, "/__admin/requests"), "GET, DELETE");
        assert_eq!(allow(Method::POST, "/__admin/clock"), "GET, PUT, DELETE");
        assert_eq!(
            allow(Method::PATCH, "/__admin/relesys/users/x"),
            "GET, PUT, DELETE"
        );
        assert_eq!(allow(Method::GET, "/__admin/clock/advance"), "POST");
        assert_eq!(allow(Method::GET, "/__admin/scenarios/a/b"), "404");
        assert_eq!(allow(Method::GET, "/__admin/health/"), "404");
        assert_eq!(
            allow(Method::GET, "/__admin/scenarios/users"),
            "route GetScenario"
        );
        assert_eq!(allow(Method::GET, "/__admin/"), "route DashboardRedirect");
        assert!(find(&Method::POST, "/__admin/ui").public());
        assert!(!find(&Method::GET, "/__admin/health").public());
    }
}
