//! The router: method + path → a route, or the precise refusal (RFC 9110 §15.5.5 `404`,
//! §15.5.6 `405` with `Allow`).

/// One row of a routing table. `HEAD` is allowed wherever `GET` is (RFC 9110 §9.3.2).
#[derive(Clone, Copy, Debug)]
pub struct Route<T> {
    /// The path, or a prefix when it ends in `/` and `prefix` is set.
    pub path: &'static str,
    pub prefix: bool,
    /// The methods this route answers, as the `Allow` header lists them.
    pub allow: &'static str,
    pub target: T,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    MethodNotAllowed { allow: &'static str },
}

impl<T: Copy> Route<T> {
    fn matches_path(&self, path: &str) -> bool {
        if self.prefix {
            path.starts_with(self.path)
        } else {
            path == self.path
        }
    }

    fn allows(&self, method: &str) -> bool {
        self.allow.split(", ").any(|m| m == method || (method == "HEAD" && m == "GET"))
    }
}

/// Finds the route for `method` and `path` (the first matching row wins).
pub fn route<T: Copy>(table: &[Route<T>], method: &str, path: &str) -> Result<T, RouteError> {
    let mut allow = None;
    for row in table.iter().filter(|r| r.matches_path(path)) {
        if row.allows(method) {
            return Ok(row.target);
        }
        allow.get_or_insert(row.allow);
    }
    Err(allow.map_or(RouteError::NotFound, |allow| RouteError::MethodNotAllowed { allow }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[Route<u8>] = &[
        Route { path: "/", prefix: false, allow: "GET", target: 1 },
        Route { path: "/publish", prefix: false, allow: "POST, OPTIONS", target: 2 },
        Route { path: "/demos/", prefix: true, allow: "GET", target: 3 },
    ];

    #[test]
    fn routes_by_method_and_path() {
        assert_eq!(route(TABLE, "GET", "/"), Ok(1));
        assert_eq!(route(TABLE, "HEAD", "/"), Ok(1));
        assert_eq!(route(TABLE, "OPTIONS", "/publish"), Ok(2));
        assert_eq!(route(TABLE, "GET", "/demos/sse.html"), Ok(3));
        assert_eq!(route(TABLE, "GET", "/nope"), Err(RouteError::NotFound));
        assert_eq!(
            route(TABLE, "GET", "/publish"),
            Err(RouteError::MethodNotAllowed { allow: "POST, OPTIONS" })
        );
        assert_eq!(
            route(TABLE, "HEAD", "/publish"),
            Err(RouteError::MethodNotAllowed { allow: "POST, OPTIONS" })
        );
    }
}
