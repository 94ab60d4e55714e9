use serde::{Deserialize, Serialize};

use crate::MinorUnits;

/// One line of an order: so many units of one article at a unit price.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    /// Per unit, in minor units of the order's currency.
    pub unit_price: MinorUnits,
}

impl LineItem {
    /// `quantity × unit_price`, or `None` on overflow.
    pub fn line_total(&self) -> Option<MinorUnits> {
        self.unit_price.checked_mul(u64::from(self.quantity))
    }
}

/// The sum of the line totals, or `None` on overflow.
pub fn total_of(lines: &[LineItem]) -> Option<MinorUnits> {
    lines.iter().try_fold(MinorUnits::ZERO, |sum, line| {
        sum.checked_add(line.line_total()?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(quantity: u32, unit_price: u64) -> LineItem {
        LineItem {
            sku: "SKU-1".into(),
            name: "Widget".into(),
            quantity,
            unit_price: MinorUnits::new(unit_price),
        }
    }

    #[test]
    fn totals_are_checked() {
        assert_eq!(
            total_of(&[line(2, 150), line(1, 99)]),
            Some(MinorUnits::new(399))
        );
        assert_eq!(total_of(&[]), Some(MinorUnits::ZERO));
        assert_eq!(total_of(&[line(2, u64::MAX)]), None);
        assert_eq!(total_of(&[line(1, u64::MAX), line(1, 1)]), None);
    }
}
