//! The consumer loop: collect a batch, apply it (retrying transient failures for ever),
//! dead-letter the poison, commit the offsets, repeat.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::ClientConfig;
use tokio::sync::watch;

use super::batch::{Batch, Received};
use super::context::RunnerContext;
use super::dead_letter::DeadLetterProducer;
use super::health::HealthState;
use super::topics::{self, TopicSpec};
use super::{
    decode_envelope, ApplyError, EngineError, EngineMetrics, Projector, RunnerConfig, Source,
};

/// A pause after a consumer error, so that a broker that is down is not asked in a tight
/// loop (librdkafka reconnects on its own meanwhile).
const AFTER_CONSUMER_ERROR: Duration = Duration::from_millis(200);

/// One projector on one consumer group member.
pub struct Runner {
    projector: Arc<dyn Projector>,
    config: RunnerConfig,
    name: String,
    group_id: String,
    stream_types: Vec<String>,
    consumer: Arc<StreamConsumer<RunnerContext>>,
    dead_letters: DeadLetterProducer,
    metrics: EngineMetrics,
    probe: Arc<BaseConsumer>,
}

enum Processed {
    Committed,
    /// Stopped while retrying: the batch is neither applied for sure nor committed.
    Abandoned,
}

impl Runner {
    /// Creates the missing topics (the projector's, with the relay's layout, and the
    /// dead-letter topic) and joins the consumer group. Fails when Kafka does not answer.
    pub async fn new(
        projector: Arc<dyn Projector>,
        config: RunnerConfig,
    ) -> Result<Self, EngineError> {
        let name = projector.name().to_owned();
        let topics = projector.topics();
        if topics.is_empty() {
            return Err(EngineError::NoTopics(name));
        }
        let group_id = config.group_id_for(&name);
        let dead_letter_topic = config.dead_letter_topic_for(&name);
        let kafka = |source| EngineError::Kafka {
            brokers: config.brokers.clone(),
            source,
        };
        let mut specs: Vec<TopicSpec<'_>> = topics
            .iter()
            .map(|t| TopicSpec {
                name: t,
                partitions: config.topic_partitions,
            })
            .collect();
        specs.push(TopicSpec {
            name: &dead_letter_topic,
            partitions: 1,
        });
        topics::ensure(
            &config.brokers,
            &specs,
            config.topic_replication,
            config.kafka_timeout,
        )
        .await?;

        let metrics = EngineMetrics::new(&name, |registry| projector.register_metrics(registry));
        let mut client = ClientConfig::new();
        client
            .set("bootstrap.servers", &config.brokers)
            .set("group.id", &group_id)
            .set("client.id", format!("keel-projector-{name}"))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("isolation.level", "read_committed")
            // A new group builds its read model from the oldest retained event.
            .set("auto.offset.reset", "earliest")
            // Only the partitions that move are revoked; the others keep flowing.
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set(
                "statistics.interval.ms",
                config.statistics_interval.as_millis().to_string(),
            );
        for (key, value) in &config.consumer_overrides {
            client.set(key, value);
        }
        let context = RunnerContext::new(&name, metrics.clone());
        let consumer: StreamConsumer<RunnerContext> =
            client.create_with_context(context).map_err(kafka)?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&names).map_err(kafka)?;
        let dead_letters =
            DeadLetterProducer::new(&config.brokers, dead_letter_topic, config.kafka_timeout)
                .map_err(kafka)?;
        // A client of its own for /health/ready, outside the group.
        let probe: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &config.brokers)
            .create()
            .map_err(kafka)?;
        tracing::info!(
            projector = %name,
            group = %group_id,
            topics = %topics.join(","),
            dead_letters = %dead_letters.topic(),
            "projector joined its consumer group"
        );
        Ok(Self {
            stream_types: projector.stream_types(),
            projector,
            config,
            name,
            group_id,
            consumer: Arc::new(consumer),
            dead_letters,
            metrics,
            probe: Arc::new(probe),
        })
    }

    pub fn metrics(&self) -> EngineMetrics {
        self.metrics.clone()
    }

    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    pub fn dead_letter_topic(&self) -> &str {
        self.dead_letters.topic()
    }

    /// What `/health/*` and `/metrics` need ([`super::health::router`]).
    pub fn health(&self) -> HealthState {
        HealthState {
            projector: self.projector.clone(),
            metrics: self.metrics.clone(),
            kafka: self.probe.clone(),
            brokers: self.config.brokers.clone(),
            topic: self.projector.topics().first().cloned().unwrap_or_default(),
        }
    }

    /// Projects until `shutdown` resolves; then commits what was applied and leaves the
    /// group (a batch still being collected or retried is abandoned, uncommitted).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), EngineError> {
        let (trigger, mut stop) = watch::channel(false);
        let watcher = tokio::spawn(async move {
            shutdown.await;
            let _ = trigger.send(true);
        });
        loop {
            let batch = tokio::select! {
                biased;
                () = stopped(&mut stop) => break,
                batch = self.collect() => batch,
            };
            if let Processed::Abandoned = self.process(batch, &mut stop).await {
                break;
            }
        }
        watcher.abort();
        self.leave().await
    }

    /// Waits for a first message as long as it takes, then for more until the batch is
    /// full or its time is up.
    async fn collect(&self) -> Batch {
        let mut batch = Batch::new();
        while batch.is_empty() {
            match self.consumer.recv().await {
                Ok(message) => batch.push(self.received(&message)),
                Err(e) => self.consumer_error(e).await,
            }
        }
        let deadline = tokio::time::Instant::now() + self.config.batch_timeout;
        while batch.len() < self.config.batch_size.max(1) {
            match tokio::time::timeout_at(deadline, self.consumer.recv()).await {
                Err(_) => break,
                Ok(Ok(message)) => batch.push(self.received(&message)),
                Ok(Err(e)) => self.consumer_error(e).await,
            }
        }
        batch
    }

    fn received(&self, message: &BorrowedMessage<'_>) -> Received {
        let source = Source {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
        };
        let epoch = self
            .consumer
            .context()
            .epoch(&source.topic, source.partition);
        let key = message.key().map(<[u8]>::to_vec);
        let value = message.payload().map(<[u8]>::to_vec);
        let decoded = decode_envelope(key.as_deref(), value.as_deref());
        Received {
            source,
            epoch,
            key,
            value,
            decoded,
        }
    }

    async fn consumer_error(&self, error: KafkaError) {
        self.metrics.error("kafka");
        tracing::warn!(projector = %self.name, error = %error, "consuming failed");
        tokio::time::sleep(AFTER_CONSUMER_ERROR).await;
    }

    async fn process(&self, mut batch: Batch, stop: &mut watch::Receiver<bool>) -> Processed {
        let context = self.consumer.context();
        let dropped = batch.retain_current(|key, epoch| context.is_current(key, epoch));
        if dropped > 0 {
            tracing::debug!(projector = %self.name, dropped, "messages of revoked partitions dropped");
        }
        if batch.is_empty() {
            return Processed::Committed;
        }
        let split = batch.split(&self.name, &self.stream_types);
        let mut letters = split.letters.clone();
        let mut rejected = 0;
        let mut attempt = 0;
        while !split.envelopes.is_empty() {
            match self.projector.apply(&split.envelopes).await {
                Ok(()) => break,
                Err(ApplyError::Poison(events)) => {
                    rejected = events.len();
                    letters.extend(batch.rejected(&self.name, &split, &events));
                    break;
                }
                Err(ApplyError::Transient(reason)) => {
                    attempt += 1;
                    self.metrics.error("transient");
                    let wait = self.config.backoff.delay(attempt);
                    tracing::warn!(
                        projector = %self.name,
                        attempt,
                        retry_in_ms = wait.as_millis() as u64,
                        events = split.envelopes.len(),
                        %reason,
                        "applying a batch failed; retrying it"
                    );
                    if !pause(wait, stop).await {
                        return Processed::Abandoned;
                    }
                }
            }
        }
        if !letters.is_empty() {
            attempt = 0;
            while let Err(reason) = self.dead_letters.send(&letters).await {
                attempt += 1;
                self.metrics.error("dead_letter");
                let wait = self.config.backoff.delay(attempt);
                tracing::warn!(projector = %self.name, attempt, %reason, "publishing dead letters failed; retrying");
                if !pause(wait, stop).await {
                    return Processed::Abandoned;
                }
            }
            self.metrics.error("poison");
            self.metrics.dead_lettered(letters.len());
            for letter in &letters {
                tracing::error!(
                    projector = %self.name,
                    topic = %letter.topic,
                    partition = letter.partition,
                    offset = letter.offset,
                    key = letter.key.as_deref().unwrap_or(""),
                    error = %letter.error,
                    dead_letters = %self.dead_letters.topic(),
                    "poison event dead-lettered"
                );
            }
        }
        self.metrics
            .applied(split.envelopes.len().saturating_sub(rejected));
        let commit = context.applied(&batch.next_offsets());
        if commit.count() > 0 {
            if let Err(e) = self.consumer.commit(&commit, CommitMode::Async) {
                self.metrics.error("commit");
                tracing::warn!(projector = %self.name, error = %e, "offset commit failed");
            }
        }
        self.metrics
            .batch_seconds(batch.started.elapsed().as_secs_f64());
        Processed::Committed
    }

    /// Commits what was applied, synchronously, and closes the consumer (which leaves the
    /// group, so the partitions move to the other members at once).
    async fn leave(self) -> Result<(), EngineError> {
        let Self { consumer, name, .. } = self;
        let offsets = consumer.context().applied_offsets();
        let closed = tokio::task::spawn_blocking(move || {
            if offsets.count() > 0 {
                if let Err(e) = consumer.commit(&offsets, CommitMode::Sync) {
                    tracing::warn!(projector = %name, error = %e, "final offset commit failed");
                }
            }
            // The last reference: dropping it closes the consumer (blocking until it left).
            drop(consumer);
            tracing::info!(projector = %name, "projector stopped");
        })
        .await;
        closed.map_err(|e| EngineError::Task(e.to_string()))
    }
}

/// Resolves once a stop was requested (or can no longer be).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Waits `wait`; false when a stop was requested meanwhile.
async fn pause(wait: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(wait) => true,
        () = stopped(stop) => false,
    }
}
