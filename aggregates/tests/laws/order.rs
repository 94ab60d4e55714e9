use keel_aggregates::{
    order::{Order, OrderStatus},
    testing::{self, Laws},
};

#[test]
fn order_keeps_every_law() {
    Laws::<Order>::new()
        .invariant(testing::order::invariants)
        .check(testing::order::commands());
}

#[test]
fn order_sequences_reach_every_status() {
    let (seen, accepted) = super::reach::<Order, _>(testing::order::commands(), Order::status);
    println!("order statuses reached (of 1000 sequences): {seen:?}; {accepted:.2} accepted");
    for status in [
        OrderStatus::Placed,
        OrderStatus::PaymentAuthorised,
        OrderStatus::Confirmed,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
    ] {
        let count = seen.get(&status).copied().unwrap_or(0);
        assert!(
            count >= 100,
            "only {count} of 1000 sequences reach {status}"
        );
    }
    assert!(
        accepted > 0.2 && accepted < 0.8,
        "{accepted} of commands accepted"
    );
}
