//! Shared plumbing between typed payloads and [`EncodedEvent`]s.

use serde::{de::DeserializeOwned, Serialize};

use crate::{EncodedEvent, SchemaError};

pub(crate) fn encode_payload<T: Serialize>(
    event_type: &str,
    schema_version: u32,
    payload: &T,
) -> EncodedEvent {
    EncodedEvent {
        event_type: event_type.to_owned(),
        schema_version,
        // Payloads are plain derived structs with string keys: serialising cannot fail.
        payload: serde_json::to_value(payload).expect("event payloads always serialise to JSON"),
    }
}

/// Reads the payload as `T`; a mismatch is an `InvalidPayload` naming the type and version.
pub(crate) fn decode_payload<T: DeserializeOwned>(
    encoded: &EncodedEvent,
) -> Result<T, SchemaError> {
    T::deserialize(&encoded.payload).map_err(|error| invalid_payload(encoded, error.to_string()))
}

/// Decodes an event type that has a single published version (no upcasters yet).
pub(crate) fn decode_only_version<T: DeserializeOwned>(
    encoded: &EncodedEvent,
    current: u32,
) -> Result<T, SchemaError> {
    if encoded.schema_version == current {
        decode_payload(encoded)
    } else {
        Err(unknown_version(encoded, current))
    }
}

pub(crate) fn unknown_version(encoded: &EncodedEvent, current: u32) -> SchemaError {
    SchemaError::UnknownVersion {
        event_type: encoded.event_type.clone(),
        version: encoded.schema_version,
        current,
    }
}

pub(crate) fn invalid_payload(encoded: &EncodedEvent, reason: String) -> SchemaError {
    SchemaError::InvalidPayload {
        event_type: encoded.event_type.clone(),
        version: encoded.schema_version,
        reason,
    }
}
