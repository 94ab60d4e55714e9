//! The JSON Schema documents in `json/` against the Rust types.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use common::*;
use keel_schemas::{
    order::OrderEvent, payment::PaymentEvent, EncodedEvent, PublishedEvent, SchemaError,
    VersionedEvent,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::json;

/// Whether `decode` recognises the type and version (whatever it thinks of the payload).
fn accepts<E: VersionedEvent>(event_type: &str, version: u32) -> bool {
    let probe = EncodedEvent {
        event_type: event_type.to_owned(),
        schema_version: version,
        payload: json!({}),
    };
    !matches!(
        E::decode(&probe),
        Err(SchemaError::UnknownVersion { .. } | SchemaError::UnknownEventType { .. })
    )
}

fn decodable<E: VersionedEvent>(published: &[PublishedEvent]) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for event in published {
        for version in 0..=event.current_version + 3 {
            if accepts::<E>(event.event_type, version) {
                paths.insert(schema_path(E::STREAM_TYPE, event.event_type, version));
            }
        }
    }
    paths
}

#[test]
fn every_decodable_version_has_a_schema_document_and_back() {
    let mut expected = decodable::<OrderEvent>(OrderEvent::PUBLISHED);
    expected.extend(decodable::<PaymentEvent>(PaymentEvent::PUBLISHED));
    let files = schema_files();
    let missing: Vec<_> = expected.difference(&files).collect();
    let orphaned: Vec<_> = files.difference(&expected).collect();
    assert!(
        missing.is_empty() && orphaned.is_empty(),
        "decode accepts versions that have no schema document: {missing:?}; \
         schema documents of versions that decode rejects: {orphaned:?}"
    );
    // The catalog says the same as decode.
    let catalog: BTreeSet<String> = [
        (OrderEvent::STREAM_TYPE, OrderEvent::PUBLISHED),
        (PaymentEvent::STREAM_TYPE, PaymentEvent::PUBLISHED),
    ]
    .into_iter()
    .flat_map(|(stream, published)| {
        published.iter().flat_map(move |event| {
            event
                .versions()
                .map(move |v| schema_path(stream, event.event_type, v))
        })
    })
    .collect();
    assert_eq!(catalog, expected);
}

#[test]
fn every_schema_document_is_valid_and_names_itself() {
    for relative in schema_files() {
        let _ = validator(&relative);
        let schema = load_schema(&relative);
        let (stream, file) = relative.split_once('/').expect("stream/file");
        let (event_type, version) = file
            .trim_end_matches(".json")
            .rsplit_once(".v")
            .expect("<EventType>.v<N>.json");
        let id = format!("urn:keel:schema:{stream}:{event_type}:v{version}");
        assert_eq!(schema["$id"], json!(id), "{relative}");
        assert_eq!(
            schema["title"],
            json!(format!("{event_type} v{version}")),
            "{relative}"
        );
    }
}

/// Samples the strategies and checks they reach every variant, each named in the catalog.
#[test]
fn catalog_names_every_event_variant() {
    fn sample<T>(strategy: impl Strategy<Value = T>) -> Vec<T> {
        let mut runner = TestRunner::deterministic();
        (0..600)
            .map(|_| strategy.new_tree(&mut runner).expect("strategy").current())
            .collect()
    }
    let orders = sample(order_event());
    let payments = sample(payment_event());
    let order_variants: BTreeSet<_> = orders.iter().map(order_variant).collect();
    let payment_variants: BTreeSet<_> = payments.iter().map(payment_variant).collect();
    assert_eq!(order_variants.len(), ORDER_VARIANTS);
    assert_eq!(payment_variants.len(), PAYMENT_VARIANTS);
    let names = |published: &[PublishedEvent]| -> BTreeSet<&'static str> {
        published.iter().map(|p| p.event_type).collect()
    };
    let order_types: BTreeSet<_> = orders.iter().map(|e| e.event_type()).collect();
    let payment_types: BTreeSet<_> = payments.iter().map(|e| e.event_type()).collect();
    assert_eq!(order_types, names(OrderEvent::PUBLISHED));
    assert_eq!(payment_types, names(PaymentEvent::PUBLISHED));
}

fn validators() -> &'static BTreeMap<String, jsonschema::Validator> {
    static VALIDATORS: OnceLock<BTreeMap<String, jsonschema::Validator>> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        schema_files()
            .into_iter()
            .map(|f| (f.clone(), validator(&f)))
            .collect()
    })
}

fn validate(stream: &str, encoded: &EncodedEvent) -> Result<(), TestCaseError> {
    let path = schema_path(stream, &encoded.event_type, encoded.schema_version);
    let validator = validators()
        .get(&path)
        .ok_or_else(|| TestCaseError::fail(format!("no schema document {path}")))?;
    let errors: Vec<String> = validator
        .iter_errors(&encoded.payload)
        .map(|e| e.to_string())
        .collect();
    prop_assert!(
        errors.is_empty(),
        "{} does not validate {}: {:?}",
        path,
        encoded.payload,
        errors
    );
    Ok(())
}

/// The current encoding and every older one it can be written in validate against their
/// documents and decode back to the same event.
fn check_every_version<E: VersionedEvent>(event: &E) -> Result<(), TestCaseError> {
    let decode = |encoded: &EncodedEvent| {
        E::decode(encoded).map_err(|e| TestCaseError::fail(format!("{encoded:?}: {e}")))
    };
    let current = event.encode();
    prop_assert_eq!(current.event_type.as_str(), event.event_type());
    validate(E::STREAM_TYPE, &current)?;
    prop_assert_eq!(&decode(&current)?, event);
    prop_assert_eq!(
        event.encode_as(current.schema_version),
        Some(current.clone())
    );
    prop_assert!(event.encode_as(0).is_none());
    prop_assert!(event.encode_as(current.schema_version + 1).is_none());
    for version in 1..current.schema_version {
        if let Some(old) = event.encode_as(version) {
            prop_assert_eq!(old.schema_version, version);
            validate(E::STREAM_TYPE, &old)?;
            prop_assert_eq!(
                &decode(&old)?,
                event,
                "upcasting v{} changed the event",
                version
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases_from_env_or(1000)))]

    #[test]
    fn order_events_match_their_documents_in_every_version(event in order_event()) {
        check_every_version(&event)?;
    }

    #[test]
    fn payment_events_match_their_documents_in_every_version(event in payment_event()) {
        check_every_version(&event)?;
    }
}
