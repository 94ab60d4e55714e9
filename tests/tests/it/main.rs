//! One integration test binary (one link, servers shared): modules per area.

mod eventstore_contract;
mod gap;
mod http_concurrency;
mod http_errors;
mod http_fuzz;
mod http_hostile_input;
mod http_operations;
mod http_orders;
mod http_payments;
mod http_support;
mod http_write_path;
mod relay_crash;
mod relay_exactly_once;
mod relay_failover;
mod relay_kafka_down;
mod relay_poison;
mod relay_support;
mod smoke;
mod write_faults;
