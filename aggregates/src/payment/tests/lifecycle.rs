//! Requesting, authorising, declining, voiding, and final payments.

use super::*;

#[test]
fn requesting_records_amount_and_currency() {
    let payment =
        Scenario::<Payment>::new()
            .when(request())
            .then_events([PaymentEvent::PaymentRequested(event::PaymentRequested {
                payment_id: id(1),
                order_id: id(2),
                amount: money(10_000),
                currency: Currency::EUR,
            })]);
    assert_eq!(payment.status(), PaymentStatus::Requested);
    assert_eq!(payment.currency(), Some(Currency::EUR));
}

#[test]
fn a_request_needs_a_positive_amount_and_ids() {
    let zero = RequestPayment {
        amount: MinorUnits::ZERO,
        ..request()
    };
    Scenario::<Payment>::new()
        .when(zero)
        .then_refused_on("amount-not-positive", "amount");
    let no_order = RequestPayment {
        order_id: Uuid::nil(),
        ..request()
    };
    Scenario::<Payment>::new()
        .when(no_order)
        .then_refused_on("field-required", "order_id");
    let no_id = RequestPayment {
        payment_id: Uuid::nil(),
        ..request()
    };
    Scenario::<Payment>::new()
        .when(no_id)
        .then_refused_on("field-required", "payment_id");
}

#[test]
fn requesting_twice_is_refused() {
    requested()
        .when(request())
        .then_refused("payment-already-requested");
    captured(1)
        .when(request())
        .then_refused("payment-already-requested");
}

#[test]
fn nothing_but_a_request_is_accepted_first() {
    for command in every_command().into_iter().skip(1) {
        Scenario::<Payment>::new()
            .when(command)
            .then_refused("payment-not-requested");
    }
}

#[test]
fn authorising_covers_the_requested_amount_once() {
    let payment = requested().when(authorise()).accepted();
    assert_eq!(payment.authorised(), money(10_000));
    assert_eq!(payment.authorisation_code(), Some("A1B2C3"));
    authorised()
        .when(authorise())
        .then_refused("payment-already-authorised");
    captured(1)
        .when(authorise())
        .then_refused("payment-already-authorised");
    let blank = AuthorisePayment {
        authorisation_code: Some(" ".into()),
    };
    requested()
        .when(blank)
        .then_refused_on("field-required", "authorisation_code");
    requested().when(AuthorisePayment::default()).accepted();
}

#[test]
fn only_a_requested_payment_can_be_declined() {
    let payment = requested().when(decline()).accepted();
    assert_eq!(payment.decline_reason(), Some("insufficient funds"));
    authorised()
        .when(decline())
        .then_refused("payment-already-authorised");
    let no_reason = DeclinePayment {
        reason: String::new(),
    };
    requested()
        .when(no_reason)
        .then_refused_on("field-required", "reason");
}

#[test]
fn only_an_uncaptured_authorisation_can_be_voided() {
    let payment = authorised()
        .when(PaymentCommand::VoidAuthorisation)
        .accepted();
    assert_eq!(payment.status(), PaymentStatus::Voided);
    requested()
        .when(PaymentCommand::VoidAuthorisation)
        .then_refused("payment-not-authorised");
    captured(1)
        .when(PaymentCommand::VoidAuthorisation)
        .then_refused("payment-already-captured");
}

#[test]
fn declined_voided_and_refunded_payments_accept_nothing() {
    for (scenario, status) in [
        (declined(), "declined"),
        (voided(), "voided"),
        (refunded(), "refunded"),
    ] {
        for command in every_command().into_iter().skip(1) {
            let error = scenario
                .clone()
                .when(command)
                .then_refused("payment-closed");
            let expected = format!("the payment is {status} and accepts no further changes");
            assert_eq!(error.to_string(), expected);
        }
        scenario
            .when(request())
            .then_refused("payment-already-requested");
    }
}

#[test]
fn commands_and_state_speak_json() {
    let command: PaymentCommand =
        serde_json::from_str(r#"{"type": "capture_payment", "amount": 500}"#).unwrap();
    assert_eq!(command, capture(500));
    let authorise: PaymentCommand =
        serde_json::from_str(r#"{"type": "authorise_payment"}"#).unwrap();
    assert_eq!(authorise, AuthorisePayment::default().into());
    assert!(
        serde_json::from_str::<PaymentCommand>(r#"{"type": "capture_payment", "amount": -1}"#)
            .is_err()
    );

    let payment = captured(700).state().clone();
    let snapshot = serde_json::to_value(&payment).unwrap();
    assert_eq!(
        (snapshot["status"].as_str(), snapshot["captured"].as_u64()),
        (Some("captured"), Some(700))
    );
    assert_eq!(
        serde_json::from_value::<Payment>(snapshot).unwrap(),
        payment
    );
}

#[test]
fn every_error_names_a_stable_rule() {
    let error = PaymentError::Closed {
        status: PaymentStatus::Voided,
    };
    assert_eq!((error.rule(), error.field()), ("payment-closed", None));
    assert_eq!(Payment::stream_type(), "payment");
}
