use super::history::{
    self, PAYMENT_AUTHORISED, PAYMENT_AUTHORISED_CURRENT, PAYMENT_REQUESTED,
    PAYMENT_REQUESTED_CURRENT,
};
use super::PaymentEvent;
use crate::{
    codec::{decode_only_version, encode_payload},
    EncodedEvent, PublishedEvent, SchemaError, VersionedEvent,
};

const PAYMENT_DECLINED: &str = "PaymentDeclined";
const PAYMENT_CAPTURED: &str = "PaymentCaptured";
const PAYMENT_REFUNDED: &str = "PaymentRefunded";
const AUTHORISATION_VOIDED: &str = "AuthorisationVoided";

impl PaymentEvent {
    /// Every event type of the `payment` stream and its current schema version.
    pub const PUBLISHED: &'static [PublishedEvent] = &[
        PublishedEvent::new(PAYMENT_REQUESTED, PAYMENT_REQUESTED_CURRENT),
        PublishedEvent::new(PAYMENT_AUTHORISED, PAYMENT_AUTHORISED_CURRENT),
        PublishedEvent::new(PAYMENT_DECLINED, 1),
        PublishedEvent::new(PAYMENT_CAPTURED, 1),
        PublishedEvent::new(PAYMENT_REFUNDED, 1),
        PublishedEvent::new(AUTHORISATION_VOIDED, 1),
    ];

    fn current_version(&self) -> u32 {
        match self {
            Self::PaymentRequested(_) => PAYMENT_REQUESTED_CURRENT,
            Self::PaymentAuthorised(_) => PAYMENT_AUTHORISED_CURRENT,
            _ => 1,
        }
    }
}

impl VersionedEvent for PaymentEvent {
    const STREAM_TYPE: &'static str = "payment";

    fn event_type(&self) -> &'static str {
        match self {
            Self::PaymentRequested(_) => PAYMENT_REQUESTED,
            Self::PaymentAuthorised(_) => PAYMENT_AUTHORISED,
            Self::PaymentDeclined(_) => PAYMENT_DECLINED,
            Self::PaymentCaptured(_) => PAYMENT_CAPTURED,
            Self::PaymentRefunded(_) => PAYMENT_REFUNDED,
            Self::AuthorisationVoided(_) => AUTHORISATION_VOIDED,
        }
    }

    fn encode(&self) -> EncodedEvent {
        let (event_type, version) = (self.event_type(), self.current_version());
        match self {
            Self::PaymentRequested(p) => encode_payload(event_type, version, p),
            Self::PaymentAuthorised(p) => encode_payload(event_type, version, p),
            Self::PaymentDeclined(p) => encode_payload(event_type, version, p),
            Self::PaymentCaptured(p) => encode_payload(event_type, version, p),
            Self::PaymentRefunded(p) => encode_payload(event_type, version, p),
            Self::AuthorisationVoided(p) => encode_payload(event_type, version, p),
        }
    }

    fn decode(encoded: &EncodedEvent) -> Result<Self, SchemaError> {
        match encoded.event_type.as_str() {
            PAYMENT_REQUESTED => history::payment_requested(encoded).map(Self::PaymentRequested),
            PAYMENT_AUTHORISED => history::payment_authorised(encoded).map(Self::PaymentAuthorised),
            PAYMENT_DECLINED => decode_only_version(encoded, 1).map(Self::PaymentDeclined),
            PAYMENT_CAPTURED => decode_only_version(encoded, 1).map(Self::PaymentCaptured),
            PAYMENT_REFUNDED => decode_only_version(encoded, 1).map(Self::PaymentRefunded),
            AUTHORISATION_VOIDED => decode_only_version(encoded, 1).map(Self::AuthorisationVoided),
            other => Err(SchemaError::UnknownEventType {
                stream_type: Self::STREAM_TYPE,
                event_type: other.to_owned(),
            }),
        }
    }

    fn encode_as(&self, schema_version: u32) -> Option<EncodedEvent> {
        if schema_version == self.current_version() {
            return Some(self.encode());
        }
        match self {
            Self::PaymentRequested(p) => history::payment_requested_as(p, schema_version),
            Self::PaymentAuthorised(p) => history::payment_authorised_as(p, schema_version),
            _ => None,
        }
    }
}
