//! Checks the laws on one command sequence.

use keel_schemas::VersionedEvent;

use super::{Law, LawBroken, Step};
use crate::{Aggregate, RuleViolation};

pub(super) type Invariant<A> = Box<dyn Fn(&Step<'_, A>) -> Result<(), String>>;

pub(super) fn check<A: Aggregate>(
    commands: &[A::Command],
    invariants: &[Invariant<A>],
) -> Result<(), LawBroken> {
    let mut state = A::default();
    let mut events: Vec<A::Event> = Vec::new();
    // `states[k]` is the state after the first k events: every point a snapshot can be taken.
    let mut states = vec![state.clone()];
    for (index, command) in commands.iter().enumerate() {
        let at = |law, detail: String| LawBroken::new(law, Some(index), detail);
        let before = state.clone();
        let outcome = state.decide(command);
        same_decision::<A>(&outcome, &state.decide(command))
            .map_err(|detail| at(Law::DecideIsDeterministic, detail))?;
        match &outcome {
            Ok(new_events) => {
                for event in new_events {
                    round_trip(event).map_err(|detail| at(Law::EventRoundTrip, detail))?;
                    state.apply(event);
                    events.push(event.clone());
                    states.push(state.clone());
                }
                if states.len() != events.len() + 1 {
                    return Err(at(Law::StreamVersion, "a version has no state".into()));
                }
            }
            Err(error) => {
                if state != before {
                    let detail = format!("{error} changed {before:?} into {state:?}");
                    return Err(at(Law::RefusalChangesNothing, detail));
                }
                rule_is_named(error).map_err(|detail| at(Law::RuleIsNamed, detail))?;
            }
        }
        let step = Step {
            index,
            before: &before,
            command,
            outcome: outcome.as_deref(),
            after: &state,
        };
        for invariant in invariants {
            invariant(&step).map_err(|detail| at(Law::Invariant, detail))?;
        }
    }
    replays(&events, &states, &state)
}

fn replays<A: Aggregate>(events: &[A::Event], states: &[A], expected: &A) -> Result<(), LawBroken> {
    let whole = |law, detail: String| LawBroken::new(law, None, detail);
    let replayed = fold(A::default(), events);
    if replayed != *expected {
        let detail = format!("got {replayed:?}, expected {expected:?}");
        return Err(whole(Law::ReplayFromScratch, detail));
    }
    for (version, state) in states.iter().enumerate() {
        let restored = snapshot_round_trip(state).map_err(|d| whole(Law::SnapshotRoundTrip, d))?;
        if restored != *state {
            let detail = format!("at version {version}, {state:?} came back as {restored:?}");
            return Err(whole(Law::SnapshotRoundTrip, detail));
        }
        let rebuilt = fold(restored, &events[version..]);
        if rebuilt != *expected {
            let detail =
                format!("snapshot at version {version} then the rest gave {rebuilt:?}, expected {expected:?}");
            return Err(whole(Law::SnapshotThenRest, detail));
        }
    }
    let newest = events
        .iter()
        .map(|e| e.encode().schema_version)
        .max()
        .unwrap_or(1);
    for version in 1..newest {
        let upcast = written_as::<A>(events, version).map_err(|d| whole(Law::UpcastReplay, d))?;
        let rebuilt = fold(A::default(), &upcast);
        if rebuilt != *expected {
            let detail =
                format!("events written as v{version} gave {rebuilt:?}, expected {expected:?}");
            return Err(whole(Law::UpcastReplay, detail));
        }
    }
    Ok(())
}

fn fold<A: Aggregate>(mut state: A, events: &[A::Event]) -> A {
    for event in events {
        state.apply(event);
    }
    state
}

fn same_decision<A: Aggregate>(
    first: &Result<Vec<A::Event>, A::Error>,
    second: &Result<Vec<A::Event>, A::Error>,
) -> Result<(), String> {
    let same = match (first, second) {
        (Ok(a), Ok(b)) => a == b,
        (Err(a), Err(b)) => a.rule() == b.rule() && a.to_string() == b.to_string(),
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(format!("first {first:?}, then {second:?}"))
    }
}

fn round_trip<E: VersionedEvent>(event: &E) -> Result<(), String> {
    let encoded = event.encode();
    if encoded.event_type != event.event_type() {
        return Err(format!(
            "{event:?} encodes as type `{}`",
            encoded.event_type
        ));
    }
    match E::decode(&encoded) {
        Ok(decoded) if decoded == *event => Ok(()),
        Ok(decoded) => Err(format!("{event:?} came back as {decoded:?}")),
        Err(error) => Err(format!("{event:?} does not decode: {error}")),
    }
}

fn rule_is_named<E: RuleViolation>(error: &E) -> Result<(), String> {
    let rule = error.rule();
    let kebab = rule.split('-').all(|word| {
        !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if !kebab {
        return Err(format!("rule `{rule}` of {error:?} is not kebab-case"));
    }
    if error.to_string().trim().is_empty() {
        return Err(format!("rule `{rule}` has no message"));
    }
    if error.field().is_some_and(|field| field.trim().is_empty()) {
        return Err(format!("rule `{rule}` names an empty field"));
    }
    Ok(())
}

fn snapshot_round_trip<A: Aggregate>(state: &A) -> Result<A, String> {
    let json =
        serde_json::to_string(state).map_err(|e| format!("{state:?} does not serialise: {e}"))?;
    serde_json::from_str(&json).map_err(|e| format!("snapshot {json} does not read back: {e}"))
}

/// The events as a reader would get them if each had been written in `version` where that
/// version can express it (and in its current version where not).
fn written_as<A: Aggregate>(events: &[A::Event], version: u32) -> Result<Vec<A::Event>, String> {
    events
        .iter()
        .map(|event| match event.encode_as(version) {
            None => Ok(event.clone()),
            Some(old) if old.schema_version != version || old.event_type != event.event_type() => {
                Err(format!(
                    "encode_as({version}) of {event:?} gave {} v{}",
                    old.event_type, old.schema_version
                ))
            }
            Some(old) => A::Event::decode(&old)
                .map_err(|e| format!("{event:?} written as v{version} does not decode: {e}")),
        })
        .collect()
}
