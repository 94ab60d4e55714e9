//! Freshness: the time from `POST /orders` answering 201 to the order being found on the
//! query service, at a steady open-loop rate, with every keel process a child of the release
//! binary.
//!
//! By search (what a user sees: it needs a refresh). Polling each order on its own costs a
//! search per order per poll, which on two cores is the load itself (a search costs
//! Elasticsearch about 2 ms of CPU: 440 polls a second took 80% of a core at 20 orders/s).
//! So the orders are spread over a few customers, and one poller per customer searches
//! `/search/orders?customer_id=<c>&placed_from=<its oldest pending order, less a margin>
//! &sort=placed_at&per_page=100` (more pages when full) every `interval`: each answer tells
//! which of that customer's pending orders are searchable, so every pending order is polled
//! every `interval`, at a cost that does not grow with the rate.
//!
//! By id (`GET /orders/{id}`, a real-time get) for a sample of the orders, each polled on
//! its own (at most every 25 ms, and every 5% of its age once that is longer), with a bound
//! on the requests in flight.
//!
//! Each found order records when the answer that found it arrived, and when the poll
//! before it (which missed) was sent: it became readable between the two.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::stats::Sample;

/// The shortest time between two polls of one order by id.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(25);
/// `placed_from` is the oldest pending order's send time less this (its `placed_at` is
/// the append's time, after the send, on the same clock).
const PLACED_FROM_MARGIN: chrono::Duration = chrono::Duration::milliseconds(500);

/// How a run watches its orders.
#[derive(Debug, Clone)]
pub struct Settings {
    pub rate: f64,
    pub duration: Duration,
    /// An order not found this long after its 201 counts as missing.
    pub give_up: Duration,
    /// Customers the orders are spread over (one search poller each).
    pub customers: usize,
    /// Between two searches of one customer's poller.
    pub interval: Duration,
    /// Watch every n-th order by id too (0: none).
    pub by_id_every: usize,
    /// By-id requests in flight at most.
    pub by_id_in_flight: usize,
}

/// When an order was found: `found` after its 201 the answer that found it arrived; the
/// poll before it, which missed, was sent `missed` after the 201 (0: none before).
#[derive(Debug, Clone, Copy)]
pub struct Found {
    pub found: Duration,
    pub missed: Duration,
}

struct Pending {
    placed: Instant,
    sent_at: DateTime<Utc>,
    /// From the start of the run.
    offset: Duration,
}

#[derive(Default)]
struct Counters {
    searches: AtomicU64,
    gets: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Counters {
    fn error(&self, e: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert(e);
        }
    }
}

#[derive(Clone)]
pub struct Api {
    http: Client,
    order_url: String,
    query_url: String,
    token: String,
    run: Uuid,
    counters: Arc<Counters>,
}

impl Api {
    pub fn new(order_url: String, query_url: String, token: String) -> anyhow::Result<Self> {
        let http = Client::builder()
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            http,
            order_url,
            query_url,
            token,
            run: Uuid::new_v4(),
            counters: Arc::default(),
        })
    }

    /// `POST /orders` for `customer`; the order's id on 201.
    async fn place(&self, n: usize, customer: Uuid) -> Result<Uuid, String> {
        let body = json!({
            "customer_id": customer,
            "customer_name": "Freshness Bench",
            "currency": "EUR",
            "lines": [{"sku": "SKU-1", "name": "Notebook", "quantity": 2, "unit_price": 1250}]
        });
        let response = self
            .http
            .post(format!("{}/orders", self.order_url))
            .bearer_auth(&self.token)
            .header(
                "Idempotency-Key",
                // Unique across runs of one client (the warm-up is a run too).
                format!(
                    "fresh-{}-{n}-{}",
                    self.run.simple(),
                    Uuid::new_v4().simple()
                ),
            )
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("transport error: {e}"))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if status != StatusCode::CREATED {
            return Err(format!("{status}: {answer}"));
        }
        answer["id"]
            .as_str()
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or_else(|| format!("201 without an id: {answer}"))
    }

    /// The ids of `customer`'s orders placed from `from` that search finds.
    async fn search(&self, customer: Uuid, from: DateTime<Utc>) -> Result<Vec<Uuid>, String> {
        let from = from.to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut ids = Vec::new();
        for page in 1.. {
            self.counters.searches.fetch_add(1, Ordering::Relaxed);
            let response = self
                .http
                .get(format!("{}/search/orders", self.query_url))
                .query(&[
                    ("customer_id", customer.to_string()),
                    ("placed_from", from.clone()),
                    ("sort", "placed_at".to_owned()),
                    ("per_page", "100".to_owned()),
                    ("page", page.to_string()),
                ])
                .bearer_auth(&self.token)
                .send()
                .await
                .map_err(|e| format!("search: {e}"))?;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if status != StatusCode::OK {
                return Err(format!("search: {status}: {body}"));
            }
            let hits = body["hits"].as_array().cloned().unwrap_or_default();
            ids.extend(
                hits.iter()
                    .filter_map(|h| h["order_id"].as_str())
                    .filter_map(|id| Uuid::parse_str(id).ok()),
            );
            if hits.len() < 100 {
                break;
            }
        }
        Ok(ids)
    }

    /// Whether `GET /orders/{id}` finds the order.
    async fn get(&self, order: Uuid) -> bool {
        self.counters.gets.fetch_add(1, Ordering::Relaxed);
        let response = self
            .http
            .get(format!("{}/orders/{order}", self.query_url))
            .bearer_auth(&self.token)
            .send()
            .await;
        match response {
            Ok(r) if r.status() == StatusCode::OK => {
                let _ = r.bytes().await;
                true
            }
            Ok(r) if r.status() == StatusCode::NOT_FOUND => {
                let _ = r.bytes().await;
                false
            }
            Ok(r) => {
                self.counters
                    .error(format!("GET /orders/{{id}}: {}", r.status()));
                false
            }
            Err(e) => {
                self.counters.error(format!("GET /orders/{{id}}: {e}"));
                false
            }
        }
    }
}

/// One customer's orders waiting to be found, and what was found.
#[derive(Default)]
struct Customer {
    pending: HashMap<Uuid, Pending>,
    found: Vec<(Duration, Found)>,
    missing: usize,
}

struct Shared {
    customers: Vec<(Uuid, Mutex<Customer>)>,
    sending_done: AtomicBool,
}

/// Searches one customer's orders every `interval` until sending is done and none is
/// pending.
async fn search_poller(api: Api, shared: Arc<Shared>, index: usize, settings: Settings) {
    let (customer, state) = &shared.customers[index];
    let mut previous_sent: Option<Instant> = None;
    loop {
        let from = {
            let Ok(state) = state.lock() else { return };
            state.pending.values().map(|p| p.sent_at).min()
        };
        let Some(from) = from else {
            if shared.sending_done.load(Ordering::Acquire) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
            continue;
        };
        let sent = Instant::now();
        let answer = api.search(*customer, from - PLACED_FROM_MARGIN).await;
        let answered = Instant::now();
        match answer {
            Ok(ids) => {
                let Ok(mut state) = state.lock() else { return };
                for id in ids {
                    if let Some(p) = state.pending.remove(&id) {
                        let missed = previous_sent
                            .map_or(Duration::ZERO, |s| s.saturating_duration_since(p.placed));
                        let found = Found {
                            found: answered.saturating_duration_since(p.placed),
                            missed,
                        };
                        state.found.push((p.offset, found));
                    }
                }
                let before = state.pending.len();
                state
                    .pending
                    .retain(|_, p| p.placed.elapsed() < settings.give_up);
                state.missing += before - state.pending.len();
            }
            Err(e) => api.counters.error(e),
        }
        previous_sent = Some(sent);
        tokio::time::sleep_until((sent + settings.interval).into()).await;
    }
}

/// Polls one order by id until found or `give_up` has passed since `placed`.
async fn watch_by_id(
    api: &Api,
    slots: &Semaphore,
    order: Uuid,
    placed: Instant,
    give_up: Duration,
) -> Option<Found> {
    let mut missed = Duration::ZERO;
    loop {
        let permit = slots.acquire().await;
        let sent = Instant::now();
        let found = api.get(order).await;
        drop(permit);
        if found {
            return Some(Found {
                found: placed.elapsed(),
                missed,
            });
        }
        missed = sent.saturating_duration_since(placed);
        let age = placed.elapsed();
        if age >= give_up {
            return None;
        }
        let interval = MIN_POLL_INTERVAL.max(age / 20);
        tokio::time::sleep_until((sent + interval).into()).await;
    }
}

/// The figures of one run.
pub struct Freshness {
    pub offered: usize,
    /// From the first scheduled send to the last.
    pub wall: Duration,
    /// Scheduled send to 201.
    pub placed: Sample,
    pub unexpected: usize,
    pub first_unexpected: Option<String>,
    pub by_search: Sample,
    /// Per order found by search: found answer - the previous (missing) poll's send.
    pub search_resolution: Sample,
    pub missing_by_search: usize,
    /// (sent at, 201 to found by search), by send time.
    pub timeline: Vec<(Duration, Duration)>,
    pub by_id: Sample,
    pub by_id_watched: usize,
    pub missing_by_id: usize,
    pub searches: u64,
    pub gets: u64,
    pub poll_errors: u64,
    pub first_poll_error: Option<String>,
}

/// `settings.rate` orders a second for `settings.duration`, open loop (order `i` is sent
/// at `start + i/rate` whatever the others are doing), each watched until found.
pub async fn run(api: &Api, settings: &Settings) -> anyhow::Result<Freshness> {
    anyhow::ensure!(settings.rate > 0.0, "the rate must be positive");
    let total = (settings.rate * settings.duration.as_secs_f64()).round() as usize;
    let period = Duration::from_secs_f64(1.0 / settings.rate);
    let shared = Arc::new(Shared {
        customers: (0..settings.customers.max(1))
            .map(|_| (Uuid::new_v4(), Mutex::default()))
            .collect(),
        sending_done: AtomicBool::new(false),
    });
    let before = (
        api.counters.searches.load(Ordering::Relaxed),
        api.counters.gets.load(Ordering::Relaxed),
    );
    let pollers: Vec<_> = (0..shared.customers.len())
        .map(|i| {
            tokio::spawn(search_poller(
                api.clone(),
                shared.clone(),
                i,
                settings.clone(),
            ))
        })
        .collect();
    let slots = Arc::new(Semaphore::new(settings.by_id_in_flight.max(1)));
    let start = Instant::now() + Duration::from_millis(5);
    let mut tasks = JoinSet::new();
    for i in 0..total {
        let scheduled = start + period.mul_f64(i as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let (api, shared, slots) = (api.clone(), shared.clone(), slots.clone());
        let settings = settings.clone();
        tasks.spawn(async move {
            let slot = i % shared.customers.len();
            let (customer, state) = &shared.customers[slot];
            let sent_at = Utc::now();
            let order = api.place(i, *customer).await?;
            let placed = Instant::now();
            if let Ok(mut state) = state.lock() {
                state.pending.insert(
                    order,
                    Pending {
                        placed,
                        sent_at,
                        offset: scheduled - start,
                    },
                );
            }
            let by_id = match settings.by_id_every {
                0 => None,
                n if i % n == 0 => {
                    Some(watch_by_id(&api, &slots, order, placed, settings.give_up).await)
                }
                _ => None,
            };
            Ok::<_, String>((placed - scheduled, by_id))
        });
    }
    let wall = start.elapsed();
    let mut result = Freshness {
        offered: total,
        wall,
        placed: Sample::default(),
        unexpected: 0,
        first_unexpected: None,
        by_search: Sample::default(),
        search_resolution: Sample::default(),
        missing_by_search: 0,
        timeline: Vec::with_capacity(total),
        by_id: Sample::default(),
        by_id_watched: 0,
        missing_by_id: 0,
        searches: 0,
        gets: 0,
        poll_errors: 0,
        first_poll_error: None,
    };
    while let Some(outcome) = tasks.join_next().await {
        match outcome? {
            Ok((placed, by_id)) => {
                result.placed.latencies.push(placed);
                match by_id {
                    Some(Some(found)) => {
                        result.by_id_watched += 1;
                        result.by_id.latencies.push(found.found);
                    }
                    Some(None) => {
                        result.by_id_watched += 1;
                        result.missing_by_id += 1;
                    }
                    None => {}
                }
            }
            Err(e) => {
                result.unexpected += 1;
                result.first_unexpected.get_or_insert(e);
            }
        }
    }
    shared.sending_done.store(true, Ordering::Release);
    for poller in pollers {
        poller.await?;
    }
    for (_, state) in &shared.customers {
        let Ok(state) = state.lock() else { continue };
        result.missing_by_search += state.missing;
        for (offset, found) in &state.found {
            result.by_search.latencies.push(found.found);
            result
                .search_resolution
                .latencies
                .push(found.found.saturating_sub(found.missed));
            result.timeline.push((*offset, found.found));
        }
    }
    result.timeline.sort_unstable();
    for sample in [
        &mut result.placed,
        &mut result.by_id,
        &mut result.by_search,
        &mut result.search_resolution,
    ] {
        sample.items = sample.latencies.len() as u64;
        sample.wall = wall;
    }
    result.searches = api.counters.searches.load(Ordering::Relaxed) - before.0;
    result.gets = api.counters.gets.load(Ordering::Relaxed) - before.1;
    result.poll_errors = api.counters.errors.load(Ordering::Relaxed);
    result.first_poll_error = api
        .counters
        .first_error
        .lock()
        .ok()
        .and_then(|mut f| f.take());
    Ok(result)
}
