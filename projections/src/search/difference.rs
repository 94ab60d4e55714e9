//! How one order stream and its document differ: the fold of the stream compared with the
//! stored document on its version and the fields a search shows.

use keel_schemas::EventEnvelope;
use serde_json::Value;
use uuid::Uuid;

use super::fold::{fold, Base};
use crate::operations::{Difference, DifferenceKind};

/// The fields compared with the fold (beside the version).
const FIELDS: [&str; 10] = [
    "order_id",
    "customer_id",
    "customer_name",
    "lines",
    "total",
    "currency",
    "status",
    "payment_id",
    "shipment",
    "cancellation_reason",
];
/// Longest value quoted in a difference.
const QUOTE: usize = 120;

/// A document as read for verification (its folded state left out).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocument {
    pub id: String,
    pub version: u64,
    pub source: Value,
}

/// A UUID written the way the platform writes them (hyphenated, lowercase), whose text
/// order is its numeric order.
pub(super) fn canonical_uuid(text: &str) -> Option<Uuid> {
    let id = Uuid::parse_str(text).ok()?;
    (id.to_string() == text).then_some(id)
}

/// The order id of a canonical stream id (`order-<lowercase uuid>`).
pub(super) fn stream_key(stream_id: &str) -> Option<Uuid> {
    canonical_uuid(stream_id.strip_prefix("order-")?)
}

fn quote(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= QUOTE {
        return text;
    }
    let cut: String = text.chars().take(QUOTE).collect();
    format!("{cut}…")
}

/// How a stream and its document (if any) differ, if they do.
pub fn compare(events: &[EventEnvelope], stored: Option<&StoredDocument>) -> Option<Difference> {
    let stream_id = events.first()?.stream_id.clone();
    let stream_version = events.last().map_or(0, |e| e.stream_version);
    let refs: Vec<&EventEnvelope> = events.iter().collect();
    let folded = fold(Base::default(), &refs);
    let difference = |kind, detail: String| {
        Some(Difference {
            subject: stream_id.clone(),
            kind,
            detail,
        })
    };
    if let Some((version, reason)) = &folded.failed {
        let document = stored.map_or("no document".to_owned(), |d| {
            format!("a document at version {}", d.version)
        });
        return difference(
            DifferenceKind::Unfoldable,
            format!("the stream cannot be folded at version {version}: {reason} ({document})"),
        );
    }
    let expected = folded.document?;
    let Some(stored) = stored else {
        return difference(
            DifferenceKind::Missing,
            format!("no document (the stream is at version {stream_version})"),
        );
    };
    let expected_json = serde_json::to_value(&expected).ok()?;
    let mut fields: Vec<String> = FIELDS
        .iter()
        .filter_map(|field| {
            let want = &expected_json[*field];
            let have = stored.source.get(*field).unwrap_or(&Value::Null);
            (want != have)
                .then(|| format!("{field}: document {}, events {}", quote(have), quote(want)))
        })
        .collect();
    if stored.id != expected.order_id.to_string() {
        fields.push(format!(
            "_id: {} for order {}",
            stored.id, expected.order_id
        ));
    }
    let field_version = stored.source.get("version").and_then(Value::as_u64);
    if stored.version != expected.version || field_version != Some(expected.version) {
        let mut detail = format!(
            "document at version {} (field `version` {}), stream at version {}",
            stored.version,
            field_version.map_or("missing".to_owned(), |v| v.to_string()),
            expected.version
        );
        if !fields.is_empty() {
            detail.push_str("; ");
            detail.push_str(&fields.join("; "));
        }
        return difference(DifferenceKind::Version, detail);
    }
    if fields.is_empty() {
        return None;
    }
    difference(DifferenceKind::Fields, fields.join("; "))
}

pub(super) fn orphan(document: &StoredDocument) -> Difference {
    Difference {
        subject: document.id.clone(),
        kind: DifferenceKind::Orphan,
        detail: format!(
            "document at version {} without a stream (order-{} has no events)",
            document.version, document.id
        ),
    }
}

#[cfg(test)]
mod tests {
    use keel_schemas::order::{LineItem, OrderCancelled, OrderEvent, OrderPlaced};
    use keel_schemas::{Currency, MinorUnits};

    use super::*;

    use crate::search::fold::tests::{envelope, ORDER};
    use serde_json::json;

    fn history() -> Vec<EventEnvelope> {
        vec![
            envelope(
                1,
                OrderEvent::OrderPlaced(OrderPlaced {
                    order_id: ORDER,
                    customer_id: Uuid::from_u128(7),
                    customer_name: "Ada".into(),
                    lines: vec![LineItem {
                        sku: "S".into(),
                        name: "N".into(),
                        quantity: 1,
                        unit_price: MinorUnits::new(5),
                    }],
                    currency: Currency::parse("EUR").unwrap(),
                    total: MinorUnits::new(5),
                }),
            ),
            envelope(
                2,
                OrderEvent::OrderCancelled(OrderCancelled {
                    reason: "no".into(),
                }),
            ),
        ]
    }

    /// The document the live projector would have written.
    fn projected(events: &[EventEnvelope]) -> StoredDocument {
        let refs: Vec<&EventEnvelope> = events.iter().collect();
        let document = fold(Base::default(), &refs).document.unwrap();
        let mut source = serde_json::to_value(&document).unwrap();
        source.as_object_mut().unwrap().remove("state");
        StoredDocument {
            id: document.order_id.to_string(),
            version: document.version,
            source,
        }
    }

    #[test]
    fn the_projected_document_has_no_difference() {
        let events = history();
        assert_eq!(compare(&events, Some(&projected(&events))), None);
    }

    #[test]
    fn each_kind_of_difference_is_named() {
        let events = history();
        let missing = compare(&events, None).unwrap();
        assert_eq!(missing.kind, DifferenceKind::Missing);
        assert_eq!(missing.subject, format!("order-{ORDER}"));
        assert!(missing.detail.contains("version 2"), "{}", missing.detail);

        let mut changed = projected(&events);
        changed.source["status"] = json!("placed");
        let fields = compare(&events, Some(&changed)).unwrap();
        assert_eq!(fields.kind, DifferenceKind::Fields);
        assert_eq!(
            fields.detail,
            "status: document \"placed\", events \"cancelled\""
        );

        let behind = projected(&events[..1]);
        let version = compare(&events, Some(&behind)).unwrap();
        assert_eq!(version.kind, DifferenceKind::Version);
        assert!(
            version
                .detail
                .starts_with("document at version 1 (field `version` 1), stream at version 2"),
            "{}",
            version.detail
        );
        assert!(version.detail.contains("status"), "{}", version.detail);

        let mut unknown = events.clone();
        unknown[1].event_type = "OrderTeleported".into();
        let unfoldable = compare(&unknown, Some(&projected(&events))).unwrap();
        assert_eq!(unfoldable.kind, DifferenceKind::Unfoldable);

        let stray = orphan(&projected(&events));
        assert_eq!(stray.kind, DifferenceKind::Orphan);
        assert_eq!(stray.subject, ORDER.to_string());
    }

    #[test]
    fn only_canonical_ids_take_part_in_the_merge() {
        assert_eq!(stream_key(&format!("order-{ORDER}")), Some(ORDER));
        assert_eq!(
            stream_key(&format!("order-{}", ORDER.to_string().to_uppercase())),
            None
        );
        assert_eq!(stream_key("order-x"), None);
        assert_eq!(stream_key(&format!("payment-{ORDER}")), None);
    }
}
