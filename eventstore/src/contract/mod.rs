//! The contract every [`EventStore`](crate::EventStore) implementation must pass.
//!
//! `contract_suite!(async { (fresh_store().await, guard) })` expands to one `#[tokio::test]`
//! per case; each case gets its own fresh store (and a guard kept alive until it ends). Cases panic (assert)
//! on a broken guarantee, so they belong in test code only.

mod append;
mod concurrency;
mod idempotency;
mod isolation;
mod outbox;
mod read;
mod repository;
mod snapshot;
pub mod tally;

pub use append::*;
pub use concurrency::*;
pub use idempotency::*;
pub use isolation::*;
pub use outbox::*;
pub use read::*;
pub use repository::*;
pub use snapshot::*;

use keel_schemas::{EventMetadata, NewEvent};
use serde_json::json;
use uuid::Uuid;

/// A stream id no other case uses.
pub fn unique_stream() -> String {
    format!("contract-{}", Uuid::new_v4())
}

/// A small event with a recognisable payload.
pub fn event(n: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "Counted".into(),
        schema_version: 1,
        payload: json!({ "n": n }),
        metadata: EventMetadata {
            correlation_id: Some(Uuid::new_v4()),
            actor: Some("contract".into()),
            ..EventMetadata::default()
        },
    }
}

pub fn events(range: std::ops::Range<u64>) -> Vec<NewEvent> {
    range.map(event).collect()
}

/// Expands to the whole contract suite for the store built by `$make` (an async block).
#[macro_export]
macro_rules! contract_suite {
    ($make:expr) => {
        $crate::contract_suite!(@cases $make;
            append_to_new_stream_numbers_versions_from_one,
            wrong_expected_version_appends_nothing,
            exact_and_any_versions_append,
            concurrent_appends_keep_every_guarantee,
            invalid_input_writes_nothing,
            stored_event_id_is_a_successful_no_op,
            idempotency_key_replays_and_refuses_other_requests,
            read_stream_honours_the_range,
            read_all_returns_every_event_once_in_batches,
            snapshots_keep_the_newest,
            snapshots_of_other_shapes_live_side_by_side,
            a_bad_request_fails_alone,
            partly_stored_event_ids_are_refused,
            answers_recorded_without_an_append_hold_their_key,
            outbox_holds_exactly_the_committed_events,
            repository_executes_and_reloads,
            repository_uses_snapshots_and_ignores_stale_ones,
            repository_time_travel_and_conflicts,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                // The guard (e.g. a per-test database) lives until the case ends.
                let (store, _guard) = $make.await;
                $crate::contract::$case(std::sync::Arc::new(store)).await;
            }
        )*
    };
}
