//! The pure part of the search projector: which events of a batch a document still needs,
//! and the document after folding them onto its stored state (no IO).
//!
//! A document is always the fold of its stream from version 1: events at or below its
//! version are duplicates or late arrivals and are skipped; events that would leave a
//! hole (the ones before them were never seen, e.g. in a fresh index) are not folded
//! until the missing ones have been read from the event store.

use chrono::{DateTime, Utc};
use keel_aggregates::order::{Order, OrderStatus};
use keel_aggregates::Aggregate;
use keel_schemas::order::OrderEvent;
use keel_schemas::{EventEnvelope, VersionedEvent};
use serde_json::{json, Value};

use super::{LineDocument, OrderDocument, ShipmentDocument};

/// Where folding starts: the stored document's state, or nothing.
#[derive(Debug, Clone, Default)]
pub struct Base {
    pub order: Order,
    /// The stream version `order` reflects (0: nothing folded yet).
    pub version: u64,
    pub placed_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Base {
    /// The stored document as a base, or `None` when its state cannot be used (written by
    /// a version of the aggregate whose state had another shape): then the stream is
    /// folded again from its first event.
    pub fn from_document(document: &OrderDocument) -> Option<Self> {
        let order = decode_state(&document.state)?;
        Some(Self {
            order,
            version: document.version,
            placed_at: Some(document.placed_at),
            updated_at: Some(document.updated_at),
        })
    }
}

/// The stored `state`: the aggregate's JSON under the snapshot version it was written with,
/// so a change of the state's shape is noticed rather than misread.
fn encode_state(order: &Order) -> Result<Value, String> {
    let order = serde_json::to_value(order).map_err(|e| format!("encoding the state: {e}"))?;
    Ok(json!({ "snapshot_version": Order::SNAPSHOT_VERSION, "order": order }))
}

fn decode_state(state: &Value) -> Option<Order> {
    if state.get("snapshot_version")?.as_u64()? != u64::from(Order::SNAPSHOT_VERSION) {
        return None;
    }
    serde_json::from_value(state.get("order")?.clone()).ok()
}

/// What a stream's events in a batch need, given the stored document's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Every event is at or below the stored version: nothing to write.
    UpToDate,
    /// The events above the stored version follow it without a hole: fold them.
    Fold,
    /// Read `from..=to` from the event store and fold those instead.
    ReadHistory { from: u64, to: u64 },
}

/// `versions`: the stream's versions in the batch. `base`: the stored version, and whether
/// its state can be folded onto.
pub fn plan(stored_version: u64, base_usable: bool, versions: &[u64]) -> Plan {
    let mut fresh: Vec<u64> = versions
        .iter()
        .copied()
        .filter(|v| *v > stored_version)
        .collect();
    fresh.sort_unstable();
    fresh.dedup();
    let Some(&last) = fresh.last() else {
        return Plan::UpToDate;
    };
    if !base_usable {
        return Plan::ReadHistory { from: 1, to: last };
    }
    let contiguous = fresh
        .iter()
        .zip(stored_version + 1..)
        .all(|(v, expected)| *v == expected);
    if contiguous {
        Plan::Fold
    } else {
        Plan::ReadHistory {
            from: stored_version + 1,
            to: last,
        }
    }
}

/// The result of folding one stream's events.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    /// The new document, when anything was folded.
    pub document: Option<OrderDocument>,
    /// The first version that could not be folded and why: it and everything after it in
    /// the batch are poison.
    pub failed: Option<(u64, String)>,
}

/// Folds `events` (ascending, duplicates allowed) onto `base`. Events at or below the
/// base's version are skipped; a hole stops the fold at the missing version.
pub fn fold(base: Base, events: &[&EventEnvelope]) -> Folded {
    let Base {
        mut order,
        version: base_version,
        mut placed_at,
        mut updated_at,
    } = base;
    let mut version = base_version;
    let mut failed = None;
    for envelope in events {
        if envelope.stream_version <= version {
            continue;
        }
        if envelope.stream_version != version + 1 {
            failed = Some((
                version + 1,
                format!(
                    "version {} of {} is missing from the event store",
                    version + 1,
                    envelope.stream_id
                ),
            ));
            break;
        }
        let event = match OrderEvent::decode(&envelope.encoded()) {
            Ok(event) => event,
            Err(e) => {
                failed = Some((envelope.stream_version, e.to_string()));
                break;
            }
        };
        let before = order.status();
        order.apply(&event);
        if before == OrderStatus::NotPlaced && order.status() == OrderStatus::Placed {
            placed_at = Some(envelope.recorded_at);
        }
        version = envelope.stream_version;
        updated_at = Some(envelope.recorded_at);
    }
    if version == base_version {
        return Folded {
            document: None,
            failed,
        };
    }
    match document(&order, version, placed_at, updated_at) {
        Ok(document) => Folded {
            document: Some(document),
            failed,
        },
        Err(reason) => Folded {
            document: None,
            failed: Some((base_version + 1, reason)),
        },
    }
}

fn document(
    order: &Order,
    version: u64,
    placed_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
) -> Result<OrderDocument, String> {
    let details = order
        .details()
        .ok_or_else(|| format!("no OrderPlaced event up to version {version}"))?;
    let updated_at = updated_at.ok_or("no event folded")?;
    Ok(OrderDocument {
        order_id: details.order_id,
        customer_id: details.customer_id,
        customer_name: details.customer_name.clone(),
        lines: details
            .lines
            .iter()
            .map(|line| LineDocument {
                sku: line.sku.clone(),
                name: line.name.clone(),
                quantity: line.quantity,
                unit_price: line.unit_price.get(),
            })
            .collect(),
        total: details.total.get(),
        currency: details.currency.as_str().to_owned(),
        status: order.status().as_str().to_owned(),
        payment_id: order.payment_id(),
        shipment: order.shipment().map(|s| ShipmentDocument {
            carrier: s.carrier.clone(),
            tracking_number: s.tracking_number.clone(),
        }),
        cancellation_reason: order.cancellation_reason().map(str::to_owned),
        placed_at: placed_at.unwrap_or(updated_at),
        updated_at,
        version,
        state: encode_state(order)?,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use chrono::TimeZone;
    use keel_schemas::order::{
        LineItem, OrderCancelled, OrderConfirmed, OrderPlaced, OrderShipped, PaymentAuthorised,
    };
    use keel_schemas::{Currency, EventMetadata, MinorUnits};
    use uuid::Uuid;

    use super::*;

    pub(crate) const ORDER: Uuid = Uuid::from_u128(0x0192_f4c4_8f3a_7cc2_9a53_1f2e_3d4c_5b6a);

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, second).unwrap()
    }

    pub(crate) fn envelope(version: u64, event: OrderEvent) -> EventEnvelope {
        let encoded = event.encode();
        EventEnvelope {
            event_id: Uuid::now_v7(),
            stream_id: format!("order-{ORDER}"),
            stream_type: "order".into(),
            stream_version: version,
            global_position: version,
            event_type: encoded.event_type,
            schema_version: encoded.schema_version,
            recorded_at: at(version as u32),
            payload: encoded.payload,
            metadata: EventMetadata::default(),
        }
    }

    fn placed() -> OrderEvent {
        OrderEvent::OrderPlaced(OrderPlaced {
            order_id: ORDER,
            customer_id: Uuid::from_u128(7),
            customer_name: "Ada Lovelace".into(),
            lines: vec![LineItem {
                sku: "SKU-1".into(),
                name: "Notebook".into(),
                quantity: 2,
                unit_price: MinorUnits::new(1250),
            }],
            currency: Currency::parse("EUR").unwrap(),
            total: MinorUnits::new(2500),
        })
    }

    fn history() -> Vec<EventEnvelope> {
        vec![
            envelope(1, placed()),
            envelope(
                2,
                OrderEvent::PaymentAuthorised(PaymentAuthorised {
                    payment_id: Uuid::from_u128(9),
                }),
            ),
            envelope(3, OrderEvent::OrderConfirmed(OrderConfirmed {})),
            envelope(
                4,
                OrderEvent::OrderShipped(OrderShipped {
                    carrier: "DHL".into(),
                    tracking_number: "JD1".into(),
                }),
            ),
        ]
    }

    fn refs(events: &[EventEnvelope]) -> Vec<&EventEnvelope> {
        events.iter().collect()
    }

    #[test]
    fn a_stream_folds_into_its_document() {
        let events = history();
        let folded = fold(Base::default(), &refs(&events));
        assert_eq!(folded.failed, None);
        let doc = folded.document.unwrap();
        assert_eq!(doc.order_id, ORDER);
        assert_eq!(doc.version, 4);
        assert_eq!(doc.status, "shipped");
        assert_eq!(doc.total, 2500);
        assert_eq!(doc.currency, "EUR");
        assert_eq!(doc.lines[0].unit_price, 1250);
        assert_eq!(doc.payment_id, Some(Uuid::from_u128(9)));
        assert_eq!(doc.shipment.as_ref().unwrap().tracking_number, "JD1");
        assert_eq!(doc.placed_at, at(1));
        assert_eq!(doc.updated_at, at(4));
    }

    #[test]
    fn folding_in_steps_onto_the_stored_state_equals_folding_at_once() {
        let events = history();
        let first = fold(Base::default(), &refs(&events[..2])).document.unwrap();
        let base = Base::from_document(&first).unwrap();
        // The batch repeats version 2: skipped, not applied twice.
        let second = fold(base, &refs(&events[1..])).document.unwrap();
        let at_once = fold(Base::default(), &refs(&events)).document.unwrap();
        assert_eq!(second, at_once);
    }

    #[test]
    fn a_state_of_another_shape_is_not_used() {
        let events = history();
        let mut doc = fold(Base::default(), &refs(&events)).document.unwrap();
        doc.state["snapshot_version"] = json!(Order::SNAPSHOT_VERSION + 1);
        assert!(Base::from_document(&doc).is_none());
        doc.state = json!({"status": "placed"});
        assert!(Base::from_document(&doc).is_none());
    }

    #[test]
    fn duplicates_skip_holes_read_history() {
        assert_eq!(plan(4, true, &[2, 3, 4]), Plan::UpToDate);
        assert_eq!(plan(0, true, &[]), Plan::UpToDate);
        assert_eq!(plan(2, true, &[3, 3, 4]), Plan::Fold);
        assert_eq!(plan(2, true, &[2, 4, 3]), Plan::Fold);
        assert_eq!(plan(0, true, &[3, 4]), Plan::ReadHistory { from: 1, to: 4 });
        assert_eq!(plan(2, true, &[3, 5]), Plan::ReadHistory { from: 3, to: 5 });
        assert_eq!(plan(2, false, &[3]), Plan::ReadHistory { from: 1, to: 3 });
        assert_eq!(plan(3, false, &[3]), Plan::UpToDate);
    }

    #[test]
    fn an_undecodable_event_stops_the_fold_there() {
        let mut events = history();
        events[2].schema_version = 99;
        let folded = fold(Base::default(), &refs(&events));
        let doc = folded.document.unwrap();
        assert_eq!(doc.version, 2, "the events before it are folded");
        let (version, reason) = folded.failed.unwrap();
        assert_eq!(version, 3);
        assert!(reason.contains("schema version 99"), "{reason}");
    }

    #[test]
    fn a_hole_or_a_stream_without_order_placed_is_reported() {
        let events = history();
        let folded = fold(Base::default(), &[&events[0], &events[2]]);
        assert_eq!(folded.document.unwrap().version, 1);
        assert_eq!(folded.failed.unwrap().0, 2);

        let cancelled = envelope(
            1,
            OrderEvent::OrderCancelled(OrderCancelled { reason: "x".into() }),
        );
        let folded = fold(Base::default(), &[&cancelled]);
        assert!(folded.document.is_none());
        let (version, reason) = folded.failed.unwrap();
        assert_eq!(version, 1);
        assert!(reason.contains("no OrderPlaced"), "{reason}");
    }
}
