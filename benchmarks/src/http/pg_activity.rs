//! What PostgreSQL was doing during a latency run, second by second: the benchmark's
//! evidence for where a slow second came from (lock or I/O waits, an autovacuum or
//! autoanalyze of the events table, a checkpoint), next to that second's p99.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sqlx::{PgPool, Row};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One second of samples.
#[derive(Debug, Default, Clone)]
pub struct Second {
    pub samples: u32,
    /// Samples in which a backend of the database waited, by `wait_event_type:wait_event`.
    pub waits: BTreeMap<String, u32>,
    /// Samples in which an autovacuum worker ran (any database).
    pub autovacuum: u32,
    /// Samples in which the checkpointer was writing (its wait event was not idle).
    pub checkpointing: u32,
}

pub struct Sampler {
    stop: watch::Sender<bool>,
    task: JoinHandle<Vec<Second>>,
    counters_before: Counters,
    pool: PgPool,
}

/// Cumulative counters whose change over the run says what happened.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub checkpoints: i64,
    pub autovacuums: i64,
    pub autoanalyzes: i64,
}

async fn counters(pool: &PgPool) -> Counters {
    let row = sqlx::query(
        "SELECT (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) AS c, \
                COALESCE((SELECT autovacuum_count FROM pg_stat_user_tables \
                          WHERE relname = 'events'), 0) AS v, \
                COALESCE((SELECT autoanalyze_count FROM pg_stat_user_tables \
                          WHERE relname = 'events'), 0) AS a",
    )
    .fetch_one(pool)
    .await;
    match row {
        Ok(row) => Counters {
            checkpoints: row.try_get("c").unwrap_or_default(),
            autovacuums: row.try_get("v").unwrap_or_default(),
            autoanalyzes: row.try_get("a").unwrap_or_default(),
        },
        Err(_) => Counters::default(),
    }
}

impl Sampler {
    /// Samples `pg_stat_activity` every 20 ms on `pool` (the service's database) until
    /// [`Sampler::finish`].
    pub async fn start(pool: PgPool) -> Self {
        let counters_before = counters(&pool).await;
        let (stop, mut stopped) = watch::channel(false);
        let sampler_pool = pool.clone();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let mut seconds: Vec<Second> = Vec::new();
            let mut ticks = tokio::time::interval(Duration::from_millis(20));
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = stopped.changed() => return seconds,
                }
                let second = started.elapsed().as_secs() as usize;
                if seconds.len() <= second {
                    seconds.resize(second + 1, Second::default());
                }
                let rows = sqlx::query(
                    "SELECT backend_type, datname = current_database() AS ours, \
                            wait_event_type, wait_event, state FROM pg_stat_activity \
                     WHERE pid <> pg_backend_pid()",
                )
                .fetch_all(&sampler_pool)
                .await
                .unwrap_or_default();
                let slot = &mut seconds[second];
                slot.samples += 1;
                let (mut vacuum, mut checkpoint) = (false, false);
                for row in rows {
                    let kind: String = row.try_get("backend_type").unwrap_or_default();
                    let ours: Option<bool> = row.try_get("ours").unwrap_or_default();
                    let wait_type: Option<String> =
                        row.try_get("wait_event_type").unwrap_or_default();
                    let wait: Option<String> = row.try_get("wait_event").unwrap_or_default();
                    let state: Option<String> = row.try_get("state").unwrap_or_default();
                    match kind.as_str() {
                        "autovacuum worker" => vacuum = true,
                        "checkpointer" => checkpoint |= wait.as_deref() != Some("CheckpointerMain"),
                        "client backend"
                            if ours == Some(true) && state.as_deref() == Some("active") =>
                        {
                            if let (Some(t), Some(w)) = (wait_type, wait) {
                                *slot.waits.entry(format!("{t}:{w}")).or_default() += 1;
                            }
                        }
                        _ => {}
                    }
                }
                slot.autovacuum += u32::from(vacuum);
                slot.checkpointing += u32::from(checkpoint);
            }
        });
        Self {
            stop,
            task,
            counters_before,
            pool,
        }
    }

    /// Stops sampling; returns the seconds and how the counters moved.
    pub async fn finish(self) -> (Vec<Second>, Counters) {
        let _ = self.stop.send(true);
        let seconds = self.task.await.unwrap_or_default();
        let after = counters(&self.pool).await;
        let moved = Counters {
            checkpoints: after.checkpoints - self.counters_before.checkpoints,
            autovacuums: after.autovacuums - self.counters_before.autovacuums,
            autoanalyzes: after.autoanalyzes - self.counters_before.autoanalyzes,
        };
        (seconds, moved)
    }
}

/// One line per second: the p99 of the requests scheduled in it, then what PostgreSQL did.
pub fn report(timeline: &[(Duration, Duration)], seconds: &[Second], moved: Counters) -> String {
    let mut by_second: BTreeMap<u64, Vec<Duration>> = BTreeMap::new();
    for (offset, latency) in timeline {
        by_second
            .entry(offset.as_secs())
            .or_default()
            .push(*latency);
    }
    let mut out = format!(
        "during the run: {} checkpoint(s), {} autovacuum(s) and {} autoanalyze(s) of `events`\n",
        moved.checkpoints, moved.autovacuums, moved.autoanalyzes
    );
    for (second, mut latencies) in by_second {
        latencies.sort_unstable();
        let p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
        let activity = seconds.get(second as usize).cloned().unwrap_or_default();
        let mut waits: Vec<(String, u32)> = activity.waits.into_iter().collect();
        waits.sort_by_key(|w| std::cmp::Reverse(w.1));
        let waits: Vec<String> = waits
            .iter()
            .take(3)
            .map(|(w, n)| format!("{w} x{n}"))
            .collect();
        out.push_str(&format!(
            "  second {second:>2}: p99 {:>7.2} ms | samples {:>2}, autovacuum {:>2}, checkpoint {:>2} | waits {}\n",
            p99.as_secs_f64() * 1e3,
            activity.samples,
            activity.autovacuum,
            activity.checkpointing,
            if waits.is_empty() { "-".to_owned() } else { waits.join(", ") }
        ));
    }
    out
}
