//! The rebuild as a child process (`keel projections rebuild search`), with its RSS sampled
//! every 200 ms and the machine's CPU by component; and the raw `_bulk` rate of the same
//! documents from one client, the ceiling the rebuild is compared with.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use super::child::{tail, KeelProcess};
use super::es::{bulk_bodies, Es, StoredDoc};
use super::procs::{CpuShare, Sampler};

/// A finished rebuild.
pub struct Rebuilt {
    pub wall: Duration,
    /// (time since start, VmRSS KiB), every 200 ms.
    pub rss: Vec<(Duration, u64)>,
    pub peak_kib: u64,
    pub cpu: CpuShare,
    /// Its summary (stdout).
    pub said: String,
    /// When its progress (once a second) first reported a phase after loading (the load
    /// ended at most a second before), and when it said the alias was switched.
    pub loaded_at: Option<Duration>,
    pub switched_at: Option<Duration>,
}

/// Runs `keel <args>` to completion, sampling it; fails when it exits unsuccessfully.
pub async fn run(
    keel: &Path,
    args: &[String],
    database: &str,
    logs: &Path,
) -> anyhow::Result<Rebuilt> {
    let started = Instant::now();
    let mut process = KeelProcess::spawn(keel, "rebuild", args, &[], logs)?;
    let pids: Vec<u32> = process.pid().into_iter().collect();
    let sampler = Sampler::start(pids.clone(), database, Duration::from_millis(200));
    let status = loop {
        if let Some(status) = process.exited() {
            break status;
        }
        // The last CPU reading of the child before it is reaped (after that, its time is
        // in this process's cutime).
        sampler.last_sample(&pids, database);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let wall = started.elapsed();
    let (rss, peak_kib, cpu) = sampler.finish().await;
    anyhow::ensure!(
        status.success(),
        "keel {} exited with {status} after {:.1}s:\n{}\n{}",
        args.join(" "),
        wall.as_secs_f64(),
        tail(&process.stdout, 10),
        process.stderr_tail(30)
    );
    Ok(Rebuilt {
        wall,
        rss,
        peak_kib,
        cpu,
        said: std::fs::read_to_string(&process.stdout).unwrap_or_default(),
        loaded_at: process.after_lines_of("loading: "),
        switched_at: process.said_at(" switched from "),
    })
}

/// One raw bulk load.
pub struct RawBulk {
    pub batch: usize,
    pub in_flight: usize,
    pub docs: usize,
    pub requests: usize,
    pub bytes: usize,
    /// The `_bulk` requests only.
    pub load: Duration,
    /// Refresh turned back on and one refresh, after the load.
    pub finish: Duration,
    pub cpu: CpuShare,
}

/// Loads `docs` into a fresh index `index` with the rebuild's load settings (the same
/// mapping, refresh off, 0 replicas), `_bulk` requests of `batch` documents from one
/// client, `in_flight` at a time; then turns refresh back on and refreshes.
pub async fn raw_bulk(
    es: &Es,
    index: &str,
    docs: &[StoredDoc],
    batch: usize,
    in_flight: usize,
    database: &str,
) -> anyhow::Result<RawBulk> {
    let bodies = bulk_bodies(docs, batch);
    let bytes = bodies.iter().map(Vec::len).sum();
    let requests = bodies.len();
    let mut body = keel_projections::search::index_body(1, 0);
    body["settings"]["refresh_interval"] = json!("-1");
    es.create_index(index, &body).await?;
    let sampler = Sampler::start(Vec::new(), database, Duration::from_secs(1));
    let started = Instant::now();
    let mut requests_out = tokio::task::JoinSet::new();
    for body in bodies {
        if requests_out.len() >= in_flight.max(1) {
            if let Some(done) = requests_out.join_next().await {
                done??;
            }
        }
        let (es, index) = (es.clone(), index.to_owned());
        requests_out.spawn(async move { es.bulk(&index, body).await });
    }
    while let Some(done) = requests_out.join_next().await {
        done??;
    }
    let load = started.elapsed();
    es.put_settings(index, &json!({ "index": { "refresh_interval": "1s" } }))
        .await?;
    es.refresh(index).await?;
    let finish = started.elapsed() - load;
    let (_, _, cpu) = sampler.finish().await;
    let count = es.count(index).await?;
    anyhow::ensure!(
        count == docs.len() as u64,
        "{index} holds {count} of {} documents",
        docs.len()
    );
    Ok(RawBulk {
        batch,
        in_flight,
        docs: docs.len(),
        requests,
        bytes,
        load,
        finish,
        cpu,
    })
}
