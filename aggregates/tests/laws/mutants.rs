//! Deliberately broken aggregates: the kit must refuse each of them, naming the law.

use keel_aggregates::{
    order::{Order, OrderCommand, OrderError, OrderEvent},
    payment::{Payment, PaymentCommand, PaymentError, PaymentEvent, PaymentStatus},
    testing::{self, Law, Laws},
    Aggregate,
};
use keel_schemas::{payment::PaymentCaptured, EncodedEvent, SchemaError, VersionedEvent};
use proptest::test_runner::{Config, TestError};
use serde::{Deserialize, Serialize};

fn config() -> Config {
    Config {
        cases: 1000,
        failure_persistence: None,
        ..Config::default()
    }
}

#[track_caller]
fn assert_breaks<V: std::fmt::Debug>(verdict: Result<(), TestError<V>>, law: Law) {
    match verdict {
        Err(TestError::Fail(reason, sequence)) => {
            let expected = format!("law `{law}` broken");
            assert!(
                reason.message().contains(&expected),
                "{reason} (expected {expected})"
            );
            println!("caught: {reason}\n  with {sequence:?}");
        }
        other => panic!("the kit did not catch the broken aggregate: {other:?}"),
    }
}

/// Lets a capture exceed the authorisation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
struct OverCapturingPayment(Payment);

impl Aggregate for OverCapturingPayment {
    type Command = PaymentCommand;
    type Event = PaymentEvent;
    type Error = PaymentError;
    const SNAPSHOT_VERSION: u32 = 1;

    fn decide(&self, command: &PaymentCommand) -> Result<Vec<PaymentEvent>, PaymentError> {
        match command {
            PaymentCommand::CapturePayment(capture)
                if matches!(
                    self.0.status(),
                    PaymentStatus::Authorised | PaymentStatus::Captured
                ) && !capture.amount.is_zero() =>
            {
                Ok(vec![PaymentEvent::PaymentCaptured(PaymentCaptured {
                    amount: capture.amount,
                })])
            }
            _ => self.0.decide(command),
        }
    }

    fn apply(&mut self, event: &PaymentEvent) {
        self.0.apply(event);
    }
}

#[test]
fn a_capture_above_the_authorisation_is_caught() {
    let verdict = Laws::<OverCapturingPayment>::new()
        .with_config(config())
        .invariant(|step| testing::payment::consistent(&step.after.0))
        .run(testing::payment::commands());
    assert_breaks(verdict, Law::Invariant);
}

/// Keeps part of its state out of snapshots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct ForgetfulOrder {
    order: Order,
    #[serde(skip)]
    events_seen: u32,
}

impl Aggregate for ForgetfulOrder {
    type Command = OrderCommand;
    type Event = OrderEvent;
    type Error = OrderError;
    const SNAPSHOT_VERSION: u32 = 1;

    fn decide(&self, command: &OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
        self.order.decide(command)
    }

    fn apply(&mut self, event: &OrderEvent) {
        self.order.apply(event);
        self.events_seen = self.events_seen.saturating_add(1);
    }
}

#[test]
fn state_left_out_of_snapshots_is_caught() {
    let verdict = Laws::<ForgetfulOrder>::new()
        .with_config(config())
        .run(testing::order::commands());
    assert_breaks(verdict, Law::SnapshotRoundTrip);
}

/// Order events whose v1 upcaster loses the customer's name.
#[derive(Debug, Clone, PartialEq)]
struct LossyEvent(OrderEvent);

impl VersionedEvent for LossyEvent {
    const STREAM_TYPE: &'static str = "order";

    fn event_type(&self) -> &'static str {
        self.0.event_type()
    }

    fn encode(&self) -> EncodedEvent {
        self.0.encode()
    }

    fn decode(encoded: &EncodedEvent) -> Result<Self, SchemaError> {
        let mut event = OrderEvent::decode(encoded)?;
        if let (1, OrderEvent::OrderPlaced(placed)) = (encoded.schema_version, &mut event) {
            placed.customer_name.clear();
        }
        Ok(Self(event))
    }

    fn encode_as(&self, schema_version: u32) -> Option<EncodedEvent> {
        self.0.encode_as(schema_version)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
struct LossyOrder(Order);

impl Aggregate for LossyOrder {
    type Command = OrderCommand;
    type Event = LossyEvent;
    type Error = OrderError;
    const SNAPSHOT_VERSION: u32 = 1;

    fn decide(&self, command: &OrderCommand) -> Result<Vec<LossyEvent>, OrderError> {
        Ok(self
            .0
            .decide(command)?
            .into_iter()
            .map(LossyEvent)
            .collect())
    }

    fn apply(&mut self, event: &LossyEvent) {
        self.0.apply(&event.0);
    }
}

#[test]
fn an_upcaster_that_loses_data_is_caught() {
    let verdict = Laws::<LossyOrder>::new()
        .with_config(config())
        .run(testing::order::commands());
    assert_breaks(verdict, Law::UpcastReplay);
}
