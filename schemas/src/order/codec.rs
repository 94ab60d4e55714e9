use super::history::{
    self, ORDER_PLACED, ORDER_PLACED_CURRENT, ORDER_SHIPPED, ORDER_SHIPPED_CURRENT,
};
use super::OrderEvent;
use crate::{
    codec::{decode_only_version, encode_payload},
    EncodedEvent, PublishedEvent, SchemaError, VersionedEvent,
};

const PAYMENT_AUTHORISED: &str = "PaymentAuthorised";
const ORDER_CONFIRMED: &str = "OrderConfirmed";
const ORDER_DELIVERED: &str = "OrderDelivered";
const ORDER_CANCELLED: &str = "OrderCancelled";

impl OrderEvent {
    /// Every event type of the `order` stream and its current schema version.
    pub const PUBLISHED: &'static [PublishedEvent] = &[
        PublishedEvent::new(ORDER_PLACED, ORDER_PLACED_CURRENT),
        PublishedEvent::new(PAYMENT_AUTHORISED, 1),
        PublishedEvent::new(ORDER_CONFIRMED, 1),
        PublishedEvent::new(ORDER_SHIPPED, ORDER_SHIPPED_CURRENT),
        PublishedEvent::new(ORDER_DELIVERED, 1),
        PublishedEvent::new(ORDER_CANCELLED, 1),
    ];

    fn current_version(&self) -> u32 {
        match self {
            Self::OrderPlaced(_) => ORDER_PLACED_CURRENT,
            Self::OrderShipped(_) => ORDER_SHIPPED_CURRENT,
            _ => 1,
        }
    }
}

impl VersionedEvent for OrderEvent {
    const STREAM_TYPE: &'static str = "order";

    fn event_type(&self) -> &'static str {
        match self {
            Self::OrderPlaced(_) => ORDER_PLACED,
            Self::PaymentAuthorised(_) => PAYMENT_AUTHORISED,
            Self::OrderConfirmed(_) => ORDER_CONFIRMED,
            Self::OrderShipped(_) => ORDER_SHIPPED,
            Self::OrderDelivered(_) => ORDER_DELIVERED,
            Self::OrderCancelled(_) => ORDER_CANCELLED,
        }
    }

    fn encode(&self) -> EncodedEvent {
        let (event_type, version) = (self.event_type(), self.current_version());
        match self {
            Self::OrderPlaced(p) => encode_payload(event_type, version, p),
            Self::PaymentAuthorised(p) => encode_payload(event_type, version, p),
            Self::OrderConfirmed(p) => encode_payload(event_type, version, p),
            Self::OrderShipped(p) => encode_payload(event_type, version, p),
            Self::OrderDelivered(p) => encode_payload(event_type, version, p),
            Self::OrderCancelled(p) => encode_payload(event_type, version, p),
        }
    }

    fn decode(encoded: &EncodedEvent) -> Result<Self, SchemaError> {
        match encoded.event_type.as_str() {
            ORDER_PLACED => history::order_placed(encoded).map(Self::OrderPlaced),
            PAYMENT_AUTHORISED => decode_only_version(encoded, 1).map(Self::PaymentAuthorised),
            ORDER_CONFIRMED => decode_only_version(encoded, 1).map(Self::OrderConfirmed),
            ORDER_SHIPPED => history::order_shipped(encoded).map(Self::OrderShipped),
            ORDER_DELIVERED => decode_only_version(encoded, 1).map(Self::OrderDelivered),
            ORDER_CANCELLED => decode_only_version(encoded, 1).map(Self::OrderCancelled),
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
            Self::OrderPlaced(p) => history::order_placed_as(p, schema_version),
            Self::OrderShipped(p) => history::order_shipped_as(p, schema_version),
            _ => None,
        }
    }
}
