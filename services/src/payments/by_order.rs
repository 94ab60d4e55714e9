//! Which payments belong to an order, read from the payment service's own event store.
//!
//! The store has no lookup by payload field, so this reads the `PaymentRequested` events of
//! the `events` table directly (every published version carries `order_id`). It is a scan
//! filtered by event type; an expression index on `payload->>'order_id'`, or a lookup kept
//! by the store, would make it cheap (proposed to the event store's owner).

use keel_eventstore::PgEventStore;
use uuid::Uuid;

use crate::error::ApiError;

/// More payments than this for one order is not a real case; the list is cut there.
pub const MAX_PAYMENTS_PER_ORDER: i64 = 100;

/// The ids of the payments requested for `order_id`, oldest first.
pub async fn payment_ids(store: &PgEventStore, order_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    let stream_ids: Vec<String> = sqlx::query_scalar(
        "SELECT stream_id FROM events
         WHERE stream_type = 'payment' AND event_type = 'PaymentRequested'
           AND payload->>'order_id' = $1
         ORDER BY position
         LIMIT $2",
    )
    .bind(order_id.to_string())
    .bind(MAX_PAYMENTS_PER_ORDER)
    .fetch_all(store.pool())
    .await
    .map_err(|e| ApiError::store(e.into()))?;
    Ok(stream_ids
        .iter()
        .filter_map(|s| {
            s.strip_prefix("payment-")
                .and_then(|id| Uuid::parse_str(id).ok())
        })
        .collect())
}
