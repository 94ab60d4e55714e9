//! The search projector: a batch of order events becomes one `_mget` and one `_bulk`.
//!
//! Per stream: the stored document's version decides which events are new ([`plan`]);
//! new events are folded onto the stored state, after reading from the event store any
//! that were never seen; the document is written with `version_type=external` and
//! version = stream version, so a duplicate, a late event or a concurrent instance can
//! never replace a newer document (Elasticsearch answers 409, which is not an error).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use keel_eventstore::{ErrorClass, EventStore, PgEventStore, SessionTimeouts};
use keel_schemas::EventEnvelope;
use prometheus_client::registry::Registry;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use thiserror::Error;
use uuid::Uuid;

use super::client::{RequestFailed, SearchClient, Stored};
use super::fold::{fold, plan, Base, Folded, Plan};
use super::index::ensure_alias;
use super::metrics::SearchMetrics;
use super::retry::Outcome;
use super::{OrderDocument, SearchConfig};
use crate::engine::{ApplyError, Envelope, Projector, Rejected};

/// Streams whose history is read from the event store at the same time, at most.
const HISTORY_READS: usize = 4;

/// Why the projector could not start.
#[derive(Debug, Error)]
pub enum SearchError {
    #[error("{0}")]
    Elasticsearch(String),
    #[error("the event store database: {0}")]
    Database(String),
}

pub struct SearchProjector {
    config: SearchConfig,
    client: SearchClient,
    store: Arc<dyn EventStore>,
    metrics: SearchMetrics,
    /// Set when a request found no alias: the next try creates it again.
    index_missing: AtomicBool,
    /// False when writing straight to an index that must not get an alias of its own (a
    /// rebuild's new generation before the switch).
    creates_alias: bool,
}

/// One stream's events in a batch.
struct StreamEvents<'a> {
    stream_id: &'a str,
    order_id: Uuid,
    /// Batch index and event, in batch order.
    events: Vec<(usize, &'a EventEnvelope)>,
}

impl StreamEvents<'_> {
    /// Batch indexes of this stream's events at or after `version`.
    fn at_or_after(&self, version: u64) -> impl Iterator<Item = usize> + '_ {
        self.events
            .iter()
            .filter(move |(_, e)| e.stream_version >= version)
            .map(|(i, _)| *i)
    }
}

/// A stream's fold, with the version the index held before.
struct StreamResult {
    stored_version: u64,
    folded: Folded,
}

impl SearchProjector {
    /// Checks Elasticsearch, connects to the event store, and creates the alias when
    /// missing.
    pub async fn connect(config: SearchConfig) -> Result<Self, SearchError> {
        let client = SearchClient::new(&config.elasticsearch_url, config.request_timeout)
            .map_err(SearchError::Elasticsearch)?;
        if let Some(reason) = client.unready(Duration::from_secs(10)).await {
            return Err(SearchError::Elasticsearch(reason));
        }
        // Every dependency answers before anything is created.
        let options: PgConnectOptions = config
            .database_url
            .parse()
            .map_err(|e| SearchError::Database(format!("not a PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(config.database_max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(SessionTimeouts::default().apply(options))
            .await
            .map_err(|e| SearchError::Database(e.to_string()))?;
        ensure_alias(&client, &config.alias, config.layout)
            .await
            .map_err(|e| {
                SearchError::Elasticsearch(format!(
                    "elasticsearch at {}: {e}",
                    config.elasticsearch_url
                ))
            })?;
        let projector = Self::new(config, client, Arc::new(PgEventStore::new(pool)));
        projector.index_missing.store(false, Ordering::Relaxed);
        Ok(projector)
    }

    /// A projector on an existing client and event store (the alias is created on the
    /// first batch if it does not exist).
    pub fn new(config: SearchConfig, client: SearchClient, store: Arc<dyn EventStore>) -> Self {
        Self {
            config,
            client,
            store,
            metrics: SearchMetrics::default(),
            index_missing: AtomicBool::new(true),
            creates_alias: true,
        }
    }

    /// A projector writing to the existing index `config.alias` names, which it never
    /// creates nor gives an alias (a rebuild catching its new generation up).
    pub fn on_existing_index(
        config: SearchConfig,
        client: SearchClient,
        store: Arc<dyn EventStore>,
    ) -> Self {
        Self {
            index_missing: AtomicBool::new(false),
            creates_alias: false,
            ..Self::new(config, client, store)
        }
    }

    /// Documents written (created or replaced) so far.
    pub fn documents_written(&self) -> u64 {
        self.metrics.documents_written.get()
    }

    pub fn alias(&self) -> &str {
        &self.config.alias
    }

    fn request_failed(&self, failed: RequestFailed) -> ApplyError {
        if failed.index_missing {
            self.index_missing.store(true, Ordering::Relaxed);
        }
        ApplyError::Transient(failed.reason)
    }

    /// Groups the batch by stream; events of a stream id that is not `order-<uuid>` are
    /// rejected.
    fn group<'a>(batch: &'a [Envelope], rejected: &mut Vec<Rejected>) -> Vec<StreamEvents<'a>> {
        let mut streams: BTreeMap<&str, StreamEvents<'a>> = BTreeMap::new();
        for (index, envelope) in batch.iter().enumerate() {
            let event = &envelope.event;
            let order_id = event
                .stream_id
                .strip_prefix("order-")
                .and_then(|id| Uuid::parse_str(id).ok());
            let Some(order_id) = order_id else {
                rejected.push(Rejected::new(
                    index,
                    format!("stream id `{}` is not order-<uuid>", event.stream_id),
                ));
                continue;
            };
            streams
                .entry(&event.stream_id)
                .or_insert_with(|| StreamEvents {
                    stream_id: &event.stream_id,
                    order_id,
                    events: Vec::new(),
                })
                .events
                .push((index, event));
        }
        streams.into_values().collect()
    }

    /// Folds one stream's new events onto its stored document, reading from the event
    /// store what the document misses. `Err` only for a transient failure.
    async fn fold_stream(
        &self,
        stream: &StreamEvents<'_>,
        stored: Option<&Stored>,
    ) -> Result<StreamResult, ApplyError> {
        let stored_version = stored.map_or(0, |s| s.version);
        let base = match stored {
            None => Some(Base::default()),
            Some(s) => s
                .document
                .as_ref()
                .and_then(Base::from_document)
                .filter(|base| base.version == s.version),
        };
        let versions: Vec<u64> = stream
            .events
            .iter()
            .map(|(_, e)| e.stream_version)
            .collect();
        let stale = versions.iter().filter(|v| **v <= stored_version).count();
        self.metrics.events_stale.inc_by(stale as u64);
        let folded = match plan(stored_version, base.is_some(), &versions) {
            Plan::UpToDate => Folded {
                document: None,
                failed: None,
            },
            Plan::Fold => {
                let mut events: Vec<&EventEnvelope> =
                    stream.events.iter().map(|(_, e)| *e).collect();
                events.sort_by_key(|e| e.stream_version);
                // `plan` folds only onto a usable base; without one, the fold would stop
                // at the hole and report it rather than write a partial document.
                fold(base.unwrap_or_default(), &events)
            }
            Plan::ReadHistory { from, to } => {
                let base = match base {
                    Some(base) if from > 1 => base,
                    _ => Base::default(),
                };
                self.fold_history(stream.stream_id, base, from, to).await?
            }
        };
        Ok(StreamResult {
            stored_version,
            folded,
        })
    }

    async fn fold_history(
        &self,
        stream_id: &str,
        base: Base,
        from: u64,
        to: u64,
    ) -> Result<Folded, ApplyError> {
        self.metrics.history_reads.inc();
        let events = match self.store.read_stream(stream_id, from, Some(to)).await {
            Ok(events) => events,
            Err(e) if e.class() == ErrorClass::Retry => {
                return Err(ApplyError::Transient(format!(
                    "reading {stream_id} {from}..={to} from the event store: {e}"
                )))
            }
            Err(e) => {
                return Ok(Folded {
                    document: None,
                    failed: Some((from, format!("reading it from the event store: {e}"))),
                })
            }
        };
        let refs: Vec<&EventEnvelope> = events.iter().collect();
        let mut folded = fold(base, &refs);
        let reached = folded.document.as_ref().map_or(from - 1, |d| d.version);
        if folded.failed.is_none() && reached < to {
            folded.failed = Some((
                reached + 1,
                format!(
                    "version {} of {stream_id} is missing from the event store",
                    reached + 1
                ),
            ));
        }
        Ok(folded)
    }
}

#[async_trait]
impl Projector for SearchProjector {
    fn name(&self) -> &str {
        "search"
    }

    fn topics(&self) -> Vec<String> {
        vec![self.config.topic.clone()]
    }

    fn stream_types(&self) -> Vec<String> {
        vec!["order".to_owned()]
    }

    async fn apply(&self, batch: &[Envelope]) -> Result<(), ApplyError> {
        let alias = &self.config.alias;
        if self.creates_alias && self.index_missing.load(Ordering::Relaxed) {
            ensure_alias(&self.client, alias, self.config.layout)
                .await
                .map_err(ApplyError::Transient)?;
            self.index_missing.store(false, Ordering::Relaxed);
        }
        let mut rejected = Vec::new();
        let streams = Self::group(batch, &mut rejected);
        let ids: Vec<Uuid> = streams.iter().map(|s| s.order_id).collect();
        let stored = if ids.is_empty() {
            Default::default()
        } else {
            self.client
                .mget(alias, &ids)
                .await
                .map_err(|f| self.request_failed(f))?
        };
        // Collected first: a closure inside the stream combinators trips the compiler's
        // higher-ranked lifetime inference for `Send` futures.
        let folds: Vec<_> = streams
            .iter()
            .map(|s| self.fold_stream(s, stored.get(&s.order_id)))
            .collect();
        let results: Vec<Result<StreamResult, ApplyError>> =
            stream::iter(folds).buffered(HISTORY_READS).collect().await;
        let mut writes: Vec<(&StreamEvents<'_>, u64, OrderDocument)> = Vec::new();
        for (stream, result) in streams.iter().zip(results) {
            let StreamResult {
                stored_version,
                folded,
            } = result?;
            if let Some((version, reason)) = folded.failed {
                let reason = format!("{}: version {version}: {reason}", stream.stream_id);
                rejected.extend(
                    stream
                        .at_or_after(version)
                        .map(|i| Rejected::new(i, &reason)),
                );
            }
            if let Some(document) = folded.document {
                writes.push((stream, stored_version, document));
            }
        }
        let mut transient = None;
        if !writes.is_empty() {
            let documents: Vec<OrderDocument> = writes.iter().map(|(_, _, d)| d.clone()).collect();
            let outcomes = self
                .client
                .bulk(alias, &documents)
                .await
                .map_err(|f| self.request_failed(f))?;
            for ((stream, stored_version, _), (outcome, index_missing)) in
                writes.iter().zip(outcomes)
            {
                match outcome {
                    Outcome::Written => {
                        self.metrics.documents_written.inc();
                    }
                    Outcome::AlreadyNewer => {
                        self.metrics.version_conflicts.inc();
                    }
                    Outcome::Transient(reason) => {
                        if index_missing {
                            self.index_missing.store(true, Ordering::Relaxed);
                        }
                        transient = Some(format!("{}: {reason}", stream.stream_id));
                    }
                    Outcome::Poison(reason) => {
                        let reason =
                            format!("{}: the document was refused: {reason}", stream.stream_id);
                        rejected.extend(
                            stream
                                .at_or_after(stored_version + 1)
                                .map(|i| Rejected::new(i, &reason)),
                        );
                    }
                }
            }
        }
        if let Some(reason) = transient {
            return Err(ApplyError::Transient(reason));
        }
        if rejected.is_empty() {
            Ok(())
        } else {
            rejected.sort_by_key(|r| r.index);
            Err(ApplyError::Poison(rejected))
        }
    }

    async fn unready(&self) -> Option<String> {
        self.client.unready(Duration::from_secs(2)).await
    }

    fn register_metrics(&self, registry: &mut Registry) {
        self.metrics.register(registry);
    }
}
