//! Runs commands on an aggregate through the repository and turns every outcome into an
//! answer or an [`ApiError`]: idempotent replays, conflicts, domain rules, unknown streams.

use keel_aggregates::Aggregate;
use keel_eventstore::{
    CommandContext, CommandOutcome, EventStore, IdempotencyRecord, Loaded, PgEventStore,
    Repository, RepositoryError, StoreError,
};
use keel_schemas::EventEnvelope;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::metrics::Metrics;
use crate::http::problem::Problem;

/// The state a command left (or, on a replay, the state the first request left).
#[derive(Debug, Clone)]
pub struct Answer<A> {
    pub id: Uuid,
    pub state: A,
    pub version: u64,
    /// True when an earlier request with the same idempotency key is being repeated.
    pub replayed: bool,
}

/// Whether a command creates its stream or needs it to exist (404 otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    New,
    Existing,
}

pub struct CommandExecutor<A: Aggregate> {
    repository: Repository<A, PgEventStore>,
    metrics: Metrics,
}

impl<A: Aggregate> Clone for CommandExecutor<A> {
    fn clone(&self) -> Self {
        Self {
            repository: self.repository.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

/// `<stream type>-<uuid>`, e.g. `order-0192f4c4-...`.
pub fn stream_id<A: Aggregate>(id: Uuid) -> String {
    format!("{}-{id}", A::stream_type())
}

/// The UUID of a stream id of this aggregate.
fn id_of<A: Aggregate>(stream_id: &str) -> Result<Uuid, ApiError> {
    stream_id
        .strip_prefix(A::stream_type())
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| ApiError::internal(format!("stream id `{stream_id}` is not <type>-<uuid>")))
}

impl<A: Aggregate> CommandExecutor<A> {
    pub fn new(repository: Repository<A, PgEventStore>, metrics: Metrics) -> Self {
        Self {
            repository,
            metrics,
        }
    }

    pub fn store(&self) -> &PgEventStore {
        self.repository.store()
    }

    /// Decides `command` on stream `id` and appends its events. With an idempotency key,
    /// every answer (201/200, a no-op's 200, a refusal's 422) is recorded under it and a
    /// retry gets the same one.
    pub async fn execute(
        &self,
        id: Uuid,
        target: Target,
        command: &A::Command,
        context: &CommandContext,
    ) -> Result<Answer<A>, ApiError> {
        if let Some(answer) = self.earlier_answer(context).await? {
            return Ok(answer);
        }
        let stream_id = stream_id::<A>(id);
        match self.repository.execute(&stream_id, command, context).await {
            Ok(CommandOutcome::Executed {
                state,
                version,
                events,
            }) => {
                if events.is_empty() {
                    if let Some(answer) = self.record(context, &stream_id, version, None).await? {
                        return Ok(answer);
                    }
                }
                self.metrics.record_appended(A::stream_type(), events.len());
                Ok(Answer {
                    id,
                    state,
                    version,
                    replayed: false,
                })
            }
            Ok(CommandOutcome::Replayed { .. }) => self
                .earlier_answer(context)
                .await?
                .ok_or_else(|| ApiError::internal("a replayed append without its key record")),
            Err(error) => {
                // A concurrent request with the same key may have won the race after our
                // first look: then its answer is ours too.
                if matches!(
                    error,
                    RepositoryError::Rejected(_) | RepositoryError::Conflict { .. }
                ) {
                    if let Some(answer) = self.earlier_answer(context).await? {
                        return Ok(answer);
                    }
                }
                let refusal = self.refusal(error, id, target, context).await;
                if let ApiError::Rule { .. } = refusal {
                    let problem = serde_json::to_value(refusal.problem())
                        .map_err(|e| ApiError::internal(format!("recording a refusal: {e}")))?;
                    if let Some(answer) = self.record(context, &stream_id, 0, Some(problem)).await?
                    {
                        return Ok(answer);
                    }
                }
                Err(refusal)
            }
        }
    }

    /// The current state; 404 when the stream does not exist.
    pub async fn load(&self, id: Uuid) -> Result<Loaded<A>, ApiError> {
        let loaded = self
            .repository
            .load(&stream_id::<A>(id))
            .await
            .map_err(repository_error)?;
        if loaded.version == 0 {
            return Err(self.not_found(id));
        }
        Ok(loaded)
    }

    /// The state at `version`; 404 when the stream does not exist or is not that long yet.
    pub async fn load_at(&self, id: Uuid, version: u64) -> Result<Loaded<A>, ApiError> {
        // Versions beyond i64 cannot be stored, so they cannot exist either.
        let bounded = version.min(i64::MAX as u64);
        let loaded = self
            .repository
            .load_at(&stream_id::<A>(id), bounded)
            .await
            .map_err(repository_error)?;
        if loaded.version == 0 {
            return Err(self.not_found(id));
        }
        if loaded.version < version {
            return Err(ApiError::VersionNotFound {
                what: A::stream_type(),
                id: id.to_string(),
                version,
                current: loaded.version,
            });
        }
        Ok(loaded)
    }

    /// The stream's events in order; 404 when it does not exist.
    pub async fn events(&self, id: Uuid) -> Result<Vec<EventEnvelope>, ApiError> {
        let events = self
            .store()
            .read_stream(&stream_id::<A>(id), 1, None)
            .await
            .map_err(ApiError::store)?;
        if events.is_empty() {
            return Err(self.not_found(id));
        }
        Ok(events)
    }

    fn not_found(&self, id: Uuid) -> ApiError {
        ApiError::NotFound {
            what: A::stream_type(),
            id: id.to_string(),
        }
    }

    /// The answer of the first request with this idempotency key, if there was one (a
    /// recorded refusal comes back as the same error).
    async fn earlier_answer(
        &self,
        context: &CommandContext,
    ) -> Result<Option<Answer<A>>, ApiError> {
        let Some(key) = &context.idempotency else {
            return Ok(None);
        };
        let record = self
            .store()
            .find_idempotency(&key.key)
            .await
            .map_err(ApiError::store)?;
        match record {
            None => Ok(None),
            Some(record) if record.request_hash != key.request_hash => Err(key_reused(context)),
            Some(record) => self.answer_of(record).await.map(Some),
        }
    }

    /// Records an answer given without an append under the request's key. `None` when it
    /// now holds the key; else the answer of the request that held it first.
    async fn record(
        &self,
        context: &CommandContext,
        stream_id: &str,
        version: u64,
        answer: Option<serde_json::Value>,
    ) -> Result<Option<Answer<A>>, ApiError> {
        let Some(key) = &context.idempotency else {
            return Ok(None);
        };
        let ours = IdempotencyRecord {
            key: key.key.clone(),
            request_hash: key.request_hash.clone(),
            stream_id: stream_id.to_owned(),
            stream_version: version,
            answer,
        };
        let held = self
            .store()
            .record_answer(ours.clone())
            .await
            .map_err(ApiError::store)?;
        if held == ours {
            return Ok(None);
        }
        if held.request_hash != key.request_hash {
            return Err(key_reused(context));
        }
        self.answer_of(held).await.map(Some)
    }

    async fn answer_of(&self, record: IdempotencyRecord) -> Result<Answer<A>, ApiError> {
        self.metrics.record_replay(A::stream_type());
        if let Some(answer) = record.answer {
            let problem: Problem = serde_json::from_value(answer)
                .map_err(|e| ApiError::internal(format!("a recorded answer is unreadable: {e}")))?;
            return Err(ApiError::Recorded(Box::new(problem)));
        }
        let id = id_of::<A>(&record.stream_id)?;
        let loaded = self
            .repository
            .load_at(&record.stream_id, record.stream_version)
            .await
            .map_err(repository_error)?;
        Ok(Answer {
            id,
            state: loaded.state,
            version: loaded.version,
            replayed: true,
        })
    }

    async fn refusal(
        &self,
        error: RepositoryError<A::Error>,
        id: Uuid,
        target: Target,
        context: &CommandContext,
    ) -> ApiError {
        match error {
            RepositoryError::Rejected(violation) => {
                if target == Target::Existing && !self.exists(id).await {
                    return self.not_found(id);
                }
                ApiError::rule(&violation)
            }
            RepositoryError::Conflict { expected, actual } => {
                if target == Target::Existing && actual == 0 {
                    return self.not_found(id);
                }
                self.metrics.record_conflict(A::stream_type());
                ApiError::Conflict { expected, actual }
            }
            RepositoryError::Store(StoreError::IdempotencyKeyReused { .. }) => key_reused(context),
            other => repository_error(other),
        }
    }

    async fn exists(&self, id: Uuid) -> bool {
        // When the check itself fails, report the domain's refusal rather than a 404.
        self.store()
            .stream_version(&stream_id::<A>(id))
            .await
            .map_or(true, |v| v > 0)
    }
}

fn key_reused(context: &CommandContext) -> ApiError {
    ApiError::IdempotencyKeyReused {
        key: context.metadata.idempotency_key.clone().unwrap_or_default(),
    }
}

/// A failure to load or store, by the store's error class.
fn repository_error<E: std::error::Error>(error: RepositoryError<E>) -> ApiError {
    match error {
        RepositoryError::Store(e) => ApiError::store(e),
        other => ApiError::internal(other),
    }
}
