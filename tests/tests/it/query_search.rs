//! The query service against a real Elasticsearch index: text search on names and SKUs,
//! every filter, every sort, paging with exact totals, one order's document, and an alias
//! that does not exist yet.

use keel_projections::search::OrderDocument;
use keel_tests::{order_document, unique_suffix, TestQueryService};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::http_support::{expect_json, expect_problem};

/// Five orders, named by the letter of their customer's first name.
struct Orders {
    ada: OrderDocument,
    grace: OrderDocument,
    alan: OrderDocument,
    byron: OrderDocument,
    edsger: OrderDocument,
}

fn orders() -> Orders {
    let first = Uuid::new_v4();
    let second = Uuid::new_v4();
    let mut ada = order_document(
        "Ada Lovelace",
        "2025-01-10T10:00:00Z",
        &[("SKU-NB", "Notebook", 2, 1250)],
    );
    ada.customer_id = first;
    let mut grace = order_document(
        "Grace Hopper",
        "2025-02-01T09:00:00Z",
        &[("FP-7781", "Fountain pen", 1, 4000)],
    );
    grace.customer_id = second;
    grace.status = "shipped".into();
    let mut alan = order_document(
        "Alan Turing",
        "2025-02-15T12:00:00Z",
        &[("SKU-NB", "Notebook", 1, 1250), ("SKU-INK", "Ink", 3, 300)],
    );
    alan.customer_id = first;
    alan.status = "cancelled".into();
    alan.cancellation_reason = Some("changed my mind".into());
    let mut byron = order_document(
        "Ada Byron",
        "2025-03-01T00:00:00Z",
        &[("LMP-1", "Desk lamp", 1, 9900)],
    );
    byron.status = "delivered".into();
    byron.updated_at = "2025-03-20T00:00:00Z".parse().unwrap();
    byron.version = 5;
    let mut edsger = order_document(
        "Edsger Dijkstra",
        "2025-03-05T08:30:00+01:00",
        &[("PAD-2", "Notepad", 4, 199)],
    );
    edsger.customer_id = second;
    edsger.status = "payment_authorised".into();
    Orders {
        ada,
        grace,
        alan,
        byron,
        edsger,
    }
}

impl Orders {
    fn all(&self) -> Vec<OrderDocument> {
        vec![
            self.ada.clone(),
            self.grace.clone(),
            self.alan.clone(),
            self.byron.clone(),
            self.edsger.clone(),
        ]
    }
}

async fn service_with_orders() -> (TestQueryService, Orders) {
    let service = TestQueryService::spawn().await;
    let orders = orders();
    service.index().put(&orders.all()).await;
    (service, orders)
}

/// The hits' customer names, in order.
fn names(body: &Value) -> Vec<String> {
    body["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| {
            h["customer_name"]
                .as_str()
                .expect("customer_name")
                .to_owned()
        })
        .collect()
}

/// The customer names of `?<query>`, after checking that the total counts exactly them.
async fn found(service: &TestQueryService, query: &str) -> Vec<String> {
    let body = service.search(query).await;
    let names = names(&body);
    assert_eq!(body["total"], names.len(), "?{query}: {body}");
    names
}

/// The document as the query service shows it: without the internal state.
fn shown(document: &OrderDocument) -> Value {
    let mut value = serde_json::to_value(document).unwrap();
    value.as_object_mut().unwrap().remove("state");
    value
}

#[tokio::test]
async fn q_searches_customer_names_line_names_and_skus() {
    let (service, _) = service_with_orders().await;
    let mut by_name = found(&service, "q=ada").await;
    by_name.sort();
    assert_eq!(by_name, ["Ada Byron", "Ada Lovelace"]);
    let mut by_line = found(&service, "q=notebook").await;
    by_line.sort();
    assert_eq!(by_line, ["Ada Lovelace", "Alan Turing"]);
    // No name holds "fp" or "7781": only the SKU (in any case) matches.
    assert_eq!(found(&service, "q=fp-7781").await, ["Grace Hopper"]);
    assert_eq!(found(&service, "q=FP-7781").await, ["Grace Hopper"]);
    assert!(found(&service, "q=FP-77").await.is_empty(), "the whole SKU");
    assert!(found(&service, "q=nobody").await.is_empty());
    // Blank text is no text search: everything, newest first.
    assert_eq!(found(&service, "q=%20%20").await.len(), 5);
    // Text and a filter combine.
    assert_eq!(
        found(&service, "q=ada&status=placed").await,
        ["Ada Lovelace"]
    );
}

#[tokio::test]
async fn filters_on_status_customer_dates_and_totals() {
    let (service, orders) = service_with_orders().await;
    let mut statuses = found(&service, "status=cancelled&status=shipped").await;
    statuses.sort();
    assert_eq!(statuses, ["Alan Turing", "Grace Hopper"]);
    assert_eq!(
        found(&service, "status=payment_authorised").await,
        ["Edsger Dijkstra"]
    );

    let customer = orders.ada.customer_id;
    assert_eq!(
        found(&service, &format!("customer_id={customer}")).await,
        ["Alan Turing", "Ada Lovelace"]
    );
    let nobody = Uuid::new_v4();
    assert!(found(&service, &format!("customer_id={nobody}"))
        .await
        .is_empty());

    // Both ends inclusive; an offset is an instant like any other (07:30Z here).
    assert_eq!(
        found(
            &service,
            "placed_from=2025-02-01T09:00:00Z&placed_to=2025-03-01T00:00:00Z"
        )
        .await,
        ["Ada Byron", "Alan Turing", "Grace Hopper"]
    );
    assert_eq!(
        found(&service, "placed_from=2025-03-05T07:30:00Z").await,
        ["Edsger Dijkstra"]
    );
    assert_eq!(
        found(&service, "placed_to=2025-03-05T08:29:59%2B01:00")
            .await
            .len(),
        4
    );
    assert_eq!(
        found(&service, "placed_to=2025-01-10T10:00:00Z").await,
        ["Ada Lovelace"]
    );

    // 2500, 4000 and 2150 are in [2150, 4000]; 796 and 9900 are not.
    assert_eq!(
        found(&service, "min_total=2150&max_total=4000").await,
        ["Alan Turing", "Grace Hopper", "Ada Lovelace"]
    );
    assert_eq!(found(&service, "min_total=9900").await, ["Ada Byron"]);
    assert_eq!(found(&service, "max_total=796").await, ["Edsger Dijkstra"]);
    assert_eq!(found(&service, "min_total=0&max_total=0").await.len(), 0);
}

#[tokio::test]
async fn sorts_by_date_total_and_update_and_by_relevance() {
    let (service, _) = service_with_orders().await;
    let newest_first = [
        "Edsger Dijkstra",
        "Ada Byron",
        "Alan Turing",
        "Grace Hopper",
        "Ada Lovelace",
    ];
    assert_eq!(found(&service, "").await, newest_first);
    assert_eq!(found(&service, "sort=-placed_at").await, newest_first);
    let mut oldest_first = newest_first;
    oldest_first.reverse();
    assert_eq!(found(&service, "sort=placed_at").await, oldest_first);
    let cheapest_first = [
        "Edsger Dijkstra",
        "Alan Turing",
        "Ada Lovelace",
        "Grace Hopper",
        "Ada Byron",
    ];
    assert_eq!(found(&service, "sort=total").await, cheapest_first);
    let mut dearest_first = cheapest_first;
    dearest_first.reverse();
    assert_eq!(found(&service, "sort=-total").await, dearest_first);
    // Ada Byron was updated last (a fortnight after her order); the others when placed.
    let least_recently_updated = [
        "Ada Lovelace",
        "Grace Hopper",
        "Alan Turing",
        "Edsger Dijkstra",
        "Ada Byron",
    ];
    assert_eq!(
        found(&service, "sort=updated_at").await,
        least_recently_updated
    );
    let mut most_recently_updated = least_recently_updated;
    most_recently_updated.reverse();
    assert_eq!(
        found(&service, "sort=-updated_at").await,
        most_recently_updated
    );

    // With q, the best match comes first: both names hold "ada", only one holds "byron".
    assert_eq!(found(&service, "q=ada%20byron").await[0], "Ada Byron");
    assert_eq!(
        found(&service, "q=ada%20byron&sort=placed_at").await,
        ["Ada Lovelace", "Ada Byron"]
    );
}

#[tokio::test]
async fn pages_carry_the_exact_total() {
    let (service, _) = service_with_orders().await;
    let first = service.search("per_page=2").await;
    assert_eq!(
        (&first["total"], &first["page"], &first["per_page"]),
        (&Value::from(5), &Value::from(1), &Value::from(2))
    );
    assert_eq!(names(&first), ["Edsger Dijkstra", "Ada Byron"]);
    let second = service.search("per_page=2&page=2").await;
    assert_eq!(second["total"], 5);
    assert_eq!(names(&second), ["Alan Turing", "Grace Hopper"]);
    let last = service.search("per_page=2&page=3").await;
    assert_eq!(names(&last), ["Ada Lovelace"]);
    let beyond = service.search("per_page=2&page=4").await;
    assert_eq!(
        (beyond["total"].as_u64(), names(&beyond).len()),
        (Some(5), 0)
    );
    // The deepest page Elasticsearch serves is still a page.
    let deepest = service.search("per_page=100&page=100").await;
    assert_eq!(
        (deepest["total"].as_u64(), names(&deepest).len()),
        (Some(5), 0)
    );
    assert_eq!(service.search("").await["per_page"], 20);
}

/// More matches than a page: the total still counts every one of them.
#[tokio::test]
async fn totals_count_beyond_the_page() {
    let service = TestQueryService::spawn().await;
    let many: Vec<OrderDocument> = (0..150)
        .map(|i| {
            order_document(
                &format!("Customer {i}"),
                "2025-04-01T00:00:00Z",
                &[("BULK-1", "Paper", 1, 100 + i)],
            )
        })
        .collect();
    service.index().put(&many).await;
    let body = service.search("q=paper&per_page=7").await;
    assert_eq!(body["total"], 150);
    assert_eq!(names(&body).len(), 7);
    let body = service.search("min_total=200").await;
    assert_eq!(body["total"], 50);
}

#[tokio::test]
async fn hits_are_the_documents_without_their_state() {
    let (service, orders) = service_with_orders().await;
    let body = service.search("q=turing").await;
    assert_eq!(body["hits"][0], shown(&orders.alan));
    assert!(body["hits"][0].get("state").is_none());
}

#[tokio::test]
async fn one_order_is_read_with_its_version_as_etag() {
    let (service, mut orders) = service_with_orders().await;
    let id = orders.byron.order_id;
    let response = service.get(&format!("/orders/{id}")).send().await.unwrap();
    assert_eq!(
        response.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some("\"5\"")
    );
    let body = expect_json(response, StatusCode::OK).await;
    assert_eq!(body, shown(&orders.byron));

    // A newer projection of the order is what the next read shows.
    orders.byron.version = 6;
    orders.byron.status = "cancelled".into();
    service
        .index()
        .put(std::slice::from_ref(&orders.byron))
        .await;
    let response = service.get(&format!("/orders/{id}")).send().await.unwrap();
    assert_eq!(expect_json(response, StatusCode::OK).await["version"], 6);

    let unknown = Uuid::new_v4();
    let response = service
        .get(&format!("/orders/{unknown}"))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND, "not-found").await;
    let response = service.get("/orders/not-a-uuid").send().await.unwrap();
    let problem = expect_problem(response, StatusCode::BAD_REQUEST, "invalid-path-parameter").await;
    assert_eq!(problem["field"], "id");
}

/// Before the projector's first run there is no alias: nothing to find, not an error.
#[tokio::test]
async fn an_alias_that_does_not_exist_yet_holds_nothing() {
    let alias = format!("keel-test-missing-{}", unique_suffix());
    let service =
        TestQueryService::spawn_on(&keel_tests::elasticsearch_url(), &alias, |_| {}).await;
    let body = service.search("q=ada&status=placed&sort=total").await;
    assert_eq!(body["total"], 0);
    assert_eq!(body["hits"], serde_json::json!([]));
    let id = Uuid::new_v4();
    let response = service.get(&format!("/orders/{id}")).send().await.unwrap();
    expect_problem(response, StatusCode::NOT_FOUND, "not-found").await;
    let ready = service
        .client
        .get(service.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}
