//! Projector workers and read-model sinks.
//!
//! [`engine`] consumes Kafka and feeds batches to a [`engine::Projector`] (sink-agnostic);
//! [`search`] is the Elasticsearch read model of orders; [`operations`] is what operators
//! run on any projector (status, rebuild, replay, verify, dead letters).

pub mod engine;
pub mod operations;
pub mod search;
