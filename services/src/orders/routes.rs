//! The order service's handlers. Each turns HTTP into a command or a read; the domain
//! decides, the executor maps the outcome.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use keel_aggregates::order::{Order, OrderCommand};
use keel_eventstore::CommandContext;
use uuid::Uuid;

use super::dto::{
    self, CancelOrderRequest, OrderView, PaymentAuthorizedRequest, PlaceOrderRequest,
    ShipOrderRequest,
};
use crate::error::ApiError;
use crate::executor::{Answer, CommandExecutor, Target};
use crate::http::command::{CommandHeaders, CommandRequest, EmptyRequest};
use crate::http::extract::{IdPath, QueryParams};
use crate::http::problem::Problem;
use crate::http::response::{self, EventList};

pub type Orders = CommandExecutor<Order>;

fn answer(status: StatusCode, answer: Answer<Order>) -> Response {
    let location = (status == StatusCode::CREATED).then(|| format!("/orders/{}", answer.id));
    let view = OrderView::new(answer.id, answer.version, &answer.state);
    response::state(status, view, answer.version, answer.replayed, location)
}

/// Place an order.
///
/// Creates the order with a new id; `Location` points at it. With an `Idempotency-Key`, a
/// retry returns this same answer (201) and places nothing new.
#[utoipa::path(
    post, path = "/orders", tag = "orders",
    params(CommandHeaders),
    request_body = PlaceOrderRequest,
    responses(
        (status = 201, description = "Order placed", body = OrderView,
         headers(("Location" = String, description = "/orders/{id}"), ("ETag" = String, description = "The version, quoted"))),
        (status = 400, description = "Malformed body or headers", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope this route needs", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Version conflict", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a business rule, or idempotency key reused", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["commands"]))
)]
pub async fn place(
    State(orders): State<Orders>,
    request: CommandRequest<PlaceOrderRequest>,
) -> Result<Response, ApiError> {
    let id = Uuid::now_v7();
    let command = request.body.into_command(id)?;
    let done = orders
        .execute(id, Target::New, &command, &request.context)
        .await?;
    Ok(answer(StatusCode::CREATED, done))
}

/// The order's current state, or its state at an earlier version (`at_version`).
#[utoipa::path(
    get, path = "/orders/{id}", tag = "orders",
    params(
        ("id" = Uuid, Path, description = "The order id"),
        ("at_version" = Option<u64>, Query, minimum = 1, description = "Time travel: the state as it was at this version"),
    ),
    responses(
        (status = 200, description = "The order", body = OrderView,
         headers(("ETag" = String, description = "The version, quoted; send it back as If-Match"))),
        (status = 400, description = "Malformed id or query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope this route needs", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order or version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["queries"]))
)]
pub async fn get(
    State(orders): State<Orders>,
    IdPath(id): IdPath,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let loaded = match query.at_version()? {
        Some(version) => orders.load_at(id, version).await?,
        None => orders.load(id).await?,
    };
    let view = OrderView::new(id, loaded.version, &loaded.state);
    Ok(response::state(
        StatusCode::OK,
        view,
        loaded.version,
        false,
        None,
    ))
}

/// The order's events, oldest first (audit).
#[utoipa::path(
    get, path = "/orders/{id}/events", tag = "orders",
    params(("id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order's stream", body = EventList),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope this route needs", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["queries"]))
)]
pub async fn events(
    State(orders): State<Orders>,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    Ok(response::events(id, orders.events(id).await?))
}

/// Runs a command on an existing order and answers with its new state.
async fn run(
    orders: &Orders,
    id: Uuid,
    command: OrderCommand,
    context: &CommandContext,
) -> Result<Response, ApiError> {
    let done = orders
        .execute(id, Target::Existing, &command, context)
        .await?;
    Ok(answer(StatusCode::OK, done))
}

/// A handler for a command on an existing order, with its OpenAPI description.
macro_rules! order_command {
    ($(#[$doc:meta])* $name:ident, $path:literal, $body:ty, |$request:ident| $command:expr) => {
        $(#[$doc])*
        #[utoipa::path(
            post, path = $path, tag = "orders",
            params(("id" = Uuid, Path, description = "The order id"), CommandHeaders),
            request_body(content = $body, description = "May be left out when it has no required fields"),
            responses(
                (status = 200, description = "The order after the command", body = OrderView,
                 headers(("ETag" = String, description = "The new version, quoted"))),
                (status = 400, description = "Malformed id, body or headers", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "The token lacks the scope this route needs", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "If-Match does not match the current version", body = Problem, content_type = "application/problem+json"),
                (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
                (status = 415, description = "Body not JSON", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Refused by a business rule, or idempotency key reused", body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = ["commands"]))
        )]
        pub async fn $name(
            State(orders): State<Orders>,
            IdPath(id): IdPath,
            $request: CommandRequest<$body>,
        ) -> Result<Response, ApiError> {
            let command = $command;
            run(&orders, id, command, &$request.context).await
        }
    };
}

order_command!(
    /// Record that the order's payment was authorised (sent by the saga).
    payment_authorized, "/orders/{id}/payment-authorized", PaymentAuthorizedRequest,
    |request| request.body.into_command()?
);
order_command!(
    /// Confirm the order for fulfilment (sent by the saga once payment is authorised).
    confirm, "/orders/{id}/confirm", EmptyRequest,
    |request| dto::confirm_command()
);
order_command!(
    /// Ship the order.
    ship, "/orders/{id}/ship", ShipOrderRequest,
    |request| request.body.into_command()?
);
order_command!(
    /// Record the order's delivery.
    deliver, "/orders/{id}/deliver", EmptyRequest,
    |request| dto::deliver_command()
);
order_command!(
    /// Cancel the order.
    cancel, "/orders/{id}/cancel", CancelOrderRequest,
    |request| request.body.into_command()?
);
