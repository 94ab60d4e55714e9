//! Strategies for arbitrary events, and access to the JSON Schema documents.
#![allow(dead_code)] // each test binary uses a different part

use std::{collections::BTreeSet, path::PathBuf};

use keel_schemas::{
    order::{self, LineItem, OrderEvent},
    payment::{self, PaymentEvent},
    Currency, MinorUnits,
};
use proptest::prelude::*;
use serde_json::Value;
use uuid::Uuid;

pub fn json_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("json")
}

/// The relative path of the document of one event type and version.
pub fn schema_path(stream: &str, event_type: &str, version: u32) -> String {
    format!("{stream}/{event_type}.v{version}.json")
}

/// Relative paths of every schema document on disk.
pub fn schema_files() -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    for stream in std::fs::read_dir(json_dir()).expect("json/ exists") {
        let stream = stream.expect("readable json/");
        if !stream.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(stream.path()).expect("readable stream folder") {
            let name = file.expect("readable entry").file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".json") {
                files.insert(format!("{}/{name}", stream.file_name().to_string_lossy()));
            }
        }
    }
    files
}

pub fn load_schema(relative: &str) -> Value {
    let path = json_dir().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read schema {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{relative} is not JSON: {e}"))
}

/// A validator that also checks `format` (uuid), which 2020-12 treats as an annotation.
pub fn validator(relative: &str) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&load_schema(relative))
        .unwrap_or_else(|e| panic!("{relative} is not a valid JSON Schema: {e}"))
}

/// Cases per property: `PROPTEST_CASES` when set, else `default`.
pub fn cases_from_env_or(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

pub fn money() -> impl Strategy<Value = MinorUnits> {
    prop_oneof![0..100_000u64, any::<u64>()].prop_map(MinorUnits::new)
}

/// Mostly EUR, the only currency that orders before v3 could express.
pub fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        3 => Just(Currency::EUR),
        1 => "[A-Z]{3}".prop_map(|code| Currency::parse(&code).expect("pattern gives a code")),
    ]
}

pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-zA-Z /-]{0,20}"]
}

pub fn line_item() -> impl Strategy<Value = LineItem> {
    (text(), text(), any::<u32>(), money()).prop_map(|(sku, name, quantity, unit_price)| LineItem {
        sku,
        name,
        quantity,
        unit_price,
    })
}

pub fn order_event() -> impl Strategy<Value = OrderEvent> {
    let placed = (
        (uuid(), uuid(), text()),
        prop::collection::vec(line_item(), 0..4),
        currency(),
        money(),
    )
        .prop_map(
            |((order_id, customer_id, customer_name), lines, currency, total)| {
                OrderEvent::OrderPlaced(order::OrderPlaced {
                    order_id,
                    customer_id,
                    customer_name,
                    lines,
                    currency,
                    total,
                })
            },
        );
    prop_oneof![
        placed,
        uuid().prop_map(|payment_id| {
            OrderEvent::PaymentAuthorised(order::PaymentAuthorised { payment_id })
        }),
        Just(OrderEvent::OrderConfirmed(order::OrderConfirmed {})),
        (text(), text()).prop_map(|(carrier, tracking_number)| {
            OrderEvent::OrderShipped(order::OrderShipped {
                carrier,
                tracking_number,
            })
        }),
        Just(OrderEvent::OrderDelivered(order::OrderDelivered {})),
        text().prop_map(|reason| OrderEvent::OrderCancelled(order::OrderCancelled { reason })),
    ]
}

pub fn payment_event() -> impl Strategy<Value = PaymentEvent> {
    prop_oneof![
        (uuid(), uuid(), money(), currency()).prop_map(
            |(payment_id, order_id, amount, currency)| {
                PaymentEvent::PaymentRequested(payment::PaymentRequested {
                    payment_id,
                    order_id,
                    amount,
                    currency,
                })
            }
        ),
        proptest::option::of(text()).prop_map(|authorisation_code| {
            PaymentEvent::PaymentAuthorised(payment::PaymentAuthorised { authorisation_code })
        }),
        text()
            .prop_map(|reason| PaymentEvent::PaymentDeclined(payment::PaymentDeclined { reason })),
        money()
            .prop_map(|amount| PaymentEvent::PaymentCaptured(payment::PaymentCaptured { amount })),
        money()
            .prop_map(|amount| PaymentEvent::PaymentRefunded(payment::PaymentRefunded { amount })),
        Just(PaymentEvent::AuthorisationVoided(
            payment::AuthorisationVoided {}
        )),
    ]
}

/// Which variant an event is; the exhaustive match makes a new variant fail to compile here
/// until the strategies above (and the catalog) know it.
pub fn order_variant(event: &OrderEvent) -> usize {
    match event {
        OrderEvent::OrderPlaced(_) => 0,
        OrderEvent::PaymentAuthorised(_) => 1,
        OrderEvent::OrderConfirmed(_) => 2,
        OrderEvent::OrderShipped(_) => 3,
        OrderEvent::OrderDelivered(_) => 4,
        OrderEvent::OrderCancelled(_) => 5,
    }
}

pub fn payment_variant(event: &PaymentEvent) -> usize {
    match event {
        PaymentEvent::PaymentRequested(_) => 0,
        PaymentEvent::PaymentAuthorised(_) => 1,
        PaymentEvent::PaymentDeclined(_) => 2,
        PaymentEvent::PaymentCaptured(_) => 3,
        PaymentEvent::PaymentRefunded(_) => 4,
        PaymentEvent::AuthorisationVoided(_) => 5,
    }
}

pub const ORDER_VARIANTS: usize = 6;
pub const PAYMENT_VARIANTS: usize = 6;
