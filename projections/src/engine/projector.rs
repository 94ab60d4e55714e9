//! What a projector is to the engine: a name, what it reads, and a batch function.

use async_trait::async_trait;
use prometheus_client::registry::Registry;

use super::{ApplyError, Envelope};

/// Turns batches of events into writes to one read model.
///
/// The runner calls [`Projector::apply`] with one batch at a time, in offset order per
/// partition (so each stream's events in the order the relay published them), possibly
/// again with events it already applied (after a crash or a rebalance): `apply` must be
/// idempotent.
#[async_trait]
pub trait Projector: Send + Sync + 'static {
    /// A stable name: part of the consumer group id, the dead-letter topic and the metrics'
    /// `projector` label (`search`).
    fn name(&self) -> &str;

    /// The Kafka topics it reads (`orders.events`).
    fn topics(&self) -> Vec<String>;

    /// The stream types it projects (`order`); events of other stream types on its topics
    /// are skipped (and their offsets committed).
    fn stream_types(&self) -> Vec<String>;

    /// Applies a batch. `Ok` means every event is reflected in the read model;
    /// [`ApplyError::Poison`] means every event is, except the ones it names (they go to the
    /// dead-letter topic); [`ApplyError::Transient`] means nothing can be relied on and the
    /// whole batch is retried later.
    async fn apply(&self, batch: &[Envelope]) -> Result<(), ApplyError>;

    /// Why the read model's store is not usable right now, if it is not (for
    /// `/health/ready`). Must answer within a few seconds.
    async fn unready(&self) -> Option<String> {
        None
    }

    /// Registers the projector's own metrics (the registry is prefixed `keel_projector`).
    fn register_metrics(&self, _registry: &mut Registry) {}
}
