use thiserror::Error;

/// Why a stored or received event could not be turned into a typed event.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SchemaError {
    #[error("unknown event type `{event_type}` for stream type `{stream_type}`")]
    UnknownEventType {
        stream_type: &'static str,
        event_type: String,
    },
    #[error("event `{event_type}` has schema version {version}, known versions are 1..={current}")]
    UnknownVersion {
        event_type: String,
        version: u32,
        current: u32,
    },
    #[error("event `{event_type}` v{version} payload does not match its schema: {reason}")]
    InvalidPayload {
        event_type: String,
        version: u32,
        reason: String,
    },
}
