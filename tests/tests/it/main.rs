//! One integration test binary (one link, servers shared): modules per area.

mod eventstore_contract;
mod gap;
mod http_concurrency;
mod http_errors;
mod http_fuzz;
mod http_operations;
mod http_orders;
mod http_payments;
mod http_support;
mod smoke;
