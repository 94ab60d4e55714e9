//! Workloads of the event store benchmark (`eventstore-bench`).

pub mod appends;
pub mod load;
pub mod read_all;
pub mod theirs;

use keel_schemas::{EventMetadata, NewEvent};
use serde_json::json;
use uuid::Uuid;

/// A small event like a typical domain event: a few fields and some metadata.
pub fn bench_event(n: usize) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "Counted".into(),
        schema_version: 1,
        payload: json!({ "n": n, "sku": "SKU-123", "note": "benchmark event" }),
        metadata: EventMetadata {
            correlation_id: Some(Uuid::new_v4()),
            actor: Some("bench".into()),
            ..EventMetadata::default()
        },
    }
}
