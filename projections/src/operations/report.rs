//! The summaries operator commands end with (printed on stdout), one type per command.

use std::collections::BTreeMap;
use std::fmt;

use super::progress::thousands;

fn per_second(n: u64, seconds: f64) -> u64 {
    (n as f64 / seconds.max(1e-3)) as u64
}

/// What became of the generation the queries read before a rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OldGeneration {
    Deleted(String),
    Kept(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RebuildSummary {
    pub projector: String,
    /// What a stream is to the reader (`orders`).
    pub streams_are: String,
    /// Streams folded by the bulk load (this run's: a resumed load counts what it did).
    pub streams: u64,
    pub events: u64,
    pub documents: u64,
    /// Events read by the catch-up passes (before and after the switch).
    pub catch_up_events: u64,
    /// The whole rebuild.
    pub seconds: f64,
    /// The bulk load alone (what the rates are of).
    pub load_seconds: f64,
    pub to: String,
    pub old: Option<OldGeneration>,
    /// The stream a resumed load continued after.
    pub resumed_after: Option<String>,
    /// Streams or events that could not be projected (the live projector dead-letters
    /// them too), counted, the first few named.
    pub problems: u64,
    pub first_problems: Vec<String>,
}

impl fmt::Display for RebuildSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let switched = match &self.old {
            Some(OldGeneration::Deleted(old)) => format!("{old} → {} ({old} deleted)", self.to),
            Some(OldGeneration::Kept(old)) => format!("{old} → {} ({old} kept)", self.to),
            None => self.to.clone(),
        };
        writeln!(f, "rebuild of {} done: switched {switched}", self.projector)?;
        if let Some(after) = &self.resumed_after {
            writeln!(f, "  resumed after {after}")?;
        }
        let rows = [
            (self.streams_are.as_str(), thousands(self.streams)),
            ("events", thousands(self.events)),
            ("caught-up events", thousands(self.catch_up_events)),
            ("documents", thousands(self.documents)),
            ("seconds", format!("{:.1}", self.seconds)),
            ("load seconds", format!("{:.1}", self.load_seconds)),
            (
                "events/s",
                thousands(per_second(self.events, self.load_seconds)),
            ),
            (
                "documents/s",
                thousands(per_second(self.documents, self.load_seconds)),
            ),
        ];
        for (label, value) in rows {
            writeln!(f, "  {label:<18}{value:>12}")?;
        }
        if self.problems > 0 {
            writeln!(
                f,
                "  {} events or streams could not be projected (as the live projector could not):",
                thousands(self.problems)
            )?;
            for problem in &self.first_problems {
                writeln!(f, "    {problem}")?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplaySummary {
    pub projector: String,
    pub from: String,
    pub forced: bool,
    pub events: u64,
    pub streams: u64,
    pub documents_written: u64,
    pub rejected: u64,
    pub rejections: Vec<String>,
    pub seconds: f64,
}

impl fmt::Display for ReplaySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.forced {
            "streams folded again from version 1"
        } else {
            "events re-applied onto the stored state"
        };
        writeln!(
            f,
            "replay of {} from {} done ({how})",
            self.projector, self.from
        )?;
        let rows = [
            ("events", thousands(self.events)),
            ("streams", thousands(self.streams)),
            ("documents written", thousands(self.documents_written)),
            ("rejected events", thousands(self.rejected)),
            ("seconds", format!("{:.1}", self.seconds)),
        ];
        for (label, value) in rows {
            writeln!(f, "  {label:<18}{value:>12}")?;
        }
        for rejection in &self.rejections {
            writeln!(f, "    {rejection}")?;
        }
        Ok(())
    }
}

/// What kind of difference verify found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DifferenceKind {
    /// A stream without its document.
    Missing,
    /// A document at another version than its stream.
    Version,
    /// A document at its stream's version whose fields are not the stream's fold.
    Fields,
    /// A document without a stream.
    Orphan,
    /// A stream the fold cannot project (an unknown event, no creation event).
    Unfoldable,
}

impl DifferenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Version => "version",
            Self::Fields => "fields",
            Self::Orphan => "orphan",
            Self::Unfoldable => "unfoldable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The stream, or for an orphan the document's id.
    pub subject: String,
    pub kind: DifferenceKind,
    pub detail: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.subject,
            self.kind.as_str(),
            self.detail
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    pub projector: String,
    /// What was compared (`orders → orders-v2`).
    pub target: String,
    pub streams: u64,
    pub documents: u64,
    pub seconds: f64,
    /// The first differences, in stream order.
    pub shown: Vec<Difference>,
    pub counts: BTreeMap<DifferenceKind, u64>,
}

impl VerifyReport {
    pub fn differences(&self) -> u64 {
        self.counts.values().sum()
    }

    pub fn is_clean(&self) -> bool {
        self.differences() == 0
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "verify of {} ({}): {} streams, {} documents, {:.1}s",
            self.projector,
            self.target,
            thousands(self.streams),
            thousands(self.documents),
            self.seconds
        )?;
        for difference in &self.shown {
            writeln!(f, "  {difference}")?;
        }
        let total = self.differences();
        if total == 0 {
            return writeln!(f, "no differences");
        }
        let hidden = total.saturating_sub(self.shown.len() as u64);
        if hidden > 0 {
            writeln!(f, "  ... and {} more", thousands(hidden))?;
        }
        let kinds: Vec<String> = self
            .counts
            .iter()
            .map(|(kind, n)| format!("{} {}", thousands(*n), kind.as_str()))
            .collect();
        let noun = if total == 1 {
            "difference"
        } else {
            "differences"
        };
        writeln!(f, "{} {noun}: {}", thousands(total), kinds.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verify_report_names_each_difference_and_counts_them_by_kind() {
        let report = VerifyReport {
            projector: "search".into(),
            target: "orders → orders-v2".into(),
            streams: 2,
            documents: 2,
            seconds: 0.25,
            shown: vec![Difference {
                subject: "order-1".into(),
                kind: DifferenceKind::Missing,
                detail: "no document (stream at version 3)".into(),
            }],
            counts: BTreeMap::from([(DifferenceKind::Missing, 1), (DifferenceKind::Orphan, 2)]),
        };
        let text = report.to_string();
        assert!(
            text.contains("  order-1: missing: no document (stream at version 3)\n"),
            "{text}"
        );
        assert!(text.contains("... and 2 more"), "{text}");
        assert!(
            text.ends_with("3 differences: 1 missing, 2 orphan\n"),
            "{text}"
        );
        assert!(!report.is_clean());
    }

    #[test]
    fn a_rebuild_summary_has_the_rates_and_the_switch() {
        let summary = RebuildSummary {
            projector: "search".into(),
            streams_are: "orders".into(),
            streams: 1_000,
            events: 4_000,
            documents: 1_000,
            catch_up_events: 12,
            seconds: 3.5,
            load_seconds: 2.0,
            to: "orders-v2".into(),
            old: Some(OldGeneration::Deleted("orders-v1".into())),
            resumed_after: None,
            problems: 0,
            first_problems: Vec::new(),
        };
        let text = summary.to_string();
        assert!(
            text.starts_with(
                "rebuild of search done: switched orders-v1 → orders-v2 (orders-v1 deleted)"
            ),
            "{text}"
        );
        assert!(text.contains("events/s                 2,000"), "{text}");
        assert!(text.contains("documents/s                500"), "{text}");
    }
}
