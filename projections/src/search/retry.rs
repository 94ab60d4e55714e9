//! What an Elasticsearch answer means for the batch: written, already newer, worth a retry,
//! or poison. Kept apart (and tested on canned answers) because getting it wrong either
//! loses events (a retryable failure taken for poison) or blocks for ever (the reverse).

use serde_json::Value;

/// The outcome of one document write of a `_bulk` request (or of a whole request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Written,
    /// 409 with external versioning: the index holds this version or a newer one already.
    AlreadyNewer,
    /// May pass: overloaded (429), a server error (5xx), the index missing (404).
    Transient(String),
    /// Fails the same way every time: the document itself is refused (mapping, 400).
    Poison(String),
}

fn reason(error: Option<&Value>) -> String {
    match error {
        Some(e) => {
            let kind = e["type"].as_str().unwrap_or("error");
            let reason = e["reason"].as_str().unwrap_or("");
            let cause = e["caused_by"]["reason"].as_str();
            match cause {
                Some(cause) => format!("{kind}: {reason} ({cause})"),
                None => format!("{kind}: {reason}"),
            }
        }
        None => "no error detail".to_owned(),
    }
}

/// Classifies by status: one `_bulk` item, or a whole response.
pub fn classify(status: u16, error: Option<&Value>) -> Outcome {
    match status {
        200..=299 => Outcome::Written,
        409 => Outcome::AlreadyNewer,
        404 | 408 | 429 | 500..=599 => Outcome::Transient(format!("{status} {}", reason(error))),
        _ => Outcome::Poison(format!("{status} {}", reason(error))),
    }
}

/// Whether a 404's error says the index (or alias) is missing, which the projector repairs
/// by creating it again.
pub fn index_missing(error: Option<&Value>) -> bool {
    error.is_some_and(|e| e["type"] == "index_not_found_exception")
}

/// The outcomes of a `_bulk` response's items, in request order; `Err` when the response
/// is not a bulk answer for `expected` items.
pub fn bulk_outcomes(body: &Value, expected: usize) -> Result<Vec<(Outcome, bool)>, String> {
    let items = body["items"]
        .as_array()
        .ok_or("the _bulk answer has no items")?;
    if items.len() != expected {
        return Err(format!(
            "the _bulk answer has {} items for {expected} documents",
            items.len()
        ));
    }
    items
        .iter()
        .map(|item| {
            let result = item
                .get("index")
                .ok_or("a _bulk item is not an index result")?;
            let status = result["status"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .ok_or("a _bulk item has no status")?;
            let error = result.get("error");
            Ok((classify(status, error), index_missing(error)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(classify(201, None), Outcome::Written);
        assert_eq!(classify(200, None), Outcome::Written);
        assert_eq!(classify(409, None), Outcome::AlreadyNewer);
        for status in [404, 408, 429, 500, 502, 503] {
            assert!(
                matches!(classify(status, None), Outcome::Transient(_)),
                "{status}"
            );
        }
        for status in [400, 403, 413] {
            assert!(
                matches!(classify(status, None), Outcome::Poison(_)),
                "{status}"
            );
        }
    }

    #[test]
    fn a_partial_bulk_failure_is_read_item_by_item() {
        let body = json!({
            "took": 3,
            "errors": true,
            "items": [
                {"index": {"_id": "a", "status": 201, "_version": 3}},
                {"index": {"_id": "b", "status": 409, "error": {
                    "type": "version_conflict_engine_exception",
                    "reason": "[b]: version conflict, current version [5] is higher or equal to the one provided [4]"
                }}},
                {"index": {"_id": "c", "status": 400, "error": {
                    "type": "document_parsing_exception",
                    "reason": "[1:2] failed to parse",
                    "caused_by": {"type": "strict_dynamic_mapping_exception", "reason": "mapping set to strict"}
                }}},
                {"index": {"_id": "d", "status": 429, "error": {
                    "type": "es_rejected_execution_exception", "reason": "rejected execution"
                }}},
                {"index": {"_id": "e", "status": 404, "error": {
                    "type": "index_not_found_exception", "reason": "no such index [t-orders]"
                }}}
            ]
        });
        let outcomes = bulk_outcomes(&body, 5).unwrap();
        assert_eq!(outcomes[0], (Outcome::Written, false));
        assert_eq!(outcomes[1], (Outcome::AlreadyNewer, false));
        match &outcomes[2].0 {
            Outcome::Poison(reason) => {
                assert!(reason.contains("document_parsing_exception"), "{reason}");
                assert!(reason.contains("mapping set to strict"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(outcomes[3].0, Outcome::Transient(_)));
        assert!(matches!(outcomes[4], (Outcome::Transient(_), true)));
        assert!(bulk_outcomes(&body, 4).is_err());
        assert!(bulk_outcomes(&json!({"error": "x"}), 1).is_err());
    }
}
