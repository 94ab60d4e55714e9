//! Published older shapes of order events, and the conversions between neighbours.
//!
//! These structs are frozen copies: they must not follow changes of the current types.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{OrderPlaced, OrderShipped};
use crate::{
    codec::{decode_payload, encode_payload, invalid_payload, unknown_version},
    Currency, EncodedEvent, MinorUnits, SchemaError,
};

pub(super) const ORDER_PLACED: &str = "OrderPlaced";
pub(super) const ORDER_PLACED_CURRENT: u32 = 3;
pub(super) const ORDER_SHIPPED: &str = "OrderShipped";
pub(super) const ORDER_SHIPPED_CURRENT: u32 = 2;

/// Before v3 the shop sold in euros only.
const PRE_V3_CURRENCY: Currency = Currency::EUR;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LineV1 {
    sku: String,
    name: String,
    quantity: u32,
    unit_price: MinorUnits,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderPlacedV1 {
    order_id: Uuid,
    /// `"<customer uuid>/<display name>"`.
    customer: String,
    lines: Vec<LineV1>,
    total: MinorUnits,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderPlacedV2 {
    order_id: Uuid,
    customer_id: Uuid,
    customer_name: String,
    lines: Vec<LineV1>,
    total: MinorUnits,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderShippedV1 {
    carrier: String,
    tracking: String,
}

/// Decodes any published version of `OrderPlaced` into v3.
pub(super) fn order_placed(encoded: &EncodedEvent) -> Result<OrderPlaced, SchemaError> {
    let v2 = match encoded.schema_version {
        1 => v1_to_v2(encoded, decode_payload(encoded)?)?,
        2 => decode_payload(encoded)?,
        3 => return decode_payload(encoded),
        _ => return Err(unknown_version(encoded, ORDER_PLACED_CURRENT)),
    };
    Ok(v2_to_v3(v2))
}

fn v1_to_v2(encoded: &EncodedEvent, v1: OrderPlacedV1) -> Result<OrderPlacedV2, SchemaError> {
    let (id, name) = v1.customer.split_once('/').ok_or_else(|| {
        invalid_payload(encoded, "customer must be `<customer uuid>/<name>`".into())
    })?;
    let customer_id = Uuid::parse_str(id)
        .map_err(|error| invalid_payload(encoded, format!("customer id `{id}`: {error}")))?;
    Ok(OrderPlacedV2 {
        order_id: v1.order_id,
        customer_id,
        customer_name: name.to_owned(),
        lines: v1.lines,
        total: v1.total,
    })
}

fn v2_to_v3(v2: OrderPlacedV2) -> OrderPlaced {
    OrderPlaced {
        order_id: v2.order_id,
        customer_id: v2.customer_id,
        customer_name: v2.customer_name,
        lines: v2.lines.into_iter().map(LineV1::into_current).collect(),
        currency: PRE_V3_CURRENCY,
        total: v2.total,
    }
}

/// Writes `OrderPlaced` as v1 or v2, when its currency is the only one those knew.
pub(super) fn order_placed_as(event: &OrderPlaced, version: u32) -> Option<EncodedEvent> {
    if event.currency != PRE_V3_CURRENCY {
        return None;
    }
    let v2 = OrderPlacedV2 {
        order_id: event.order_id,
        customer_id: event.customer_id,
        customer_name: event.customer_name.clone(),
        lines: event.lines.iter().map(LineV1::from_current).collect(),
        total: event.total,
    };
    match version {
        2 => Some(encode_payload(ORDER_PLACED, 2, &v2)),
        1 => {
            let v1 = OrderPlacedV1 {
                order_id: v2.order_id,
                customer: format!("{}/{}", v2.customer_id, v2.customer_name),
                lines: v2.lines,
                total: v2.total,
            };
            Some(encode_payload(ORDER_PLACED, 1, &v1))
        }
        _ => None,
    }
}

/// Decodes any published version of `OrderShipped` into v2.
pub(super) fn order_shipped(encoded: &EncodedEvent) -> Result<OrderShipped, SchemaError> {
    match encoded.schema_version {
        1 => {
            let v1: OrderShippedV1 = decode_payload(encoded)?;
            Ok(OrderShipped {
                carrier: v1.carrier,
                tracking_number: v1.tracking,
            })
        }
        2 => decode_payload(encoded),
        _ => Err(unknown_version(encoded, ORDER_SHIPPED_CURRENT)),
    }
}

pub(super) fn order_shipped_as(event: &OrderShipped, version: u32) -> Option<EncodedEvent> {
    let v1 = OrderShippedV1 {
        carrier: event.carrier.clone(),
        tracking: event.tracking_number.clone(),
    };
    (version == 1).then(|| encode_payload(ORDER_SHIPPED, 1, &v1))
}

impl LineV1 {
    fn into_current(self) -> super::LineItem {
        super::LineItem {
            sku: self.sku,
            name: self.name,
            quantity: self.quantity,
            unit_price: self.unit_price,
        }
    }

    fn from_current(line: &super::LineItem) -> Self {
        Self {
            sku: line.sku.clone(),
            name: line.name.clone(),
            quantity: line.quantity,
            unit_price: line.unit_price,
        }
    }
}
