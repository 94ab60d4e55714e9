//! Exponential backoff with jitter for retries that go on for ever (a sink that is down
//! must not be hammered, and instances that failed together must not retry together).

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first retry (before jitter).
    pub initial: Duration,
    /// The longest wait between two tries.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait before retry `attempt` (1-based): `initial` doubling up to `max`, of which
    /// a random half is taken away ("equal jitter": never less than half the step, so the
    /// backoff still grows, but spread out).
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let step = self
            .initial
            .saturating_mul(1u32 << doublings)
            .min(self.max)
            .max(Duration::from_millis(1));
        let half = step / 2;
        let spread = u64::try_from(half.as_micros()).unwrap_or(u64::MAX).max(1);
        half + Duration::from_micros(random_u64() % spread)
    }
}

fn random_u64() -> u64 {
    // A v4 UUID carries 122 random bits from the OS; no generator to seed or share.
    uuid::Uuid::new_v4().as_u64_pair().0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_with_jitter_and_stays_bounded() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
        };
        for _ in 0..100 {
            let first = backoff.delay(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let fourth = backoff.delay(4);
            assert!(fourth >= Duration::from_millis(400) && fourth <= Duration::from_millis(800));
            let late = backoff.delay(1_000);
            assert!(late >= Duration::from_secs(5) && late <= Duration::from_secs(10));
        }
        let spread: std::collections::HashSet<_> = (0..20).map(|_| backoff.delay(3)).collect();
        assert!(spread.len() > 1, "jitter varies the wait");
    }
}
