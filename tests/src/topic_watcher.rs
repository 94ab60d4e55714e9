//! A read_committed consumer that collects everything a topic receives, on a thread of its
//! own, so a test can wait for conditions on what arrived and check it afterwards.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use uuid::Uuid;

/// One event as a consumer saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub partition: i32,
    pub offset: i64,
    pub key: String,
    pub event_id: Uuid,
    pub stream_id: String,
    pub version: u64,
    pub headers: HashMap<String, String>,
    pub value: serde_json::Value,
    /// When this consumer got it.
    pub at: Instant,
}

pub struct TopicWatcher {
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn parse(message: &rdkafka::message::BorrowedMessage<'_>) -> Received {
    let value: serde_json::Value =
        serde_json::from_slice(message.payload().unwrap_or_default()).expect("JSON value");
    let mut headers = HashMap::new();
    if let Some(h) = message.headers() {
        for header in h.iter() {
            let v = header
                .value
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            headers.insert(header.key.to_owned(), v.into_owned());
        }
    }
    Received {
        partition: message.partition(),
        offset: message.offset(),
        key: String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned(),
        event_id: value["event_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("event_id"),
        stream_id: value["stream_id"].as_str().expect("stream_id").to_owned(),
        version: value["version"].as_u64().expect("version"),
        headers,
        value,
        at: Instant::now(),
    }
}

impl TopicWatcher {
    /// Waits (up to 60 s) for `topic` to exist, then reads all its partitions from the start.
    pub fn start(brokers: &str, topic: &str) -> TopicWatcher {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("group.id", format!("test-watcher-{}", Uuid::new_v4()))
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .set("topic.metadata.refresh.interval.ms", "1000")
            .create()
            .expect("consumer");
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s, topic) = (received.clone(), stop.clone(), topic.to_owned());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let partitions = loop {
                if s.load(Ordering::Relaxed) {
                    return;
                }
                let found = consumer
                    .fetch_metadata(Some(&topic), Duration::from_secs(5))
                    .ok()
                    .and_then(|m| {
                        m.topics()
                            .iter()
                            .find(|t| t.name() == topic && t.error().is_none())
                            .map(|t| t.partitions().len())
                    })
                    .filter(|n| *n > 0);
                if let Some(n) = found {
                    break n;
                }
                assert!(Instant::now() < deadline, "topic {topic} never appeared");
                std::thread::sleep(Duration::from_millis(200));
            };
            let mut assignment = TopicPartitionList::new();
            for p in 0..partitions {
                assignment
                    .add_partition_offset(&topic, p as i32, Offset::Beginning)
                    .expect("partition");
            }
            consumer.assign(&assignment).expect("assign");
            while !s.load(Ordering::Relaxed) {
                match consumer.poll(Duration::from_millis(100)) {
                    Some(Ok(message)) => {
                        let event = parse(&message);
                        r.lock().expect("lock").push(event);
                    }
                    // Broker restarts (the Kafka-down test) are expected; others are worth a line.
                    Some(Err(e)) => {
                        let transport = matches!(
                            e.rdkafka_error_code(),
                            Some(
                                RDKafkaErrorCode::BrokerTransportFailure
                                    | RDKafkaErrorCode::AllBrokersDown
                            )
                        );
                        if !transport {
                            eprintln!("watcher of {topic}: {e}");
                        }
                    }
                    None => {}
                }
            }
        });
        TopicWatcher {
            received,
            stop,
            thread: Some(thread),
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    pub fn count(&self) -> usize {
        self.received.lock().expect("lock").len()
    }

    /// Waits until at least `n` events arrived; panics with the count after `within`.
    pub async fn wait_for(&self, n: usize, within: Duration) {
        let what = || format!("only {} of {n} events arrived", self.count());
        crate::eventually(within, what, || async { (self.count() >= n).then_some(()) }).await
    }

    /// Waits until the count has not changed for `quiet` (to catch late duplicates).
    pub async fn settle(&self, quiet: Duration) {
        let mut last = self.count();
        let mut since = Instant::now();
        while since.elapsed() < quiet {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let count = self.count();
            if count != last {
                last = count;
                since = Instant::now();
            }
        }
    }
}

impl Drop for TopicWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Checks the delivery contract: every `expected` event exactly once, nothing else, and
/// each stream's events in version order (consecutive from its first).
pub fn assert_exactly_once_in_order(received: &[Received], expected: &HashSet<Uuid>) {
    let mut seen = HashSet::new();
    let mut duplicates = 0;
    for r in received {
        if !seen.insert(r.event_id) {
            duplicates += 1;
        }
    }
    let unexpected: Vec<_> = seen.difference(expected).collect();
    let lost: Vec<_> = expected.difference(&seen).collect();
    assert_eq!(duplicates, 0, "{duplicates} events arrived more than once");
    assert!(
        unexpected.is_empty(),
        "{} events arrived that were not committed (e.g. {:?})",
        unexpected.len(),
        unexpected.first()
    );
    assert!(
        lost.is_empty(),
        "{} committed events never arrived (e.g. {:?})",
        lost.len(),
        lost.first()
    );
    let mut last: HashMap<&str, u64> = HashMap::new();
    for r in received {
        assert_eq!(r.key, r.stream_id, "key is the stream id");
        if let Some(previous) = last.insert(&r.stream_id, r.version) {
            assert!(
                r.version > previous,
                "stream {} out of order: version {} after {previous}",
                r.stream_id,
                r.version
            );
        }
    }
}
