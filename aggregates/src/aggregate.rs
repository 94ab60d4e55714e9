use keel_schemas::VersionedEvent;
use serde::{de::DeserializeOwned, Serialize};

/// A domain error that names the rule that refused a command.
pub trait RuleViolation: std::error::Error + Send + Sync + 'static {
    /// A stable, kebab-case identifier of the rule (`order-empty`), used as the problem type.
    fn rule(&self) -> &'static str;
    /// The command field at fault, where there is one.
    fn field(&self) -> Option<&'static str> {
        None
    }
}

/// A consistency boundary rebuilt from its events.
///
/// `decide` looks at the current state and a command and returns the events to record (or
/// the rule that refused it) without changing anything; `apply` folds one event into the
/// state and never fails. The state is serialisable so the repository can snapshot it.
///
/// Both are pure: no clock, no randomness, no IO. Ids and times come in with the command,
/// so replaying a stream, or retrying a command, always gives the same answer.
///
/// # Example
///
/// A counter that refuses to go past three:
///
/// ```
/// use keel_aggregates::{Aggregate, RuleViolation};
/// use keel_schemas::{EncodedEvent, SchemaError, VersionedEvent};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Clone, PartialEq)]
/// enum CounterEvent {
///     Incremented,
/// }
///
/// impl VersionedEvent for CounterEvent {
///     const STREAM_TYPE: &'static str = "counter";
///     fn event_type(&self) -> &'static str {
///         "Incremented"
///     }
///     fn encode(&self) -> EncodedEvent {
///         let payload = serde_json::json!({});
///         EncodedEvent { event_type: "Incremented".into(), schema_version: 1, payload }
///     }
///     fn decode(e: &EncodedEvent) -> Result<Self, SchemaError> {
///         match (e.event_type.as_str(), e.schema_version) {
///             ("Incremented", 1) => Ok(CounterEvent::Incremented),
///             ("Incremented", version) => Err(SchemaError::UnknownVersion {
///                 event_type: e.event_type.clone(), version, current: 1,
///             }),
///             _ => Err(SchemaError::UnknownEventType {
///                 stream_type: Self::STREAM_TYPE, event_type: e.event_type.clone(),
///             }),
///         }
///     }
///     fn encode_as(&self, version: u32) -> Option<EncodedEvent> {
///         (version == 1).then(|| self.encode())
///     }
/// }
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("the counter cannot go past {0}")]
/// struct AtLimit(u32);
///
/// impl RuleViolation for AtLimit {
///     fn rule(&self) -> &'static str {
///         "counter-at-limit"
///     }
/// }
///
/// #[derive(Debug, Clone)]
/// struct Increment;
///
/// #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
/// struct Counter {
///     value: u32,
/// }
///
/// impl Aggregate for Counter {
///     type Command = Increment;
///     type Event = CounterEvent;
///     type Error = AtLimit;
///     const SNAPSHOT_VERSION: u32 = 1;
///
///     fn decide(&self, _: &Increment) -> Result<Vec<CounterEvent>, AtLimit> {
///         if self.value >= 3 {
///             return Err(AtLimit(3));
///         }
///         Ok(vec![CounterEvent::Incremented])
///     }
///
///     fn apply(&mut self, event: &CounterEvent) {
///         match event {
///             CounterEvent::Incremented => self.value = self.value.saturating_add(1),
///         }
///     }
/// }
///
/// let mut counter = Counter::default();
/// for _ in 0..3 {
///     for event in counter.decide(&Increment).unwrap() {
///         counter.apply(&event);
///     }
/// }
/// assert_eq!(counter.value, 3);
/// assert_eq!(counter.decide(&Increment).unwrap_err().rule(), "counter-at-limit");
/// ```
///
/// With the `testing` feature, `keel_aggregates::testing::check_laws::<Counter>(strategy)`
/// property-tests replay, snapshots, upcasting and refusals for any command strategy.
pub trait Aggregate:
    Default + Clone + std::fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    type Command: Clone + std::fmt::Debug + Send + Sync;
    type Event: VersionedEvent;
    type Error: RuleViolation;

    /// Bumped whenever the serialised state changes shape; an older snapshot is ignored.
    const SNAPSHOT_VERSION: u32;

    /// The stream type, e.g. `order`; streams are named `<stream type>-<id>`.
    fn stream_type() -> &'static str {
        <Self::Event as VersionedEvent>::STREAM_TYPE
    }

    fn decide(&self, command: &Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    fn apply(&mut self, event: &Self::Event);
}
