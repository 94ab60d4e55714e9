//! One test per rule, given/when/then; the fixtures live here.

mod lifecycle;
mod placing;

use keel_schemas::{order as event, Currency, MinorUnits};
use uuid::Uuid;

use super::*;
use crate::{testing::Scenario, RuleViolation};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn line(sku: &str, quantity: u32, unit_price: u64) -> LineItem {
    LineItem {
        sku: sku.into(),
        name: format!("{sku} name"),
        quantity,
        unit_price: MinorUnits::new(unit_price),
    }
}

fn place() -> PlaceOrder {
    PlaceOrder {
        order_id: id(1),
        customer_id: id(2),
        customer_name: "Ada Lovelace".into(),
        lines: vec![line("MUG-01", 2, 650), line("TEE-02", 1, 1999)],
        currency: Currency::EUR,
    }
}

fn authorise() -> MarkPaymentAuthorised {
    MarkPaymentAuthorised { payment_id: id(3) }
}

fn ship() -> ShipOrder {
    ShipOrder {
        carrier: "DHL".into(),
        tracking_number: "JD014600".into(),
    }
}

fn cancel() -> CancelOrder {
    CancelOrder {
        reason: "changed my mind".into(),
    }
}

fn after(commands: Vec<OrderCommand>) -> Scenario<Order> {
    Scenario::given_commands(commands)
}

fn placed() -> Scenario<Order> {
    after(vec![place().into()])
}

fn authorised() -> Scenario<Order> {
    after(vec![place().into(), authorise().into()])
}

fn confirmed() -> Scenario<Order> {
    after(vec![
        place().into(),
        authorise().into(),
        OrderCommand::ConfirmOrder,
    ])
}

fn shipped() -> Scenario<Order> {
    let lifecycle = vec![
        place().into(),
        authorise().into(),
        OrderCommand::ConfirmOrder,
    ];
    after([lifecycle, vec![ship().into()]].concat())
}

fn delivered() -> Scenario<Order> {
    let lifecycle = vec![
        place().into(),
        authorise().into(),
        OrderCommand::ConfirmOrder,
    ];
    after([lifecycle, vec![ship().into(), OrderCommand::DeliverOrder]].concat())
}

fn cancelled() -> Scenario<Order> {
    after(vec![place().into(), cancel().into()])
}

/// Every command but `PlaceOrder`, valid as far as its fields go.
fn every_later_command() -> Vec<OrderCommand> {
    vec![
        authorise().into(),
        OrderCommand::ConfirmOrder,
        ship().into(),
        OrderCommand::DeliverOrder,
        cancel().into(),
    ]
}

fn placed_event() -> event::OrderPlaced {
    let place = place();
    event::OrderPlaced {
        order_id: place.order_id,
        customer_id: place.customer_id,
        customer_name: place.customer_name,
        lines: place.lines,
        currency: place.currency,
        total: MinorUnits::new(2 * 650 + 1999),
    }
}
