//! Blue/green rebuild of the search model from the event store (never from Kafka, whose
//! retention is finite).
//!
//! 1. The global log's horizon is taken *before* anything is read: every event of a
//!    transaction that ended before it is seen by the load; every later one is re-applied
//!    by the catch-up from the checkpoint it gives.
//! 2. `<alias>-v<n+1>` is created (n: the highest generation there is) with refresh off
//!    and no replicas, and the rebuild marker (see `generations`) in its mapping.
//! 3. The load: order streams in stream-id order (keyset pages), each folded whole by the
//!    live projector's fold, one document per order with external version = stream
//!    version, in big `_bulk` requests, several in flight. Memory holds one page of rows,
//!    the stream being folded and the request bodies in flight. The marker's last stream
//!    moves forward as requests are acknowledged in order.
//! 4. The index gets the old one's refresh interval and replicas back.
//! 5. Catch-up: every order event after the checkpoint goes through the live projector's
//!    apply path, writing to the new index (idempotent by version), until every
//!    transaction that had begun is applied.
//! 6. Refresh, then one `_aliases` request moves the alias from the old index to the new.
//!    The live projector writes through the alias throughout: to the old index before this,
//!    to the new one after.
//! 7. A last catch-up from where the first stopped: it covers what the live projector wrote
//!    to the old index just before the switch.
//! 8. The old index is deleted (unless kept), after a moment for searches that resolved
//!    the alias before the switch.
//!
//! An interrupted rebuild leaves `<alias>-v<n+1>` without the alias; the next run refuses
//! to guess, and offers `--resume` (the load continues after the marker's last stream; the
//! catch-up starts from the marker's checkpoint) or `--discard`. One stopped between the
//! switch and the end of step 7 left its marker `switched` with the checkpoint step 7
//! starts from: `--resume` does steps 7 and 8.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use keel_eventstore::EventStore;
use keel_schemas::EventEnvelope;
use serde_json::json;
use tokio::sync::mpsc;

use super::bulk_load::{BulkLoader, BulkSettings, Versioning};
use super::fold::{fold, Base};
use super::generations::{generation_of, Generation, Indexes, RebuildMarker, RebuildState};
use super::read_model::{SearchContext, NAME, STREAM_TYPE};
use super::{ensure_alias, index_body, index_for, SearchProjector};
use crate::operations::{
    catch_up, Applied, OldGeneration, OperationError, Progress, RebuildOptions, RebuildSummary,
};

/// How long a catch-up waits for a transaction older than itself to end.
const PATIENCE: Duration = Duration::from_secs(60);
/// Searches that resolved the alias to the old index just before the switch finish on it
/// before it is deleted.
const DRAIN: Duration = Duration::from_secs(1);
/// How often the marker's last stream is brought forward during the load.
const MARKER_EVERY: Duration = Duration::from_secs(1);
/// Streams read ahead of the fold (the reader runs on a task of its own).
const STREAMS_AHEAD: usize = 256;
/// Problems named in the summary; the rest are counted.
const KEPT_PROBLEMS: usize = 10;

/// What the load did.
#[derive(Debug, Default)]
struct Loaded {
    streams: u64,
    events: u64,
    documents: u64,
    problems: u64,
    first_problems: Vec<String>,
}

impl Loaded {
    fn problem(&mut self, problem: String) {
        self.problems += 1;
        if self.first_problems.len() < KEPT_PROBLEMS {
            self.first_problems.push(problem);
        }
    }
}

pub async fn rebuild(
    ctx: &SearchContext<'_>,
    options: &RebuildOptions,
    progress: &Progress,
) -> Result<RebuildSummary, OperationError> {
    let started = Instant::now();
    let alias = ctx.config.alias.as_str();
    let indexes = Indexes::new(ctx.client);
    if options.resume && options.discard {
        return Err(OperationError::Usage(
            "--resume and --discard exclude each other".into(),
        ));
    }
    // Before any projector ran there is nothing to switch from: make what it would make.
    ensure_alias(ctx.client, alias, ctx.config.layout)
        .await
        .map_err(OperationError::Sink)?;
    let current = the_one_behind(&indexes, alias).await?;

    // A rebuild stopped between its switch and the end of its last catch-up.
    if let Some(marker) = indexes.marker(&current).await? {
        if marker.state == RebuildState::Switched {
            if options.resume {
                return finish_switched(
                    ctx, &indexes, &current, marker, options, progress, started,
                )
                .await;
            }
            if !options.discard {
                return Err(OperationError::Decision(format!(
                    "the rebuild into {current} stopped after the alias switch, before its last \
                     catch-up: run `keel projections rebuild {NAME} --resume` to finish it, or \
                     `--discard` to rebuild anew"
                )));
            }
            // A new rebuild folds every stream again, which covers that catch-up.
            let done = RebuildMarker {
                state: RebuildState::Done,
                ..marker
            };
            indexes.set_marker(&current, &done).await?;
        }
    }

    let current_number = generation_of(alias, &current).unwrap_or(0);
    let generations = indexes.generations(alias).await?;
    let unfinished: Vec<&Generation> = generations
        .iter()
        .filter(|g| g.number > current_number)
        .collect();
    let (index, mut marker) = match (unfinished.as_slice(), options.resume, options.discard) {
        ([], true, _) => {
            return Err(OperationError::Usage(format!(
                "there is no unfinished rebuild of {alias} to resume: no index is newer than \
                 {current}, which the alias points at"
            )))
        }
        ([one], true, _) => {
            let marker = indexes.marker(&one.index).await?.ok_or_else(|| {
                OperationError::Decision(format!(
                    "{} has no rebuild marker, so it was not made by a rebuild and cannot be \
                     resumed: run `keel projections rebuild {NAME} --discard` to delete it",
                    one.index
                ))
            })?;
            progress.note(&format!(
                "resuming the rebuild into {} ({}, after {})",
                one.index,
                describe_state(marker.state),
                marker.last_stream.as_deref().unwrap_or("no stream yet")
            ));
            (one.index.clone(), marker)
        }
        (_, true, _) => {
            return Err(OperationError::Decision(format!(
                "several unfinished rebuilds of {alias} ({}): run `keel projections rebuild \
                 {NAME} --discard` to delete them and start over",
                names(&unfinished)
            )))
        }
        (found, false, discard) => {
            if !found.is_empty() && !discard {
                return Err(OperationError::Decision(refusal(alias, &current, found)));
            }
            for g in found {
                indexes.delete(&g.index).await?;
                progress.note(&format!("deleted the unfinished index {}", g.index));
            }
            let highest = generations
                .iter()
                .filter(|g| g.number <= current_number)
                .map(|g| g.number)
                .max()
                .unwrap_or(0)
                .max(current_number);
            start(ctx, &indexes, &current, highest + 1).await?
        }
    };
    let resumed_after = if options.resume {
        marker.last_stream.clone()
    } else {
        None
    };

    let mut loaded = Loaded::default();
    let loading = Instant::now();
    if marker.state == RebuildState::Loading {
        loaded = load(ctx, &indexes, &index, &mut marker, options, progress).await?;
        marker.state = RebuildState::CatchingUp;
        indexes.set_marker(&index, &marker).await?;
    }
    let load_seconds = loading.elapsed().as_secs_f64();

    // Queries are about to read this index: the old one's settings come back.
    let old = indexes.settings(&current).await?;
    indexes
        .put_settings(
            &index,
            json!({ "index": {
                "refresh_interval": old.refresh_interval,
                "number_of_replicas": old.replicas,
            }}),
        )
        .await?;

    let projector = writer(ctx, &index);
    progress.phase("catching up", None);
    let before = catch_up(
        ctx.source,
        &projector,
        marker.checkpoint,
        progress,
        PATIENCE,
    )
    .await?;
    indexes.refresh(&index).await?;
    indexes.switch(alias, &current, &index).await?;
    progress.note(&format!("alias {alias} switched from {current} to {index}"));
    // From here a stopped rebuild is finished by `--resume`, from where this catch-up ended.
    marker.state = RebuildState::Switched;
    marker.checkpoint = before.checkpoint;
    if let Err(e) = indexes.set_marker(&index, &marker).await {
        // The switch is what counts; the marker only lets a stopped run be finished.
        tracing::warn!(%index, error = %e, "recording the switch in the rebuild marker failed");
    }
    let (after, old) = after_switch(
        ctx,
        &indexes,
        &projector,
        &index,
        &mut marker,
        Some(&current),
        options,
        progress,
    )
    .await?;

    for applied in [&before.applied, &after] {
        loaded.problems += applied.rejected;
        for rejection in &applied.rejections {
            if loaded.first_problems.len() < KEPT_PROBLEMS {
                loaded.first_problems.push(rejection.clone());
            }
        }
    }
    Ok(RebuildSummary {
        projector: NAME.to_owned(),
        streams_are: format!("{STREAM_TYPE}s"),
        streams: loaded.streams,
        events: loaded.events,
        documents: loaded.documents + projector.documents_written(),
        catch_up_events: before.applied.events + after.events,
        seconds: started.elapsed().as_secs_f64(),
        load_seconds,
        to: index,
        old,
        resumed_after,
        problems: loaded.problems,
        first_problems: loaded.first_problems,
    })
}

/// The one index the alias points at.
async fn the_one_behind(indexes: &Indexes<'_>, alias: &str) -> Result<String, OperationError> {
    match indexes.behind(alias).await?.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(OperationError::Sink(format!(
            "alias {alias} vanished while the rebuild began"
        ))),
        many => Err(OperationError::Sink(format!(
            "alias {alias} points at {} indexes ({}); a rebuild switches from exactly one",
            many.len(),
            many.join(", ")
        ))),
    }
}

/// The live projector's apply path, writing to `index` by name (no alias of its own).
fn writer(ctx: &SearchContext<'_>, index: &str) -> SearchProjector {
    let store: Arc<dyn EventStore> = Arc::new(ctx.source.store().clone());
    let mut config = ctx.config.clone();
    config.alias = index.to_owned();
    SearchProjector::on_existing_index(config, ctx.client.clone(), store)
}

/// The last catch-up (what the live projector wrote to the old index just before the
/// switch), then the old index goes, unless kept.
#[allow(clippy::too_many_arguments)]
async fn after_switch(
    ctx: &SearchContext<'_>,
    indexes: &Indexes<'_>,
    projector: &SearchProjector,
    index: &str,
    marker: &mut RebuildMarker,
    old: Option<&str>,
    options: &RebuildOptions,
    progress: &Progress,
) -> Result<(Applied, Option<OldGeneration>), OperationError> {
    progress.phase("catching up after the switch", None);
    let after = catch_up(ctx.source, projector, marker.checkpoint, progress, PATIENCE).await?;
    let old = match old {
        None => None,
        Some(old) if options.keep_old => Some(OldGeneration::Kept(old.to_owned())),
        Some(old) => {
            tokio::time::sleep(DRAIN).await;
            indexes.delete(old).await?;
            Some(OldGeneration::Deleted(old.to_owned()))
        }
    };
    marker.state = RebuildState::Done;
    if let Err(e) = indexes.set_marker(index, marker).await {
        tracing::warn!(%index, error = %e, "recording the end in the rebuild marker failed");
    }
    Ok((after.applied, old))
}

/// `--resume` of a rebuild stopped after its switch: its last catch-up, and the old index.
async fn finish_switched(
    ctx: &SearchContext<'_>,
    indexes: &Indexes<'_>,
    current: &str,
    mut marker: RebuildMarker,
    options: &RebuildOptions,
    progress: &Progress,
    started: Instant,
) -> Result<RebuildSummary, OperationError> {
    progress.note(&format!(
        "finishing the rebuild into {current}: it stopped after the alias switch"
    ));
    let existing = indexes.generations(&ctx.config.alias).await?;
    let old = marker
        .from
        .clone()
        .filter(|from| existing.iter().any(|g| &g.index == from));
    let projector = writer(ctx, current);
    let (after, old) = after_switch(
        ctx,
        indexes,
        &projector,
        current,
        &mut marker,
        old.as_deref(),
        options,
        progress,
    )
    .await?;
    Ok(RebuildSummary {
        projector: NAME.to_owned(),
        streams_are: format!("{STREAM_TYPE}s"),
        streams: 0,
        events: 0,
        documents: projector.documents_written(),
        catch_up_events: after.events,
        seconds: started.elapsed().as_secs_f64(),
        load_seconds: 0.0,
        to: current.to_owned(),
        old,
        resumed_after: None,
        problems: after.rejected,
        first_problems: after.rejections,
    })
}

fn names(generations: &[&Generation]) -> String {
    generations
        .iter()
        .map(|g| g.index.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_state(state: RebuildState) -> &'static str {
    match state {
        RebuildState::Loading => "it was loading",
        RebuildState::CatchingUp => "its load was complete, it was catching up",
        RebuildState::Switched => "it had switched the alias",
        RebuildState::Done => "it was done",
    }
}

/// Why a rebuild will not start, and the two ways on.
fn refusal(alias: &str, current: &str, found: &[&Generation]) -> String {
    format!(
        "{} exists without the alias {alias} (which points at {current}): a rebuild was \
         interrupted, or is still running. Run `keel projections rebuild {NAME} --resume` to \
         continue it, or `keel projections rebuild {NAME} --discard` to delete it and start over",
        names(found)
    )
}

/// Creates the next generation, recording the horizon before anything is read.
async fn start(
    ctx: &SearchContext<'_>,
    indexes: &Indexes<'_>,
    current: &str,
    number: u32,
) -> Result<(String, RebuildMarker), OperationError> {
    let index = index_for(&ctx.config.alias, number);
    let settings = indexes.settings(current).await?;
    let horizon = ctx.source.horizon().await?;
    let marker = RebuildMarker {
        state: RebuildState::Loading,
        from: Some(current.to_owned()),
        checkpoint: horizon.checkpoint(),
        last_stream: None,
        started_at: Utc::now(),
    };
    let mut body = index_body(settings.shards, 0);
    // Nothing searches this index before the switch; segments are refreshed once, then.
    body["settings"]["refresh_interval"] = json!("-1");
    body["mappings"]["_meta"] = json!({ "keel_rebuild": marker });
    indexes.create(&index, body).await?;
    Ok((index, marker))
}

/// The bulk load, from after the marker's last stream.
async fn load(
    ctx: &SearchContext<'_>,
    indexes: &Indexes<'_>,
    index: &str,
    marker: &mut RebuildMarker,
    options: &RebuildOptions,
    progress: &Progress,
) -> Result<Loaded, OperationError> {
    let total = ctx.source.estimate_events(STREAM_TYPE).await.ok();
    progress.phase("loading", total);
    let (sender, mut streams) =
        mpsc::channel::<Result<Vec<EventEnvelope>, OperationError>>(STREAMS_AHEAD);
    let mut reader = ctx.source.streams(STREAM_TYPE, marker.last_stream.clone());
    let reading = tokio::spawn(async move {
        loop {
            match reader.next_stream().await {
                Ok(Some(stream)) => {
                    if sender.send(Ok(stream)).await.is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = sender.send(Err(e)).await;
                    break;
                }
            }
        }
    });
    let mut loader = BulkLoader::new(
        ctx.client.clone(),
        index,
        BulkSettings {
            batch_bytes: options.batch_bytes,
            in_flight: options.requests_in_flight,
            versioning: Versioning::External,
        },
    );
    let mut loaded = Loaded::default();
    let started = Instant::now();
    let mut marked = Instant::now();
    while let Some(stream) = streams.recv().await {
        let events = stream?;
        let Some(first) = events.first() else {
            continue;
        };
        let stream_id = first.stream_id.clone();
        let refs: Vec<&EventEnvelope> = events.iter().collect();
        let folded = fold(Base::default(), &refs);
        if let Some((version, reason)) = &folded.failed {
            loaded.problem(format!("{stream_id} v{version}: {reason}"));
        }
        loaded.streams += 1;
        loaded.events += events.len() as u64;
        match &folded.document {
            Some(document) => loader.add(document, &stream_id).await?,
            None => loader.passed(&stream_id),
        }
        progress.add(events.len() as u64, u64::from(folded.document.is_some()));
        if let Some(rate) = options.max_rate.filter(|r| *r > 0) {
            let due = Duration::from_secs_f64(loaded.events as f64 / rate as f64);
            if let Some(early) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(early).await;
            }
        }
        if marked.elapsed() >= MARKER_EVERY {
            loader.collect_finished()?;
            let acked = loader.acked_through().map(str::to_owned);
            if acked.is_some() && acked != marker.last_stream {
                marker.last_stream = acked;
                indexes.set_marker(index, marker).await?;
            }
            marked = Instant::now();
        }
    }
    reading
        .await
        .map_err(|e| OperationError::EventStore(format!("the reading task failed: {e}")))?;
    let (stats, last) = loader.finish().await?;
    if last.is_some() {
        marker.last_stream = last;
    }
    loaded.documents = stats.written;
    let named = stats.refusals.len() as u64;
    for refusal in stats.refusals {
        loaded.problem(refusal);
    }
    loaded.problems += stats.refused.saturating_sub(named);
    Ok(loaded)
}
