//! The runner creates the topics it needs when they are missing: its dead-letter topic, and
//! its source topics (with the relay's layout), so a projector started before the relay
//! subscribes to a topic that exists instead of waiting for a metadata refresh. An existing
//! topic is left as it is.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;

use super::EngineError;

pub struct TopicSpec<'a> {
    pub name: &'a str,
    pub partitions: i32,
}

pub async fn ensure(
    brokers: &str,
    topics: &[TopicSpec<'_>],
    replication: i32,
    timeout: Duration,
) -> Result<(), EngineError> {
    let kafka = |source| EngineError::Kafka {
        brokers: brokers.to_owned(),
        source,
    };
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .map_err(kafka)?;
    let new: Vec<NewTopic> = topics
        .iter()
        .map(|t| NewTopic::new(t.name, t.partitions, TopicReplication::Fixed(replication)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(timeout));
    let results = tokio::time::timeout(timeout, admin.create_topics(&new, &options))
        .await
        .map_err(|_| EngineError::KafkaTimeout {
            brokers: brokers.to_owned(),
            seconds: timeout.as_secs(),
        })?
        .map_err(kafka)?;
    for result in results {
        match result {
            Ok(topic) => tracing::info!(%topic, "topic created"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                tracing::warn!(%topic, error = %code, "cannot create topic");
                return Err(kafka(KafkaError::AdminOp(code)));
            }
        }
    }
    Ok(())
}
