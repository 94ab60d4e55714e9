use std::sync::Arc;

use keel_aggregates::order::Order;
use keel_aggregates::Aggregate;
use keel_eventstore::{AppendRequest, EventStore, ExpectedVersion, PgEventStore, Snapshot};
use keel_schemas::order::{LineItem, OrderConfirmed, OrderEvent, OrderPlaced, PaymentAuthorised};
use keel_schemas::{Currency, EventMetadata, MinorUnits, NewEvent, VersionedEvent};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::api::{report, Api};

/// What the long streams hold, for the output.
pub const CONTENTS: &str = "OrderPlaced, then PaymentAuthorised and OrderConfirmed \
alternating, ending on PaymentAuthorised (status payment_authorised). Every event is folded \
by Order::apply (none ignored), but the domain refuses these repeats, so no client could \
produce such a stream: it is written straight to the store (the order state machine has no \
repeatable command; a real order has at most 5 events).";

/// Writes `count` order streams of `len` events (see [`CONTENTS`]) with `writers`
/// concurrent writers and, when `snapshot_at` is set, a snapshot of the state at that version.
pub async fn prepare(
    store: &PgEventStore,
    count: usize,
    len: u64,
    snapshot_at: Option<u64>,
    writers: usize,
) -> anyhow::Result<Vec<Uuid>> {
    let ids: Vec<Uuid> = (0..count).map(|_| Uuid::now_v7()).collect();
    let mut tasks = Vec::new();
    for chunk in ids.chunks(count.div_ceil(writers.max(1)).max(1)) {
        let (store, chunk) = (store.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            for id in chunk {
                write_stream(&store, id, len, snapshot_at).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(ids)
}

fn event(id: Uuid, version: u64, len: u64) -> OrderEvent {
    if version == 1 {
        let lines = vec![LineItem {
            sku: "SKU-1".into(),
            name: "Notebook".into(),
            quantity: 2,
            unit_price: MinorUnits::new(1250),
        }];
        return OrderEvent::OrderPlaced(OrderPlaced {
            order_id: id,
            customer_id: Uuid::new_v4(),
            customer_name: "Ada Lovelace".into(),
            lines,
            currency: Currency::EUR,
            total: MinorUnits::new(2500),
        });
    }
    // Counted back from the end, so the last event is always a PaymentAuthorised.
    match (len - version) % 2 {
        0 => OrderEvent::PaymentAuthorised(PaymentAuthorised {
            payment_id: Uuid::now_v7(),
        }),
        _ => OrderEvent::OrderConfirmed(OrderConfirmed {}),
    }
}

async fn write_stream(
    store: &PgEventStore,
    id: Uuid,
    len: u64,
    snapshot_at: Option<u64>,
) -> anyhow::Result<()> {
    let stream = format!("order-{id}");
    // Metadata as the service writes it.
    let metadata = EventMetadata {
        correlation_id: Some(Uuid::new_v4()),
        causation_id: Some(Uuid::new_v4()),
        traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
        actor: Some("bench".into()),
        idempotency_key: None,
    };
    let mut state = Order::default();
    let mut version = 0;
    while version < len {
        let batch: Vec<OrderEvent> = (version + 1..=len.min(version + 500))
            .map(|v| event(id, v, len))
            .collect();
        let events = batch
            .iter()
            .map(|e| NewEvent::new(e.encode(), metadata.clone()))
            .collect();
        let expected = ExpectedVersion::Exact(version);
        store
            .append(AppendRequest::new(&stream, "order", expected, events))
            .await?;
        for e in &batch {
            state.apply(e);
            version += 1;
            if Some(version) == snapshot_at {
                store
                    .save_snapshot(Snapshot {
                        stream_id: stream.clone(),
                        stream_type: "order".into(),
                        stream_version: version,
                        snapshot_version: Order::SNAPSHOT_VERSION,
                        state: serde_json::to_value(&state)?,
                    })
                    .await?;
            }
        }
    }
    Ok(())
}

/// On prepared `orders` with `clients` closed-loop clients: `reads` full loads
/// (`GET /orders/{id}`), `reads` refused commands (`deliver` on an order that has not
/// shipped: 422 after loading the aggregate), then one accepted command per order
/// (`confirm`, 200: load, decide, append). One printed line each.
pub async fn measure(
    api: &Api,
    label: &str,
    orders: Arc<Vec<Uuid>>,
    clients: usize,
    reads: usize,
) -> anyhow::Result<Vec<String>> {
    anyhow::ensure!(!orders.is_empty(), "no prepared orders");
    let n = orders.len();
    let per_client = reads.div_ceil(clients);
    let mut lines = Vec::new();
    let ids = Arc::clone(&orders);
    let mut get = api
        .closed_loop(clients, per_client, move |api, w, i| {
            let id = ids[(w * per_client + i) % n];
            (api.get_order(id), StatusCode::OK)
        })
        .await?;
    lines.push(report(
        api,
        &mut get,
        &format!("GET /orders/{{id}}, {label}"),
    ));
    let (ids, tag) = (Arc::clone(&orders), format!("deliver{clients}"));
    let mut refused = api
        .closed_loop(clients, per_client, move |api, w, i| {
            let (id, key) = (ids[(w * per_client + i) % n], api.key(&tag, w, i));
            let request = api.order_command(id, "deliver", &json!({}), &key);
            (request, StatusCode::UNPROCESSABLE_ENTITY)
        })
        .await?;
    lines.push(report(
        api,
        &mut refused,
        &format!("deliver -> 422, {label}"),
    ));
    let per_order = n / clients;
    anyhow::ensure!(per_order > 0, "fewer prepared orders than clients");
    let tag = format!("confirm{clients}");
    let mut accepted = api
        .closed_loop(clients, per_order, move |api, w, i| {
            let (id, key) = (orders[w * per_order + i], api.key(&tag, w, i));
            let request = api.order_command(id, "confirm", &json!({}), &key);
            (request, StatusCode::OK)
        })
        .await?;
    lines.push(report(
        api,
        &mut accepted,
        &format!("confirm -> 200, {label}"),
    ));
    Ok(lines)
}
