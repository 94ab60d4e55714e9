//! The payment service's handlers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use keel_aggregates::payment::{Payment, PaymentCommand};
use keel_eventstore::CommandContext;
use uuid::Uuid;

use super::by_order;
use super::dto::{
    self, AmountRequest, AuthorizeRequest, DeclineRequest, PaymentList, PaymentView,
    RequestPaymentRequest,
};
use crate::error::ApiError;
use crate::executor::{Answer, CommandExecutor, Target};
use crate::http::command::{CommandHeaders, CommandRequest, EmptyRequest};
use crate::http::extract::{IdPath, QueryParams};
use crate::http::problem::Problem;
use crate::http::response::{self, EventList};

pub type Payments = CommandExecutor<Payment>;

fn answer(status: StatusCode, answer: Answer<Payment>) -> Response {
    let location = (status == StatusCode::CREATED).then(|| format!("/payments/{}", answer.id));
    let view = PaymentView::new(answer.id, answer.version, &answer.state);
    response::state(status, view, answer.version, answer.replayed, location)
}

/// Request payment of an order.
///
/// Creates the payment with a new id; `Location` points at it. With an `Idempotency-Key`, a
/// retry returns this same answer (201) and creates nothing new.
#[utoipa::path(
    post, path = "/payments", tag = "payments",
    params(CommandHeaders),
    request_body = RequestPaymentRequest,
    responses(
        (status = 201, description = "Payment requested", body = PaymentView,
         headers(("Location" = String, description = "/payments/{id}"), ("ETag" = String, description = "The version, quoted"))),
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
pub async fn request(
    State(payments): State<Payments>,
    request: CommandRequest<RequestPaymentRequest>,
) -> Result<Response, ApiError> {
    let id = Uuid::now_v7();
    let command = request.body.into_command(id)?;
    let done = payments
        .execute(id, Target::New, &command, &request.context)
        .await?;
    Ok(answer(StatusCode::CREATED, done))
}

/// The payment's current state, or its state at an earlier version (`at_version`).
#[utoipa::path(
    get, path = "/payments/{id}", tag = "payments",
    params(
        ("id" = Uuid, Path, description = "The payment id"),
        ("at_version" = Option<u64>, Query, minimum = 1, description = "Time travel: the state as it was at this version"),
    ),
    responses(
        (status = 200, description = "The payment", body = PaymentView,
         headers(("ETag" = String, description = "The version, quoted; send it back as If-Match"))),
        (status = 400, description = "Malformed id or query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope this route needs", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such payment or version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["queries"]))
)]
pub async fn get(
    State(payments): State<Payments>,
    IdPath(id): IdPath,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let loaded = match query.at_version()? {
        Some(version) => payments.load_at(id, version).await?,
        None => payments.load(id).await?,
    };
    let view = PaymentView::new(id, loaded.version, &loaded.state);
    Ok(response::state(
        StatusCode::OK,
        view,
        loaded.version,
        false,
        None,
    ))
}

/// The payments of one order, oldest first.
#[utoipa::path(
    get, path = "/payments", tag = "payments",
    params(("order_id" = Uuid, Query, description = "The order whose payments to list")),
    responses(
        (status = 200, description = "The order's payments (empty when it has none)", body = PaymentList),
        (status = 400, description = "order_id missing or not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope this route needs", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["queries"]))
)]
pub async fn list_by_order(
    State(payments): State<Payments>,
    query: QueryParams,
) -> Result<Json<PaymentList>, ApiError> {
    let order_id = query.required_uuid("order_id")?;
    let mut list = Vec::new();
    for id in by_order::payment_ids(payments.store(), order_id).await? {
        let loaded = payments.load(id).await?;
        list.push(PaymentView::new(id, loaded.version, &loaded.state));
    }
    Ok(Json(PaymentList {
        order_id,
        payments: list,
    }))
}

/// The payment's events, oldest first (audit).
#[utoipa::path(
    get, path = "/payments/{id}/events", tag = "payments",
    params(("id" = Uuid, Path, description = "The payment id")),
    responses(
        (status = 200, description = "The payment's stream", body = EventList),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope this route needs", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such payment", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["queries"]))
)]
pub async fn events(
    State(payments): State<Payments>,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    Ok(response::events(id, payments.events(id).await?))
}

/// Runs a command on an existing payment and answers with its new state.
async fn run(
    payments: &Payments,
    id: Uuid,
    command: PaymentCommand,
    context: &CommandContext,
) -> Result<Response, ApiError> {
    let done = payments
        .execute(id, Target::Existing, &command, context)
        .await?;
    Ok(answer(StatusCode::OK, done))
}

/// A handler for a command on an existing payment, with its OpenAPI description.
macro_rules! payment_command {
    ($(#[$doc:meta])* $name:ident, $path:literal, $body:ty, |$request:ident| $command:expr) => {
        $(#[$doc])*
        #[utoipa::path(
            post, path = $path, tag = "payments",
            params(("id" = Uuid, Path, description = "The payment id"), CommandHeaders),
            request_body(content = $body, description = "May be left out when it has no required fields"),
            responses(
                (status = 200, description = "The payment after the command", body = PaymentView,
                 headers(("ETag" = String, description = "The new version, quoted"))),
                (status = 400, description = "Malformed id, body or headers", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "The token lacks the scope this route needs", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such payment", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "If-Match does not match the current version", body = Problem, content_type = "application/problem+json"),
                (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
                (status = 415, description = "Body not JSON", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Refused by a business rule, or idempotency key reused", body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = ["commands"]))
        )]
        pub async fn $name(
            State(payments): State<Payments>,
            IdPath(id): IdPath,
            $request: CommandRequest<$body>,
        ) -> Result<Response, ApiError> {
            let command = $command;
            run(&payments, id, command, &$request.context).await
        }
    };
}

payment_command!(
    /// Record that the acquirer authorised the payment.
    authorize, "/payments/{id}/authorize", AuthorizeRequest,
    |request| request.body.into_command()?
);
payment_command!(
    /// Record that the acquirer declined the payment.
    decline, "/payments/{id}/decline", DeclineRequest,
    |request| request.body.into_command()?
);
payment_command!(
    /// Capture part or all of the authorised amount.
    capture, "/payments/{id}/capture", AmountRequest,
    |request| request.body.into_capture()?
);
payment_command!(
    /// Pay back part or all of the captured amount.
    refund, "/payments/{id}/refund", AmountRequest,
    |request| request.body.into_refund()?
);
payment_command!(
    /// Release the authorisation before anything was captured.
    void, "/payments/{id}/void", EmptyRequest,
    |request| dto::void_command()
);
