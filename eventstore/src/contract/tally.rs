//! A minimal aggregate for exercising the repository without the domain: it can grow to
//! any number of events, which the order and payment state machines cannot.

use keel_aggregates::{Aggregate, RuleViolation};
use keel_schemas::{EncodedEvent, SchemaError, VersionedEvent};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub total: i64,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Add(pub i64);

#[derive(Debug, Clone, PartialEq)]
pub struct Added(pub i64);

#[derive(Debug, thiserror::Error)]
#[error("adding zero changes nothing")]
pub struct AddZero;

impl RuleViolation for AddZero {
    fn rule(&self) -> &'static str {
        "tally-add-zero"
    }
}

impl VersionedEvent for Added {
    const STREAM_TYPE: &'static str = "tally";

    fn event_type(&self) -> &'static str {
        "TallyAdded"
    }

    fn encode(&self) -> EncodedEvent {
        EncodedEvent {
            event_type: "TallyAdded".into(),
            schema_version: 1,
            payload: json!({ "amount": self.0 }),
        }
    }

    fn decode(encoded: &EncodedEvent) -> Result<Self, SchemaError> {
        if encoded.event_type != "TallyAdded" {
            return Err(SchemaError::UnknownEventType {
                stream_type: Self::STREAM_TYPE,
                event_type: encoded.event_type.clone(),
            });
        }
        if encoded.schema_version != 1 {
            return Err(SchemaError::UnknownVersion {
                event_type: encoded.event_type.clone(),
                version: encoded.schema_version,
                current: 1,
            });
        }
        encoded.payload["amount"]
            .as_i64()
            .map(Added)
            .ok_or_else(|| SchemaError::InvalidPayload {
                event_type: encoded.event_type.clone(),
                version: 1,
                reason: "amount must be an integer".into(),
            })
    }

    fn encode_as(&self, schema_version: u32) -> Option<EncodedEvent> {
        (schema_version == 1).then(|| self.encode())
    }
}

impl Aggregate for Tally {
    type Command = Add;
    type Event = Added;
    type Error = AddZero;
    const SNAPSHOT_VERSION: u32 = 1;

    fn decide(&self, command: &Add) -> Result<Vec<Added>, AddZero> {
        if command.0 == 0 {
            return Err(AddZero);
        }
        Ok(vec![Added(command.0)])
    }

    fn apply(&mut self, event: &Added) {
        self.total = self.total.saturating_add(event.0);
        self.count += 1;
    }
}
