//! One relayed database: stand by until this process holds the lease, then publish its
//! outbox until the lease is lost, the producer is fenced, or the process stops.
//!
//! A leader's session with Kafka: `init_transactions` (fencing older producers), read the
//! last committed progress record, delete the rows it names, then loop: read the oldest
//! rows, park poison ones, publish the rest with their progress record in one transaction,
//! delete them. Any failure ends the session; the next one starts from the progress record
//! again, so an uncertain commit is settled by what Kafka holds, never guessed.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keel_eventstore::PgEventStore;

use super::config::{RelayConfig, RelayTarget};
use super::dead_letter;
use super::error::RelayError;
use super::lease::Lease;
use super::metrics::RelayMetrics;
use super::progress::{self, ProgressRecord};
use super::publisher::Publisher;
use super::status::{Role, TargetStatus};
use super::topics;
use super::wakeup::Wakeup;
use crate::shutdown::Shutdown;

/// How often an idle leader checks that Kafka still answers (for readiness).
const PROBE_EVERY: Duration = Duration::from_secs(2);
/// How often the backlog metrics are sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(2);

pub struct TargetRelay {
    pub config: Arc<RelayConfig>,
    pub target: RelayTarget,
    pub store: PgEventStore,
    pub status: Arc<TargetStatus>,
    pub metrics: RelayMetrics,
}

enum Ended {
    Stopped,
    LeaseLost(RelayError),
    Failed(RelayError),
}

impl TargetRelay {
    pub async fn run(self, shutdown: Shutdown) -> Result<(), RelayError> {
        let sampler = tokio::spawn(sample_backlog(
            self.store.clone(),
            self.target.name.clone(),
            self.metrics.clone(),
        ));
        let result = self.lead_or_stand_by(shutdown).await;
        sampler.abort();
        result
    }

    async fn lead_or_stand_by(&self, shutdown: Shutdown) -> Result<(), RelayError> {
        let name = &self.target.name;
        let failover = self.config.failover_timeout;
        loop {
            self.status.set_role(Role::Standby);
            self.metrics.leader(name, false);
            tracing::info!(database = %name, "standing by for the lease");
            let waiting = Instant::now();
            let acquired = tokio::select! {
                acquired = Lease::acquire(&self.target.database_url, failover) => acquired,
                () = shutdown.wait() => return Ok(()),
            };
            let mut lease = match acquired {
                Ok(lease) => lease,
                Err(e) => {
                    tracing::warn!(database = %name, error = %e, "cannot reach the lease; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(failover / 2) => continue,
                        () = shutdown.wait() => return Ok(()),
                    }
                }
            };
            tracing::info!(database = %name, waited_ms = waiting.elapsed().as_millis() as u64,
                "lease acquired: leading");
            self.status.set_role(Role::Leader);
            self.metrics.leader(name, true);
            let ended = tokio::select! {
                lost = lease.keep() => Ended::LeaseLost(lost),
                failed = self.lead() => Ended::Failed(failed),
                () = shutdown.wait() => Ended::Stopped,
            };
            self.status.set_role(Role::Standby);
            self.metrics.leader(name, false);
            lease.release().await;
            match ended {
                Ended::Stopped => return Ok(()),
                Ended::LeaseLost(e) => {
                    tracing::warn!(database = %name, error = %e, "lease lost: stepping down")
                }
                Ended::Failed(e) => {
                    tracing::warn!(database = %name, error = %e, "stepping down")
                }
            }
        }
    }

    /// Publishes for as long as this process leads; returns only when fenced.
    async fn lead(&self) -> RelayError {
        let mut wakeup = Wakeup::new(&self.target.database_url, self.config.poll_interval);
        let mut backoff = Duration::from_millis(100);
        loop {
            let Err(e) = self.session(&mut wakeup).await;
            if matches!(e, RelayError::Fenced) {
                return e;
            }
            if e.is_kafka() {
                self.status.kafka_failed(&e.to_string());
            }
            self.metrics.aborted(&self.target.name);
            tracing::warn!(database = %self.target.name, error = %e,
                retry_in_ms = backoff.as_millis() as u64, "relay session failed");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    async fn session(&self, wakeup: &mut Wakeup) -> Result<Infallible, RelayError> {
        let config = &self.config;
        let name = &self.target.name;
        topics::ensure(
            &config.kafka_brokers,
            &[&self.target.topic],
            &config.progress_topic,
            config.topics,
            config.kafka_timeout,
        )
        .await?;
        let publisher = Publisher::start(config, &self.target).await?;
        let (brokers, topic, key, timeout) = (
            config.kafka_brokers.clone(),
            config.progress_topic.clone(),
            name.clone(),
            config.kafka_timeout,
        );
        let last = tokio::task::spawn_blocking(move || {
            progress::read_last(&brokers, &topic, &key, timeout)
        })
        .await
        .map_err(|e| RelayError::Task(e.to_string()))??;
        if let Some(last) = last {
            let removed = self.store.outbox_remove_chunked(&last.ids()).await?;
            tracing::info!(database = %name, batch_events = last.events, removed,
                "recovered: rows of the last committed batch removed");
        }
        self.status.kafka_ok();
        self.status.set_publishing();
        wakeup.listen().await;
        let mut last_contact = Instant::now();
        let mut read_ahead: Option<Vec<keel_eventstore::PendingRow>> = None;
        let mut last_batch: Option<(Instant, bool)> = None;
        // Whether this session asked the appends for a notification since it last found work.
        let mut armed = false;
        loop {
            if let Some((started, false)) = last_batch {
                tokio::time::sleep_until((started + config.linger).into()).await;
            }
            let cycle = Instant::now();
            let rows = match read_ahead.take() {
                Some(rows) => rows,
                None => self.store.outbox_peek_pending(config.batch_size).await?,
            };
            // A full read means a backlog: worth reading the next batch ahead.
            let backlogged = rows.len() == config.batch_size;
            let peeked = cycle.elapsed();
            if rows.is_empty() {
                if !armed {
                    // Ask first, then read once more: a row committed before the flag was
                    // set is found by that read, one committed after notifies.
                    self.store.outbox_arm_wakeup().await?;
                    armed = true;
                    continue;
                }
                if last_contact.elapsed() >= PROBE_EVERY {
                    match publisher.probe().await {
                        Ok(()) => self.status.kafka_ok(),
                        Err(e) => self.status.kafka_failed(&e.to_string()),
                    }
                    last_contact = Instant::now();
                }
                wakeup.wait().await;
                continue;
            }
            armed = false;
            wakeup.busy();
            let batch = dead_letter::screen(&self.store, rows, config.max_message_bytes).await?;
            if batch.parked > 0 {
                self.metrics.parked(name, batch.parked);
            }
            if batch.ids.is_empty() {
                continue;
            }
            let screened = cycle.elapsed();
            last_batch = Some((cycle, backlogged));
            let record = ProgressRecord::of(name, &batch.ids);
            // The next batch is read while this one is published: the oldest rows but this
            // batch's (still queued until the delete below). Per-stream order holds as for
            // any read: a stream's later row exists only once its earlier one committed.
            let read_next = async {
                if backlogged {
                    self.store
                        .outbox_peek_pending_excluding(config.batch_size, &batch.ids)
                        .await
                        .ok()
                } else {
                    None
                }
            };
            let (published, ahead) =
                tokio::join!(publisher.publish(&batch.messages, &record), read_next);
            published?;
            let committed = cycle.elapsed();
            let now = chrono::Utc::now();
            self.metrics.published(
                name,
                batch.messages.iter().map(|m| {
                    (now - m.recorded_at).num_microseconds().unwrap_or(0).max(0) as f64 / 1e6
                }),
            );
            self.status.kafka_ok();
            last_contact = Instant::now();
            // Until this delete succeeds the batch is "published, not removed": the only
            // such batch, and the one the progress record names.
            self.store.outbox_remove_chunked(&batch.ids).await?;
            // Only a full read is worth keeping: a short one may miss rows that committed
            // since, which the next read would include at once anyway.
            read_ahead = ahead.filter(|rows| rows.len() == config.batch_size);
            tracing::debug!(database = %name, events = batch.ids.len(),
                peek_ms = peeked.as_millis() as u64, screen_ms = screened.as_millis() as u64,
                commit_ms = committed.as_millis() as u64,
                cycle_ms = cycle.elapsed().as_millis() as u64, "batch published");
        }
    }
}

async fn sample_backlog(store: PgEventStore, name: String, metrics: RelayMetrics) {
    let mut published_before = metrics.published_total(&name);
    let mut at = Instant::now();
    loop {
        tokio::time::sleep(SAMPLE_EVERY).await;
        match store.outbox_backlog().await {
            Ok(backlog) => {
                let age = backlog.oldest.map_or(0.0, |t| {
                    (chrono::Utc::now() - t).num_milliseconds().max(0) as f64 / 1e3
                });
                metrics.backlog(&name, backlog.rows, age);
            }
            Err(e) => tracing::debug!(database = %name, error = %e, "backlog sample failed"),
        }
        let published = metrics.published_total(&name);
        let seconds = at.elapsed().as_secs_f64();
        metrics.rate(
            &name,
            published.saturating_sub(published_before) as f64 / seconds.max(1e-3),
        );
        published_before = published;
        at = Instant::now();
    }
}
