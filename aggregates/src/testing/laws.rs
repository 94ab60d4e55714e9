use proptest::{
    strategy::Strategy,
    test_runner::{Config, TestCaseError, TestError, TestRunner},
};

use super::{history, proptest_config, LawBroken, Step};
use crate::Aggregate;

use super::history::Invariant;

/// Checks every generic law for `A` on generated command sequences.
///
/// The `check_laws::<A>(strategy)` one-liner runs them with no invariant of your own.
pub struct Laws<A: Aggregate> {
    invariants: Vec<Invariant<A>>,
    config: Config,
}

/// All generic laws for `A` over `commands`; panics with the smallest failing sequence.
pub fn check_laws<A: Aggregate>(commands: impl Strategy<Value = Vec<A::Command>>) {
    Laws::<A>::new().check(commands);
}

impl<A: Aggregate> Default for Laws<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Aggregate> Laws<A> {
    /// The laws with the kit's configuration (1,000 cases, or `PROPTEST_CASES`).
    pub fn new() -> Self {
        Self {
            invariants: Vec::new(),
            config: proptest_config(),
        }
    }

    /// Adds an invariant checked after every command, accepted or refused: return `Err` with
    /// what is wrong. It sees the state before and after, the command and its outcome.
    pub fn invariant(
        mut self,
        invariant: impl Fn(&Step<'_, A>) -> Result<(), String> + 'static,
    ) -> Self {
        self.invariants.push(Box::new(invariant));
        self
    }

    pub fn with_config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Checks one command sequence.
    pub fn check_sequence(&self, commands: &[A::Command]) -> Result<(), LawBroken> {
        history::check(commands, &self.invariants)
    }

    /// Runs the property and returns proptest's verdict (for tests that expect a failure).
    pub fn run<S>(&self, commands: S) -> Result<(), TestError<S::Value>>
    where
        S: Strategy<Value = Vec<A::Command>>,
    {
        let mut runner = TestRunner::new(self.config.clone());
        runner.run(&commands, |sequence| {
            self.check_sequence(&sequence)
                .map_err(|broken| TestCaseError::fail(broken.to_string()))
        })
    }

    /// Runs the property; panics with the broken law and the smallest failing sequence.
    #[track_caller]
    pub fn check<S>(&self, commands: S)
    where
        S: Strategy<Value = Vec<A::Command>>,
    {
        match self.run(commands) {
            Ok(()) => {}
            Err(TestError::Fail(reason, sequence)) => panic!(
                "{} broke an aggregate law: {reason}\nsmallest failing command sequence: {sequence:#?}",
                std::any::type_name::<A>()
            ),
            Err(TestError::Abort(reason)) => panic!("property test aborted: {reason}"),
        }
    }
}
