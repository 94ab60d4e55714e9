//! Why a relay step failed: the database, Kafka, or another relay that took over.

use keel_eventstore::StoreError;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    // Transparent: their messages say what failed, and a chain printed with `{:#}` does
    // not repeat them.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    /// Another relay initialised the same `transactional.id`: this one is a zombie.
    #[error("fenced: another relay took over this database's transactional id")]
    Fenced,
    #[error("the progress topic holds an unreadable record: {0}")]
    Progress(String),
    #[error("Kafka did not answer within {0:?}")]
    KafkaTimeout(std::time::Duration),
    #[error("listening on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the relay's HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
    #[error("a relay task stopped: {0}")]
    Task(String),
}

impl RelayError {
    /// Kafka errors that mean a newer producer with our `transactional.id` exists.
    pub fn from_kafka(error: KafkaError) -> Self {
        if is_fenced(&error) {
            RelayError::Fenced
        } else {
            RelayError::Kafka(error)
        }
    }

    /// A failure of Kafka (as opposed to PostgreSQL): it counts towards "unreachable".
    pub fn is_kafka(&self) -> bool {
        matches!(self, RelayError::Kafka(_) | RelayError::KafkaTimeout(_))
    }
}

fn is_fenced(error: &KafkaError) -> bool {
    let code = match error {
        KafkaError::Transaction(e) => e.code(),
        other => match other.rdkafka_error_code() {
            Some(code) => code,
            None => return false,
        },
    };
    matches!(
        code,
        RDKafkaErrorCode::Fenced
            | RDKafkaErrorCode::ProducerFenced
            | RDKafkaErrorCode::InvalidProducerEpoch
    )
}
