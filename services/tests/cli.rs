//! The `keel` binary itself: a service never starts on the public development secret.

use std::process::{Command, Output};

/// `keel` with `args`, without any token settings from the caller's environment, and a
/// database nothing listens on (so a missing check would fail later, on the database).
fn keel(args: &[&str], jwt_secret: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keel"));
    command
        .args(args)
        .env_remove("JWT_SECRET")
        .env_remove("KEEL_DEV")
        .env_remove("ORDER_DATABASE_URL")
        .env_remove("PAYMENT_DATABASE_URL")
        .env(
            "DATABASE_URL",
            "postgres://keel@127.0.0.1:1/keel?sslmode=disable",
        )
        .env("RUST_LOG", "off");
    if let Some(secret) = jwt_secret {
        command.env("JWT_SECRET", secret);
    }
    command.output().expect("run keel")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_service_without_jwt_secret_exits_saying_what_to_set() {
    for service in ["order-service", "payment-service"] {
        let output = keel(&[service, "--port", "0"], None);
        let message = stderr(&output);
        assert!(!output.status.success(), "{service}: {message}");
        assert!(
            message.contains("JWT_SECRET is not set") && message.contains("at least 32 bytes"),
            "{service}: {message}"
        );
        assert!(message.contains("KEEL_DEV=1"), "{service}: {message}");
    }
}

#[test]
fn a_short_or_public_secret_is_refused_too() {
    let output = keel(&["order-service", "--port", "0"], Some("too-short"));
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("9 bytes long"),
        "{}",
        stderr(&output)
    );
    let public = "keel-development-secret-do-not-use-in-production";
    let output = keel(&["payment-service", "--port", "0"], Some(public));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("public"), "{}", stderr(&output));
}

#[test]
fn tokens_need_the_secret_or_development_mode() {
    let output = keel(&["token"], None);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("JWT_SECRET is not set"));

    let output = keel(&["token", "--dev", "--scope", "queries"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    let token = String::from_utf8(output.stdout).unwrap();
    assert_eq!(token.trim().split('.').count(), 3, "{token}");

    let mut with_env = Command::new(env!("CARGO_BIN_EXE_keel"));
    let output = with_env
        .args(["token"])
        .env_remove("JWT_SECRET")
        .env("KEEL_DEV", "1")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}
