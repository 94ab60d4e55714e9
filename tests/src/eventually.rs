//! Waiting on a condition with a deadline: the one place the tests poll.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often a condition is checked again.
const POLL: Duration = Duration::from_millis(20);

/// Checks `check` until it gives `Some`, and returns that; panics with `what` (given the
/// last check's state) once `within` has passed.
pub async fn eventually<T, F, Fut>(within: Duration, what: impl Fn() -> String, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{} (waited {within:?})", what());
        tokio::time::sleep(POLL).await;
    }
}
