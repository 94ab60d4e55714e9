//! The search model as operators see it ([`ReadModel`]): its status, and the rebuild,
//! replay and verify of `rebuild`, `replay` and `verify`. The event store is connected on
//! first use, so `status` needs none.

use std::sync::Arc;

use async_trait::async_trait;
use keel_eventstore::EventStore;
use tokio::sync::OnceCell;

use super::generations::{generation_of, Indexes, RebuildState};
use super::{rebuild, replay, verify, SearchClient, SearchConfig, SearchProjector};
use crate::engine::{Projector, RunnerConfig};
use crate::operations::{
    thousands, EventSource, KafkaTarget, OperationError, Progress, ReadModel, RebuildOptions,
    RebuildSummary, ReplayOptions, ReplaySummary, VerifyOptions, VerifyReport,
};

/// The projector's name, as the runner knows it.
pub const NAME: &str = "search";
/// The streams it projects.
pub const STREAM_TYPE: &str = "order";

/// What rebuild, replay and verify work with.
pub struct SearchContext<'a> {
    pub config: &'a SearchConfig,
    pub client: &'a SearchClient,
    pub source: &'a EventSource,
}

pub struct SearchReadModel {
    config: SearchConfig,
    kafka: KafkaTarget,
    client: SearchClient,
    source: OnceCell<EventSource>,
}

impl SearchReadModel {
    /// The search model of `config`, with the Kafka names a runner with `runner` uses.
    pub fn new(config: SearchConfig, runner: &RunnerConfig) -> Result<Self, OperationError> {
        let client =
            SearchClient::new(&config.elasticsearch_url, config.request_timeout).map_err(|e| {
                OperationError::Sink(format!(
                    "elasticsearch at {}: {e}",
                    config.elasticsearch_url
                ))
            })?;
        let kafka = KafkaTarget::new(runner, NAME, vec![config.topic.clone()]);
        Ok(Self {
            config,
            kafka,
            client,
            source: OnceCell::new(),
        })
    }

    async fn source(&self) -> Result<&EventSource, OperationError> {
        self.source
            .get_or_try_init(|| EventSource::connect(&self.config.database_url))
            .await
    }

    async fn context(&self) -> Result<SearchContext<'_>, OperationError> {
        Ok(SearchContext {
            config: &self.config,
            client: &self.client,
            source: self.source().await?,
        })
    }
}

#[async_trait]
impl ReadModel for SearchReadModel {
    fn name(&self) -> &str {
        NAME
    }

    fn kafka(&self) -> &KafkaTarget {
        &self.kafka
    }

    async fn store_status(&self) -> Result<Vec<String>, OperationError> {
        let alias = &self.config.alias;
        let indexes = Indexes::new(&self.client);
        let behind = indexes.behind(alias).await?;
        let mut lines = Vec::new();
        if behind.is_empty() {
            lines.push(format!(
                "alias {alias} does not exist yet (the projector creates it with its first index)"
            ));
        }
        for index in &behind {
            lines.push(format!(
                "alias {alias} → {index}: {} documents",
                thousands(indexes.count(index).await?)
            ));
            let marker = indexes.marker(index).await?;
            if marker.is_some_and(|m| m.state == RebuildState::Switched) {
                lines.push(format!(
                    "the rebuild into {index} stopped after the alias switch, before its last \
                     catch-up: `keel projections rebuild {NAME} --resume` finishes it"
                ));
            }
        }
        let current = behind
            .iter()
            .filter_map(|i| generation_of(alias, i))
            .max()
            .unwrap_or(0);
        for generation in indexes.generations(alias).await? {
            if behind.contains(&generation.index) {
                continue;
            }
            let index = &generation.index;
            if generation.number < current {
                lines.push(format!(
                    "older index {index} (no alias): {} documents; delete it when it is no longer needed",
                    thousands(indexes.count(index).await?)
                ));
                continue;
            }
            let written = thousands(indexes.written(index).await?);
            let state = match indexes.marker(index).await? {
                Some(marker) => format!(
                    "{} since {}, up to {}",
                    marker.state.as_str(),
                    marker.started_at.format("%Y-%m-%dT%H:%M:%SZ"),
                    marker.last_stream.as_deref().unwrap_or("no stream yet")
                ),
                None => "no rebuild marker".to_owned(),
            };
            lines.push(format!(
                "unfinished rebuild {index} (no alias; {state}; {written} documents written): \
                 `keel projections rebuild {NAME} --resume` or `--discard`"
            ));
        }
        Ok(lines)
    }

    async fn projector(&self) -> Result<Arc<dyn Projector>, OperationError> {
        let store: Arc<dyn EventStore> = Arc::new(self.source().await?.store().clone());
        Ok(Arc::new(SearchProjector::new(
            self.config.clone(),
            self.client.clone(),
            store,
        )))
    }

    async fn rebuild(
        &self,
        options: &RebuildOptions,
        progress: &Progress,
    ) -> Result<RebuildSummary, OperationError> {
        rebuild::rebuild(&self.context().await?, options, progress).await
    }

    async fn replay(
        &self,
        options: &ReplayOptions,
        progress: &Progress,
    ) -> Result<ReplaySummary, OperationError> {
        replay::replay(&self.context().await?, options, progress).await
    }

    async fn verify(
        &self,
        options: &VerifyOptions,
        progress: &Progress,
    ) -> Result<VerifyReport, OperationError> {
        verify::verify(&self.context().await?, options, progress).await
    }
}
