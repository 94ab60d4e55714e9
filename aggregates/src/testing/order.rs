//! Order's command strategy and invariants, for [`Laws`](super::Laws).

use keel_schemas::{order::total_of, Currency, MinorUnits};
use proptest::{collection::vec, prelude::*};
use uuid::Uuid;

use super::{path_with_noise, Step};
use crate::order::*;

/// Command sequences for one order: mostly its lifecycle (placed, paid, confirmed, shipped,
/// delivered, or cancelled on the way) cut at a random point, with random commands slipped
/// in, some of them invalid on purpose; sometimes random commands only.
pub fn commands() -> impl Strategy<Value = Vec<OrderCommand>> {
    prop_oneof![
        4 => path_with_noise(lifecycle(), command(), 10),
        1 => vec(command(), 0..24),
    ]
}

fn lifecycle() -> impl Strategy<Value = Vec<OrderCommand>> {
    let ship = (word(), word()).prop_map(|(carrier, tracking_number)| ShipOrder {
        carrier,
        tracking_number,
    });
    let cancel = proptest::option::weighted(0.3, word());
    (
        valid_place_order(),
        id(),
        ship,
        prop_oneof![0..=5usize, Just(5)],
        cancel,
    )
        .prop_map(|(place, payment_id, ship, length, cancel)| {
            let mut path = vec![
                place.into(),
                MarkPaymentAuthorised { payment_id }.into(),
                OrderCommand::ConfirmOrder,
                ship.into(),
                OrderCommand::DeliverOrder,
            ];
            path.truncate(length);
            path.extend(cancel.map(|reason| CancelOrder { reason }.into()));
            path
        })
}

fn command() -> impl Strategy<Value = OrderCommand> {
    prop_oneof![
        1 => place_order().prop_map(OrderCommand::from),
        3 => id().prop_map(|payment_id| MarkPaymentAuthorised { payment_id }.into()),
        3 => Just(OrderCommand::ConfirmOrder),
        3 => (text(), text()).prop_map(|(carrier, tracking_number)| {
            ShipOrder { carrier, tracking_number }.into()
        }),
        2 => Just(OrderCommand::DeliverOrder),
        1 => text().prop_map(|reason| CancelOrder { reason }.into()),
    ]
}

/// One in ten has exactly one defect.
pub fn place_order() -> impl Strategy<Value = PlaceOrder> {
    prop_oneof![
        9 => valid_place_order(),
        1 => (valid_place_order(), 0..7u8).prop_map(|(place, defect)| with_defect(place, defect)),
    ]
}

fn valid_place_order() -> impl Strategy<Value = PlaceOrder> {
    (id(), id(), word(), vec(line(), 1..5), currency()).prop_map(
        |(order_id, customer_id, customer_name, lines, currency)| PlaceOrder {
            order_id,
            customer_id,
            customer_name,
            lines,
            currency,
        },
    )
}

fn with_defect(mut place: PlaceOrder, defect: u8) -> PlaceOrder {
    match defect {
        0 => place.order_id = Uuid::nil(),
        1 => place.customer_name = " ".into(),
        2 => place.lines.clear(),
        3 => place.lines[0].quantity = 0,
        4 => place.lines[0].sku = String::new(),
        5 => place.lines[0].name = String::new(),
        _ => {
            place.lines[0].quantity = 3;
            place.lines[0].unit_price = MinorUnits::new(u64::MAX / 2);
        }
    }
    place
}

fn line() -> impl Strategy<Value = LineItem> {
    ("[A-Z]{3}-[0-9]{2}", word(), 1..10u32, 0..50_000u64).prop_map(
        |(sku, name, quantity, unit_price)| LineItem {
            sku,
            name,
            quantity,
            unit_price: MinorUnits::new(unit_price),
        },
    )
}

fn currency() -> impl Strategy<Value = Currency> {
    // Mostly EUR, the only currency old `OrderPlaced` versions can express.
    prop_oneof![3 => Just(Currency::EUR), 1 => Just(Currency::GBP), 1 => Just(Currency::JPY)]
}

fn id() -> impl Strategy<Value = Uuid> {
    prop_oneof![19 => any::<u128>().prop_map(Uuid::from_u128), 1 => Just(Uuid::nil())]
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9 /]{0,11}"
}

/// Mostly a word, sometimes blank.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![18 => word(), 1 => Just(String::new()), 1 => Just("  ".to_owned())]
}

/// Order's invariants after every command, for [`Laws::invariant`](super::Laws::invariant).
pub fn invariants(step: &Step<'_, Order>) -> Result<(), String> {
    consistent(step.after)?;
    let (before, after) = (step.before.status(), step.after.status());
    if before.is_final() && step.accepted() {
        return Err(format!("a {before} order accepted {:?}", step.command));
    }
    if let Ok(events) = step.outcome {
        if events.len() != 1 {
            return Err(format!("{:?} gave {} events", step.command, events.len()));
        }
    }
    if rank(after) < rank(before) {
        return Err(format!("status went back from {before} to {after}"));
    }
    Ok(())
}

/// What must hold of any order state.
pub fn consistent(order: &Order) -> Result<(), String> {
    use OrderStatus::*;
    let status = order.status();
    let details = match (status, order.details()) {
        (NotPlaced, None) => {
            return (*order == Order::default())
                .then_some(())
                .ok_or("data before placement".into())
        }
        (NotPlaced, Some(_)) | (_, None) => {
            return Err(format!("{status} order with details {:?}", order.details()))
        }
        (_, Some(details)) => details,
    };
    if details.lines.is_empty() || details.lines.iter().any(|l| l.quantity == 0) {
        return Err(format!("empty order or line: {:?}", details.lines));
    }
    if total_of(&details.lines) != Some(details.total) {
        return Err(format!(
            "total {} is not the sum of the lines",
            details.total
        ));
    }
    if order.shipment().is_some() != matches!(status, Shipped | Delivered) {
        return Err(format!(
            "{status} order with shipment {:?}",
            order.shipment()
        ));
    }
    if order.cancellation_reason().is_some() != (status == Cancelled) {
        return Err(format!("{status} order with cancellation reason"));
    }
    let paid = matches!(status, PaymentAuthorised | Confirmed | Shipped | Delivered);
    if (paid && order.payment_id().is_none()) || (status == Placed && order.payment_id().is_some())
    {
        return Err(format!(
            "{status} order with payment {:?}",
            order.payment_id()
        ));
    }
    Ok(())
}

fn rank(status: OrderStatus) -> u8 {
    match status {
        OrderStatus::NotPlaced => 0,
        OrderStatus::Placed => 1,
        OrderStatus::PaymentAuthorised => 2,
        OrderStatus::Confirmed => 3,
        OrderStatus::Shipped => 4,
        OrderStatus::Delivered | OrderStatus::Cancelled => 5,
    }
}
