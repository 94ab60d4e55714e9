//! ISO 4217 currency codes.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A currency, as its three-letter ISO 4217 code in capitals (`EUR`).
///
/// Only the shape is checked, not membership of today's ISO list: codes get retired
/// (HRK in 2023) and events recorded in them must still decode.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

/// A string that is not a currency code.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("`{0}` is not a currency code: expected three capital letters (ISO 4217), like EUR")]
pub struct InvalidCurrency(pub String);

impl Currency {
    pub const EUR: Self = Self(*b"EUR");
    pub const USD: Self = Self(*b"USD");
    pub const GBP: Self = Self(*b"GBP");
    pub const JPY: Self = Self(*b"JPY");

    pub fn parse(code: &str) -> Result<Self, InvalidCurrency> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(InvalidCurrency(code.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        // Always ASCII by construction; "XXX" is ISO's own "no currency" code.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl FromStr for Currency {
    type Err = InvalidCurrency;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::parse(code)
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidCurrency;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Self::parse(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_three_capital_letters_only() {
        assert_eq!(Currency::parse("EUR"), Ok(Currency::EUR));
        for bad in ["", "EU", "EURO", "eur", "E1R", "ÉUR"] {
            assert_eq!(Currency::parse(bad), Err(InvalidCurrency(bad.to_owned())));
        }
    }

    #[test]
    fn round_trips_through_json_as_a_string() {
        assert_eq!(serde_json::to_string(&Currency::JPY).unwrap(), "\"JPY\"");
        let back: Currency = serde_json::from_str("\"GBP\"").unwrap();
        assert_eq!(back, Currency::GBP);
        let err = serde_json::from_str::<Currency>("\"gbp\"").unwrap_err();
        assert!(err.to_string().contains("not a currency code"), "{err}");
    }
}
