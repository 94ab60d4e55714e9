//! The keel command services as a library: [`Application::build`] runs one service (the
//! `keel` binary, the integration tests and the benchmarks all use it).
//!
//! Layout: `app` (build and serve), `config` (typed settings), `database` (each service's own
//! database), `executor` (commands through the repository), `error` (every failure mapped to
//! a problem response), `http/` (plumbing shared by the services), `orders/` and
//! `payments/` (routes and DTOs), `relay/` (the outbox relay to Kafka and `keel tail`),
//! `supervisor` (`keel up`), `shutdown`, `telemetry`.

pub mod app;
pub mod config;
pub mod database;
pub mod dependencies;
pub mod error;
pub mod executor;
pub mod http;
pub mod orders;
pub mod payments;
pub mod query;
pub mod relay;
pub mod shutdown;
pub mod supervisor;
pub mod telemetry;

pub use app::{Application, StartupError};
pub use config::{Secret, ServiceConfig, ServiceKind};
pub use http::auth::JwtKeys;
pub use http::problem::Problem;
