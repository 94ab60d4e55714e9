//! Property tests: Order and Payment keep every law of the kit, the strategies reach deep
//! states, and the kit catches deliberately broken aggregates.

mod mutants;
mod order;
mod payment;

use std::collections::BTreeMap;

use keel_aggregates::Aggregate;
use proptest::{
    strategy::{Strategy, ValueTree},
    test_runner::TestRunner,
};

/// How often each value of `key` is seen after some command, over 1,000 sampled sequences,
/// and the share of commands accepted.
fn reach<A: Aggregate, K: Ord>(
    commands: impl Strategy<Value = Vec<A::Command>>,
    key: impl Fn(&A) -> K,
) -> (BTreeMap<K, usize>, f64) {
    let mut runner = TestRunner::deterministic();
    let mut seen = BTreeMap::new();
    let (mut accepted, mut total) = (0usize, 0usize);
    for _ in 0..1000 {
        let sequence = commands.new_tree(&mut runner).expect("strategy").current();
        let mut state = A::default();
        let mut visited = std::collections::BTreeSet::new();
        for command in &sequence {
            total += 1;
            if let Ok(events) = state.decide(command) {
                accepted += 1;
                events.iter().for_each(|event| state.apply(event));
            }
            visited.insert(key(&state));
        }
        for k in visited {
            *seen.entry(k).or_insert(0) += 1;
        }
    }
    (seen, accepted as f64 / total.max(1) as f64)
}
