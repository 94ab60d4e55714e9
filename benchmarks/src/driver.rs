use std::future::Future;
use std::time::{Duration, Instant};

use crate::stats::Sample;

/// Runs `writers` concurrent tasks, each calling `op(writer, i)` for `i in 0..per_writer`,
/// and records every call's latency. `op` returns how many items the call did.
pub async fn run<F, Fut>(writers: usize, per_writer: usize, op: F) -> anyhow::Result<Sample>
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<u64>> + Send,
{
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_writer);
                let mut items = 0;
                for i in 0..per_writer {
                    let t = Instant::now();
                    items += op(w, i).await?;
                    latencies.push(t.elapsed());
                }
                anyhow::Ok((latencies, items))
            })
        })
        .collect();
    let mut sample = Sample::default();
    for task in tasks {
        let (latencies, items) = task.await??;
        sample.latencies.extend(latencies);
        sample.items += items;
    }
    sample.wall = started.elapsed();
    Ok(sample)
}

/// Mean time of `runs` sequential calls.
pub async fn mean_time<F, Fut>(runs: u32, mut op: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    for _ in 0..runs {
        op().await?;
    }
    Ok(started.elapsed() / runs.max(1))
}
