//! A read_committed consumer on its own thread that counts what it sees and, for events
//! whose commit time was registered, records commit-to-visible latencies.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

#[derive(Default)]
pub struct Shared {
    pub seen: AtomicU64,
    /// event id → when its append returned.
    pub committed: Mutex<HashMap<String, Instant>>,
    pub latencies: Mutex<Vec<Duration>>,
}

pub struct Visible {
    pub shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Visible {
    /// Reads `topic` (which must exist, with `partitions` partitions) from the start.
    pub fn start(brokers: &str, topic: &str, partitions: i32) -> anyhow::Result<Visible> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("group.id", format!("relay-bench-{}", uuid::Uuid::new_v4()))
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .set("fetch.wait.max.ms", "10")
            .create()?;
        let mut assignment = TopicPartitionList::new();
        for p in 0..partitions {
            assignment.add_partition_offset(topic, p, Offset::Beginning)?;
        }
        consumer.assign(&assignment)?;
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (s, halt) = (shared.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                let Some(Ok(message)) = consumer.poll(Duration::from_millis(50)) else {
                    continue;
                };
                let now = Instant::now();
                s.seen.fetch_add(1, Ordering::Relaxed);
                let id = message.headers().and_then(|h| {
                    h.iter()
                        .find(|h| h.key == "event-id")
                        .and_then(|h| h.value)
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                });
                if let Some(id) = id {
                    let committed = s.committed.lock().ok().and_then(|mut m| m.remove(&id));
                    if let (Some(at), Ok(mut l)) = (committed, s.latencies.lock()) {
                        l.push(now.saturating_duration_since(at));
                    }
                }
            }
        });
        Ok(Visible {
            shared,
            stop,
            thread: Some(thread),
        })
    }

    pub fn seen(&self) -> u64 {
        self.shared.seen.load(Ordering::Relaxed)
    }
}

impl Drop for Visible {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
