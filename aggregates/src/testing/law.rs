use std::fmt;

use crate::Aggregate;

/// The laws the kit checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// The caller's invariant (see [`Laws::invariant`](super::Laws::invariant)).
    Invariant,
    /// A refused command changes nothing.
    RefusalChangesNothing,
    /// A refusal names its rule in kebab case, with a message and a non-empty field.
    RuleIsNamed,
    /// The same command on the same state gets the same answer.
    DecideIsDeterministic,
    /// `decode(encode(e)) == e`, under the event's own type name.
    EventRoundTrip,
    /// After n accepted commands the stream version is the number of events they produced.
    StreamVersion,
    /// Replaying every event from the default state gives the incremental state.
    ReplayFromScratch,
    /// A snapshot read back from JSON equals the state it was taken from.
    SnapshotRoundTrip,
    /// A snapshot plus the events after it gives the incremental state.
    SnapshotThenRest,
    /// Events written in older schema versions, upcast by `decode`, give the same state.
    UpcastReplay,
}

impl Law {
    pub fn name(self) -> &'static str {
        match self {
            Self::Invariant => "invariant",
            Self::RefusalChangesNothing => "refusal-changes-nothing",
            Self::RuleIsNamed => "rule-is-named",
            Self::DecideIsDeterministic => "decide-is-deterministic",
            Self::EventRoundTrip => "event-round-trip",
            Self::StreamVersion => "stream-version",
            Self::ReplayFromScratch => "replay-from-scratch",
            Self::SnapshotRoundTrip => "snapshot-round-trip",
            Self::SnapshotThenRest => "snapshot-then-rest",
            Self::UpcastReplay => "upcast-replay",
        }
    }
}

impl fmt::Display for Law {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A law that one command sequence broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LawBroken {
    pub law: Law,
    /// The index of the command after which it was found, when the law is about one step.
    pub command: Option<usize>,
    pub detail: String,
}

impl LawBroken {
    pub(crate) fn new(law: Law, command: Option<usize>, detail: impl Into<String>) -> Self {
        Self {
            law,
            command,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for LawBroken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.command {
            Some(index) => write!(f, "law `{}` broken at command #{index}: ", self.law)?,
            None => write!(f, "law `{}` broken: ", self.law)?,
        }
        f.write_str(&self.detail)
    }
}

impl std::error::Error for LawBroken {}

/// One command of a sequence, as an invariant sees it.
pub struct Step<'a, A: Aggregate> {
    /// Position of the command in the sequence.
    pub index: usize,
    pub before: &'a A,
    pub command: &'a A::Command,
    pub outcome: Result<&'a [A::Event], &'a A::Error>,
    pub after: &'a A,
}

impl<A: Aggregate> Step<'_, A> {
    pub fn accepted(&self) -> bool {
        self.outcome.is_ok()
    }
}
