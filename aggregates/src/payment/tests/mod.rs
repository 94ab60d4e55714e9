//! One test per rule, given/when/then; the fixtures live here.

mod amounts;
mod lifecycle;

use keel_schemas::{payment as event, Currency, MinorUnits};
use uuid::Uuid;

use super::*;
use crate::{testing::Scenario, Aggregate, RuleViolation};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn money(amount: u64) -> MinorUnits {
    MinorUnits::new(amount)
}

fn request() -> RequestPayment {
    RequestPayment {
        payment_id: id(1),
        order_id: id(2),
        amount: money(10_000),
        currency: Currency::EUR,
    }
}

fn authorise() -> AuthorisePayment {
    AuthorisePayment {
        authorisation_code: Some("A1B2C3".into()),
    }
}

fn decline() -> DeclinePayment {
    DeclinePayment {
        reason: "insufficient funds".into(),
    }
}

fn capture(amount: u64) -> PaymentCommand {
    CapturePayment {
        amount: money(amount),
    }
    .into()
}

fn refund(amount: u64) -> PaymentCommand {
    RefundPayment {
        amount: money(amount),
    }
    .into()
}

fn after(commands: Vec<PaymentCommand>) -> Scenario<Payment> {
    Scenario::given_commands(commands)
}

fn requested() -> Scenario<Payment> {
    after(vec![request().into()])
}

fn authorised() -> Scenario<Payment> {
    after(vec![request().into(), authorise().into()])
}

fn captured(amount: u64) -> Scenario<Payment> {
    after(vec![request().into(), authorise().into(), capture(amount)])
}

fn declined() -> Scenario<Payment> {
    after(vec![request().into(), decline().into()])
}

fn voided() -> Scenario<Payment> {
    after(vec![
        request().into(),
        authorise().into(),
        PaymentCommand::VoidAuthorisation,
    ])
}

fn refunded() -> Scenario<Payment> {
    after(vec![
        request().into(),
        authorise().into(),
        capture(4_000),
        refund(4_000),
    ])
}

/// One of each command, valid as far as its fields go.
fn every_command() -> Vec<PaymentCommand> {
    vec![
        request().into(),
        authorise().into(),
        decline().into(),
        capture(1),
        refund(1),
        PaymentCommand::VoidAuthorisation,
    ]
}
