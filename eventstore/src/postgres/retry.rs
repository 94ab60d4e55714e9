//! Bounded retries with exponential backoff and jitter, for failures that a second try
//! may well not meet (deadlocks, serialization failures, lost connections).

use std::time::Duration;

/// Tries after the first before giving up.
pub(super) const TRANSIENT_RETRIES: u32 = 4;

/// The wait before retry `attempt` (1-based): 5 ms doubling, with up to half of it again
/// as jitter so that retries of one failed batch do not collide again.
pub(super) fn backoff(attempt: u32) -> Duration {
    let base = 5u64 << attempt.min(8).saturating_sub(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    let jitter = nanos % (base * 500 + 1);
    Duration::from_millis(base) + Duration::from_micros(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_stays_bounded() {
        assert!(backoff(1) >= Duration::from_millis(5));
        assert!(backoff(1) <= Duration::from_micros(7_500));
        assert!(backoff(4) >= Duration::from_millis(40));
        assert!(backoff(100) <= Duration::from_millis(1_280 + 640));
    }
}
