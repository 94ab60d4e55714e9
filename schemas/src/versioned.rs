use serde_json::Value;

use crate::SchemaError;

/// An event as storage and transport see it: a type name, a schema version and a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedEvent {
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Value,
}

/// A typed event enum of one stream type, with its wire form and upcasting.
///
/// `decode` accepts any published schema version of any of the enum's event types and
/// upcasts it (v1 → v2 → …) to the current shape; anything else is a [`SchemaError`].
pub trait VersionedEvent:
    Sized + Clone + std::fmt::Debug + PartialEq + Send + Sync + 'static
{
    /// The stream type these events belong to (`order`, `payment`).
    const STREAM_TYPE: &'static str;

    /// The event type name stored with the event (`OrderPlaced`).
    fn event_type(&self) -> &'static str;

    /// Encodes in the current schema version of this event type.
    fn encode(&self) -> EncodedEvent;

    /// Decodes any known version, running the upcaster chain.
    fn decode(encoded: &EncodedEvent) -> Result<Self, SchemaError>;

    /// Encodes in an older schema version, where the event type has one that can express
    /// this value. Used by tests to prove that upcasting old events gives the same state.
    fn encode_as(&self, schema_version: u32) -> Option<EncodedEvent>;
}
