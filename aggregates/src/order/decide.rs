use keel_schemas::order::{self as events, total_of, OrderConfirmed, OrderDelivered, OrderEvent};
use uuid::Uuid;

use super::{
    CancelOrder, MarkPaymentAuthorised, Order, OrderCommand, OrderError, OrderStatus, PlaceOrder,
    ShipOrder,
};

pub(super) fn decide(order: &Order, command: &OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
    // State before fields: "the order is cancelled" says more than "carrier is empty".
    let event = match command {
        OrderCommand::PlaceOrder(place) => place_order(order, place)?,
        OrderCommand::MarkPaymentAuthorised(mark) => {
            mark_payment_authorised(open_status(order)?, mark)?
        }
        OrderCommand::ConfirmOrder => confirm(open_status(order)?)?,
        OrderCommand::ShipOrder(ship) => ship_order(open_status(order)?, ship)?,
        OrderCommand::DeliverOrder => deliver(open_status(order)?)?,
        OrderCommand::CancelOrder(cancel) => cancel_order(open_status(order)?, cancel)?,
    };
    Ok(vec![event])
}

/// The status of a placed order that still accepts commands.
fn open_status(order: &Order) -> Result<OrderStatus, OrderError> {
    match order.status() {
        OrderStatus::NotPlaced => Err(OrderError::NotPlaced),
        status if status.is_final() => Err(OrderError::Closed { status }),
        status => Ok(status),
    }
}

fn place_order(order: &Order, place: &PlaceOrder) -> Result<OrderEvent, OrderError> {
    if order.status() != OrderStatus::NotPlaced {
        return Err(OrderError::AlreadyPlaced);
    }
    require_id(place.order_id, "order_id")?;
    require_id(place.customer_id, "customer_id")?;
    require_text(&place.customer_name, "customer_name")?;
    if place.lines.is_empty() {
        return Err(OrderError::Empty);
    }
    for line in &place.lines {
        require_text(&line.sku, "lines.sku")?;
        require_text(&line.name, "lines.name")?;
        if line.quantity == 0 {
            return Err(OrderError::ZeroQuantity {
                sku: line.sku.clone(),
            });
        }
    }
    let total = total_of(&place.lines).ok_or(OrderError::TotalOverflow)?;
    Ok(OrderEvent::OrderPlaced(events::OrderPlaced {
        order_id: place.order_id,
        customer_id: place.customer_id,
        customer_name: place.customer_name.clone(),
        lines: place.lines.clone(),
        currency: place.currency,
        total,
    }))
}

fn mark_payment_authorised(
    status: OrderStatus,
    mark: &MarkPaymentAuthorised,
) -> Result<OrderEvent, OrderError> {
    if status != OrderStatus::Placed {
        return Err(OrderError::PaymentAlreadyAuthorised);
    }
    require_id(mark.payment_id, "payment_id")?;
    Ok(OrderEvent::PaymentAuthorised(events::PaymentAuthorised {
        payment_id: mark.payment_id,
    }))
}

fn confirm(status: OrderStatus) -> Result<OrderEvent, OrderError> {
    match status {
        OrderStatus::Placed => Err(OrderError::PaymentNotAuthorised),
        OrderStatus::PaymentAuthorised => Ok(OrderEvent::OrderConfirmed(OrderConfirmed {})),
        _ => Err(OrderError::AlreadyConfirmed),
    }
}

fn ship_order(status: OrderStatus, ship: &ShipOrder) -> Result<OrderEvent, OrderError> {
    match status {
        OrderStatus::Placed | OrderStatus::PaymentAuthorised => Err(OrderError::NotConfirmed),
        OrderStatus::Confirmed => {
            require_text(&ship.carrier, "carrier")?;
            require_text(&ship.tracking_number, "tracking_number")?;
            Ok(OrderEvent::OrderShipped(events::OrderShipped {
                carrier: ship.carrier.clone(),
                tracking_number: ship.tracking_number.clone(),
            }))
        }
        _ => Err(OrderError::AlreadyShipped),
    }
}

fn deliver(status: OrderStatus) -> Result<OrderEvent, OrderError> {
    match status {
        OrderStatus::Shipped => Ok(OrderEvent::OrderDelivered(OrderDelivered {})),
        _ => Err(OrderError::NotShipped),
    }
}

fn cancel_order(status: OrderStatus, cancel: &CancelOrder) -> Result<OrderEvent, OrderError> {
    if status == OrderStatus::Shipped {
        return Err(OrderError::AlreadyShipped);
    }
    require_text(&cancel.reason, "reason")?;
    Ok(OrderEvent::OrderCancelled(events::OrderCancelled {
        reason: cancel.reason.clone(),
    }))
}

fn require_text(value: &str, field: &'static str) -> Result<(), OrderError> {
    if value.trim().is_empty() {
        return Err(OrderError::Required { field });
    }
    Ok(())
}

fn require_id(id: Uuid, field: &'static str) -> Result<(), OrderError> {
    if id.is_nil() {
        return Err(OrderError::Required { field });
    }
    Ok(())
}
