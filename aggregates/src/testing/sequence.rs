use std::fmt::Debug;

use proptest::{collection::vec, prelude::*};

/// Sequences that follow `path` (say, an aggregate's happy path) with up to `max_noise`
/// commands from `noise` slipped in anywhere. Random commands alone rarely get deep into a
/// lifecycle; a path with noise does, and still tries every command in every state.
pub fn path_with_noise<T: Clone + Debug>(
    path: impl Strategy<Value = Vec<T>>,
    noise: impl Strategy<Value = T>,
    max_noise: usize,
) -> impl Strategy<Value = Vec<T>> {
    (
        path,
        vec(noise, 0..=max_noise),
        vec(any::<bool>(), 0..=2 * max_noise),
    )
        .prop_map(|(path, noise, picks)| interleave(path, noise, &picks))
}

/// Merges two sequences, keeping the order of each; `picks[i]` says which one goes next
/// (true: `a`). When the picks run out, the rest of `a`, then of `b`, follow.
pub fn interleave<T>(a: Vec<T>, b: Vec<T>, picks: &[bool]) -> Vec<T> {
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter(), b.into_iter());
    for &pick_a in picks {
        let next = if pick_a {
            a.next().or_else(|| b.next())
        } else {
            b.next().or_else(|| a.next())
        };
        merged.extend(next);
    }
    merged.extend(a);
    merged.extend(b);
    merged
}

#[cfg(test)]
mod tests {
    use super::interleave;

    #[test]
    fn interleaving_keeps_both_orders() {
        let merged = interleave(vec![1, 2, 3], vec![10, 20], &[false, true, true, false]);
        assert_eq!(merged, vec![10, 1, 2, 20, 3]);
        assert_eq!(interleave(vec![1, 2], vec![], &[false, false]), vec![1, 2]);
        assert_eq!(interleave(vec![], vec![7], &[true]), vec![7]);
    }
}
