//! Payment's command strategy and invariants, for [`Laws`](super::Laws).

use keel_schemas::{Currency, MinorUnits};
use proptest::{collection::vec, prelude::*};
use uuid::Uuid;

use super::{path_with_noise, Step};
use crate::payment::*;

/// Command sequences for one payment of `4k` minor units: mostly one of its lifecycles
/// (declined; voided; captured in parts and refunded in parts) cut at a random point, with
/// random commands slipped in; sometimes random commands only. Amounts are mostly `k`, `2k`
/// or `4k`, so captures add up to the authorisation and refunds to the capture; some are
/// arbitrary, zero or too large, to be refused.
pub fn commands() -> impl Strategy<Value = Vec<PaymentCommand>> {
    (1..=25_000u64).prop_flat_map(|k| {
        let amount = 4 * k;
        prop_oneof![
            4 => path_with_noise(lifecycle(amount), command(amount), 10),
            1 => vec(command(amount), 0..24),
        ]
    })
}

fn lifecycle(amount: u64) -> impl Strategy<Value = Vec<PaymentCommand>> {
    let k = amount / 4;
    let money = move |units: u64| MinorUnits::new(units * k);
    (
        request(amount),
        code(),
        text(),
        0..4u8,
        prop_oneof![0..=6usize, Just(6)],
    )
        .prop_map(
            move |(request, authorisation_code, reason, ending, length)| {
                let mut path = vec![request.into()];
                path.push(match ending {
                    0 => DeclinePayment { reason }.into(),
                    _ => AuthorisePayment { authorisation_code }.into(),
                });
                match ending {
                    0 => {}
                    1 => path.push(PaymentCommand::VoidAuthorisation),
                    _ => path.extend([
                        CapturePayment { amount: money(1) }.into(),
                        CapturePayment { amount: money(3) }.into(),
                        RefundPayment { amount: money(2) }.into(),
                        RefundPayment { amount: money(2) }.into(),
                    ]),
                }
                path.truncate(length);
                path
            },
        )
}

fn command(amount: u64) -> impl Strategy<Value = PaymentCommand> {
    prop_oneof![
        1 => request(amount).prop_map(PaymentCommand::from),
        4 => code().prop_map(|authorisation_code| AuthorisePayment { authorisation_code }.into()),
        1 => text().prop_map(|reason| DeclinePayment { reason }.into()),
        5 => part(amount).prop_map(|amount| CapturePayment { amount }.into()),
        4 => part(amount).prop_map(|amount| RefundPayment { amount }.into()),
        1 => Just(PaymentCommand::VoidAuthorisation),
    ]
}

fn request(amount: u64) -> impl Strategy<Value = RequestPayment> {
    let amount = prop_oneof![19 => Just(amount), 1 => Just(0)];
    (id(), id(), amount, currency()).prop_map(|(payment_id, order_id, amount, currency)| {
        RequestPayment {
            payment_id,
            order_id,
            amount: MinorUnits::new(amount),
            currency,
        }
    })
}

fn part(amount: u64) -> impl Strategy<Value = MinorUnits> {
    let k = amount / 4;
    prop_oneof![
        4 => Just(k),
        3 => Just(2 * k),
        2 => Just(amount),
        2 => 1..=amount,
        1 => Just(0),
        1 => amount + 1..=2 * amount,
    ]
    .prop_map(MinorUnits::new)
}

fn code() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(None),
        6 => "[A-Z0-9]{6}".prop_map(Some),
        1 => Just(Some(" ".to_owned())),
    ]
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(Currency::EUR),
        Just(Currency::USD),
        Just(Currency::JPY)
    ]
}

fn id() -> impl Strategy<Value = Uuid> {
    prop_oneof![19 => any::<u128>().prop_map(Uuid::from_u128), 1 => Just(Uuid::nil())]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![9 => "[A-Za-z][A-Za-z ]{0,15}", 1 => Just(String::new())]
}

/// Payment's invariants after every command, for [`Laws::invariant`](super::Laws::invariant).
pub fn invariants(step: &Step<'_, Payment>) -> Result<(), String> {
    consistent(step.after)?;
    let before = step.before.status();
    if before.is_final() && step.accepted() {
        return Err(format!("a {before} payment accepted {:?}", step.command));
    }
    if let Ok(events) = step.outcome {
        if events.len() != 1 {
            return Err(format!("{:?} gave {} events", step.command, events.len()));
        }
    }
    Ok(())
}

/// What must hold of any payment state.
pub fn consistent(payment: &Payment) -> Result<(), String> {
    use PaymentStatus::*;
    let (requested, authorised) = (payment.requested(), payment.authorised());
    let (captured, refunded) = (payment.captured(), payment.refunded());
    if !(captured <= authorised && authorised <= requested && refunded <= captured) {
        return Err(format!(
            "amounts out of order: requested {requested}, authorised {authorised}, \
             captured {captured}, refunded {refunded}"
        ));
    }
    let status = payment.status();
    let holds = match status {
        NotRequested => *payment == Payment::default(),
        Requested => !requested.is_zero() && authorised.is_zero(),
        Declined => authorised.is_zero() && payment.decline_reason().is_some(),
        Authorised | Voided => authorised == requested && captured.is_zero(),
        Captured => authorised == requested && !captured.is_zero() && refunded < captured,
        Refunded => !captured.is_zero() && refunded == captured,
    };
    if !holds {
        return Err(format!("inconsistent {status} payment: {payment:?}"));
    }
    Ok(())
}
