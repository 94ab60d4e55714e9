//! Upcasting of published old payloads, and typed errors for everything decode rejects.

mod common;

use common::validator;
use keel_schemas::{
    order::{LineItem, OrderEvent, OrderPlaced, OrderShipped},
    payment::{PaymentAuthorised, PaymentEvent, PaymentRequested},
    Currency, EncodedEvent, MinorUnits, PublishedEvent, SchemaError, VersionedEvent,
};
use proptest::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

const ORDER: &str = "0191b6a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b";
const CUSTOMER: &str = "0191b6a4-aaaa-7bbb-8ccc-dddddddddddd";
const PAYMENT: &str = "0191b6a4-5555-7666-8777-888888888888";

fn encoded(event_type: &str, schema_version: u32, payload: Value) -> EncodedEvent {
    EncodedEvent {
        event_type: event_type.to_owned(),
        schema_version,
        payload,
    }
}

/// A stored old payload: it must match its published document, then upcast to `expected`.
fn assert_upcasts<E: VersionedEvent>(old: EncodedEvent, expected: E) {
    let document = common::schema_path(E::STREAM_TYPE, &old.event_type, old.schema_version);
    let errors: Vec<String> = validator(&document)
        .iter_errors(&old.payload)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "fixture does not match {document}: {errors:?}"
    );
    assert_eq!(E::decode(&old), Ok(expected));
}

fn placed(customer_name: &str, currency: Currency) -> OrderEvent {
    OrderEvent::OrderPlaced(OrderPlaced {
        order_id: Uuid::parse_str(ORDER).unwrap(),
        customer_id: Uuid::parse_str(CUSTOMER).unwrap(),
        customer_name: customer_name.to_owned(),
        lines: vec![LineItem {
            sku: "MUG-01".into(),
            name: "Mug".into(),
            quantity: 2,
            unit_price: MinorUnits::new(650),
        }],
        currency,
        total: MinorUnits::new(1300),
    })
}

fn old_lines() -> Value {
    json!([{"sku": "MUG-01", "name": "Mug", "quantity": 2, "unit_price": 650}])
}

#[test]
fn order_placed_v1_splits_the_customer_and_defaults_to_euros() {
    let v1 = json!({
        "order_id": ORDER,
        "customer": format!("{CUSTOMER}/Ada / Lovelace"),
        "lines": old_lines(),
        "total": 1300
    });
    assert_upcasts(
        encoded("OrderPlaced", 1, v1),
        placed("Ada / Lovelace", Currency::EUR),
    );
}

#[test]
fn order_placed_v2_defaults_to_euros() {
    let v2 = json!({
        "order_id": ORDER, "customer_id": CUSTOMER, "customer_name": "Ada",
        "lines": old_lines(), "total": 1300
    });
    assert_upcasts(encoded("OrderPlaced", 2, v2), placed("Ada", Currency::EUR));
}

#[test]
fn order_placed_in_another_currency_cannot_be_written_as_v1_or_v2() {
    let event = placed("Ada", Currency::GBP);
    assert!(event.encode_as(1).is_none() && event.encode_as(2).is_none());
    assert!(placed("Ada", Currency::EUR).encode_as(1).is_some());
}

#[test]
fn order_shipped_v1_renames_tracking() {
    let v1 = json!({"carrier": "DHL", "tracking": "JD0146"});
    let expected = OrderEvent::OrderShipped(OrderShipped {
        carrier: "DHL".into(),
        tracking_number: "JD0146".into(),
    });
    assert_upcasts(encoded("OrderShipped", 1, v1), expected);
}

#[test]
fn payment_requested_v1_renames_amount_cents() {
    let v1 =
        json!({"payment_id": PAYMENT, "order_id": ORDER, "amount_cents": 1300, "currency": "EUR"});
    let expected = PaymentEvent::PaymentRequested(PaymentRequested {
        payment_id: Uuid::parse_str(PAYMENT).unwrap(),
        order_id: Uuid::parse_str(ORDER).unwrap(),
        amount: MinorUnits::new(1300),
        currency: Currency::EUR,
    });
    assert_upcasts(encoded("PaymentRequested", 1, v1), expected);
}

#[test]
fn payment_authorised_v1_has_no_code() {
    let expected = PaymentEvent::PaymentAuthorised(PaymentAuthorised {
        authorisation_code: None,
    });
    assert_upcasts(encoded("PaymentAuthorised", 1, json!({})), expected);
}

#[test]
fn unknown_event_types_are_typed_errors() {
    let error = OrderEvent::decode(&encoded("OrderTeleported", 1, json!({}))).unwrap_err();
    assert_eq!(
        error,
        SchemaError::UnknownEventType {
            stream_type: "order",
            event_type: "OrderTeleported".into()
        }
    );
    // A payment event type is unknown on the order stream.
    let error =
        OrderEvent::decode(&encoded("PaymentCaptured", 1, json!({"amount": 1}))).unwrap_err();
    assert!(
        matches!(error, SchemaError::UnknownEventType { .. }),
        "{error}"
    );
}

fn assert_unknown_versions<E: VersionedEvent>(published: &[PublishedEvent]) {
    for event in published {
        for version in [0, event.current_version + 1, u32::MAX] {
            let error = E::decode(&encoded(event.event_type, version, json!({}))).unwrap_err();
            assert_eq!(
                error,
                SchemaError::UnknownVersion {
                    event_type: event.event_type.into(),
                    version,
                    current: event.current_version
                }
            );
        }
    }
}

#[test]
fn unknown_versions_are_typed_errors() {
    assert_unknown_versions::<OrderEvent>(OrderEvent::PUBLISHED);
    assert_unknown_versions::<PaymentEvent>(PaymentEvent::PUBLISHED);
}

#[test]
fn payloads_that_do_not_match_are_typed_errors() {
    let cases = [
        encoded("OrderCancelled", 1, json!({})),
        encoded("OrderCancelled", 1, json!({"reason": 7})),
        encoded("OrderCancelled", 1, json!({"reason": "x", "extra": true})),
        encoded("OrderConfirmed", 1, json!(null)),
        encoded(
            "OrderPlaced",
            1,
            json!({"order_id": ORDER, "customer": "Ada", "lines": [], "total": 0}),
        ),
        encoded(
            "OrderPlaced",
            1,
            json!({"order_id": ORDER, "customer": "nope/Ada", "lines": [], "total": 0}),
        ),
        encoded(
            "OrderPlaced",
            3,
            json!({"order_id": ORDER, "customer_id": CUSTOMER, "customer_name": "A",
            "lines": [], "currency": "euro", "total": 0}),
        ),
    ];
    for case in cases {
        // The published document refuses what decode refuses.
        let document = common::schema_path("order", &case.event_type, case.schema_version);
        assert!(
            !validator(&document).is_valid(&case.payload),
            "{document} accepts {case:?}"
        );
        match OrderEvent::decode(&case) {
            Err(SchemaError::InvalidPayload {
                event_type,
                version,
                ..
            }) => {
                assert_eq!(
                    (event_type, version),
                    (case.event_type.clone(), case.schema_version)
                );
            }
            other => panic!("{case:?} gave {other:?}"),
        }
    }
    let negative = encoded("PaymentCaptured", 1, json!({"amount": -5}));
    assert!(matches!(
        PaymentEvent::decode(&negative),
        Err(SchemaError::InvalidPayload { .. })
    ));
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z0-9/-]{0,40}".prop_map(Value::from),
        Just(Value::from(ORDER)),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    "[a-z_]{1,12}",
                    Just("customer".to_owned()),
                    Just("lines".to_owned()),
                    Just("amount".to_owned()),
                ],
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn event_type() -> impl Strategy<Value = &'static str> {
    let names: Vec<&'static str> = OrderEvent::PUBLISHED
        .iter()
        .chain(PaymentEvent::PUBLISHED)
        .map(|p| p.event_type)
        .chain(["", "Nonsense"])
        .collect();
    proptest::sample::select(names)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::cases_from_env_or(1000)))]

    #[test]
    fn decoding_anything_never_panics(event_type in event_type(), version in 0u32..5, payload in any_json()) {
        let input = encoded(event_type, version, payload);
        let _ = OrderEvent::decode(&input);
        let _ = PaymentEvent::decode(&input);
    }
}
