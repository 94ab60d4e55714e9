//! Amounts of money in integer minor units (cents, pence, yen): never floats.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A non-negative amount in the minor unit of its currency (cents for EUR, yen for JPY).
///
/// Arithmetic is checked or saturating by name: an overflow is for the caller to report,
/// never a silent wrap.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct MinorUnits(u64);

impl MinorUnits {
    pub const ZERO: Self = Self(0);

    pub const fn new(amount: u64) -> Self {
        Self(amount)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }

    pub fn checked_mul(self, factor: u64) -> Option<Self> {
        self.0.checked_mul(factor).map(Self)
    }

    pub fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }

    pub fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }
}

impl From<u64> for MinorUnits {
    fn from(amount: u64) -> Self {
        Self(amount)
    }
}

impl fmt::Display for MinorUnits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_reports_overflow_instead_of_wrapping() {
        let max = MinorUnits::new(u64::MAX);
        assert_eq!(max.checked_add(MinorUnits::new(1)), None);
        assert_eq!(max.checked_mul(2), None);
        assert_eq!(MinorUnits::ZERO.checked_sub(MinorUnits::new(1)), None);
        assert_eq!(max.saturating_add(MinorUnits::new(1)), max);
        assert_eq!(MinorUnits::new(7).checked_mul(3), Some(MinorUnits::new(21)));
    }

    #[test]
    fn serialises_as_a_bare_integer() {
        let json = serde_json::to_string(&MinorUnits::new(1250)).unwrap();
        assert_eq!(json, "1250");
        assert!(serde_json::from_str::<MinorUnits>("-1").is_err());
        assert!(serde_json::from_str::<MinorUnits>("12.5").is_err());
    }
}
