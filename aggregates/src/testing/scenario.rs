use crate::{Aggregate, RuleViolation};

/// Given/when/then for one aggregate, without any IO:
///
/// ```
/// # use keel_aggregates::{order::*, testing::Scenario};
/// Scenario::<Order>::new()
///     .when(OrderCommand::ConfirmOrder)
///     .then_refused("order-not-placed");
/// ```
#[derive(Debug, Clone)]
pub struct Scenario<A: Aggregate> {
    state: A,
}

/// The outcome of [`Scenario::when`], to assert on.
#[derive(Debug)]
pub struct Then<A: Aggregate> {
    before: A,
    command: A::Command,
    outcome: Result<Vec<A::Event>, A::Error>,
}

impl<A: Aggregate> Default for Scenario<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Aggregate> Scenario<A> {
    /// An empty stream.
    pub fn new() -> Self {
        Self {
            state: A::default(),
        }
    }

    /// A stream that already holds `events`.
    pub fn given(events: impl IntoIterator<Item = A::Event>) -> Self {
        let mut state = A::default();
        for event in events {
            state.apply(&event);
        }
        Self { state }
    }

    /// A stream built by commands that must all be accepted.
    #[track_caller]
    pub fn given_commands(commands: impl IntoIterator<Item = impl Into<A::Command>>) -> Self {
        let mut scenario = Self::new();
        for command in commands {
            scenario = Self {
                state: scenario.when(command.into()).accepted(),
            };
        }
        scenario
    }

    pub fn state(&self) -> &A {
        &self.state
    }

    pub fn when(self, command: impl Into<A::Command>) -> Then<A> {
        let command = command.into();
        let outcome = self.state.decide(&command);
        Then {
            before: self.state,
            command,
            outcome,
        }
    }
}

impl<A: Aggregate> Then<A> {
    pub fn outcome(&self) -> &Result<Vec<A::Event>, A::Error> {
        &self.outcome
    }

    /// Asserts exactly these events; returns the state after them.
    #[track_caller]
    pub fn then_events(self, expected: impl IntoIterator<Item = A::Event>) -> A {
        let expected: Vec<_> = expected.into_iter().collect();
        match &self.outcome {
            Ok(events) => assert_eq!(events, &expected, "events of {:?}", self.command),
            Err(error) => panic!(
                "{:?} was refused ({}: {error}), expected {expected:?}",
                self.command,
                error.rule()
            ),
        }
        self.accepted()
    }

    /// Asserts the command was accepted; returns the state after its events.
    #[track_caller]
    pub fn accepted(self) -> A {
        match self.outcome {
            Ok(events) => {
                let mut state = self.before;
                for event in &events {
                    state.apply(event);
                }
                state
            }
            Err(error) => panic!("{:?} was refused ({}: {error})", self.command, error.rule()),
        }
    }

    /// Asserts a refusal by `rule`; returns the error.
    #[track_caller]
    pub fn then_refused(self, rule: &str) -> A::Error {
        match self.outcome {
            Ok(events) => panic!(
                "{:?} was accepted with {events:?}, expected `{rule}`",
                self.command
            ),
            Err(error) => {
                assert_eq!(error.rule(), rule, "refusal of {:?}: {error}", self.command);
                error
            }
        }
    }

    /// Asserts a refusal by `rule` that blames `field`.
    #[track_caller]
    pub fn then_refused_on(self, rule: &str, field: &str) -> A::Error {
        let error = self.then_refused(rule);
        assert_eq!(
            error.field(),
            Some(field),
            "field blamed by `{rule}`: {error}"
        );
        error
    }
}
