//! `keel query-service`: the search API over the Elasticsearch read model.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use keel_projections::search::ALIAS;
use keel_services::config::redact_url;
use keel_services::query::config::DEFAULT_PORT;
use keel_services::query::{QueryConfig, QueryService};

use super::{parse_duration, JwtArgs};

#[derive(Debug, Args)]
pub struct QueryServiceArgs {
    /// Port to listen on.
    #[arg(long, env = "QUERY_SERVICE_PORT", default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Address to listen on.
    #[arg(long, env = "KEEL_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Elasticsearch (or OpenSearch) holding the search model.
    #[arg(
        long,
        env = "ELASTICSEARCH_URL",
        default_value = "http://127.0.0.1:9200"
    )]
    elasticsearch_url: String,
    /// The alias (or index) the search model is read through.
    #[arg(long, env = "SEARCH_ALIAS", default_value = ALIAS)]
    alias: String,
    #[command(flatten)]
    jwt: JwtArgs,
    /// The longest a request may take; then 503 with Retry-After.
    #[arg(long, env = "REQUEST_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    request_timeout: Duration,
    /// The longest one Elasticsearch call may take; then 503 with Retry-After.
    #[arg(long, env = "SEARCH_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    search_timeout: Duration,
}

pub async fn serve(args: QueryServiceArgs) -> anyhow::Result<()> {
    // Before anything is served: a service that would trust a public key never starts.
    let jwt = args.jwt.settings(args.jwt.mode())?;
    let config = QueryConfig {
        host: args.host,
        port: args.port,
        elasticsearch_url: args.elasticsearch_url,
        alias: args.alias,
        jwt,
        request_timeout: args.request_timeout,
        search_timeout: args.search_timeout,
    };
    let location = redact_url(&config.elasticsearch_url);
    let alias = config.alias.clone();
    let service = QueryService::build(config)
        .await
        .context("starting the query service")?;
    // Served either way: readiness reports a cluster that is down, and searches recover
    // when it is back, so a restart of Elasticsearch needs no restart of this service.
    match service.check_elasticsearch().await {
        Ok(status) => {
            tracing::info!(elasticsearch = %location, %status, %alias, "elasticsearch ready")
        }
        Err(e) => tracing::warn!(
            elasticsearch = %location,
            error = %e,
            "elasticsearch is not answering; /health/ready reports 503 until it does"
        ),
    }
    println!("query-service listening on {}", service.base_url());
    service
        .run_until_stopped()
        .await
        .context("serving the query service")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::super::{Cli, Command};

    #[test]
    fn the_alias_and_timeouts_are_settings() {
        let cli = Cli::try_parse_from([
            "keel",
            "query-service",
            "--alias",
            "orders-test",
            "--search-timeout",
            "750ms",
            "--port",
            "0",
        ])
        .unwrap();
        let Command::QueryService(args) = cli.command else {
            panic!("not the query service");
        };
        assert_eq!(args.alias, "orders-test");
        assert_eq!(args.search_timeout, Duration::from_millis(750));
        assert_eq!(args.port, 0);
    }
}
