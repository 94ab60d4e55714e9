//! Where the `keel` binary is, for tests that run the relay as a real child process
//! (signals by pid must reach a real process). `cargo test --workspace` builds it;
//! `KEEL_BIN` overrides the path.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

fn newest_source(dir: &Path) -> Option<(SystemTime, PathBuf)> {
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let path = entry.path();
        let candidate = if path.is_dir() {
            newest_source(&path)
        } else {
            entry.metadata().ok()?.modified().ok().map(|t| (t, path))
        };
        if let Some(c) = candidate {
            if newest.as_ref().is_none_or(|n| c.0 > n.0) {
                newest = Some(c);
            }
        }
    }
    newest
}

/// The path of `target/debug/keel`; panics with what to do when it is missing or older
/// than the sources this test binary was built from.
pub fn keel_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = match std::env::var_os("KEEL_BIN") {
        Some(path) => PathBuf::from(path),
        None => {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("target"));
            target.join("debug").join("keel")
        }
    };
    let built = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "{} is missing: run `cargo build -p keel-services --bin keel` (or `cargo test \
                 --workspace`, which builds it) before these tests",
                binary.display()
            )
        });
    // Stale: a source changed after the keel binary was built, but before this test binary
    // was (so this run is meant to test that change).
    let this_test = std::env::current_exe()
        .and_then(|p| std::fs::metadata(p)?.modified())
        .ok();
    for dir in [
        "services/src",
        "eventstore/src",
        "eventstore/migrations",
        "schemas/src",
        "aggregates/src",
        "projections/src",
    ] {
        if let (Some((changed, file)), Some(test)) = (newest_source(&root.join(dir)), this_test) {
            if changed > built && changed <= test {
                panic!(
                    "{} is older than {}: run `cargo build -p keel-services --bin keel`",
                    binary.display(),
                    file.display()
                );
            }
        }
    }
    binary
}
