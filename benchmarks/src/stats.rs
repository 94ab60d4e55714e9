use std::time::Duration;

/// Latencies of one workload and its wall-clock time.
#[derive(Debug, Default)]
pub struct Sample {
    pub latencies: Vec<Duration>,
    pub wall: Duration,
    /// Items (events, requests) done; may exceed `latencies.len()` with batching.
    pub items: u64,
}

impl Sample {
    pub fn per_second(&self) -> f64 {
        self.items as f64 / self.wall.as_secs_f64().max(f64::EPSILON)
    }

    /// The q-quantile (0.0..=1.0) of the latencies, nearest rank.
    pub fn quantile(&mut self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        self.latencies.sort_unstable();
        let rank = ((self.latencies.len() as f64) * q).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    /// One line: name, rate, p50 and p99 in milliseconds.
    pub fn line(&mut self, name: &str, unit: &str) -> String {
        let (p50, p99) = (self.quantile(0.50), self.quantile(0.99));
        format!(
            "{name:<52} {:>10.0} {unit}/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
            self.per_second(),
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_nearest_rank() {
        let mut s = Sample {
            latencies: (1..=100).map(Duration::from_millis).collect(),
            wall: Duration::from_secs(2),
            items: 100,
        };
        assert_eq!(s.quantile(0.5), Duration::from_millis(50));
        assert_eq!(s.quantile(0.99), Duration::from_millis(99));
        assert_eq!(s.per_second(), 50.0);
    }
}
