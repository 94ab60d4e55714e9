use keel_schemas::EventEnvelope;

/// An event waiting to be published; removed once the relay has published it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub id: u64,
    pub event: EventEnvelope,
}

/// An outbox row as the relay reads it: the event, or why it cannot be read (a poison row
/// the relay parks instead of blocking the queue behind it).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRow {
    pub id: u64,
    pub stream_id: String,
    pub event: Result<EventEnvelope, String>,
}

/// An outbox row taken out of the queue with the reason it could not be published.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub outbox_id: u64,
    pub position: u64,
    pub stream_id: String,
    pub reason: String,
    pub parked_at: chrono::DateTime<chrono::Utc>,
}

/// The outbox's size and the age of its oldest row, for the relay's metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutboxBacklog {
    pub rows: u64,
    /// When the oldest unpublished row's event was recorded.
    pub oldest: Option<chrono::DateTime<chrono::Utc>>,
}
