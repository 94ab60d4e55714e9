use keel_aggregates::{
    payment::{Payment, PaymentStatus},
    testing::{self, Laws},
};

#[test]
fn payment_keeps_every_law() {
    Laws::<Payment>::new()
        .invariant(testing::payment::invariants)
        .check(testing::payment::commands());
}

#[test]
fn payment_sequences_reach_every_status() {
    let (seen, accepted) =
        super::reach::<Payment, _>(testing::payment::commands(), |p: &Payment| p.status());
    println!("payment statuses reached (of 1000 sequences): {seen:?}; {accepted:.2} accepted");
    for status in [
        PaymentStatus::Requested,
        PaymentStatus::Authorised,
        PaymentStatus::Declined,
        PaymentStatus::Captured,
        PaymentStatus::Refunded,
        PaymentStatus::Voided,
    ] {
        let count = seen.get(&status).copied().unwrap_or(0);
        assert!(
            count >= 100,
            "only {count} of 1000 sequences reach {status}"
        );
    }
    // Partial captures and refunds: the amounts the invariants are about.
    let (amounts, _) = super::reach::<Payment, _>(testing::payment::commands(), |p: &Payment| {
        (
            p.captured() < p.authorised(),
            !p.refunded().is_zero() && p.refunded() < p.captured(),
        )
    });
    assert!(
        amounts.get(&(true, false)).copied().unwrap_or(0) >= 100,
        "{amounts:?}"
    );
    assert!(
        amounts.get(&(false, true)).copied().unwrap_or(0) >= 50,
        "{amounts:?}"
    );
    assert!(
        accepted > 0.2 && accepted < 0.8,
        "{accepted} of commands accepted"
    );
}
