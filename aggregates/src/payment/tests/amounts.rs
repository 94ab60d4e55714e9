//! Captures and refunds: how much, and when.

use super::*;

#[test]
fn capturing_needs_an_authorisation() {
    requested()
        .when(capture(1))
        .then_refused("payment-not-authorised");
    let payment = authorised()
        .when(capture(2_500))
        .then_events([PaymentEvent::PaymentCaptured(event::PaymentCaptured {
            amount: money(2_500),
        })]);
    assert_eq!(
        (payment.status(), payment.captured()),
        (PaymentStatus::Captured, money(2_500))
    );
    authorised()
        .when(capture(0))
        .then_refused_on("amount-not-positive", "amount");
}

#[test]
fn captures_cannot_exceed_the_authorisation() {
    let error = captured(6_000)
        .when(capture(4_001))
        .then_refused_on("capture-exceeds-authorised", "amount");
    assert_eq!(
        error.to_string(),
        "cannot capture 4001: only 4000 of the authorisation is left"
    );
    let payment = captured(6_000).when(capture(4_000)).accepted();
    assert_eq!(payment.captured(), payment.authorised());
    authorised()
        .when(capture(u64::MAX))
        .then_refused("capture-exceeds-authorised");
}

#[test]
fn refunds_need_a_capture_and_cannot_exceed_it() {
    authorised()
        .when(refund(1))
        .then_refused("payment-not-captured");
    requested()
        .when(refund(1))
        .then_refused("payment-not-captured");
    captured(3_000)
        .when(refund(0))
        .then_refused_on("amount-not-positive", "amount");
    captured(3_000)
        .when(refund(3_001))
        .then_refused_on("refund-exceeds-captured", "amount");
    let partly = captured(3_000).when(refund(1_000)).accepted();
    assert_eq!(
        (partly.status(), partly.refundable()),
        (PaymentStatus::Captured, money(2_000))
    );
    let payment = after(vec![
        request().into(),
        authorise().into(),
        capture(3_000),
        refund(1_000),
    ]);
    payment
        .when(refund(2_001))
        .then_refused("refund-exceeds-captured");
}

#[test]
fn refunding_everything_captured_closes_the_payment() {
    let payment = refunded();
    assert_eq!(payment.state().status(), PaymentStatus::Refunded);
    assert_eq!(payment.state().refunded(), money(4_000));
}

#[test]
fn apply_never_panics_on_impossible_events() {
    let mut payment = Payment::default();
    payment.apply(&PaymentEvent::PaymentCaptured(event::PaymentCaptured {
        amount: money(5),
    }));
    assert_eq!(payment, Payment::default());
    let mut payment = captured(1).state().clone();
    let huge = PaymentEvent::PaymentCaptured(event::PaymentCaptured {
        amount: money(u64::MAX),
    });
    payment.apply(&huge);
    payment.apply(&huge);
    assert_eq!(payment.captured(), money(u64::MAX));
}
