//! Topics are created on start when missing; an existing topic is left as it is.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;

use super::config::TopicLayout;
use super::error::RelayError;

/// Creates the event topics with `layout` and the progress topic (one compacted partition,
/// so the newest record per database is the last one with its key).
pub async fn ensure(
    brokers: &str,
    event_topics: &[&str],
    progress_topic: &str,
    layout: TopicLayout,
    timeout: Duration,
) -> Result<(), RelayError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let mut topics: Vec<NewTopic> = event_topics
        .iter()
        .map(|t| {
            NewTopic::new(
                t,
                layout.partitions,
                TopicReplication::Fixed(layout.replication),
            )
        })
        .collect();
    topics.push(
        NewTopic::new(
            progress_topic,
            1,
            TopicReplication::Fixed(layout.replication),
        )
        .set("cleanup.policy", "compact")
        .set("min.compaction.lag.ms", "60000"),
    );
    let options = AdminOptions::new().operation_timeout(Some(timeout));
    let results = tokio::time::timeout(timeout, admin.create_topics(&topics, &options))
        .await
        .map_err(|_| RelayError::KafkaTimeout(timeout))??;
    for result in results {
        match result {
            Ok(topic) => tracing::info!(%topic, "topic created"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(RelayError::Kafka(rdkafka::error::KafkaError::AdminOp(code)))
                    .inspect_err(|e| tracing::warn!(%topic, error = %e, "cannot create topic"))
            }
        }
    }
    Ok(())
}
