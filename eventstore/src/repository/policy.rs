/// When the repository writes snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// Every this many events; 0 turns snapshots off (neither read nor written).
    pub every: u64,
}

impl SnapshotPolicy {
    pub const DISABLED: SnapshotPolicy = SnapshotPolicy { every: 0 };

    pub fn every(events: u64) -> Self {
        Self { every: events }
    }

    pub fn enabled(self) -> bool {
        self.every > 0
    }

    /// True when going from version `before` to `after` crossed a multiple of `every`.
    pub fn due(self, before: u64, after: u64) -> bool {
        self.enabled() && before / self.every != after / self.every
    }
}

impl Default for SnapshotPolicy {
    fn default() -> Self {
        Self::every(100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_when_crossing_a_multiple() {
        let p = SnapshotPolicy::every(10);
        assert!(!p.due(0, 9));
        assert!(p.due(9, 10));
        assert!(p.due(8, 12));
        assert!(!p.due(10, 19));
        assert!(!SnapshotPolicy::DISABLED.due(0, 1000));
    }
}
