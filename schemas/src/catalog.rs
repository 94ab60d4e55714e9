use std::ops::RangeInclusive;

/// One event type of a stream type and its newest schema version.
///
/// Every version from 1 up to `current_version` is published: `decode` accepts it and a
/// JSON Schema document `json/<stream>/<event_type>.v<N>.json` describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublishedEvent {
    pub event_type: &'static str,
    pub current_version: u32,
}

impl PublishedEvent {
    pub const fn new(event_type: &'static str, current_version: u32) -> Self {
        Self {
            event_type,
            current_version,
        }
    }

    pub fn versions(&self) -> RangeInclusive<u32> {
        1..=self.current_version
    }
}
