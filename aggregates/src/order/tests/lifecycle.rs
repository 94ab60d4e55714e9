//! An order after it is placed: payment, confirmation, shipping, delivery, cancellation.

use super::*;

#[test]
fn payment_authorisation_is_recorded_once() {
    let order = placed()
        .when(authorise())
        .then_events([OrderEvent::PaymentAuthorised(event::PaymentAuthorised {
            payment_id: id(3),
        })]);
    assert_eq!(order.payment_id(), Some(id(3)));
    authorised()
        .when(authorise())
        .then_refused("payment-already-authorised");
    confirmed()
        .when(authorise())
        .then_refused("payment-already-authorised");
    let nil = MarkPaymentAuthorised {
        payment_id: Uuid::nil(),
    };
    placed()
        .when(nil)
        .then_refused_on("field-required", "payment_id");
}

#[test]
fn confirming_needs_an_authorised_payment() {
    placed()
        .when(OrderCommand::ConfirmOrder)
        .then_refused("payment-not-authorised");
    let order = authorised()
        .when(OrderCommand::ConfirmOrder)
        .then_events([OrderEvent::OrderConfirmed(event::OrderConfirmed {})]);
    assert_eq!(order.status(), OrderStatus::Confirmed);
    confirmed()
        .when(OrderCommand::ConfirmOrder)
        .then_refused("order-already-confirmed");
    shipped()
        .when(OrderCommand::ConfirmOrder)
        .then_refused("order-already-confirmed");
}

#[test]
fn shipping_needs_a_confirmed_order() {
    placed().when(ship()).then_refused("order-not-confirmed");
    authorised()
        .when(ship())
        .then_refused("order-not-confirmed");
    let order = confirmed().when(ship()).accepted();
    assert_eq!(
        order.shipment().map(|s| s.tracking_number.as_str()),
        Some("JD014600")
    );
    shipped().when(ship()).then_refused("order-already-shipped");
}

#[test]
fn shipping_needs_a_carrier_and_tracking_number() {
    let no_carrier = ShipOrder {
        carrier: String::new(),
        ..ship()
    };
    confirmed()
        .when(no_carrier)
        .then_refused_on("field-required", "carrier");
    let no_tracking = ShipOrder {
        tracking_number: " ".into(),
        ..ship()
    };
    confirmed()
        .when(no_tracking)
        .then_refused_on("field-required", "tracking_number");
}

#[test]
fn delivering_needs_a_shipped_order() {
    for scenario in [placed(), authorised(), confirmed()] {
        scenario
            .when(OrderCommand::DeliverOrder)
            .then_refused("order-not-shipped");
    }
    let order = shipped()
        .when(OrderCommand::DeliverOrder)
        .then_events([OrderEvent::OrderDelivered(event::OrderDelivered {})]);
    assert_eq!(order.status(), OrderStatus::Delivered);
}

#[test]
fn an_order_can_be_cancelled_until_it_ships() {
    for scenario in [placed(), authorised(), confirmed()] {
        let order = scenario.when(cancel()).accepted();
        assert_eq!(order.status(), OrderStatus::Cancelled);
        assert_eq!(order.cancellation_reason(), Some("changed my mind"));
    }
    let error = shipped()
        .when(cancel())
        .then_refused("order-already-shipped");
    assert_eq!(error.to_string(), "the order has already shipped");
    let no_reason = CancelOrder {
        reason: String::new(),
    };
    placed()
        .when(no_reason)
        .then_refused_on("field-required", "reason");
}

#[test]
fn delivered_and_cancelled_orders_accept_nothing() {
    for (scenario, status) in [(delivered(), "delivered"), (cancelled(), "cancelled")] {
        for command in every_later_command() {
            let error = scenario.clone().when(command).then_refused("order-closed");
            let expected = format!("the order is {status} and accepts no further changes");
            assert_eq!(error.to_string(), expected);
        }
    }
}

#[test]
fn apply_ignores_events_that_have_nothing_to_attach_to() {
    let mut order = Order::default();
    order.apply(&OrderEvent::OrderConfirmed(event::OrderConfirmed {}));
    assert_eq!(order, Order::default());
    let mut cancelled = cancelled().state().clone();
    let before = cancelled.clone();
    cancelled.apply(&OrderEvent::OrderPlaced(placed_event()));
    cancelled.apply(&OrderEvent::OrderDelivered(event::OrderDelivered {}));
    assert_eq!(cancelled, before);
}

#[test]
fn commands_and_state_speak_json() {
    let command: OrderCommand = serde_json::from_str(
        r#"{"type": "ship_order", "carrier": "DHL", "tracking_number": "JD1"}"#,
    )
    .unwrap();
    assert_eq!(
        command,
        OrderCommand::ShipOrder(ShipOrder {
            carrier: "DHL".into(),
            tracking_number: "JD1".into()
        })
    );
    let typo = r#"{"type": "cancel_order", "reason": "x", "reasn": "y"}"#;
    assert!(serde_json::from_str::<OrderCommand>(typo).is_err());
    let unit: OrderCommand = serde_json::from_str(r#"{"type": "confirm_order"}"#).unwrap();
    assert_eq!(unit, OrderCommand::ConfirmOrder);

    let order = shipped().state().clone();
    let snapshot = serde_json::to_value(&order).unwrap();
    assert_eq!(snapshot["status"], "shipped");
    assert_eq!(serde_json::from_value::<Order>(snapshot).unwrap(), order);
}

#[test]
fn every_error_names_a_stable_rule() {
    let error = OrderError::Closed {
        status: OrderStatus::Delivered,
    };
    assert_eq!((error.rule(), error.field()), ("order-closed", None));
    assert_eq!(OrderError::Empty.field(), Some("lines"));
}
