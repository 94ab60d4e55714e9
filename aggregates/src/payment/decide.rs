use keel_schemas::{
    payment::{self as events, AuthorisationVoided, PaymentEvent},
    MinorUnits,
};
use uuid::Uuid;

use super::{
    AuthorisePayment, CapturePayment, DeclinePayment, Payment, PaymentCommand, PaymentError,
    PaymentStatus, RefundPayment, RequestPayment,
};

pub(super) fn decide(
    payment: &Payment,
    command: &PaymentCommand,
) -> Result<Vec<PaymentEvent>, PaymentError> {
    // State before fields: "the payment is declined" says more than "amount is zero".
    let event = match command {
        PaymentCommand::RequestPayment(request) => request_payment(payment, request)?,
        PaymentCommand::AuthorisePayment(authorise) => {
            authorise_payment(open_status(payment)?, authorise)?
        }
        PaymentCommand::DeclinePayment(decline) => decline_payment(open_status(payment)?, decline)?,
        PaymentCommand::CapturePayment(capture) => capture_payment(payment, capture)?,
        PaymentCommand::RefundPayment(refund) => refund_payment(payment, refund)?,
        PaymentCommand::VoidAuthorisation => void_authorisation(open_status(payment)?)?,
    };
    Ok(vec![event])
}

/// The status of a requested payment that still accepts commands.
fn open_status(payment: &Payment) -> Result<PaymentStatus, PaymentError> {
    match payment.status() {
        PaymentStatus::NotRequested => Err(PaymentError::NotRequested),
        status if status.is_final() => Err(PaymentError::Closed { status }),
        status => Ok(status),
    }
}

fn request_payment(
    payment: &Payment,
    request: &RequestPayment,
) -> Result<PaymentEvent, PaymentError> {
    if payment.status() != PaymentStatus::NotRequested {
        return Err(PaymentError::AlreadyRequested);
    }
    require_id(request.payment_id, "payment_id")?;
    require_id(request.order_id, "order_id")?;
    require_positive(request.amount)?;
    Ok(PaymentEvent::PaymentRequested(events::PaymentRequested {
        payment_id: request.payment_id,
        order_id: request.order_id,
        amount: request.amount,
        currency: request.currency,
    }))
}

fn authorise_payment(
    status: PaymentStatus,
    authorise: &AuthorisePayment,
) -> Result<PaymentEvent, PaymentError> {
    if status != PaymentStatus::Requested {
        return Err(PaymentError::AlreadyAuthorised);
    }
    if let Some(code) = &authorise.authorisation_code {
        require_text(code, "authorisation_code")?;
    }
    Ok(PaymentEvent::PaymentAuthorised(events::PaymentAuthorised {
        authorisation_code: authorise.authorisation_code.clone(),
    }))
}

fn decline_payment(
    status: PaymentStatus,
    decline: &DeclinePayment,
) -> Result<PaymentEvent, PaymentError> {
    if status != PaymentStatus::Requested {
        return Err(PaymentError::AlreadyAuthorised);
    }
    require_text(&decline.reason, "reason")?;
    Ok(PaymentEvent::PaymentDeclined(events::PaymentDeclined {
        reason: decline.reason.clone(),
    }))
}

fn capture_payment(
    payment: &Payment,
    capture: &CapturePayment,
) -> Result<PaymentEvent, PaymentError> {
    match open_status(payment)? {
        PaymentStatus::Authorised | PaymentStatus::Captured => {}
        _ => return Err(PaymentError::NotAuthorised),
    }
    require_positive(capture.amount)?;
    if capture.amount > payment.capturable() {
        return Err(PaymentError::CaptureExceedsAuthorised {
            amount: capture.amount,
            capturable: payment.capturable(),
        });
    }
    Ok(PaymentEvent::PaymentCaptured(events::PaymentCaptured {
        amount: capture.amount,
    }))
}

fn refund_payment(payment: &Payment, refund: &RefundPayment) -> Result<PaymentEvent, PaymentError> {
    if open_status(payment)? != PaymentStatus::Captured {
        return Err(PaymentError::NothingCaptured);
    }
    require_positive(refund.amount)?;
    if refund.amount > payment.refundable() {
        return Err(PaymentError::RefundExceedsCaptured {
            amount: refund.amount,
            refundable: payment.refundable(),
        });
    }
    Ok(PaymentEvent::PaymentRefunded(events::PaymentRefunded {
        amount: refund.amount,
    }))
}

fn void_authorisation(status: PaymentStatus) -> Result<PaymentEvent, PaymentError> {
    match status {
        PaymentStatus::Authorised => Ok(PaymentEvent::AuthorisationVoided(AuthorisationVoided {})),
        PaymentStatus::Captured => Err(PaymentError::AlreadyCaptured),
        _ => Err(PaymentError::NotAuthorised),
    }
}

fn require_positive(amount: MinorUnits) -> Result<(), PaymentError> {
    if amount.is_zero() {
        return Err(PaymentError::AmountNotPositive);
    }
    Ok(())
}

fn require_text(value: &str, field: &'static str) -> Result<(), PaymentError> {
    if value.trim().is_empty() {
        return Err(PaymentError::Required { field });
    }
    Ok(())
}

fn require_id(id: Uuid, field: &'static str) -> Result<(), PaymentError> {
    if id.is_nil() {
        return Err(PaymentError::Required { field });
    }
    Ok(())
}
