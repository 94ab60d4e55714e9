//! The rebuild's corpus: orders of 4 events each (OrderPlaced at its current schema version
//! with 1–3 lines, PaymentAuthorised, OrderConfirmed, OrderShipped), encoded by the schemas'
//! own codec and written in bulk with SQL (the append path is measured elsewhere; no outbox
//! rows). Each statement is one transaction, so the global order (transaction id, position)
//! is the order of the rows.
//!
//! Orders progress in windows: the `window` orders of a window are placed one after the
//! other, then all paid, then confirmed, then shipped, so one order's events lie `window`
//! positions apart in the log, as they would in a shop that takes orders all day (window 1:
//! each order's 4 events are adjacent).

use std::time::Instant;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use keel_aggregates::order::{Order, OrderStatus};
use keel_aggregates::Aggregate;
use keel_eventstore::{EventStore, GlobalCheckpoint, PgEventStore};
use keel_schemas::order::{
    total_of, LineItem, OrderConfirmed, OrderEvent, OrderPlaced, OrderShipped, PaymentAuthorised,
};
use keel_schemas::{Currency, EventMetadata, MinorUnits, VersionedEvent};
use uuid::Uuid;

/// Events per INSERT statement.
const CHUNK: usize = 20_000;
pub const EVENTS_PER_ORDER: u64 = 4;

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Margaret",
    "Ken",
    "Frances",
    "John",
    "Radia",
    "Niklaus",
    "Hedy",
    "Tim",
    "Katherine",
    "Dennis",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Allen",
    "Backus",
    "Perlman",
    "Wirth",
    "Lamarr",
    "Berners-Lee",
    "Johnson",
    "Ritchie",
];
const ARTICLES: &[&str] = &[
    "Notebook",
    "Pencil",
    "Fountain pen",
    "Desk lamp",
    "Stapler",
    "Paper clips",
    "Ink cartridge",
    "Sticky notes",
    "Ruler",
    "Eraser",
    "Highlighter",
    "Letter tray",
];
const CARRIERS: &[&str] = &["DHL", "UPS", "DPD", "GLS", "FedEx"];

/// A deterministic mix of `n` (splitmix64), so reruns write the same shapes.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Order `n`'s four events, in stream order.
pub fn order_events(n: u64, order_id: Uuid) -> [OrderEvent; 4] {
    let h = mix(n);
    let lines: Vec<LineItem> = (0..1 + h % 3)
        .map(|l| {
            let a = mix(h ^ l);
            LineItem {
                sku: format!("SKU-{}", a % 5000),
                name: ARTICLES[(a >> 16) as usize % ARTICLES.len()].to_owned(),
                quantity: 1 + (a >> 24) as u32 % 5,
                unit_price: MinorUnits::new(99 + (a >> 32) % 9901),
            }
        })
        .collect();
    let currency =
        [Currency::EUR, Currency::USD, Currency::GBP, Currency::JPY][(h >> 8) as usize % 4];
    let customer = mix(h >> 4) % 50_000;
    [
        OrderEvent::OrderPlaced(OrderPlaced {
            order_id,
            customer_id: Uuid::from_u64_pair(0x0192_f4c4_8f3a_7cc2, customer),
            customer_name: format!(
                "{} {}",
                FIRST[customer as usize % FIRST.len()],
                LAST[(customer / 16) as usize % LAST.len()]
            ),
            total: total_of(&lines).unwrap_or_default(),
            lines,
            currency,
        }),
        OrderEvent::PaymentAuthorised(PaymentAuthorised {
            payment_id: Uuid::new_v4(),
        }),
        OrderEvent::OrderConfirmed(OrderConfirmed {}),
        OrderEvent::OrderShipped(OrderShipped {
            carrier: CARRIERS[(h >> 12) as usize % CARRIERS.len()].to_owned(),
            tracking_number: format!("TRK{:012}", h % 1_000_000_000_000),
        }),
    ]
}

#[derive(Default)]
struct Rows {
    event_id: Vec<Uuid>,
    stream_id: Vec<String>,
    version: Vec<i64>,
    event_type: Vec<String>,
    schema_version: Vec<i32>,
    payload: Vec<String>,
    metadata: Vec<String>,
    recorded_at: Vec<DateTime<Utc>>,
}

impl Rows {
    fn len(&self) -> usize {
        self.event_id.len()
    }

    fn push(&mut self, stream_id: &str, version: i64, event: &OrderEvent, at: DateTime<Utc>) {
        let encoded = event.encode();
        let metadata = EventMetadata {
            correlation_id: Some(Uuid::new_v4()),
            actor: Some("projection-bench".into()),
            ..EventMetadata::default()
        };
        self.event_id.push(Uuid::now_v7());
        self.stream_id.push(stream_id.to_owned());
        self.version.push(version);
        self.event_type.push(encoded.event_type);
        self.schema_version.push(encoded.schema_version as i32);
        self.payload.push(encoded.payload.to_string());
        self.metadata
            .push(serde_json::to_string(&metadata).unwrap_or_else(|_| "{}".into()));
        self.recorded_at.push(at);
    }

    async fn insert(self, pool: &sqlx::PgPool) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO events (event_id, stream_id, stream_type, version, event_type,
                                 schema_version, payload, metadata, recorded_at)
             SELECT e, s, 'order', v, t, sv, p::jsonb, m::jsonb, r
             FROM UNNEST($1::uuid[], $2::text[], $3::bigint[], $4::text[], $5::int[],
                         $6::text[], $7::text[], $8::timestamptz[])
                  WITH ORDINALITY AS u(e, s, v, t, sv, p, m, r, n)
             ORDER BY n",
        )
        .bind(self.event_id)
        .bind(self.stream_id)
        .bind(self.version)
        .bind(self.event_type)
        .bind(self.schema_version)
        .bind(self.payload)
        .bind(self.metadata)
        .bind(self.recorded_at)
        .execute(pool)
        .await?;
        Ok(())
    }
}

/// What was written.
pub struct Corpus {
    pub orders: u64,
    pub events: u64,
    pub seconds: f64,
}

/// Writes `orders` orders (4 events each) progressing in windows of `window` orders.
pub async fn write(store: &PgEventStore, orders: u64, window: u64) -> anyhow::Result<Corpus> {
    let started = Instant::now();
    let pool = store.pool();
    let window = window.max(1);
    let events = orders * EVENTS_PER_ORDER;
    // One event a millisecond, ending now.
    let first_at = Utc::now() - ChronoDuration::milliseconds(events as i64);
    let mut position = 0u64;
    let mut rows = Rows::default();
    let mut pending: Option<tokio::task::JoinHandle<anyhow::Result<()>>> = None;
    let mut start = 0;
    while start < orders {
        let end = (start + window).min(orders);
        let batch: Vec<(String, [OrderEvent; 4])> = (start..end)
            .map(|n| {
                let id = Uuid::new_v4();
                (format!("order-{id}"), order_events(n, id))
            })
            .collect();
        for step in 0..EVENTS_PER_ORDER as usize {
            for (stream_id, events) in &batch {
                let at = first_at + ChronoDuration::milliseconds(position as i64);
                rows.push(stream_id, step as i64 + 1, &events[step], at);
                position += 1;
                if rows.len() == CHUNK {
                    // Insert one chunk while the next is being encoded.
                    if let Some(p) = pending.take() {
                        p.await??;
                    }
                    let full = std::mem::take(&mut rows);
                    let pool = pool.clone();
                    pending = Some(tokio::spawn(async move { full.insert(&pool).await }));
                }
            }
        }
        start = end;
    }
    if let Some(p) = pending.take() {
        p.await??;
    }
    if rows.len() > 0 {
        rows.insert(pool).await?;
    }
    Ok(Corpus {
        orders,
        events,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Reads the first `events` events back through the store's global reader and folds every
/// order among them that starts there: the corpus must decode and fold as the projector's
/// would. Returns how many orders reached `shipped`.
pub async fn check(store: &PgEventStore, events: usize) -> anyhow::Result<usize> {
    let batch = store.read_all(GlobalCheckpoint::START, events).await?;
    anyhow::ensure!(
        batch.events.len() == events,
        "the store's reader returned {} of the first {events} events",
        batch.events.len()
    );
    let mut orders: std::collections::HashMap<String, (u64, Order)> = Default::default();
    for global in &batch.events {
        let envelope = &global.event;
        let event = OrderEvent::decode(&envelope.encoded()).map_err(|e| {
            anyhow::anyhow!("{} v{}: {e}", envelope.stream_id, envelope.stream_version)
        })?;
        let (version, order) = orders.entry(envelope.stream_id.clone()).or_default();
        if envelope.stream_version != *version + 1 {
            continue;
        }
        order.apply(&event);
        *version = envelope.stream_version;
    }
    Ok(orders
        .values()
        .filter(|(_, o)| o.status() == OrderStatus::Shipped)
        .count())
}
