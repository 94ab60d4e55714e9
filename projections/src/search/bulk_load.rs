//! Whole documents written in big `_bulk` requests, several in flight: the write side of a
//! rebuild and of a forced replay (the live projector writes small batches of its own).
//!
//! Documents are serialized straight into the request body as they come, and a request
//! leaves when its body reaches the configured size; at most `in_flight` requests are out at
//! once, so memory holds that many bodies and no more. Every document carries its external
//! version (the stream version), so a request retried, or a load resumed over documents it
//! wrote before, can never put an older document over a newer one.
//!
//! Requests finish out of order; [`BulkLoader::acked_through`] is the last subject (stream)
//! of the longest run of requests that all finished, in the order they were made: every
//! stream up to it is written, which is where a resumed load may continue.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use elasticsearch::http::headers::{HeaderMap, HeaderValue, CONTENT_TYPE};
use elasticsearch::http::Method;
use serde_json::Value;
use tokio::task::JoinSet;

use super::client::SearchClient;
use super::retry::{bulk_outcomes, Outcome};
use super::OrderDocument;
use crate::engine::Backoff;
use crate::operations::OperationError;

/// Tries of a request (or of its items that failed transiently) before the load gives up.
const ATTEMPTS: u32 = 8;
/// Refusals kept word for word; the rest are counted.
const KEPT_REFUSALS: usize = 10;
/// Only what the outcome of each item needs: a 4 MB request answers in kilobytes.
const FILTER_PATH: &str = "errors,items.*.status,items.*.error";

/// How a write's external version is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    /// Only a newer version replaces a document (rebuilds).
    External,
    /// The same version replaces it too (a forced replay rewrites a document at its
    /// version after a fix of the fold).
    ExternalGte,
}

impl Versioning {
    fn as_str(self) -> &'static str {
        match self {
            Self::External => "external",
            Self::ExternalGte => "external_gte",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkSettings {
    pub batch_bytes: usize,
    pub in_flight: usize,
    pub versioning: Versioning,
}

/// What the writes did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkStats {
    pub written: u64,
    /// The index held that version or a newer one already (a resumed load, a live write).
    pub already_newer: u64,
    /// Documents the index refused (a mapping error): named in `refusals`.
    pub refused: u64,
    pub refusals: Vec<String>,
}

impl BulkStats {
    fn merge(&mut self, other: BulkStats) {
        self.written += other.written;
        self.already_newer += other.already_newer;
        self.refused += other.refused;
        let room = KEPT_REFUSALS.saturating_sub(self.refusals.len());
        self.refusals.extend(other.refusals.into_iter().take(room));
    }
}

/// One document's lines in a request body.
struct Item {
    lines: Range<usize>,
    subject: String,
}

#[derive(Default)]
struct Request {
    sequence: u64,
    body: Vec<u8>,
    items: Vec<Item>,
    /// The last subject handed to the loader before this request left (documents or not).
    last_subject: Option<String>,
}

type Finished = Result<(u64, Option<String>, BulkStats), OperationError>;

pub struct BulkLoader {
    client: SearchClient,
    index: String,
    settings: BulkSettings,
    current: Request,
    next_sequence: u64,
    in_flight: JoinSet<Finished>,
    /// Finished requests not yet contiguous with the acknowledged run.
    finished: BTreeMap<u64, Option<String>>,
    next_to_ack: u64,
    acked_through: Option<String>,
    stats: BulkStats,
}

impl BulkLoader {
    /// Writes to `index` (an index or an alias with one index).
    pub fn new(client: SearchClient, index: impl Into<String>, settings: BulkSettings) -> Self {
        Self {
            client,
            index: index.into(),
            settings: BulkSettings {
                batch_bytes: settings.batch_bytes.max(1),
                in_flight: settings.in_flight.max(1),
                ..settings
            },
            current: Request::default(),
            next_sequence: 1,
            in_flight: JoinSet::new(),
            finished: BTreeMap::new(),
            next_to_ack: 1,
            acked_through: None,
            stats: BulkStats::default(),
        }
    }

    /// Queues `document` as `subject`'s (its stream); sends a request once the body is big
    /// enough, waiting first when `in_flight` requests are out.
    pub async fn add(
        &mut self,
        document: &OrderDocument,
        subject: &str,
    ) -> Result<(), OperationError> {
        let version = document.version;
        let start = self.current.body.len();
        let action = serde_json::json!({ "index": {
            "_id": document.order_id.to_string(),
            "version": version,
            "version_type": self.settings.versioning.as_str(),
        }});
        let encode = |e: serde_json::Error| {
            OperationError::Sink(format!("encoding the document of {subject}: {e}"))
        };
        serde_json::to_writer(&mut self.current.body, &action).map_err(encode)?;
        self.current.body.push(b'\n');
        serde_json::to_writer(&mut self.current.body, document).map_err(encode)?;
        self.current.body.push(b'\n');
        self.current.items.push(Item {
            lines: start..self.current.body.len(),
            subject: subject.to_owned(),
        });
        self.passed(subject);
        if self.current.body.len() >= self.settings.batch_bytes {
            self.flush().await?;
        }
        Ok(())
    }

    /// Records that `subject` needs no document (its stream cannot be folded into one), so
    /// the acknowledged run can move past it.
    pub fn passed(&mut self, subject: &str) {
        self.current.last_subject = Some(subject.to_owned());
    }

    /// Sends what is queued.
    pub async fn flush(&mut self) -> Result<(), OperationError> {
        if self.current.items.is_empty() {
            return Ok(());
        }
        while self.in_flight.len() >= self.settings.in_flight {
            self.join_one().await?;
        }
        let mut request = std::mem::take(&mut self.current);
        request.sequence = self.next_sequence;
        self.next_sequence += 1;
        // A request without documents would still carry its subjects forward.
        self.current.last_subject = request.last_subject.clone();
        let (client, index) = (self.client.clone(), self.index.clone());
        self.in_flight
            .spawn(async move { send(&client, &index, request).await });
        Ok(())
    }

    async fn join_one(&mut self) -> Result<(), OperationError> {
        match self.in_flight.join_next().await {
            None => Ok(()),
            Some(joined) => self.record(joined),
        }
    }

    fn record(
        &mut self,
        joined: Result<Finished, tokio::task::JoinError>,
    ) -> Result<(), OperationError> {
        let (sequence, last, stats) = joined
            .map_err(|e| OperationError::Sink(format!("a bulk request task failed: {e}")))??;
        self.stats.merge(stats);
        self.finished.insert(sequence, last);
        while let Some(last) = self.finished.remove(&self.next_to_ack) {
            if last.is_some() {
                self.acked_through = last;
            }
            self.next_to_ack += 1;
        }
        Ok(())
    }

    /// Takes in the requests that finished meanwhile, without waiting.
    pub fn collect_finished(&mut self) -> Result<(), OperationError> {
        while let Some(joined) = self.in_flight.try_join_next() {
            self.record(joined)?;
        }
        Ok(())
    }

    /// Every subject up to this one has been written.
    pub fn acked_through(&self) -> Option<&str> {
        self.acked_through.as_deref()
    }

    /// Sends what is queued and waits for every request; the totals, and the last subject
    /// handed to the loader.
    pub async fn finish(mut self) -> Result<(BulkStats, Option<String>), OperationError> {
        self.flush().await?;
        while !self.in_flight.is_empty() {
            self.join_one().await?;
        }
        let last = self.current.last_subject.take().or(self.acked_through);
        Ok((self.stats, last))
    }
}

/// Sends one request; items that fail transiently (429, 5xx) are sent again, alone, with
/// backoff; a request that fails as a whole is sent again the same way.
async fn send(client: &SearchClient, index: &str, request: Request) -> Finished {
    let backoff = Backoff {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(10),
    };
    let path = format!("/{index}/_bulk");
    let mut stats = BulkStats::default();
    let mut pending: Vec<usize> = (0..request.items.len()).collect();
    let mut attempt = 0;
    let mut last_failure = String::new();
    while !pending.is_empty() {
        if attempt > 0 {
            if attempt >= ATTEMPTS {
                return Err(OperationError::Sink(format!(
                    "elasticsearch at {}: {path} kept failing ({attempt} tries): {last_failure}",
                    client.url()
                )));
            }
            tokio::time::sleep(backoff.delay(attempt)).await;
        }
        attempt += 1;
        let body: Vec<u8> = if pending.len() == request.items.len() {
            request.body.clone()
        } else {
            pending
                .iter()
                .flat_map(|&i| request.body[request.items[i].lines.clone()].iter().copied())
                .collect()
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        let answer = client
            .es()
            .send(
                Method::Post,
                &path,
                headers,
                Some(&[("filter_path", FILTER_PATH)]),
                Some(body),
                None,
            )
            .await;
        let response = match answer {
            Ok(response) => response,
            Err(e) => {
                last_failure = e.to_string();
                continue;
            }
        };
        let status = response.status_code().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if status == 429 || status >= 500 {
            last_failure = format!("HTTP {status}: {}", answer["error"]);
            continue;
        }
        if !(200..300).contains(&status) {
            return Err(OperationError::Sink(format!(
                "elasticsearch at {}: {path}: HTTP {status}: {}",
                client.url(),
                answer["error"]
            )));
        }
        let outcomes = bulk_outcomes(&answer, pending.len()).map_err(|e| {
            OperationError::Sink(format!("elasticsearch at {}: {path}: {e}", client.url()))
        })?;
        let mut again = Vec::new();
        for (&i, (outcome, _)) in pending.iter().zip(outcomes) {
            match outcome {
                Outcome::Written => stats.written += 1,
                Outcome::AlreadyNewer => stats.already_newer += 1,
                Outcome::Transient(reason) => {
                    last_failure = format!("{}: {reason}", request.items[i].subject);
                    again.push(i);
                }
                Outcome::Poison(reason) => {
                    stats.refused += 1;
                    if stats.refusals.len() < KEPT_REFUSALS {
                        stats.refusals.push(format!(
                            "{}: the document was refused: {reason}",
                            request.items[i].subject
                        ));
                    }
                }
            }
        }
        pending = again;
    }
    Ok((request.sequence, request.last_subject, stats))
}
