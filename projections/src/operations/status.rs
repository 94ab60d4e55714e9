//! `status` of one projector: its consumer group's lag, its dead letters, its store. Each
//! part is asked on its own, so one dependency that is down leaves the others readable.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};

use super::consumer_group::{group_status, seconds_between, GroupStatus};
use super::dead_letters::{counts, DeadLetterCounts};
use super::progress::thousands;
use super::ReadModel;

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectorStatus {
    pub name: String,
    pub dead_letter_topic: String,
    pub group: Result<GroupStatus, String>,
    pub dead_letters: Result<DeadLetterCounts, String>,
    pub store: Result<Vec<String>, String>,
    pub at: DateTime<Utc>,
}

impl ProjectorStatus {
    /// Every part answered.
    pub fn complete(&self) -> bool {
        self.group.is_ok() && self.dead_letters.is_ok() && self.store.is_ok()
    }
}

pub async fn status(model: &dyn ReadModel) -> ProjectorStatus {
    let kafka = model.kafka();
    let (group, dead_letters, store) =
        tokio::join!(group_status(kafka), counts(kafka), model.store_status());
    ProjectorStatus {
        name: model.name().to_owned(),
        dead_letter_topic: kafka.dead_letter_topic.clone(),
        group: group.map_err(|e| e.to_string()),
        dead_letters: dead_letters.map_err(|e| e.to_string()),
        store: store.map_err(|e| e.to_string()),
        at: Utc::now(),
    }
}

fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!(
        "{} ({:.1}s ago)",
        t.to_rfc3339_opts(SecondsFormat::Millis, true),
        seconds_between(t, now)
    )
}

impl fmt::Display for ProjectorStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.name)?;
        match &self.group {
            Err(e) => writeln!(f, "  consumer group: unknown: {e}")?,
            Ok(group) => {
                let members = if group.members == 1 {
                    "member"
                } else {
                    "members"
                };
                writeln!(
                    f,
                    "  consumer group {}: {}, {} {members}",
                    group.group, group.state, group.members
                )?;
                for topic in &group.missing_topics {
                    writeln!(f, "  topic {topic} does not exist yet")?;
                }
                if !group.partitions.is_empty() {
                    writeln!(
                        f,
                        "    {:<28}{:>12}{:>12}{:>8}{:>10}  last applied",
                        "partition", "committed", "end", "lag", "lag (s)"
                    )?;
                }
                for p in &group.partitions {
                    let committed = p.committed.map_or("-".to_owned(), |c| thousands(c as u64));
                    let last = p.last_applied.map_or("-".to_owned(), |(offset, at)| {
                        format!(
                            "offset {} at {}",
                            thousands(offset as u64),
                            ago(at, self.at)
                        )
                    });
                    writeln!(
                        f,
                        "    {:<28}{committed:>12}{:>12}{:>8}{:>10.1}  {last}",
                        format!("{}/{}", p.topic, p.partition),
                        thousands(p.high as u64),
                        thousands(p.lag() as u64),
                        p.lag_seconds(self.at)
                    )?;
                }
                let last = group
                    .partitions
                    .iter()
                    .filter_map(|p| p.last_applied)
                    .max_by_key(|(_, at)| *at);
                writeln!(
                    f,
                    "  lag: {} messages, {:.1}s; last applied event: {}",
                    thousands(group.lag() as u64),
                    group.lag_seconds(self.at),
                    last.map_or("none".to_owned(), |(_, at)| ago(at, self.at))
                )?;
            }
        }
        match &self.dead_letters {
            Err(e) => writeln!(f, "  dead letters: unknown: {e}")?,
            Ok(c) => writeln!(
                f,
                "  dead letters: {} in {} ({} not re-driven)",
                thousands(c.total),
                self.dead_letter_topic,
                thousands(c.pending)
            )?,
        }
        match &self.store {
            Err(e) => writeln!(f, "  store: unknown: {e}")?,
            Ok(lines) => {
                for line in lines {
                    writeln!(f, "  {line}")?;
                }
            }
        }
        Ok(())
    }
}
