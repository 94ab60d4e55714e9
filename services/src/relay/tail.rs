//! `keel tail <topic>`: print a topic's committed events as they arrive (read_committed),
//! so a user can watch the relay without writing a consumer.

use std::time::{Duration, Instant};

use futures::StreamExt;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::error::RelayError;

#[derive(Debug, Clone)]
pub struct TailOptions {
    pub brokers: String,
    pub topic: String,
    /// From the oldest retained message instead of only new ones.
    pub from_beginning: bool,
    /// Only messages with this key (a stream id).
    pub key: Option<String>,
    /// Stop after this many messages.
    pub max: Option<u64>,
    /// Stop after this long (exit status says whether `max` was reached).
    pub timeout: Option<Duration>,
}

/// Prints messages as `<topic>/<partition>@<offset> <key> <headers> <value>`; returns how
/// many were printed.
pub async fn tail(options: TailOptions, mut out: impl std::io::Write) -> Result<u64, RelayError> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &options.brokers)
        .set("group.id", format!("keel-tail-{}", uuid::Uuid::new_v4()))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()?;
    // The relay creates the topic on its first start: wait for it (within the timeout).
    let deadline = options.timeout.map(|t| Instant::now() + t);
    let partitions = loop {
        let metadata = consumer.fetch_metadata(Some(&options.topic), Duration::from_secs(10))?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if !partitions.is_empty() {
            break partitions;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(0);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let start = if options.from_beginning {
        Offset::Beginning
    } else {
        Offset::End
    };
    let mut assignment = TopicPartitionList::new();
    for p in partitions {
        assignment.add_partition_offset(&options.topic, p, start)?;
    }
    consumer.assign(&assignment)?;
    let mut printed = 0;
    let mut stream = consumer.stream();
    loop {
        if options.max.is_some_and(|max| printed >= max) {
            return Ok(printed);
        }
        let left = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => Duration::from_secs(3600),
        };
        if left.is_zero() {
            return Ok(printed);
        }
        let message = match tokio::time::timeout(left, stream.next()).await {
            Err(_) => continue,
            Ok(None) => return Ok(printed),
            Ok(Some(message)) => message?,
        };
        let key = message
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default();
        if options.key.as_ref().is_some_and(|wanted| *wanted != key) {
            continue;
        }
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        let value = h.value.map(String::from_utf8_lossy).unwrap_or_default();
                        format!("{}={}", h.key, value)
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        let value = message
            .payload()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default();
        let written = writeln!(
            out,
            "{}/{}@{} key={key} [{headers}] {value}",
            message.topic(),
            message.partition(),
            message.offset()
        )
        .and_then(|()| out.flush());
        if written.is_err() {
            // The reader went away (a closed pipe): nothing left to do.
            return Ok(printed);
        }
        printed += 1;
    }
}
