//! A read_committed consumer of a dead-letter topic (JSON records), on a thread of its own,
//! so a test can wait for dead letters and look at them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::ClientConfig;
use uuid::Uuid;

pub struct DeadLetterWatcher {
    received: Arc<Mutex<Vec<serde_json::Value>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DeadLetterWatcher {
    /// Reads `topic` from its start (a topic that does not exist yet is picked up when it
    /// appears).
    pub fn start(brokers: &str, topic: &str) -> Self {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("group.id", format!("test-dead-letters-{}", Uuid::new_v4()))
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("isolation.level", "read_committed")
            .set("topic.metadata.refresh.interval.ms", "1000")
            .create()
            .expect("consumer");
        consumer.subscribe(&[topic]).expect("subscribe");
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (received.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
                    let value = serde_json::from_slice(message.payload().unwrap_or_default())
                        .unwrap_or(serde_json::Value::Null);
                    r.lock().expect("lock").push(value);
                }
            }
        });
        Self {
            received,
            stop,
            thread: Some(thread),
        }
    }

    pub fn received(&self) -> Vec<serde_json::Value> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits until at least `n` dead letters arrived.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<serde_json::Value> {
        let what = || format!("{} of {n} dead letters arrived", self.received().len());
        crate::eventually(within, what, || async {
            let received = self.received();
            (received.len() >= n).then_some(received)
        })
        .await
    }
}

impl Drop for DeadLetterWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
