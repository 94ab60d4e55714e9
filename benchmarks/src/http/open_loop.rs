use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::task::JoinSet;

use super::api::Api;
use crate::stats::Sample;

/// `POST /orders` at a fixed `rate` for `duration`, open loop: request `i` is issued at
/// `start + i / rate` whether or not earlier ones have answered, and its latency runs from
/// that scheduled time (not from when it was sent), so a stall is not hidden by the load
/// generator waiting for it (no coordinated omission). The rate is the requests over the
/// time from the first scheduled send to the last answer. Also returns each request's
/// (scheduled offset, latency), to line slow moments up with what the server did then.
pub async fn place_orders(
    api: &Api,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<(Sample, Vec<(Duration, Duration)>)> {
    anyhow::ensure!(rate > 0.0, "the rate must be positive");
    let total = (rate * duration.as_secs_f64()).round() as usize;
    let period = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now() + Duration::from_millis(5);
    let mut tasks = JoinSet::new();
    for i in 0..total {
        let scheduled = start + period.mul_f64(i as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let api = api.clone();
        tasks.spawn(async move {
            let key = api.key("open", 0, i);
            api.send(api.place_order(&key), StatusCode::CREATED).await;
            let done = Instant::now();
            (scheduled - start, done - scheduled, done)
        });
    }
    let mut sample = Sample {
        latencies: Vec::with_capacity(total),
        ..Sample::default()
    };
    let mut timeline = Vec::with_capacity(total);
    let mut last = start;
    while let Some(result) = tasks.join_next().await {
        let (offset, latency, done) = result?;
        sample.latencies.push(latency);
        timeline.push((offset, latency));
        last = last.max(done);
    }
    sample.items = total as u64;
    sample.wall = last.saturating_duration_since(start);
    Ok((sample, timeline))
}
