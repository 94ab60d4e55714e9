//! Published older shapes of payment events, and the conversions between neighbours.
//!
//! These structs are frozen copies: they must not follow changes of the current types.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{PaymentAuthorised, PaymentRequested};
use crate::{
    codec::{decode_payload, encode_payload, unknown_version},
    Currency, EncodedEvent, MinorUnits, SchemaError,
};

pub(super) const PAYMENT_REQUESTED: &str = "PaymentRequested";
pub(super) const PAYMENT_REQUESTED_CURRENT: u32 = 2;
pub(super) const PAYMENT_AUTHORISED: &str = "PaymentAuthorised";
pub(super) const PAYMENT_AUTHORISED_CURRENT: u32 = 2;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentRequestedV1 {
    payment_id: Uuid,
    order_id: Uuid,
    amount_cents: MinorUnits,
    currency: Currency,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentAuthorisedV1 {}

/// Decodes any published version of `PaymentRequested` into v2.
pub(super) fn payment_requested(encoded: &EncodedEvent) -> Result<PaymentRequested, SchemaError> {
    match encoded.schema_version {
        1 => {
            let v1: PaymentRequestedV1 = decode_payload(encoded)?;
            Ok(PaymentRequested {
                payment_id: v1.payment_id,
                order_id: v1.order_id,
                amount: v1.amount_cents,
                currency: v1.currency,
            })
        }
        2 => decode_payload(encoded),
        _ => Err(unknown_version(encoded, PAYMENT_REQUESTED_CURRENT)),
    }
}

pub(super) fn payment_requested_as(event: &PaymentRequested, version: u32) -> Option<EncodedEvent> {
    let v1 = PaymentRequestedV1 {
        payment_id: event.payment_id,
        order_id: event.order_id,
        amount_cents: event.amount,
        currency: event.currency,
    };
    (version == 1).then(|| encode_payload(PAYMENT_REQUESTED, 1, &v1))
}

/// Decodes any published version of `PaymentAuthorised` into v2.
pub(super) fn payment_authorised(encoded: &EncodedEvent) -> Result<PaymentAuthorised, SchemaError> {
    match encoded.schema_version {
        1 => {
            let PaymentAuthorisedV1 {} = decode_payload(encoded)?;
            Ok(PaymentAuthorised {
                authorisation_code: None,
            })
        }
        2 => decode_payload(encoded),
        _ => Err(unknown_version(encoded, PAYMENT_AUTHORISED_CURRENT)),
    }
}

/// v1 can only say "authorised, no code".
pub(super) fn payment_authorised_as(
    event: &PaymentAuthorised,
    version: u32,
) -> Option<EncodedEvent> {
    (version == 1 && event.authorisation_code.is_none())
        .then(|| encode_payload(PAYMENT_AUTHORISED, 1, &PaymentAuthorisedV1 {}))
}
