use keel_schemas::EventEnvelope;

/// An event waiting to be published; removed once the relay has published it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub id: u64,
    pub event: EventEnvelope,
}
