//! Applying events read from the event store through a projector's own apply path (the
//! one the live runner calls with Kafka batches), and following the global log until every
//! transaction that had begun is applied.
//!
//! Projectors are idempotent by stream version, so anything here may apply an event the
//! read model already reflects: that is a no-op, never a regression.

use std::time::{Duration, Instant};

use keel_eventstore::{EventStore, GlobalCheckpoint};
use keel_schemas::EventEnvelope;

use super::{EventSource, OperationError, Progress};
use crate::engine::{ApplyError, Backoff, Envelope, Projector, Rejected, Source};

/// The `Source` topic of an event read from the event store (its offset is the global
/// position), where a projector expects a Kafka message.
pub const EVENT_STORE_SOURCE: &str = "event-store";

/// Events per `read_all` batch and per apply.
const BATCH: usize = 1_000;
/// Tries of a batch that keeps failing transiently before the command gives up.
const ATTEMPTS: u32 = 8;
/// How often the horizon is asked again while an older transaction is still open.
const HORIZON_POLL: Duration = Duration::from_millis(50);
/// Rejections kept word for word for the summary; the rest are counted.
const KEPT_REJECTIONS: usize = 10;

pub fn envelope(event: EventEnvelope) -> Envelope {
    let offset = i64::try_from(event.global_position).unwrap_or(i64::MAX);
    Envelope {
        event,
        source: Source {
            topic: EVENT_STORE_SOURCE.to_owned(),
            partition: 0,
            offset,
        },
    }
}

/// What applying some events did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Events given to the projector and not rejected (whether they changed anything or
    /// were already reflected).
    pub events: u64,
    /// Events the projector rejected as poison (the live runner would dead-letter them).
    pub rejected: u64,
    /// The first rejections: `<stream> v<version>: <reason>`.
    pub rejections: Vec<String>,
}

impl Applied {
    pub fn merge(&mut self, other: Applied) {
        self.events += other.events;
        self.rejected += other.rejected;
        let room = KEPT_REJECTIONS.saturating_sub(self.rejections.len());
        self.rejections
            .extend(other.rejections.into_iter().take(room));
    }
}

/// Applies `batch`, retrying transient failures with backoff; returns the rejected events
/// (indexes into `batch`). Fails once the batch failed transiently [`ATTEMPTS`] times.
pub async fn apply_batch(
    projector: &dyn Projector,
    batch: &[Envelope],
) -> Result<Vec<Rejected>, OperationError> {
    let backoff = Backoff {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(5),
    };
    let mut attempt = 0;
    loop {
        match projector.apply(batch).await {
            Ok(()) => return Ok(Vec::new()),
            Err(ApplyError::Poison(rejected)) => return Ok(rejected),
            Err(ApplyError::Transient(reason)) => {
                attempt += 1;
                if attempt >= ATTEMPTS {
                    return Err(OperationError::Apply {
                        projector: projector.name().to_owned(),
                        reason: format!("{reason} ({attempt} tries)"),
                    });
                }
                tracing::warn!(projector = projector.name(), attempt, %reason, "applying events failed; retrying");
                tokio::time::sleep(backoff.delay(attempt)).await;
            }
        }
    }
}

/// [`apply_batch`], counted.
pub async fn apply(
    projector: &dyn Projector,
    batch: &[Envelope],
) -> Result<Applied, OperationError> {
    let rejected = apply_batch(projector, batch).await?;
    let rejections = rejected
        .iter()
        .take(KEPT_REJECTIONS)
        .map(|r| match batch.get(r.index) {
            Some(e) => format!(
                "{} v{}: {}",
                e.event.stream_id, e.event.stream_version, r.reason
            ),
            None => r.reason.clone(),
        })
        .collect();
    Ok(Applied {
        events: (batch.len() - rejected.len().min(batch.len())) as u64,
        rejected: rejected.len() as u64,
        rejections,
    })
}

/// Where a catch-up stopped and what it applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaughtUp {
    pub checkpoint: GlobalCheckpoint,
    pub applied: Applied,
}

/// Applies every event of the projector's stream types after `from` in the global log,
/// until every transaction that had begun when it was called has ended and its events are
/// applied. Waits for a transaction that stays open at most `patience`.
pub async fn catch_up(
    source: &EventSource,
    projector: &dyn Projector,
    from: GlobalCheckpoint,
    progress: &Progress,
    patience: Duration,
) -> Result<CaughtUp, OperationError> {
    let stream_types = projector.stream_types();
    let target = source.horizon().await?.xmax;
    let mut checkpoint = from;
    let mut applied = Applied::default();
    let mut waiting_since: Option<Instant> = None;
    loop {
        // Asked before reading: the read's own horizon is at least this one, so when every
        // transaction below the target had ended here, the read sees all their events.
        let settled = source.horizon().await?.xmin >= target;
        let batch = source.store().read_all(checkpoint, BATCH).await?;
        if batch.events.is_empty() {
            if settled {
                return Ok(CaughtUp {
                    checkpoint,
                    applied,
                });
            }
            let since = *waiting_since.get_or_insert_with(Instant::now);
            if since.elapsed() > patience {
                return Err(OperationError::EventStore(format!(
                    "a transaction that began before the catch-up has been open for more than \
                     {}s; its events could still commit, so the catch-up cannot finish (look for \
                     sessions `idle in transaction` in pg_stat_activity)",
                    patience.as_secs()
                )));
            }
            tokio::time::sleep(HORIZON_POLL).await;
            continue;
        }
        waiting_since = None;
        checkpoint = batch.checkpoint;
        let read = batch.events.len() as u64;
        let envelopes: Vec<Envelope> = batch
            .events
            .into_iter()
            .filter(|g| stream_types.contains(&g.event.stream_type))
            .map(|g| envelope(g.event))
            .collect();
        if !envelopes.is_empty() {
            applied.merge(apply(projector, &envelopes).await?);
        }
        progress.add(read, 0);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use keel_schemas::EventMetadata;

    use super::*;

    fn event(stream: &str, version: u64) -> Envelope {
        envelope(EventEnvelope {
            event_id: uuid::Uuid::now_v7(),
            stream_id: stream.into(),
            stream_type: "order".into(),
            stream_version: version,
            global_position: 40 + version,
            event_type: "OrderConfirmed".into(),
            schema_version: 1,
            recorded_at: chrono::Utc::now(),
            payload: serde_json::json!({}),
            metadata: EventMetadata::default(),
        })
    }

    /// Fails transiently `transient` times, then rejects the event at index 1.
    struct Flaky {
        transient: Mutex<u32>,
    }

    #[async_trait]
    impl Projector for Flaky {
        fn name(&self) -> &str {
            "flaky"
        }
        fn topics(&self) -> Vec<String> {
            vec!["t".into()]
        }
        fn stream_types(&self) -> Vec<String> {
            vec!["order".into()]
        }
        async fn apply(&self, _batch: &[Envelope]) -> Result<(), ApplyError> {
            let mut left = self.transient.lock().unwrap();
            if *left > 0 {
                *left -= 1;
                return Err(ApplyError::Transient("down".into()));
            }
            Err(ApplyError::Poison(vec![Rejected::new(1, "bad")]))
        }
    }

    #[tokio::test]
    async fn transient_failures_are_retried_and_rejections_named() {
        let projector = Flaky {
            transient: Mutex::new(2),
        };
        let batch = vec![event("order-a", 1), event("order-b", 3)];
        assert_eq!(batch[1].source.offset, 43);
        assert_eq!(batch[1].source.topic, EVENT_STORE_SOURCE);
        let applied = apply(&projector, &batch).await.unwrap();
        assert_eq!(applied.events, 1);
        assert_eq!(applied.rejected, 1);
        assert_eq!(applied.rejections, vec!["order-b v3: bad".to_owned()]);
    }
}
