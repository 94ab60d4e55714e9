//! Shared pieces of the benchmark programs: latency statistics, a load driver and a fresh
//! database per run. Figures go to stdout; BENCHMARKS.md records them.

pub mod database;
pub mod driver;
pub mod eventstore;
pub mod http;
pub mod projection;
pub mod relay;
pub mod stats;
