//! Replay of the search model in place, through the alias, from a point of the global log.
//!
//! By default the order events from that point go through the live projector's apply path,
//! in position order: a document that reflects an event already skips it, one that misses
//! it (deleted, or behind) gets it, reading earlier events from the event store when it
//! needs them. Idempotent: a second replay changes nothing.
//!
//! `--force` is for after a fix of the fold: every stream with an event from that point is
//! folded again from its first event and its document rewritten at the same version
//! (`version_type=external_gte`), which a plain replay would skip as already applied. A
//! newer version written meanwhile by the live projector still wins.
//!
//! Both stop at the position that was last when they began: the live projector handles
//! what comes after.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use keel_eventstore::EventStore;
use keel_schemas::EventEnvelope;

use super::bulk_load::{BulkLoader, BulkSettings, Versioning};
use super::fold::{fold, Base};
use super::read_model::{SearchContext, NAME, STREAM_TYPE};
use super::SearchProjector;
use crate::engine::Envelope;
use crate::operations::{
    apply, envelope, Applied, OperationError, Progress, ReplayFrom, ReplayOptions, ReplaySummary,
    PAGE_ROWS,
};

/// Forced rewrites per `_bulk` request, about.
const FORCE_BATCH_BYTES: usize = 4 << 20;
const FORCE_IN_FLIGHT: usize = 2;
/// Events per page of a replay, and per apply.
const REPLAY_PAGE: usize = 1_000;

pub async fn replay(
    ctx: &SearchContext<'_>,
    options: &ReplayOptions,
    progress: &Progress,
) -> Result<ReplaySummary, OperationError> {
    let started = Instant::now();
    let first = match options.from {
        ReplayFrom::Position(p) => Some(p),
        ReplayFrom::Time(t) => ctx.source.first_position_since(t).await?,
    };
    let end = ctx.source.last_position().await?;
    let mut summary = ReplaySummary {
        projector: NAME.to_owned(),
        from: options.from.to_string(),
        forced: options.force,
        events: 0,
        streams: 0,
        documents_written: 0,
        rejected: 0,
        rejections: Vec::new(),
        seconds: 0.0,
    };
    if let Some(first) = first.filter(|p| *p <= end) {
        progress.phase("replaying", None);
        if options.force {
            refold(ctx, first, end, progress, &mut summary).await?;
        } else {
            reapply(ctx, first, end, progress, &mut summary).await?;
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Pages of order events with positions in `first..=end`.
struct Pages<'a> {
    ctx: &'a SearchContext<'a>,
    after: u64,
    end: u64,
}

impl Pages<'_> {
    async fn next(&mut self) -> Result<Vec<EventEnvelope>, OperationError> {
        if self.after >= self.end {
            return Ok(Vec::new());
        }
        let mut events = self
            .ctx
            .source
            .events_after(STREAM_TYPE, self.after, REPLAY_PAGE)
            .await?;
        if let Some(last) = events.last() {
            self.after = last.global_position;
        }
        events.retain(|e| e.global_position <= self.end);
        if events.is_empty() {
            self.after = self.end;
        }
        Ok(events)
    }
}

async fn reapply(
    ctx: &SearchContext<'_>,
    first: u64,
    end: u64,
    progress: &Progress,
    summary: &mut ReplaySummary,
) -> Result<(), OperationError> {
    let store: Arc<dyn EventStore> = Arc::new(ctx.source.store().clone());
    let projector = SearchProjector::new(ctx.config.clone(), ctx.client.clone(), store);
    let mut pages = Pages {
        ctx,
        after: first.saturating_sub(1),
        end,
    };
    let mut streams: HashSet<String> = HashSet::new();
    let mut applied = Applied::default();
    loop {
        let events = pages.next().await?;
        if events.is_empty() {
            break;
        }
        let count = events.len() as u64;
        let written_before = projector.documents_written();
        streams.extend(events.iter().map(|e| e.stream_id.clone()));
        let batch: Vec<Envelope> = events.into_iter().map(envelope).collect();
        applied.merge(apply(&projector, &batch).await?);
        progress.add(count, projector.documents_written() - written_before);
        summary.events += count;
    }
    summary.streams = streams.len() as u64;
    summary.documents_written = projector.documents_written();
    summary.rejected = applied.rejected;
    summary.rejections = applied.rejections;
    Ok(())
}

async fn refold(
    ctx: &SearchContext<'_>,
    first: u64,
    end: u64,
    progress: &Progress,
    summary: &mut ReplaySummary,
) -> Result<(), OperationError> {
    let mut loader = BulkLoader::new(
        ctx.client.clone(),
        ctx.config.alias.clone(),
        BulkSettings {
            batch_bytes: FORCE_BATCH_BYTES,
            in_flight: FORCE_IN_FLIGHT,
            versioning: Versioning::ExternalGte,
        },
    );
    let mut pages = Pages {
        ctx,
        after: first.saturating_sub(1),
        end,
    };
    let mut refolded: HashSet<String> = HashSet::new();
    loop {
        let events = pages.next().await?;
        if events.is_empty() {
            break;
        }
        summary.events += events.len() as u64;
        let mut fresh: Vec<String> = events
            .iter()
            .map(|e| e.stream_id.clone())
            .filter(|id| !refolded.contains(id))
            .collect();
        fresh.sort();
        fresh.dedup();
        for chunk in fresh.chunks(PAGE_ROWS / 4) {
            for stream in ctx.source.read_streams(chunk).await? {
                let refs: Vec<&EventEnvelope> = stream.iter().collect();
                let folded = fold(Base::default(), &refs);
                let stream_id = &stream[0].stream_id;
                if let Some((version, reason)) = folded.failed {
                    summary.rejected += 1;
                    if summary.rejections.len() < 10 {
                        summary
                            .rejections
                            .push(format!("{stream_id} v{version}: {reason}"));
                    }
                }
                if let Some(document) = folded.document {
                    loader.add(&document, stream_id).await?;
                }
                progress.add(stream.len() as u64, 1);
            }
        }
        refolded.extend(fresh);
    }
    let (stats, _) = loader.finish().await?;
    summary.streams = refolded.len() as u64;
    summary.documents_written = stats.written;
    summary.rejected += stats.refused;
    summary.rejections.extend(stats.refusals);
    Ok(())
}
