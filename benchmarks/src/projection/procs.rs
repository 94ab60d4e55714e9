//! What the machine does during a run, from `/proc`: a child's resident set size over time,
//! and CPU time by component (the measured keel process, Elasticsearch, PostgreSQL's
//! backends of the benchmark's database, the rest of PostgreSQL, Kafka, everything else).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Linux's `USER_HZ`, the unit of `/proc/*/stat` times (100 on every common build).
const TICKS_PER_SECOND: f64 = 100.0;

/// `VmRSS` and `VmHWM` of `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Fields of `/proc/<pid>/stat` after the command name (state is field 0).
fn stat_fields(pid: &str) -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    Some(
        rest.split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect(),
    )
}

/// utime + stime of a process (all its threads), in ticks.
fn cpu_ticks(pid: &str) -> Option<u64> {
    let f = stat_fields(pid)?;
    // After the state: ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime.
    Some(f.get(10)? + f.get(11)?)
}

/// cutime + cstime of this process: the CPU of its children that have been waited for.
fn children_ticks() -> u64 {
    stat_fields("self")
        .and_then(|f| Some(f.get(12)? + f.get(13)?))
        .unwrap_or(0)
}

/// utime + stime of this process.
fn self_ticks() -> u64 {
    stat_fields("self")
        .and_then(|f| Some(f.get(10)? + f.get(11)?))
        .unwrap_or(0)
}

/// Busy and total ticks of the whole machine (all cores), from the `cpu` line of
/// `/proc/stat`.
fn machine_ticks() -> (u64, u64) {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return (0, 0);
    };
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return (0, 0);
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest is inside user).
    let busy = [0, 1, 2, 5, 6, 7].iter().filter_map(|i| v.get(*i)).sum();
    let total = v.iter().take(8).sum();
    (busy, total)
}

/// Waits until the machine is less than `below` busy (0.0..1.0, all cores) over 3 s, for
/// at most `patience`; says how long it waited and how busy the machine was then.
pub async fn settle(below: f64, patience: Duration) -> String {
    let started = Instant::now();
    loop {
        let (b0, t0) = machine_ticks();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (b1, t1) = machine_ticks();
        let busy = (b1 - b0) as f64 / (t1 - t0).max(1) as f64;
        let waited = started.elapsed().as_secs_f64() - 3.0;
        if busy < below {
            return format!("machine {:.0}% busy (waited {waited:.0}s)", busy * 100.0);
        }
        if started.elapsed() >= patience {
            return format!(
                "machine still {:.0}% busy after {waited:.0}s (other work); measured anyway",
                busy * 100.0
            );
        }
    }
}

/// Busy ticks of the whole machine (all cores).
fn machine_busy_ticks() -> u64 {
    machine_ticks().0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Component {
    /// The measured keel process (its pid; also counted through `cutime` once reaped).
    Keel,
    Elasticsearch,
    /// PostgreSQL backends connected to the benchmark's database.
    PostgresBench,
    PostgresOther,
    Kafka,
}

fn classify(pid: &str, keel: &[u32], database: &str) -> Option<Component> {
    if keel.iter().any(|k| k.to_string() == pid) {
        return Some(Component::Keel);
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim() == "postgres" {
        // Backends set their title: "postgres: 15/main: <user> <database> <client> <state>".
        let bench = cmdline
            .split_whitespace()
            .nth(3)
            .is_some_and(|db| db == database);
        return Some(if bench {
            Component::PostgresBench
        } else {
            Component::PostgresOther
        });
    }
    if cmdline.contains("org.elasticsearch.bootstrap.Elasticsearch") {
        return Some(Component::Elasticsearch);
    }
    if cmdline.contains("kafka.Kafka") {
        return Some(Component::Kafka);
    }
    None
}

#[derive(Default)]
struct Tally {
    /// pid → (component, ticks when first seen, ticks when last seen).
    seen: HashMap<String, (Component, u64, u64)>,
}

impl Tally {
    fn sample(&mut self, keel: &[u32], database: &str, first: bool) {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in dir.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str() else { continue };
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if let Some((_, _, last)) = self.seen.get_mut(pid) {
                if let Some(t) = cpu_ticks(pid) {
                    *last = t;
                }
                continue;
            }
            let Some(component) = classify(pid, keel, database) else {
                continue;
            };
            let Some(t) = cpu_ticks(pid) else { continue };
            // A process born during the run counts from zero.
            let base = if first { t } else { 0 };
            self.seen.insert(pid.to_owned(), (component, base, t));
        }
    }
}

/// CPU seconds by component over a run.
#[derive(Debug, Clone, Default)]
pub struct CpuShare {
    pub wall: Duration,
    /// The measured keel processes.
    pub keel: f64,
    /// This benchmark program (load generator, pollers, samplers).
    pub bench: f64,
    pub elasticsearch: f64,
    pub postgres_bench: f64,
    pub postgres_other: f64,
    pub kafka: f64,
    /// Everything else that ran on the machine (this benchmark included).
    pub other: f64,
    pub machine: f64,
}

impl CpuShare {
    /// Elasticsearch's CPU per 1,000 items, in milliseconds.
    pub fn elasticsearch_ms_per_1000(&self, items: u64) -> f64 {
        self.elasticsearch * 1e6 / items.max(1) as f64
    }

    /// One line: each component's mean use in percent of one core.
    pub fn line(&self) -> String {
        let wall = self.wall.as_secs_f64().max(f64::EPSILON);
        let pct = |s: f64| s / wall * 100.0;
        format!(
            "keel {:.0}%, elasticsearch {:.0}%, postgres (bench db) {:.0}%, postgres (other dbs) {:.0}%, \
             kafka {:.0}%, this benchmark {:.0}%, everything else {:.0}%; machine busy {:.0}% of {}%",
            pct(self.keel),
            pct(self.elasticsearch),
            pct(self.postgres_bench),
            pct(self.postgres_other),
            pct(self.kafka),
            pct(self.bench),
            pct(self.other),
            pct(self.machine),
            cores() * 100
        )
    }
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

/// Samples a child's RSS every `rss_every` and the machine's CPU by component every
/// second, until [`Sampler::finish`].
pub struct Sampler {
    stop: watch::Sender<bool>,
    task: JoinHandle<(Vec<(Duration, u64)>, u64)>,
    tally: Arc<Mutex<Tally>>,
    started: Instant,
    children_before: u64,
    self_before: u64,
    machine_before: u64,
}

impl Sampler {
    /// `keel`: the measured keel processes (CPU; the RSS of the first); `database`: the
    /// benchmark's database, whose backends are counted apart.
    pub fn start(keel: Vec<u32>, database: &str, rss_every: Duration) -> Self {
        let tally = Arc::new(Mutex::new(Tally::default()));
        if let Ok(mut t) = tally.lock() {
            t.sample(&keel, database, true);
        }
        let child = keel.first().copied();
        let (stop, mut stopped) = watch::channel(false);
        let started = Instant::now();
        let children_before = children_ticks();
        let self_before = self_ticks();
        let machine_before = machine_busy_ticks();
        let database = database.to_owned();
        let shared = tally.clone();
        let task = tokio::spawn(async move {
            let mut rss = Vec::new();
            let mut peak = 0;
            let mut ticker = tokio::time::interval(rss_every);
            let mut last_cpu = Instant::now();
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    _ = stopped.changed() => break,
                }
                if let Some((now, hwm)) = child.and_then(rss_kib) {
                    rss.push((started.elapsed(), now));
                    peak = peak.max(hwm).max(now);
                }
                if last_cpu.elapsed() >= Duration::from_millis(900) {
                    last_cpu = Instant::now();
                    let (database, shared, keel) = (database.clone(), shared.clone(), keel.clone());
                    let _ = tokio::task::spawn_blocking(move || {
                        if let Ok(mut t) = shared.lock() {
                            t.sample(&keel, &database, false);
                        }
                    })
                    .await;
                }
            }
            (rss, peak)
        });
        Self {
            stop,
            task,
            tally,
            started,
            children_before,
            self_before,
            machine_before,
        }
    }

    /// Takes a last CPU sample; call it while the child still runs, then [`Sampler::finish`]
    /// after it has been waited for.
    pub fn last_sample(&self, keel: &[u32], database: &str) {
        if let Ok(mut t) = self.tally.lock() {
            t.sample(keel, database, false);
        }
    }

    /// The RSS samples (time, KiB), the peak RSS (KiB) and the CPU by component.
    pub async fn finish(self) -> (Vec<(Duration, u64)>, u64, CpuShare) {
        let wall = self.started.elapsed();
        let _ = self.stop.send(true);
        let (rss, peak) = self.task.await.unwrap_or_default();
        let secs = |ticks: u64| ticks as f64 / TICKS_PER_SECOND;
        let mut share = CpuShare {
            wall,
            machine: secs(machine_busy_ticks().saturating_sub(self.machine_before)),
            bench: secs(self_ticks().saturating_sub(self.self_before)),
            ..CpuShare::default()
        };
        // A reaped child's CPU is in this process's cutime; a running one's in its stat.
        let reaped = secs(children_ticks().saturating_sub(self.children_before));
        let mut keel = 0.0;
        if let Ok(tally) = self.tally.lock() {
            for (component, first, last) in tally.seen.values() {
                let s = secs(last.saturating_sub(*first));
                match component {
                    Component::Keel => keel += s,
                    Component::Elasticsearch => share.elasticsearch += s,
                    Component::PostgresBench => share.postgres_bench += s,
                    Component::PostgresOther => share.postgres_other += s,
                    Component::Kafka => share.kafka += s,
                }
            }
        }
        share.keel = f64::max(keel, reaped);
        share.other = (share.machine
            - share.keel
            - share.bench
            - share.elasticsearch
            - share.postgres_bench
            - share.postgres_other
            - share.kafka)
            .max(0.0);
        (rss, peak, share)
    }
}

/// The RSS sample at `fraction` of the run (the last one taken by then).
pub fn rss_at(samples: &[(Duration, u64)], wall: Duration, fraction: f64) -> u64 {
    let at = wall.mul_f64(fraction);
    samples
        .iter()
        .take_while(|(t, _)| *t <= at)
        .last()
        .or(samples.first())
        .map_or(0, |(_, kib)| *kib)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_readable() {
        let pid = std::process::id();
        let (rss, hwm) = rss_kib(pid).unwrap();
        assert!(rss > 0 && hwm >= rss);
        assert!(cpu_ticks(&pid.to_string()).is_some());
    }

    #[test]
    fn rss_at_takes_the_last_sample_by_then() {
        let s: Vec<(Duration, u64)> = (1..=10)
            .map(|i| (Duration::from_millis(i * 100), i * 10))
            .collect();
        let wall = Duration::from_millis(1000);
        assert_eq!(rss_at(&s, wall, 0.25), 20);
        assert_eq!(rss_at(&s, wall, 0.5), 50);
        assert_eq!(rss_at(&s, wall, 1.0), 100);
        assert_eq!(rss_at(&s, wall, 0.01), 10);
    }
}
