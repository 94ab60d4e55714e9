//! Fuzzes each service through its own OpenAPI document with schemathesis: no 5xx, and no
//! status, content type or body that the document does not describe.
//!
//! Schemathesis comes from PyPI into `.stack/venv` (`scripts/fuzz-openapi install`), or is
//! wherever `SCHEMATHESIS` points.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use keel_services::ServiceKind;
use keel_tests::TestService;

/// Examples per operation; with ~12 operations per service this stays well under two minutes.
const MAX_EXAMPLES: &str = "25";
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
    let binary = schemathesis();
    let service = TestService::spawn(kind).await;
    let mut command = tokio::process::Command::new(&binary);
    command
        .arg("run")
        .arg(service.url("/openapi.json"))
        .args(["--url", &service.base_url])
        .args(["--header", &format!("Authorization: Bearer {}", service.token)])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
        ])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--generation-deterministic", "--seed", "1"])
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
        "schemathesis found problems in the {kind} ({}):\n{stdout}\n{stderr}",
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
