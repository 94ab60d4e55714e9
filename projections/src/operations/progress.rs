//! Progress of a long operator command on stderr, about once a second: events done (of how
//! many, when known), events/s, documents/s and the time left. On a terminal one line is
//! rewritten in place; otherwise (a log file, CI) each report is a plain line of its own.
//! stdout stays free for the summary.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

/// How often a report is printed.
const EVERY: Duration = Duration::from_secs(1);

/// A progress reporter; cheap to share by reference. Reports stop when it is dropped.
pub struct Progress {
    shared: Arc<Shared>,
    ticker: Option<JoinHandle<()>>,
}

struct Shared {
    phase: Mutex<Phase>,
    events: AtomicU64,
    documents: AtomicU64,
    terminal: bool,
    enabled: bool,
    /// A line is on the terminal that the next output must end first.
    open_line: AtomicBool,
}

struct Phase {
    label: String,
    /// Events this phase will handle, when known (an estimate is fine).
    total: Option<u64>,
    started: Instant,
}

impl Progress {
    /// Reports on stderr every second (must be called within a Tokio runtime); `quiet`
    /// reports nothing.
    pub fn new(quiet: bool) -> Self {
        let shared = Arc::new(Shared {
            phase: Mutex::new(Phase {
                label: String::new(),
                total: None,
                started: Instant::now(),
            }),
            events: AtomicU64::new(0),
            documents: AtomicU64::new(0),
            terminal: std::io::stderr().is_terminal(),
            enabled: !quiet,
            open_line: AtomicBool::new(false),
        });
        let ticker = (!quiet).then(|| {
            let shared = shared.clone();
            tokio::spawn(async move {
                let mut interval = tokio::time::interval(EVERY);
                interval.tick().await;
                loop {
                    interval.tick().await;
                    shared.report();
                }
            })
        });
        Self { shared, ticker }
    }

    /// A reporter that prints nothing (library callers, tests).
    pub fn silent() -> Self {
        Self::new(true)
    }

    /// Starts a phase (`loading`, `catching up`, ...): the counters start again from 0.
    pub fn phase(&self, label: &str, total: Option<u64>) {
        self.shared.end_line();
        let mut phase = self.shared.lock();
        phase.label = label.to_owned();
        phase.total = total;
        phase.started = Instant::now();
        self.shared.events.store(0, Ordering::Relaxed);
        self.shared.documents.store(0, Ordering::Relaxed);
    }

    /// Counts events handled and documents written since the last call.
    pub fn add(&self, events: u64, documents: u64) {
        self.shared.events.fetch_add(events, Ordering::Relaxed);
        self.shared
            .documents
            .fetch_add(documents, Ordering::Relaxed);
    }

    /// A line of its own on stderr (a warning, a step), not overwritten by the next report.
    pub fn note(&self, line: &str) {
        if self.shared.enabled {
            self.shared.end_line();
            eprintln!("{line}");
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
        self.shared.end_line();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Phase> {
        // Plain data: a panic elsewhere cannot leave it half-written.
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn end_line(&self) {
        if self.open_line.swap(false, Ordering::Relaxed) {
            eprintln!();
        }
    }

    fn report(&self) {
        let (label, total, elapsed) = {
            let phase = self.lock();
            (phase.label.clone(), phase.total, phase.started.elapsed())
        };
        if label.is_empty() {
            return;
        }
        let line = render(
            &label,
            self.events.load(Ordering::Relaxed),
            self.documents.load(Ordering::Relaxed),
            total,
            elapsed,
        );
        let mut err = std::io::stderr().lock();
        if self.terminal {
            // Rewrite the line in place, clearing what a longer previous line left.
            let _ = write!(err, "\r{line}\x1b[K");
            self.open_line.store(true, Ordering::Relaxed);
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }
}

/// One report: `loading: 12,345 / ~50,000 events (24%), 4,702 events/s, 1,560 documents/s, ETA 8s`.
pub fn render(
    label: &str,
    events: u64,
    documents: u64,
    total: Option<u64>,
    elapsed: Duration,
) -> String {
    let seconds = elapsed.as_secs_f64().max(1e-3);
    let rate = events as f64 / seconds;
    let mut line = format!("{label}: {} ", thousands(events));
    if let Some(total) = total.filter(|t| *t > 0) {
        let done = events.min(total);
        line.push_str(&format!(
            "/ ~{} events ({}%)",
            thousands(total),
            done * 100 / total
        ));
    } else {
        line.push_str("events");
    }
    line.push_str(&format!(
        ", {} events/s, {} documents/s",
        thousands(rate as u64),
        thousands((documents as f64 / seconds) as u64)
    ));
    if let Some(total) = total.filter(|t| *t > events) {
        if rate >= 1.0 {
            let left = Duration::from_secs_f64((total - events) as f64 / rate);
            line.push_str(&format!(", ETA {}", short_duration(left)));
        }
    }
    line
}

/// `12345678` as `12,345,678`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `75s` as `1m15s`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
        assert_eq!(short_duration(Duration::from_secs(8)), "8s");
        assert_eq!(short_duration(Duration::from_secs(75)), "1m15s");
        assert_eq!(short_duration(Duration::from_secs(7_300)), "2h01m");
    }

    #[test]
    fn a_report_has_the_rate_and_the_time_left_when_the_total_is_known() {
        let line = render(
            "loading",
            5_000,
            1_000,
            Some(20_000),
            Duration::from_secs(2),
        );
        assert_eq!(
            line,
            "loading: 5,000 / ~20,000 events (25%), 2,500 events/s, 500 documents/s, ETA 6s"
        );
        let line = render("catching up", 10, 4, None, Duration::from_secs(1));
        assert_eq!(line, "catching up: 10 events, 10 events/s, 4 documents/s");
    }
}
