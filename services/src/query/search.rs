//! A search's parameters as an Elasticsearch request body. Pure, so the translation is unit
//! tested without a cluster; only REST features that the stack's integ-test distribution and
//! OpenSearch share (bool, multi_match, term, terms, range, sort).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::choices::SortOrder;
use super::params::SearchParams;

/// The Elasticsearch `_search` body of `params`: filters in filter context (no scoring),
/// `q` in query context, an exact total, and the document without its internal `state`.
pub fn request_body(params: &SearchParams) -> Value {
    let mut filter = Vec::new();
    if !params.statuses().is_empty() {
        let statuses: Vec<&str> = params.statuses().iter().map(|s| s.as_str()).collect();
        filter.push(json!({ "terms": { "status": statuses } }));
    }
    if let Some(customer) = params.customer_id {
        filter.push(json!({ "term": { "customer_id": customer.to_string() } }));
    }
    if params.placed_from.is_some() || params.placed_to.is_some() {
        // Epoch milliseconds, not text: an offset can move an instant past year 9999, which
        // the date formats refuse; the `date` field keeps milliseconds anyway.
        let mut range = json!({ "format": "epoch_millis" });
        if let Some(from) = params.placed_from {
            range["gte"] = json!(millis_rounded_up(from));
        }
        if let Some(to) = params.placed_to {
            range["lte"] = json!(to.timestamp_millis());
        }
        filter.push(json!({ "range": { "placed_at": range } }));
    }
    if params.min_total.is_some() || params.max_total.is_some() {
        let mut range = json!({});
        if let Some(min) = params.min_total {
            range["gte"] = json!(min);
        }
        if let Some(max) = params.max_total {
            range["lte"] = json!(max);
        }
        filter.push(json!({ "range": { "total": range } }));
    }
    let mut query = json!({ "bool": { "filter": filter } });
    if let Some(text) = params.text() {
        query["bool"]["must"] = json!([text_query(text)]);
    }
    json!({
        "query": query,
        "sort": sort(params.sort_order()),
        "from": params.offset(),
        "size": params.per_page(),
        "track_total_hits": true,
        "_source": { "excludes": ["state"] }
    })
}

/// `q`: full text over the customer's and the lines' names, or the exact SKU (any case,
/// boosted: someone who types a SKU wants that item first).
fn text_query(text: &str) -> Value {
    json!({
        "bool": {
            "should": [
                { "multi_match": { "query": text, "fields": ["customer_name", "lines.name"] } },
                { "term": { "lines.sku": { "value": text.trim(), "case_insensitive": true, "boost": 2.0 } } }
            ],
            "minimum_should_match": 1
        }
    })
}

/// The sort clauses, ending with tie-breakers so that paging never repeats or skips a hit.
/// `unmapped_type`: an index created without the mapping sorts instead of failing.
fn sort(order: SortOrder) -> Value {
    let field = |name: &str, direction: &str, unmapped: &str| json!({ name: { "order": direction, "unmapped_type": unmapped } });
    let newest = field("placed_at", "desc", "date");
    let id = field("order_id", "asc", "keyword");
    let primary = match order {
        SortOrder::Relevance => json!({ "_score": { "order": "desc" } }),
        SortOrder::PlacedAt => field("placed_at", "asc", "date"),
        SortOrder::PlacedAtDesc => return json!([newest, id]),
        SortOrder::Total => field("total", "asc", "long"),
        SortOrder::TotalDesc => field("total", "desc", "long"),
        SortOrder::UpdatedAt => field("updated_at", "asc", "date"),
        SortOrder::UpdatedAtDesc => field("updated_at", "desc", "date"),
    };
    if order == SortOrder::PlacedAt {
        return json!([primary, id]);
    }
    json!([primary, newest, id])
}

/// The first whole millisecond at or after `t` (`placed_from` is inclusive).
fn millis_rounded_up(t: DateTime<Utc>) -> i64 {
    let floor = t.timestamp_millis();
    if t.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        floor
    } else {
        floor.saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::choices::StatusFilter;
    use uuid::Uuid;

    #[test]
    fn no_parameters_match_everything_newest_first() {
        let body = request_body(&SearchParams::default());
        assert_eq!(body["query"], json!({ "bool": { "filter": [] } }));
        assert_eq!(body["sort"][0]["placed_at"]["order"], "desc");
        assert_eq!(body["sort"][1]["order_id"]["order"], "asc");
        assert_eq!(body["from"], 0);
        assert_eq!(body["size"], 20);
        assert_eq!(body["track_total_hits"], true);
        assert_eq!(body["_source"]["excludes"], json!(["state"]));
    }

    #[test]
    fn filters_are_filters_and_text_is_scored() {
        let customer = Uuid::now_v7();
        let params = SearchParams {
            q: Some(" SKU-1 ".into()),
            status: Some(vec![StatusFilter::Placed, StatusFilter::Cancelled]),
            customer_id: Some(customer),
            placed_from: Some("2025-01-01T00:00:00.0005Z".parse().unwrap()),
            placed_to: Some("2025-01-02T00:00:00.9999Z".parse().unwrap()),
            min_total: Some(10),
            max_total: None,
            page: Some(3),
            per_page: Some(10),
            ..SearchParams::default()
        };
        let body = request_body(&params);
        let filter = &body["query"]["bool"]["filter"];
        assert_eq!(filter[0]["terms"]["status"], json!(["placed", "cancelled"]));
        assert_eq!(filter[1]["term"]["customer_id"], customer.to_string());
        let placed = &filter[2]["range"]["placed_at"];
        assert_eq!(placed["gte"], 1_735_689_600_001_i64, "rounded up");
        assert_eq!(placed["lte"], 1_735_776_000_999_i64, "rounded down");
        assert_eq!(filter[3]["range"]["total"], json!({ "gte": 10 }));
        let should = &body["query"]["bool"]["must"][0]["bool"]["should"];
        assert_eq!(should[0]["multi_match"]["query"], " SKU-1 ");
        assert_eq!(should[1]["term"]["lines.sku"]["value"], "SKU-1");
        assert_eq!(body["sort"][0], json!({ "_score": { "order": "desc" } }));
        assert_eq!(body["from"], 20);
        assert_eq!(body["size"], 10);
    }

    #[test]
    fn every_sort_ends_with_the_order_id() {
        for order in SortOrder::ALL {
            let clauses = sort(order);
            let clauses = clauses.as_array().unwrap();
            assert!(
                clauses.last().unwrap().get("order_id").is_some(),
                "{order:?}"
            );
        }
        assert_eq!(sort(SortOrder::Total)[0]["total"]["order"], "asc");
        assert_eq!(
            sort(SortOrder::UpdatedAtDesc)[0]["updated_at"]["order"],
            "desc"
        );
    }
}
