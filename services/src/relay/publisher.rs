//! The transactional producer: one Kafka transaction per batch, holding the batch's events
//! and its progress record.
//!
//! `transactional.id` is stable per relayed database, so `init_transactions` of a new
//! leader bumps the producer epoch: Kafka aborts whatever the previous holder left open,
//! waits for a commit it had started to complete, and refuses anything the old producer
//! sends afterwards (it is fenced). `enable.idempotence` and `acks=all` keep retries inside
//! librdkafka from duplicating or reordering messages within a partition.

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::ClientConfig;

use super::config::{RelayConfig, RelayTarget};
use super::error::RelayError;
use super::message::OutgoingMessage;
use super::progress::ProgressRecord;

pub struct Publisher {
    producer: FutureProducer,
    topic: String,
    progress_topic: String,
    key: String,
    timeout: Duration,
}

/// Runs a blocking librdkafka call off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RelayError> + Send + 'static,
) -> Result<T, RelayError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RelayError::Task(e.to_string()))?
}

impl Publisher {
    /// A producer that owns the database's `transactional.id` (fencing any older one).
    pub async fn start(config: &RelayConfig, target: &RelayTarget) -> Result<Self, RelayError> {
        let timeout = config.kafka_timeout;
        let request_bytes = (config.max_message_bytes + 65_536).max(1_000_000);
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &config.kafka_brokers)
            .set("transactional.id", config.transactional_id(target))
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", &config.compression)
            .set("linger.ms", "2")
            .set("batch.num.messages", "10000")
            .set("queue.buffering.max.messages", "1000000")
            .set("message.max.bytes", request_bytes.to_string())
            .set("transaction.timeout.ms", "60000")
            .set("message.timeout.ms", "55000")
            .set("socket.connection.setup.timeout.ms", "5000")
            .set("reconnect.backoff.max.ms", "1000")
            // A transaction right after a commit often meets CONCURRENT_TRANSACTIONS while
            // the broker writes the previous markers; the default 100 ms retry backoff
            // would then add 100 ms to every batch.
            .set("retry.backoff.ms", "5")
            .set("retry.backoff.max.ms", "100")
            .create()?;
        let init = producer.clone();
        blocking(move || {
            init.init_transactions(timeout)
                .map_err(RelayError::from_kafka)
        })
        .await?;
        Ok(Self {
            producer,
            topic: target.topic.clone(),
            progress_topic: config.progress_topic.clone(),
            key: target.name.clone(),
            timeout,
        })
    }

    /// Publishes `messages` and `progress` atomically: a read_committed consumer sees all of
    /// them or none. On an error the transaction is aborted (if it still can be); whether
    /// an uncertain commit landed is for the progress record to tell.
    pub async fn publish(
        &self,
        messages: &[OutgoingMessage],
        progress: &ProgressRecord,
    ) -> Result<(), RelayError> {
        self.producer
            .begin_transaction()
            .map_err(RelayError::from_kafka)?;
        match self.send_all(messages, progress).await {
            Ok(()) => {}
            Err(e) => {
                self.abort().await;
                return Err(e);
            }
        }
        let commit = self.producer.clone();
        let timeout = self.timeout;
        let committed = blocking(move || {
            commit
                .commit_transaction(timeout)
                .map_err(RelayError::from_kafka)
        })
        .await;
        if committed.is_err() {
            self.abort().await;
        }
        committed
    }

    /// Sends the batch and waits for every delivery report. (Waiting here, where the
    /// producer's own thread resolves the reports, matters: `commit_transaction` flushes
    /// first, and rust-rdkafka's flush re-checks only every 100 ms when another thread
    /// serves the reports, which put 100 ms on every transaction.)
    async fn send_all(
        &self,
        messages: &[OutgoingMessage],
        progress: &ProgressRecord,
    ) -> Result<(), RelayError> {
        let mut deliveries = Vec::with_capacity(messages.len() + 1);
        for m in messages {
            let record = FutureRecord::to(&self.topic)
                .key(m.key.as_bytes())
                .payload(&m.value)
                .headers(m.headers.clone());
            deliveries.push(self.enqueue(record).await?);
        }
        let value = progress.encode();
        let record = FutureRecord::to(&self.progress_topic)
            .partition(0)
            .key(self.key.as_bytes())
            .payload(&value);
        deliveries.push(self.enqueue(record).await?);
        // Bounded: with Kafka away a report would only come at message.timeout.ms.
        let reports = tokio::time::timeout(self.timeout, futures::future::join_all(deliveries))
            .await
            .map_err(|_| RelayError::KafkaTimeout(self.timeout))?;
        for delivery in reports {
            match delivery {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => return Err(RelayError::from_kafka(e)),
                Err(_) => return Err(RelayError::Task("delivery report dropped".into())),
            }
        }
        // A report resolves its future a moment before librdkafka stops counting the
        // message; commit only once the count is zero, or its flush waits 100 ms.
        let settle = tokio::time::Instant::now() + Duration::from_secs(1);
        while self.producer.in_flight_count() > 0 && tokio::time::Instant::now() < settle {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        Ok(())
    }

    /// Hands a record to librdkafka, waiting while its queue is full. Delivery is checked
    /// by the commit, which fails if any message of the transaction failed.
    async fn enqueue(
        &self,
        mut record: FutureRecord<'_, [u8], Vec<u8>>,
    ) -> Result<DeliveryFuture, RelayError> {
        loop {
            match self.producer.send_result(record) {
                Ok(delivery) => return Ok(delivery),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err((e, _)) => return Err(RelayError::from_kafka(e)),
            }
        }
    }

    async fn abort(&self) {
        let abort = self.producer.clone();
        let timeout = self.timeout;
        let aborted = blocking(move || {
            abort
                .abort_transaction(timeout)
                .map_err(RelayError::from_kafka)
        })
        .await;
        if let Err(e) = aborted {
            tracing::debug!(error = %e, "abort failed; the next init_transactions aborts it");
        }
    }

    /// Asks Kafka for the topic's metadata: is the cluster answering?
    pub async fn probe(&self) -> Result<(), RelayError> {
        let producer = self.producer.clone();
        let topic = self.topic.clone();
        let timeout = self.timeout.min(Duration::from_secs(3));
        blocking(move || {
            producer
                .client()
                .fetch_metadata(Some(&topic), timeout)
                .map(drop)
                .map_err(RelayError::Kafka)
        })
        .await
    }
}
