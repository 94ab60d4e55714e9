//! Pieces of the projection benchmark: the rebuild's corpus written in bulk, keel processes
//! run as children of the release binary, `/proc` sampling (RSS, CPU by component), the
//! Elasticsearch calls of the raw `_bulk` comparison, and the freshness run.

pub mod child;
pub mod corpus;
pub mod es;
pub mod freshness;
pub mod procs;
pub mod rebuild;

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;

/// Deletes the run's topics and consumer group (missing ones are fine); what failed.
pub async fn delete_kafka(brokers: &str, topics: &[&str], group: Option<&str>) -> Vec<String> {
    let admin: AdminClient<DefaultClientContext> = match ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
    {
        Ok(a) => a,
        Err(e) => return vec![e.to_string()],
    };
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let mut failed = Vec::new();
    if let Some(group) = group {
        match admin.delete_groups(&[group], &options).await {
            Ok(results) => failed.extend(
                results
                    .into_iter()
                    .filter_map(|r| r.err())
                    .filter(|(_, e)| {
                        !matches!(e, rdkafka::types::RDKafkaErrorCode::GroupIdNotFound)
                    })
                    .map(|(g, e)| format!("group {g}: {e}")),
            ),
            Err(e) => failed.push(format!("deleting group {group}: {e}")),
        }
    }
    match admin.delete_topics(topics, &options).await {
        Ok(results) => failed.extend(
            results
                .into_iter()
                .filter_map(|r| r.err())
                .filter(|(_, e)| {
                    !matches!(e, rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition)
                })
                .map(|(t, e)| format!("topic {t}: {e}")),
        ),
        Err(e) => failed.push(format!("deleting topics: {e}")),
    }
    failed
}

/// `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// KiB as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
