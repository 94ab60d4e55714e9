//! `keel projections status|rebuild|replay|verify|dead-letters`: the operator's commands
//! on the projectors' read models. Each projector is a [`ReadModel`] of `keel-projections`;
//! this file only parses flags, builds them and prints what they report. Summaries go to
//! stdout, progress to stderr; any failure, difference or still-failing dead letter exits
//! non-zero.

use std::time::Duration;

use anyhow::Context;
use chrono::SecondsFormat;
use clap::{Args, Subcommand, ValueEnum};
use keel_projections::engine::RunnerConfig;
use keel_projections::operations::{
    self, OperationError, Progress, ReadModel, RebuildOptions, ReplayFrom, ReplayOptions,
    VerifyOptions,
};
use keel_projections::search::{SearchConfig, SearchReadModel, ALIAS, DEFAULT_TOPIC};
use keel_services::config::{service_database_url, ServiceKind, DEFAULT_DATABASE_URL};

use super::parse_duration;

#[derive(Debug, Args)]
pub struct ProjectionsArgs {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    action: Action,
}

/// The projectors there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Name {
    /// The Elasticsearch read model of orders.
    Search,
}

impl Name {
    const ALL: [Name; 1] = [Name::Search];
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Per projector: consumer-group lag per partition (messages, seconds), the last applied
    /// event, dead letters, and its store (the index behind the alias, its documents, an
    /// unfinished rebuild).
    Status {
        /// One projector only (default: all).
        name: Option<Name>,
    },
    /// Build the read model again from the event store into a new generation beside the
    /// live one, catch it up, switch the queries to it atomically, then drop the old one.
    Rebuild(RebuildArgs),
    /// Re-apply the events from a point of the global log in place (idempotent by version).
    Replay(ReplayArgs),
    /// Compare the read model with the fold of every stream in the event store; exit 1 on
    /// any difference.
    Verify(VerifyArgs),
    /// List the projector's dead letters (not yet re-driven), or re-drive them.
    DeadLetters(DeadLetterArgs),
}

#[derive(Debug, Args)]
struct RebuildArgs {
    name: Name,
    /// Continue an interrupted rebuild (its unfinished index, from where it was).
    #[arg(long, conflicts_with = "discard")]
    resume: bool,
    /// Delete an interrupted rebuild's unfinished index and start over.
    #[arg(long)]
    discard: bool,
    /// Keep the old index after the switch (default: delete it).
    #[arg(long)]
    keep_old: bool,
    /// Size of one bulk write request (bytes; kb, mb suffixes).
    #[arg(long, default_value = "4mb", value_parser = parse_bytes)]
    batch_bytes: usize,
    /// Bulk write requests in flight at once.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=64))]
    requests_in_flight: u16,
    /// At most this many events per second (spares a busy cluster; default: no limit).
    #[arg(long)]
    max_rate: Option<u64>,
}

#[derive(Debug, Args)]
struct ReplayArgs {
    name: Name,
    /// A global position (inclusive) or an RFC 3339 time (2025-01-02T03:04:05Z).
    #[arg(long, value_parser = parse_from)]
    from: ReplayFrom,
    /// Fold every affected stream again from its first event and rewrite its document at
    /// the same version (after a fix of the fold).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    name: Name,
    /// Differences printed in full (all are counted).
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

#[derive(Debug, Args)]
struct DeadLetterArgs {
    name: Name,
    /// Re-apply the pending dead letters through the projector (once the cause is fixed);
    /// those that fail again are published again with the new error.
    #[arg(long)]
    redrive: bool,
    /// List the re-driven ones too.
    #[arg(long, conflicts_with = "redrive")]
    all: bool,
}

/// Where the projectors' dependencies are; given before or after the subcommand.
#[derive(Debug, Args)]
#[command(next_help_heading = "Servers and names")]
struct Settings {
    #[arg(
        long,
        env = "KAFKA_BROKERS",
        default_value = "127.0.0.1:9092",
        global = true
    )]
    kafka_brokers: String,
    #[arg(
        long,
        env = "ELASTICSEARCH_URL",
        default_value = "http://127.0.0.1:9200",
        global = true
    )]
    elasticsearch_url: String,
    /// The search model's alias.
    #[arg(long, env = "SEARCH_ALIAS", default_value = ALIAS, global = true)]
    alias: String,
    /// The topic of order events.
    #[arg(long, env = "SEARCH_TOPIC", default_value = DEFAULT_TOPIC, global = true)]
    topic: String,
    /// PostgreSQL server of the order service's event store (database keel_orders).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true, global = true)]
    database_url: String,
    /// The order service's own database.
    #[arg(
        long,
        env = "ORDER_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    order_database_url: Option<String>,
    /// The projector's consumer group, when not keel-projector-<name>.
    #[arg(long, env = "PROJECTOR_GROUP_ID", global = true)]
    group_id: Option<String>,
    /// The projector's dead-letter topic, when not keel.dead-letters.<name>.
    #[arg(long, env = "PROJECTOR_DEAD_LETTER_TOPIC", global = true)]
    dead_letter_topic: Option<String>,
    /// The longest one Kafka call may take.
    #[arg(long, env = "PROJECTOR_KAFKA_TIMEOUT", default_value = "10s", value_parser = parse_duration, global = true)]
    kafka_timeout: Duration,
    /// The longest one Elasticsearch request may take.
    #[arg(long, env = "SEARCH_REQUEST_TIMEOUT", default_value = "60s", value_parser = parse_duration, global = true)]
    request_timeout: Duration,
    /// No progress reports on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
}

impl Settings {
    fn read_model(&self, name: Name) -> anyhow::Result<Box<dyn ReadModel>> {
        let mut runner = RunnerConfig::new(&self.kafka_brokers);
        runner.group_id = self.group_id.clone();
        runner.dead_letter_topic = self.dead_letter_topic.clone();
        runner.kafka_timeout = self.kafka_timeout;
        match name {
            Name::Search => {
                let url = service_database_url(
                    ServiceKind::Orders,
                    &self.database_url,
                    self.order_database_url.as_deref(),
                )?;
                let mut config = SearchConfig::new(&self.elasticsearch_url, url);
                config.alias = self.alias.clone();
                config.topic = self.topic.clone();
                config.request_timeout = self.request_timeout;
                Ok(Box::new(SearchReadModel::new(config, &runner)?))
            }
        }
    }
}

pub async fn projections(args: ProjectionsArgs) -> anyhow::Result<()> {
    let settings = &args.settings;
    match args.action {
        Action::Status { name } => status(settings, name).await,
        Action::Rebuild(rebuild) => {
            let model = settings.read_model(rebuild.name)?;
            let options = RebuildOptions {
                resume: rebuild.resume,
                discard: rebuild.discard,
                keep_old: rebuild.keep_old,
                batch_bytes: rebuild.batch_bytes,
                requests_in_flight: usize::from(rebuild.requests_in_flight),
                max_rate: rebuild.max_rate,
            };
            let progress = Progress::new(settings.quiet);
            let summary = model
                .rebuild(&options, &progress)
                .await
                .map_err(|e| failed(e, "rebuild", model.name()))?;
            drop(progress);
            print!("{summary}");
            Ok(())
        }
        Action::Replay(replay) => {
            let model = settings.read_model(replay.name)?;
            let options = ReplayOptions {
                from: replay.from,
                force: replay.force,
            };
            let progress = Progress::new(settings.quiet);
            let summary = model
                .replay(&options, &progress)
                .await
                .map_err(|e| failed(e, "replay", model.name()))?;
            drop(progress);
            print!("{summary}");
            anyhow::ensure!(
                summary.rejected == 0,
                "{} events could not be applied",
                summary.rejected
            );
            Ok(())
        }
        Action::Verify(verify) => {
            let model = settings.read_model(verify.name)?;
            let progress = Progress::new(settings.quiet);
            let report = model
                .verify(
                    &VerifyOptions {
                        limit: verify.limit,
                    },
                    &progress,
                )
                .await
                .map_err(|e| failed(e, "verify", model.name()))?;
            drop(progress);
            print!("{report}");
            anyhow::ensure!(
                report.is_clean(),
                "{} and the event store differ ({} found)",
                model.name(),
                report.differences()
            );
            Ok(())
        }
        Action::DeadLetters(letters) => dead_letters(settings, letters).await,
    }
}

/// The error as the operator should read it: which command, which projector.
fn failed(error: OperationError, command: &str, name: &str) -> anyhow::Error {
    match error {
        // Already a full sentence telling what to do.
        OperationError::Decision(_) | OperationError::Usage(_) => anyhow::Error::new(error),
        other => anyhow::Error::new(other).context(format!("{command} of {name} failed")),
    }
}

async fn status(settings: &Settings, name: Option<Name>) -> anyhow::Result<()> {
    let names = name.map_or(Name::ALL.to_vec(), |n| vec![n]);
    let mut incomplete = Vec::new();
    for name in names {
        let model = settings.read_model(name)?;
        let status = operations::status(model.as_ref()).await;
        print!("{status}");
        if !status.complete() {
            incomplete.push(status.name);
        }
    }
    anyhow::ensure!(
        incomplete.is_empty(),
        "the status of {} is incomplete: a dependency did not answer",
        incomplete.join(", ")
    );
    Ok(())
}

async fn dead_letters(settings: &Settings, args: DeadLetterArgs) -> anyhow::Result<()> {
    let model = settings.read_model(args.name)?;
    let kafka = model.kafka();
    if args.redrive {
        let projector = model.projector().await?;
        let redriven = operations::redrive(kafka, projector.as_ref())
            .await
            .with_context(|| format!("re-driving the dead letters of {}", model.name()))?;
        println!(
            "re-drove {} dead letters of {}: {} applied, {} still failing",
            redriven.letters,
            model.name(),
            redriven.applied,
            redriven.still_failing.len()
        );
        for (letter, reason) in &redriven.still_failing {
            println!(
                "  {} v{}  event {}  {reason}",
                letter.stream_id().unwrap_or("-"),
                letter.version().map_or("-".to_owned(), |v| v.to_string()),
                letter.event_id().unwrap_or("-"),
            );
        }
        anyhow::ensure!(
            redriven.still_failing.is_empty(),
            "{} dead letters still fail; they are pending again in {}",
            redriven.still_failing.len(),
            kafka.dead_letter_topic
        );
        return Ok(());
    }
    let listing = operations::list(kafka, args.all)
        .await
        .with_context(|| format!("reading the dead letters of {}", model.name()))?;
    let which = if args.all { "" } else { " not re-driven" };
    println!(
        "{}: {} dead letters{which} in {}",
        model.name(),
        listing.letters.len(),
        kafka.dead_letter_topic
    );
    for letter in &listing.letters {
        let when = letter.dead_lettered_at().map_or("-".to_owned(), |t| {
            t.to_rfc3339_opts(SecondsFormat::Secs, true)
        });
        println!(
            "  {when}  {} v{}  event {}  {}  (at {}/{})",
            letter.stream_id().unwrap_or("-"),
            letter.version().map_or("-".to_owned(), |v| v.to_string()),
            letter.event_id().unwrap_or("-"),
            letter.error(),
            letter.partition,
            letter.offset
        );
    }
    Ok(())
}

fn parse_from(raw: &str) -> Result<ReplayFrom, String> {
    raw.parse()
}

/// A size: bytes, or a number with kb or mb (powers of 1024).
fn parse_bytes(raw: &str) -> Result<usize, String> {
    let lower = raw.trim().to_ascii_lowercase();
    let (number, unit) = match lower.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => lower.split_at(i),
        None => (lower.as_str(), ""),
    };
    let n: usize = number
        .parse()
        .map_err(|_| format!("`{raw}` is not a size like 4mb, 512kb or 65536"))?;
    let scale = match unit.trim() {
        "" | "b" => 1,
        "kb" | "k" => 1 << 10,
        "mb" | "m" => 1 << 20,
        _ => return Err(format!("`{raw}`: the unit must be kb or mb")),
    };
    match n.checked_mul(scale) {
        Some(0) | None => Err(format!("`{raw}` is not a usable size")),
        Some(bytes) => Ok(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_units() {
        assert_eq!(parse_bytes("4mb"), Ok(4 << 20));
        assert_eq!(parse_bytes("512KB"), Ok(512 << 10));
        assert_eq!(parse_bytes("65536"), Ok(65_536));
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("4gb").is_err());
        assert!(parse_bytes("mb").is_err());
    }
}
