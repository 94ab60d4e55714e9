//! Placing an order.

use super::*;

#[test]
fn placing_records_the_lines_and_their_total() {
    let order = Scenario::<Order>::new()
        .when(place())
        .then_events([OrderEvent::OrderPlaced(placed_event())]);
    assert_eq!(order.status(), OrderStatus::Placed);
    assert_eq!(
        order.details().map(|d| d.total),
        Some(MinorUnits::new(3299))
    );
}

#[test]
fn placing_twice_is_refused() {
    placed().when(place()).then_refused("order-already-placed");
    delivered()
        .when(place())
        .then_refused("order-already-placed");
}

#[test]
fn an_order_without_lines_is_refused() {
    let empty = PlaceOrder {
        lines: vec![],
        ..place()
    };
    Scenario::<Order>::new()
        .when(empty)
        .then_refused_on("order-empty", "lines");
}

#[test]
fn a_line_without_quantity_is_refused() {
    let zero = PlaceOrder {
        lines: vec![line("MUG-01", 0, 650)],
        ..place()
    };
    let error = Scenario::<Order>::new()
        .when(zero)
        .then_refused_on("line-quantity-zero", "lines.quantity");
    assert_eq!(
        error.to_string(),
        "line `MUG-01` must have a quantity of at least 1"
    );
}

#[test]
fn blank_fields_of_a_new_order_are_refused() {
    let cases = [
        (
            PlaceOrder {
                order_id: Uuid::nil(),
                ..place()
            },
            "order_id",
        ),
        (
            PlaceOrder {
                customer_id: Uuid::nil(),
                ..place()
            },
            "customer_id",
        ),
        (
            PlaceOrder {
                customer_name: "  ".into(),
                ..place()
            },
            "customer_name",
        ),
        (
            PlaceOrder {
                lines: vec![line("", 1, 1)],
                ..place()
            },
            "lines.sku",
        ),
        (
            PlaceOrder {
                lines: vec![LineItem {
                    name: String::new(),
                    ..line("A", 1, 1)
                }],
                ..place()
            },
            "lines.name",
        ),
    ];
    for (command, field) in cases {
        Scenario::<Order>::new()
            .when(command)
            .then_refused_on("field-required", field);
    }
}

#[test]
fn a_total_that_overflows_is_refused() {
    let line_overflow = PlaceOrder {
        lines: vec![line("A", 2, u64::MAX / 2 + 1)],
        ..place()
    };
    let sum_overflow = PlaceOrder {
        lines: vec![line("A", 1, u64::MAX), line("B", 1, 1)],
        ..place()
    };
    for command in [line_overflow, sum_overflow] {
        Scenario::<Order>::new()
            .when(command)
            .then_refused_on("order-total-overflow", "lines");
    }
    let largest = PlaceOrder {
        lines: vec![line("A", 1, u64::MAX)],
        ..place()
    };
    Scenario::<Order>::new().when(largest).accepted();
}

#[test]
fn nothing_but_placing_is_accepted_before_the_order_is_placed() {
    for command in every_later_command() {
        Scenario::<Order>::new()
            .when(command)
            .then_refused("order-not-placed");
    }
}
