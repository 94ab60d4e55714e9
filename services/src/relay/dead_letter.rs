//! Poison rows: an event that cannot be encoded, or a message over Kafka's size limit.
//! Such a row is parked in `outbox_dead_letters` with its reason instead of blocking the
//! whole outbox. Its stream must stay in order, so every later row of that stream is parked
//! behind it (reason: "behind dead letter") until an operator re-drives the stream; other
//! streams keep flowing.

use std::collections::{HashMap, HashSet};

use keel_eventstore::{PendingRow, PgEventStore};

use super::error::RelayError;
use super::message::{self, OutgoingMessage};

/// A batch cleared for publishing: outbox ids ascending, each with its message.
pub struct Screened {
    pub ids: Vec<u64>,
    pub messages: Vec<OutgoingMessage>,
    pub parked: usize,
}

/// Encodes `rows`; parks the poison ones and those of streams that already have dead
/// letters (in one statement, before anything of the batch is published).
pub async fn screen(
    store: &PgEventStore,
    rows: Vec<PendingRow>,
    max_message_bytes: usize,
) -> Result<Screened, RelayError> {
    let streams: Vec<String> = rows
        .iter()
        .map(|r| r.stream_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut blocked: HashMap<String, String> = store
        .outbox_blocked_streams(&streams)
        .await?
        .into_iter()
        .map(|s| (s, "behind an earlier dead letter of its stream".to_owned()))
        .collect();
    let mut screened = Screened {
        ids: Vec::with_capacity(rows.len()),
        messages: Vec::with_capacity(rows.len()),
        parked: 0,
    };
    let mut parked = Vec::new();
    for row in rows {
        if let Some(reason) = blocked.get(&row.stream_id) {
            parked.push((row.id, row.stream_id, reason.clone()));
            continue;
        }
        match row
            .event
            .and_then(|event| message::encode(event, max_message_bytes))
        {
            Ok(message) => {
                screened.ids.push(row.id);
                screened.messages.push(message);
            }
            Err(reason) => {
                tracing::error!(outbox_id = row.id, stream_id = %row.stream_id, %reason,
                    "poison outbox row parked; its stream waits for a re-drive");
                blocked.insert(
                    row.stream_id.clone(),
                    format!("behind dead letter {} of its stream", row.id),
                );
                parked.push((row.id, row.stream_id, reason));
            }
        }
    }
    if !parked.is_empty() {
        screened.parked = parked.len();
        store.outbox_park(&parked).await?;
    }
    Ok(screened)
}
