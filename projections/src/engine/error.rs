use rdkafka::error::KafkaError;
use thiserror::Error;

/// Why a batch was not (entirely) applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApplyError {
    /// The sink or a dependency failed in a way that may pass (unreachable, overloaded,
    /// timed out). Nothing of the batch is relied on; the runner retries all of it.
    #[error("transient failure: {0}")]
    Transient(String),
    /// These events fail deterministically; every other event of the batch was applied.
    #[error("{} poison event(s), e.g. {}", .0.len(), .0.first().map_or("", |r| r.reason.as_str()))]
    Poison(Vec<Rejected>),
}

/// An event of a batch that cannot be applied, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its index in the batch given to [`super::Projector::apply`].
    pub index: usize,
    pub reason: String,
}

impl Rejected {
    pub fn new(index: usize, reason: impl Into<String>) -> Self {
        Self {
            index,
            reason: reason.into(),
        }
    }
}

/// Why the runner could not start or stopped.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error("kafka at {brokers}: {source}")]
    Kafka {
        brokers: String,
        #[source]
        source: KafkaError,
    },
    #[error("kafka at {brokers} did not answer within {seconds}s")]
    KafkaTimeout { brokers: String, seconds: u64 },
    #[error("projector `{0}` reads no topic")]
    NoTopics(String),
    #[error("a runner task failed: {0}")]
    Task(String),
}
