//! Fuzzes each service through its own OpenAPI document with schemathesis, every check on
//! (`--checks all`): no 5xx; no status, content type, header or body that the document does
//! not describe; every request the document calls valid is accepted, every one it calls
//! invalid is refused; missing tokens are refused. `tests/schemathesis.toml` allows the one
//! refusal no schema can express: a 422 for a command the aggregate's state refuses.
//!
//! Schemathesis comes from PyPI into `.stack/venv` (`scripts/fuzz-openapi install`), or is
//! wherever `SCHEMATHESIS` points.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use keel_services::ServiceKind;
use keel_tests::{order_document, unique_suffix, TestQueryService, TestService};

/// Examples per operation; with ~12 operations per service a run takes under a minute here.
const MAX_EXAMPLES: &str = "60";
/// Fixed, so a failure can be replayed; random generation (not `--generation-deterministic`)
/// finds more than the fixed corpus (e.g. `2251799813685247.0` for an integer).
const SEED: &str = "7";
const TIME_LIMIT: Duration = Duration::from_secs(150);

fn schemathesis() -> PathBuf {
    if let Some(path) = std::env::var_os("SCHEMATHESIS") {
        return PathBuf::from(path);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join(".stack/venv/bin/schemathesis");
    assert!(
        path.exists(),
        "schemathesis is not installed at {}: run `scripts/fuzz-openapi install` (or set SCHEMATHESIS)",
        path.display()
    );
    path
}

async fn fuzz(kind: ServiceKind) {
    let service = TestService::spawn(kind).await;
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemathesis.toml");
    run(
        &kind.to_string(),
        &service.base_url,
        &service.token,
        &config,
    )
    .await;
}

/// Schemathesis, every check on, against the service at `base_url` and its document.
async fn run(name: &str, base_url: &str, token: &str, config: &Path) {
    let binary = schemathesis();
    let mut command = tokio::process::Command::new(&binary);
    command
        .arg("--config-file")
        .arg(config)
        .arg("run")
        .arg(format!("{base_url}/openapi.json"))
        .args(["--url", base_url])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all"])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--seed", SEED])
        // One worker: hypothesis under Python 3.11 fails with "AST constructor recursion
        // depth mismatch" when several threads generate at once.
        .args(["--workers", "1"])
        .arg("--no-color")
        .env("SCHEMATHESIS_HOOKS", "")
        // Schemathesis keeps a `.schemathesis/` folder in its working directory.
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(TIME_LIMIT, command.output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis ran longer than {TIME_LIMIT:?}"))
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    let stdout = readable(&String::from_utf8_lossy(&output.stdout));
    let stderr = readable(&String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "schemathesis found problems in the {name} ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

/// The report with its (very) long lines cut, so a failure stays readable.
fn readable(report: &str) -> String {
    const LINE: usize = 400;
    report
        .lines()
        .map(|line| match line.char_indices().nth(LINE) {
            Some((cut, _)) => format!("{} …", &line[..cut]),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_order_service_survives_fuzzing_of_its_openapi_document() {
    fuzz(ServiceKind::Orders).await;
}

#[tokio::test]
async fn the_payment_service_survives_fuzzing_of_its_openapi_document() {
    fuzz(ServiceKind::Payments).await;
}

/// For the query service, on top of `tests/schemathesis.toml`: a search that each
/// parameter's schema allows can still be refused for what no single schema can say
/// (`min_total` above `max_total`, `placed_from` after `placed_to`, `page × per_page` beyond
/// 10000), with a documented 400; and `GET /orders/{id}` reads an order that exists (random
/// ids would only ever find 404s).
fn query_settings(existing_order: uuid::Uuid) -> String {
    format!(
        r#"
[[operations]]
include-path = "/search/orders"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]

[[operations]]
include-path = "/orders/{{id}}"
parameters = {{ "path.id" = "{existing_order}" }}
"#
    )
}

#[tokio::test]
async fn the_query_service_survives_fuzzing_of_its_openapi_document() {
    let service = TestQueryService::spawn().await;
    let mut shipped = order_document(
        "Grace Hopper",
        "2025-02-01T09:00:00+01:00",
        &[("FP-7781", "Fountain pen", 1, 4000)],
    );
    shipped.status = "shipped".into();
    shipped.payment_id = Some(uuid::Uuid::new_v4());
    shipped.shipment = Some(keel_projections::search::ShipmentDocument {
        carrier: "DHL".into(),
        tracking_number: "JD0002".into(),
    });
    let mut cancelled = order_document(
        "Alan Turing",
        "2025-02-15T12:00:00Z",
        &[("SKU-NB", "Notebook", 1, 1250), ("SKU-INK", "Ink", 3, 300)],
    );
    cancelled.status = "cancelled".into();
    cancelled.cancellation_reason = Some("changed my mind".into());
    let placed = order_document(
        "Ada Lovelace",
        "2025-01-10T10:00:00Z",
        &[("SKU-NB", "Notebook", 2, 1250)],
    );
    let existing = shipped.order_id;
    service.index().put(&[shipped, cancelled, placed]).await;

    let shared = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemathesis.toml"),
    )
    .expect("tests/schemathesis.toml");
    let config =
        std::env::temp_dir().join(format!("keel-schemathesis-query-{}.toml", unique_suffix()));
    std::fs::write(&config, format!("{shared}\n{}", query_settings(existing)))
        .expect("write the settings");
    run("query-service", &service.base_url, &service.token, &config).await;
    let _ = std::fs::remove_file(&config);
}
