//! Verify: the search model against the event store, in one ordered pass over each.
//!
//! Order streams are read in stream-id order (keyset pages) and folded with the live
//! projector's fold; documents are read through the alias in `order_id` order
//! (`search_after`, pages of a few thousand). For canonical ids (`order-<lowercase uuid>`)
//! both orders are the UUIDs' order, so the two are merged like sorted lists: a stream
//! without a document is missing, a document without a stream is an orphan, a pair is
//! compared on its version and fields.
//!
//! The index is refreshed first, then read as of that refresh, and the event store a
//! moment later or earlier, so a live system shows differences that are only in flight. Each difference is checked
//! again at the end, with real-time reads of both sides (`_mget`, the stream): what is
//! still different is reported.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use elasticsearch::http::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use super::difference::{canonical_uuid, compare, orphan, stream_key, StoredDocument};
use super::generations::Indexes;
use super::read_model::{SearchContext, NAME, STREAM_TYPE};
use crate::operations::{
    Difference, DifferenceKind, OperationError, Progress, StreamReader, VerifyOptions, VerifyReport,
};

/// Documents per search page.
const PAGE: usize = 2_000;
/// Differences kept for the re-check (beyond them, differences are counted as found).
const RECHECK_AT_MOST: usize = 10_000;
/// Streams per re-check request.
const RECHECK_CHUNK: usize = 500;
fn stored_from_hit(hit: &Value) -> Option<StoredDocument> {
    Some(StoredDocument {
        id: hit["_id"].as_str()?.to_owned(),
        version: hit["_version"].as_u64()?,
        source: hit["_source"].clone(),
    })
}

/// Documents through the alias in `order_id` order, a page at a time.
struct DocumentPager<'a> {
    indexes: &'a Indexes<'a>,
    alias: &'a str,
    after: Option<Value>,
    page: VecDeque<(Option<Uuid>, StoredDocument)>,
    exhausted: bool,
    read: u64,
}

impl DocumentPager<'_> {
    async fn next(&mut self) -> Result<Option<(Option<Uuid>, StoredDocument)>, OperationError> {
        if self.page.is_empty() && !self.exhausted {
            self.fetch().await?;
        }
        let next = self.page.pop_front();
        if next.is_some() {
            self.read += 1;
        }
        Ok(next)
    }

    async fn fetch(&mut self) -> Result<(), OperationError> {
        let mut body = json!({
            "size": PAGE,
            "query": { "exists": { "field": "order_id" } },
            "sort": [{ "order_id": "asc" }],
            "_source": { "excludes": ["state"] },
            "version": true,
            "track_total_hits": false
        });
        if let Some(after) = &self.after {
            body["search_after"] = json!([after]);
        }
        let answer = self
            .indexes
            .call_ok(
                Method::Post,
                &format!("/{}/_search", self.alias),
                &[],
                Some(body),
            )
            .await?;
        let hits = answer["hits"]["hits"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        self.exhausted = hits.len() < PAGE;
        if let Some(last) = hits.last() {
            self.after = last["sort"].get(0).cloned();
        }
        for hit in &hits {
            if let Some(document) = stored_from_hit(hit) {
                // Keyed by the sort value, what the order is by (an `_id` that differs from
                // it is a difference `compare` names).
                let key = hit["sort"][0].as_str().and_then(canonical_uuid);
                self.page.push_back((key, document));
            }
        }
        Ok(())
    }
}

/// Differences as found, before the re-check.
struct Findings {
    suspects: Vec<Difference>,
    /// Counted without a re-check, past [`RECHECK_AT_MOST`].
    unchecked: BTreeMap<DifferenceKind, u64>,
    unchecked_shown: Vec<Difference>,
}

impl Findings {
    fn found(&mut self, difference: Difference) {
        if self.suspects.len() < RECHECK_AT_MOST {
            self.suspects.push(difference);
        } else {
            *self.unchecked.entry(difference.kind).or_insert(0) += 1;
            if self.unchecked_shown.len() < 100 {
                self.unchecked_shown.push(difference);
            }
        }
    }
}

/// Checks that keys come in ascending order (the merge depends on it).
fn ascending(last: &mut Option<Uuid>, key: Uuid, side: &str) -> Result<(), OperationError> {
    if last.is_some_and(|l| key < l) {
        return Err(OperationError::Usage(format!(
            "{side} are not in UUID order around {key}: the event store's collation sorts stream \
             ids unlike Elasticsearch's byte order, so verify cannot merge them (give the events \
             table a \"C\" or UTF-8 byte-order collation)"
        )));
    }
    *last = Some(key);
    Ok(())
}

pub async fn verify(
    ctx: &SearchContext<'_>,
    options: &VerifyOptions,
    progress: &Progress,
) -> Result<VerifyReport, OperationError> {
    let started = Instant::now();
    let alias = ctx.config.alias.as_str();
    let indexes = Indexes::new(ctx.client);
    let behind = indexes.behind(alias).await?;
    if behind.is_empty() {
        return Err(OperationError::Usage(format!(
            "alias {alias} does not exist: there is no search model to verify"
        )));
    }
    // Searches see the index as of its last refresh: one now, so that the scan sees every
    // write made before verify began.
    indexes.refresh(alias).await?;
    let total = ctx.source.estimate_events(STREAM_TYPE).await.ok();
    progress.phase("verifying", total);

    let mut findings = Findings {
        suspects: Vec::new(),
        unchecked: BTreeMap::new(),
        unchecked_shown: Vec::new(),
    };
    let mut streams: StreamReader = ctx.source.streams(STREAM_TYPE, None);
    let mut pager = DocumentPager {
        indexes: &indexes,
        alias,
        after: None,
        page: VecDeque::new(),
        exhausted: false,
        read: 0,
    };
    let (mut last_stream, mut last_document) = (None, None);
    let mut stream_count = 0u64;
    let mut stream = streams.next_stream().await?;
    let mut document = pager.next().await?;
    loop {
        // Streams and documents whose ids are not canonical are reported at once and do not
        // take part in the merge.
        if let Some(events) = &stream {
            let id = &events[0].stream_id;
            if stream_key(id).is_none() {
                findings.found(Difference {
                    subject: id.clone(),
                    kind: DifferenceKind::Unfoldable,
                    detail: "the stream id is not order-<lowercase uuid>".into(),
                });
                progress.add(events.len() as u64, 0);
                stream_count += 1;
                stream = streams.next_stream().await?;
                continue;
            }
        }
        if let Some((None, stored)) = &document {
            findings.found(orphan(stored));
            document = pager.next().await?;
            continue;
        }
        let stream_at = stream.as_ref().and_then(|e| stream_key(&e[0].stream_id));
        let document_at = document.as_ref().and_then(|(key, _)| *key);
        let (take_stream, take_document) = match (stream_at, document_at) {
            (None, None) => break,
            (Some(_), None) => (true, false),
            (None, Some(_)) => (false, true),
            (Some(s), Some(d)) => (s <= d, d <= s),
        };
        if let Some(key) = stream_at.filter(|_| take_stream) {
            ascending(&mut last_stream, key, "event store streams")?;
        }
        if let Some(key) = document_at.filter(|_| take_document) {
            ascending(&mut last_document, key, "documents")?;
        }
        match (take_stream, take_document) {
            (true, true) => {
                if let (Some(events), Some((_, stored))) = (&stream, &document) {
                    if let Some(difference) = compare(events, Some(stored)) {
                        findings.found(difference);
                    }
                }
            }
            (true, false) => {
                if let Some(difference) = stream.as_deref().and_then(|e| compare(e, None)) {
                    findings.found(difference);
                }
            }
            (false, true) => {
                if let Some((_, stored)) = &document {
                    findings.found(orphan(stored));
                }
            }
            (false, false) => break,
        }
        if take_stream {
            if let Some(events) = &stream {
                progress.add(events.len() as u64, 0);
            }
            stream_count += 1;
            stream = streams.next_stream().await?;
        }
        if take_document {
            progress.add(0, 1);
            document = pager.next().await?;
        }
    }
    let mut documents = pager.read;
    // Documents without an order id are outside the merge.
    let (without_id, shown) = documents_without_order_id(&indexes, alias, options.limit).await?;
    documents += without_id;
    for difference in shown {
        findings.found(difference);
    }
    let hidden_without_id = without_id.saturating_sub(options.limit as u64);

    progress.phase(
        "re-checking differences",
        Some(findings.suspects.len() as u64),
    );
    let mut confirmed = recheck(ctx, &indexes, alias, findings.suspects, progress).await?;
    let mut counts = findings.unchecked;
    for difference in &confirmed {
        *counts.entry(difference.kind).or_insert(0) += 1;
    }
    // Counted already; shown after the re-checked ones (they came later in stream order).
    confirmed.extend(findings.unchecked_shown);
    if hidden_without_id > 0 {
        *counts.entry(DifferenceKind::Orphan).or_insert(0) += hidden_without_id;
    }
    confirmed.truncate(options.limit);
    Ok(VerifyReport {
        projector: NAME.to_owned(),
        target: format!("{alias} → {}", behind.join(", ")),
        streams: stream_count,
        documents,
        seconds: started.elapsed().as_secs_f64(),
        shown: confirmed,
        counts,
    })
}

async fn documents_without_order_id(
    indexes: &Indexes<'_>,
    alias: &str,
    limit: usize,
) -> Result<(u64, Vec<Difference>), OperationError> {
    let query = json!({ "bool": { "must_not": { "exists": { "field": "order_id" } } } });
    let answer = indexes
        .call_ok(
            Method::Post,
            &format!("/{alias}/_search"),
            &[],
            Some(json!({ "size": limit, "query": query, "_source": false, "version": true, "track_total_hits": true })),
        )
        .await?;
    let total = answer["hits"]["total"]["value"].as_u64().unwrap_or(0);
    let shown = answer["hits"]["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(stored_from_hit)
        .map(|d| Difference {
            subject: d.id.clone(),
            kind: DifferenceKind::Orphan,
            detail: format!("document at version {} without an order_id", d.version),
        })
        .collect();
    Ok((total, shown))
}

/// Reads each suspect's stream and document again (real time) and keeps the differences
/// that are still there.
async fn recheck(
    ctx: &SearchContext<'_>,
    indexes: &Indexes<'_>,
    alias: &str,
    suspects: Vec<Difference>,
    progress: &Progress,
) -> Result<Vec<Difference>, OperationError> {
    let mut confirmed = Vec::new();
    for chunk in suspects.chunks(RECHECK_CHUNK) {
        // An orphan's subject is a document id; every other subject is a stream id.
        let stream_ids: Vec<String> = chunk
            .iter()
            .map(|d| match d.kind {
                DifferenceKind::Orphan => format!("order-{}", d.subject),
                _ => d.subject.clone(),
            })
            .collect();
        let ids: Vec<String> = stream_ids
            .iter()
            .map(|s| s.strip_prefix("order-").unwrap_or(s).to_owned())
            .collect();
        let streams = ctx.source.read_streams(&stream_ids).await?;
        let answer = indexes
            .call_ok(
                Method::Post,
                &format!("/{alias}/_mget"),
                &[("_source_excludes", "state")],
                Some(json!({ "ids": ids })),
            )
            .await?;
        let mut documents: BTreeMap<String, StoredDocument> = BTreeMap::new();
        for doc in answer["docs"].as_array().into_iter().flatten() {
            if doc["found"] == true {
                if let Some(stored) = stored_from_hit(doc) {
                    documents.insert(stored.id.clone(), stored);
                }
            }
        }
        for (suspect, (stream_id, id)) in chunk.iter().zip(stream_ids.iter().zip(&ids)) {
            if suspect.kind == DifferenceKind::Unfoldable && stream_key(stream_id).is_none() {
                // A stream id that is not an order id: reading again changes nothing.
                confirmed.push(suspect.clone());
                continue;
            }
            let events = streams
                .iter()
                .find(|s| s.first().is_some_and(|e| &e.stream_id == stream_id));
            let now = match (events, documents.get(id)) {
                (Some(events), stored) => compare(events, stored),
                (None, Some(stored)) => Some(orphan(stored)),
                // Both gone since (a test cleaning up, an index deleted): nothing to say.
                (None, None) => None,
            };
            match now {
                // Still an orphan: the first finding's words say more (no order_id).
                Some(d) if d.kind == DifferenceKind::Orphan && suspect.kind == d.kind => {
                    confirmed.push(suspect.clone());
                }
                Some(d) => confirmed.push(d),
                None => {}
            }
        }
        progress.add(chunk.len() as u64, 0);
    }
    Ok(confirmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_merge_refuses_keys_out_of_order() {
        let mut last = None;
        assert!(ascending(&mut last, Uuid::from_u128(2), "s").is_ok());
        assert!(ascending(&mut last, Uuid::from_u128(2), "s").is_ok());
        assert!(ascending(&mut last, Uuid::from_u128(1), "s").is_err());
    }
}
