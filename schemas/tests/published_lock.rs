//! Published schema documents never change: `json/published.lock` records a fingerprint of
//! each, and a changed one fails with advice to add a new version instead.

mod common;

use std::collections::BTreeMap;

use common::{json_dir, load_schema, schema_files};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const LOCK: &str = "published.lock";
const BLESS_VAR: &str = "KEEL_BLESS_SCHEMAS";

/// JSON with sorted keys and no whitespace, so formatting never counts as a change.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<_> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        scalar => scalar.to_string(),
    }
}

fn fingerprint(schema: &Value) -> String {
    let digest = Sha256::digest(canonical(schema).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_lock() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(json_dir().join(LOCK)).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(char::is_whitespace))
        .map(|(path, hash)| (path.to_owned(), hash.trim().to_owned()))
        .collect()
}

/// Compares the lock with the documents on disk: problems, and documents not yet published.
fn lock_problems(
    lock: &BTreeMap<String, String>,
    on_disk: &BTreeMap<String, String>,
) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    for (path, hash) in lock {
        match on_disk.get(path) {
            None => problems.push(format!(
                "published schema {path} was removed: published versions must stay decodable"
            )),
            Some(now) if now != hash => problems.push(format!(
                "published schema {path} changed: add a new version instead \
                 (a new document, a frozen Rust shape and an upcaster)"
            )),
            Some(_) => {}
        }
    }
    let new = on_disk
        .keys()
        .filter(|p| !lock.contains_key(*p))
        .cloned()
        .collect();
    (problems, new)
}

#[test]
fn published_schema_documents_never_change() {
    let on_disk: BTreeMap<String, String> = schema_files()
        .into_iter()
        .map(|path| {
            let hash = fingerprint(&load_schema(&path));
            (path, hash)
        })
        .collect();
    let (mut problems, new) = lock_problems(&read_lock(), &on_disk);
    if std::env::var(BLESS_VAR).is_ok_and(|v| v == "1") {
        publish(&new, &on_disk);
    } else {
        problems.extend(new.iter().map(|path| {
            format!("schema {path} is not in json/{LOCK}: run `{BLESS_VAR}=1 cargo test -p keel-schemas` to publish it")
        }));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Appends new documents to the lock; recorded entries are never rewritten.
fn publish(new: &[String], on_disk: &BTreeMap<String, String>) {
    use std::io::Write;
    let path = json_dir().join(LOCK);
    let fresh = !path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .expect("lock");
    if fresh {
        writeln!(
            file,
            "# SHA-256 of the canonical JSON of every published schema document.\n\
             # A published version never changes shape: add a new version instead.\n\
             # New documents are recorded by `{BLESS_VAR}=1 cargo test -p keel-schemas`."
        )
        .expect("write lock");
    }
    for path in new {
        writeln!(file, "{path} {}", on_disk[path]).expect("write lock");
    }
}

#[test]
fn a_changed_published_document_is_reported_with_advice() {
    let path = "order/OrderPlaced.v1.json".to_owned();
    let mut schema = load_schema(&path);
    let lock = BTreeMap::from([(path.clone(), fingerprint(&schema))]);
    // Reformatting is not a change...
    let reformatted: Value =
        serde_json::from_str(&serde_json::to_string_pretty(&schema).unwrap()).unwrap();
    assert!(lock_problems(
        &lock,
        &BTreeMap::from([(path.clone(), fingerprint(&reformatted))])
    )
    .0
    .is_empty());
    // ...a new field is.
    schema["properties"]["currency"] = json!({"type": "string"});
    let (problems, _) = lock_problems(
        &lock,
        &BTreeMap::from([(path.clone(), fingerprint(&schema))]),
    );
    assert_eq!(
        problems,
        vec![format!(
            "published schema {path} changed: add a new version instead \
             (a new document, a frozen Rust shape and an upcaster)"
        )]
    );
    let (problems, _) = lock_problems(&lock, &BTreeMap::new());
    assert!(problems[0].contains("was removed"), "{problems:?}");
}
