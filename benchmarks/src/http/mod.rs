//! Workloads of the HTTP command benchmark (`http-bench`): the order service started
//! in-process on its own runtime, driven over loopback by a keep-alive reqwest client.

pub mod api;
pub mod long_stream;
pub mod open_loop;
pub mod pg_activity;
pub mod server;

/// The 1-, 5- and 15-minute load averages (`/proc/loadavg`), or "unknown".
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// "1 client", "16 clients".
pub fn clients(n: usize) -> String {
    format!("{n} client{}", if n == 1 { "" } else { "s" })
}
