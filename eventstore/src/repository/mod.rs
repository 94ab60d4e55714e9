//! Loads aggregates from their streams (newest valid snapshot plus the tail) and executes
//! commands on them with optimistic concurrency.

mod error;
mod policy;

use std::marker::PhantomData;
use std::sync::Arc;

use keel_aggregates::Aggregate;
use keel_schemas::{EventEnvelope, EventMetadata, NewEvent, VersionedEvent};

pub use error::RepositoryError;
pub use policy::SnapshotPolicy;

use crate::{AppendRequest, EventStore, ExpectedVersion, IdempotencyKey, Snapshot, StoreError};

/// An aggregate's state at a stream version (0: the stream does not exist).
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<A> {
    pub state: A,
    pub version: u64,
}

/// What comes with a command besides the command itself.
#[derive(Debug, Clone, Default)]
pub struct CommandContext {
    /// Copied into every event the command produces.
    pub metadata: EventMetadata,
    /// The client's `If-Match`: fail instead of retrying when the stream moved.
    pub expected_version: Option<u64>,
    pub idempotency: Option<IdempotencyKey>,
}

/// The result of a command that was accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandOutcome<A: Aggregate> {
    /// Decided now. `events` is empty when the command changed nothing.
    Executed {
        state: A,
        version: u64,
        events: Vec<A::Event>,
    },
    /// The idempotency key was used before with the same request; nothing was appended.
    /// The original answer is the stream's state at `version`.
    Replayed { stream_id: String, version: u64 },
}

/// The longest a command waits for its snapshot to be written.
pub const SNAPSHOT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

pub struct Repository<A, S: ?Sized> {
    store: Arc<S>,
    policy: SnapshotPolicy,
    max_conflict_retries: u32,
    _aggregate: PhantomData<fn() -> A>,
}

impl<A, S: ?Sized> Clone for Repository<A, S> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            policy: self.policy,
            max_conflict_retries: self.max_conflict_retries,
            _aggregate: PhantomData,
        }
    }
}

impl<A: Aggregate, S: EventStore + ?Sized> Repository<A, S> {
    pub fn new(store: Arc<S>, policy: SnapshotPolicy) -> Self {
        Self {
            store,
            policy,
            max_conflict_retries: 5,
            _aggregate: PhantomData,
        }
    }

    /// How often a command without an expected version is re-decided after a conflict.
    pub fn with_conflict_retries(mut self, retries: u32) -> Self {
        self.max_conflict_retries = retries;
        self
    }

    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The current state: the newest snapshot (if its schema version matches) plus the tail.
    pub async fn load(&self, stream_id: &str) -> Result<Loaded<A>, RepositoryError<A::Error>> {
        let mut loaded = Loaded {
            state: A::default(),
            version: 0,
        };
        if !self.policy.enabled() {
            let events = self.store.read_stream(stream_id, 1, None).await?;
            apply_all(&mut loaded, &events)?;
            return Ok(loaded);
        }
        let (snapshot, mut tail) = self
            .store
            .load_snapshot_and_tail(stream_id, A::SNAPSHOT_VERSION)
            .await?;
        match snapshot.as_ref().map(|s| (s, restore::<A>(s))) {
            Some((snapshot, Some(state))) => {
                loaded = Loaded {
                    state,
                    version: snapshot.stream_version,
                }
            }
            // Unreadable: replay from the first event instead.
            Some((_, None)) => tail = self.store.read_stream(stream_id, 1, None).await?,
            None => {}
        }
        apply_all(&mut loaded, &tail)?;
        Ok(loaded)
    }

    /// The state as it was at `version`: from the snapshot when it is not newer, else
    /// replayed from the first event.
    pub async fn load_at(
        &self,
        stream_id: &str,
        version: u64,
    ) -> Result<Loaded<A>, RepositoryError<A::Error>> {
        let mut loaded = Loaded {
            state: A::default(),
            version: 0,
        };
        if self.policy.enabled() {
            let snapshot = self
                .store
                .load_snapshot(stream_id, A::SNAPSHOT_VERSION)
                .await?
                .filter(|s| s.stream_version <= version);
            if let Some((snapshot, state)) = snapshot.and_then(|s| restore::<A>(&s).map(|a| (s, a)))
            {
                loaded = Loaded {
                    state,
                    version: snapshot.stream_version,
                };
            }
        }
        let events = self
            .store
            .read_stream(stream_id, loaded.version + 1, Some(version))
            .await?;
        apply_all(&mut loaded, &events)?;
        Ok(loaded)
    }

    /// Decides `command` on the current state and appends the events.
    pub async fn execute(
        &self,
        stream_id: &str,
        command: &A::Command,
        context: &CommandContext,
    ) -> Result<CommandOutcome<A>, RepositoryError<A::Error>> {
        let mut attempt = 0;
        loop {
            let mut loaded = self.load(stream_id).await?;
            if let Some(expected) = context.expected_version {
                if expected != loaded.version {
                    return Err(RepositoryError::Conflict {
                        expected,
                        actual: loaded.version,
                    });
                }
            }
            let events = loaded
                .state
                .decide(command)
                .map_err(RepositoryError::Rejected)?;
            if events.is_empty() {
                return Ok(CommandOutcome::Executed {
                    state: loaded.state,
                    version: loaded.version,
                    events,
                });
            }
            let new_events = events
                .iter()
                .map(|e| NewEvent::new(e.encode(), context.metadata.clone()))
                .collect();
            let mut request = AppendRequest::new(
                stream_id,
                A::stream_type(),
                ExpectedVersion::Exact(loaded.version),
                new_events,
            );
            request.idempotency = context.idempotency.clone();
            match self.store.append(request).await {
                Ok(committed) if committed.deduplicated => {
                    return Ok(CommandOutcome::Replayed {
                        stream_id: committed.stream_id,
                        version: committed.stream_version,
                    })
                }
                Ok(committed) => {
                    let before = loaded.version;
                    for event in &events {
                        loaded.state.apply(event);
                    }
                    loaded.version = committed.stream_version;
                    self.snapshot_if_due(stream_id, before, &loaded).await;
                    return Ok(CommandOutcome::Executed {
                        state: loaded.state,
                        version: loaded.version,
                        events,
                    });
                }
                Err(StoreError::WrongExpectedVersion { actual, .. }) => {
                    if context.expected_version.is_some() || attempt >= self.max_conflict_retries {
                        return Err(RepositoryError::Conflict {
                            expected: loaded.version,
                            actual,
                        });
                    }
                    attempt += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// A snapshot is written when the append crossed a multiple of the policy's interval.
    /// Failing to write one costs only load time later, so it never fails the command, and
    /// it may not hold the command up for longer than [`SNAPSHOT_TIMEOUT`].
    async fn snapshot_if_due(&self, stream_id: &str, before: u64, loaded: &Loaded<A>) {
        if !self.policy.due(before, loaded.version) {
            return;
        }
        let state = match serde_json::to_value(&loaded.state) {
            Ok(state) => state,
            Err(e) => {
                tracing::warn!(stream_id, error = %e, "snapshot not serialisable");
                return;
            }
        };
        let snapshot = Snapshot {
            stream_id: stream_id.to_owned(),
            stream_type: A::stream_type().to_owned(),
            stream_version: loaded.version,
            snapshot_version: A::SNAPSHOT_VERSION,
            state,
        };
        match tokio::time::timeout(SNAPSHOT_TIMEOUT, self.store.save_snapshot(snapshot)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(stream_id, error = %e, "snapshot not saved"),
            Err(_) => tracing::warn!(stream_id, "snapshot not saved in {SNAPSHOT_TIMEOUT:?}"),
        }
    }
}

/// A snapshot of another shape (older snapshot version, unreadable) is ignored: replay.
fn restore<A: Aggregate>(snapshot: &Snapshot) -> Option<A> {
    if snapshot.snapshot_version != A::SNAPSHOT_VERSION {
        return None;
    }
    match serde_json::from_value(snapshot.state.clone()) {
        Ok(state) => Some(state),
        Err(e) => {
            tracing::warn!(stream_id = %snapshot.stream_id, error = %e, "snapshot unreadable, replaying");
            None
        }
    }
}

fn apply_all<A: Aggregate>(
    loaded: &mut Loaded<A>,
    events: &[EventEnvelope],
) -> Result<(), RepositoryError<A::Error>> {
    for envelope in events {
        let event = A::Event::decode(&envelope.encoded())?;
        loaded.state.apply(&event);
        loaded.version = envelope.stream_version;
    }
    Ok(())
}
