//! Typed settings of the query service. The CLI (`cli/query.rs`) fills them from flags and
//! the environment; tests fill them directly.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::config::{JwtSettings, Secret, DEFAULT_REQUEST_TIMEOUT};

/// `keel query-service` listens here unless told otherwise.
pub const DEFAULT_PORT: u16 = 8083;

/// The longest one Elasticsearch call may take. Below the request deadline, so a slow
/// cluster is reported as such (503 naming Elasticsearch) rather than as a generic timeout.
pub const DEFAULT_SEARCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything [`super::QueryService::build`] needs.
#[derive(Debug, Clone)]
pub struct QueryConfig {
    pub host: IpAddr,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// Where Elasticsearch (or OpenSearch) answers.
    pub elasticsearch_url: String,
    /// The alias (or index) the search model is read through.
    pub alias: String,
    /// The token key, with the issuer and audience that tokens must name.
    pub jwt: JwtSettings,
    /// The longest a request may take; past it the answer is 503 with `Retry-After`.
    pub request_timeout: Duration,
    /// The longest one Elasticsearch call may take; past it the answer is 503.
    pub search_timeout: Duration,
}

impl QueryConfig {
    /// Settings for tests and embedding: loopback, a free port, the given cluster and alias.
    pub fn local(
        elasticsearch_url: impl Into<String>,
        alias: impl Into<String>,
        jwt_secret: Secret,
    ) -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            elasticsearch_url: elasticsearch_url.into(),
            alias: alias.into(),
            jwt: JwtSettings::new(jwt_secret),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            search_timeout: DEFAULT_SEARCH_TIMEOUT,
        }
    }
}

/// Why `alias` cannot name an Elasticsearch alias, if it cannot. Checked at startup because
/// the name goes into request paths: a `,` or `*` would silently read other indices.
pub fn check_alias(alias: &str) -> Result<(), String> {
    const RESERVED: &[char] = &['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':'];
    if alias.is_empty() || alias.len() > 255 {
        return Err("must be 1 to 255 bytes long".into());
    }
    if alias == "." || alias == ".." {
        return Err("must not be `.` or `..`".into());
    }
    if alias.starts_with(['-', '_', '+']) {
        return Err("must not start with `-`, `_` or `+`".into());
    }
    if let Some(c) = alias
        .chars()
        .find(|c| RESERVED.contains(c) || c.is_uppercase() || c.is_control())
    {
        return Err(format!(
            "must be lowercase, without spaces, control characters or any of \\ / * ? \" < > | , # : (found {c:?})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_plain_index_names() {
        for good in ["orders", "orders-test_1", "keel.orders"] {
            assert!(check_alias(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Orders",
            "orders,users",
            "orders*",
            "_all",
            "-x",
            "..",
            "a b",
            "a/b",
        ] {
            assert!(check_alias(bad).is_err(), "{bad}");
        }
    }
}
