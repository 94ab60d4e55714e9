//! Shape checks that turn request DTOs into domain values with a 400 naming the field.
//! Business rules stay in the domain (422); these only refuse what cannot be a value at all.

use std::fmt;

use keel_schemas::{Currency, MinorUnits};
use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};
use uuid::Uuid;

use crate::error::ApiError;

/// The largest amount of money accepted, in minor units: 2^53 − 1, exact as a JSON number in
/// every parser (JavaScript's included). The documents say `maximum: 9007199254740991`.
pub const MAX_MINOR_UNITS: u64 = 9_007_199_254_740_991;

/// The largest quantity of a line: `i32::MAX`, what the document's `format: int32` allows.
pub const MAX_QUANTITY: u32 = i32::MAX as u32;

/// Text of at most `max` characters as sent, with no ASCII control character (U+0000–U+001F,
/// U+007F) and at least one character that is not whitespace; returned trimmed.
///
/// The limit counts the value as sent, like JSON Schema's `maxLength`, so the documented
/// schema ([`TEXT_PATTERN`] plus `maxLength`) admits exactly what this accepts. Control
/// characters are refused: PostgreSQL's `jsonb` cannot hold U+0000, and the others are never
/// meant in a name, code or reason (and whitespace classes disagree about U+001C–U+001F).
pub fn text(field: &str, value: String, max: usize) -> Result<String, ApiError> {
    // `is_ascii_control`: exactly U+0000–U+001F and U+007F.
    if let Some(c) = value.chars().find(char::is_ascii_control) {
        return Err(invalid(
            field,
            format!(
                "`{field}` must not contain control characters (found U+{:04X})",
                u32::from(c)
            ),
        ));
    }
    if value.chars().count() > max {
        return Err(invalid(
            field,
            format!("`{field}` must be at most {max} characters"),
        ));
    }
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(invalid(field, format!("`{field}` must not be empty")));
    }
    Ok(trimmed.to_owned())
}

/// The JSON Schema `pattern` (ECMA-262) of what [`text`] accepts: no control character, and one
/// character that Rust's `char::is_whitespace` (Unicode `White_Space`) is false for. Spelled
/// out rather than `\S`, which ECMA, Python and Rust read differently (U+FEFF, U+0085,
/// U+001C–U+001F).
pub const TEXT_PATTERN: &str = r"^[^\u0000-\u001F\u007F]*[^\u0000-\u0020\u007F\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F]*$";

/// An ISO 4217 code in capitals.
pub fn currency(field: &str, value: &str) -> Result<Currency, ApiError> {
    Currency::parse(value).map_err(|e| invalid(field, e.to_string()))
}

/// An amount of at least one minor unit.
pub fn positive_amount(field: &str, value: u64) -> Result<MinorUnits, ApiError> {
    amount(field, value, 1)
}

/// An amount of `min` to [`MAX_MINOR_UNITS`] minor units.
pub fn amount(field: &str, value: u64, min: u64) -> Result<MinorUnits, ApiError> {
    if value < min || value > MAX_MINOR_UNITS {
        return Err(invalid(
            field,
            format!("`{field}` must be {min} to {MAX_MINOR_UNITS} (minor units, e.g. cents)"),
        ));
    }
    Ok(MinorUnits::new(value))
}

/// A UUID in its hyphenated form, the one JSON Schema's `format: uuid` names
/// (`Uuid::parse_str` alone also takes the simple, braced and URN forms).
pub fn parse_uuid(raw: &str) -> Option<Uuid> {
    if raw.len() != 36 {
        return None;
    }
    Uuid::parse_str(raw).ok()
}

/// `deserialize_with` for UUID fields: the hyphenated form only (see [`parse_uuid`]).
pub fn hyphenated_uuid<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Uuid, D::Error> {
    let raw = String::deserialize(deserializer)?;
    parse_uuid(&raw).ok_or_else(|| {
        de::Error::invalid_value(
            Unexpected::Str(&raw),
            &"a UUID like 0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6a",
        )
    })
}

/// `deserialize_with` for counts and amounts. JSON Schema's `integer` includes numbers with a
/// zero fraction (`2.0`, `2e3`), so they are read like their integer spelling.
pub fn whole_number<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    let n = deserializer.deserialize_any(WholeNumber)?;
    T::try_from(n)
        .map_err(|_| de::Error::invalid_value(Unexpected::Unsigned(n), &"a smaller whole number"))
}

struct WholeNumber;

impl Visitor<'_> for WholeNumber {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number, 0 or more")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        // 2^64 is exact in f64, and every whole f64 below it converts to u64 exactly.
        if v.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&v) {
            Ok(v as u64)
        } else {
            Err(E::invalid_value(Unexpected::Float(v), &self))
        }
    }
}

/// At most `max` items.
pub fn at_most<T>(field: &str, items: &[T], max: usize) -> Result<(), ApiError> {
    if items.len() > max {
        return Err(invalid(
            field,
            format!("`{field}` may hold at most {max} items"),
        ));
    }
    Ok(())
}

pub fn invalid(field: &str, detail: String) -> ApiError {
    ApiError::InvalidField {
        field: field.to_owned(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_cannot_be_a_value() {
        assert_eq!(text("name", "  Ada ".into(), 10).unwrap(), "Ada");
        assert!(text("name", "   ".into(), 10).is_err());
        assert!(text("name", "x".repeat(11), 10).is_err());
        assert!(currency("currency", "eur").is_err());
        assert_eq!(currency("currency", "EUR").unwrap(), Currency::EUR);
        assert!(positive_amount("amount", 0).is_err());
        assert!(positive_amount("amount", MAX_MINOR_UNITS + 1).is_err());
        assert_eq!(amount("unit_price", 0, 0).unwrap(), MinorUnits::new(0));
        assert!(at_most("lines", &[1, 2, 3], 2).is_err());
    }

    #[test]
    fn text_refuses_control_characters_naming_the_field() {
        for bad in [
            "nul\0x",
            "\0",
            "bell\u{7}",
            "two\nlines",
            "a\tb",
            "del\u{7f}",
            "\u{1f}",
        ] {
            match text("lines[0].name", bad.into(), 200) {
                Err(ApiError::InvalidField { field, detail }) => {
                    assert_eq!(field, "lines[0].name");
                    assert!(detail.contains("control characters"), "{detail}");
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        // Unicode whitespace alone is empty; other Unicode, C1 NEL inside text included, is text.
        assert!(text("reason", "\u{a0}\u{2003}\u{3000}\u{85}".into(), 200).is_err());
        assert_eq!(
            text("reason", " caf\u{e9}\u{85}x ".into(), 200).unwrap(),
            "caf\u{e9}\u{85}x"
        );
    }

    #[test]
    fn the_limit_counts_characters_as_sent() {
        // JSON Schema's maxLength counts the value as sent, code points, not bytes.
        assert!(text("name", "\u{e9}".repeat(10), 10).is_ok());
        assert!(text("name", format!(" {}", "x".repeat(10)), 10).is_err());
        assert!(text("name", format!(" {}", "x".repeat(9)), 10).is_ok());
    }

    /// [`TEXT_PATTERN`] (what the documents say) admits exactly what [`text`] accepts, for
    /// every one-character value and each around other text, through the whole BMP.
    #[test]
    fn the_documented_pattern_is_what_text_accepts() {
        let pattern = regex::Regex::new(TEXT_PATTERN).unwrap();
        let mut checked = 0;
        for c in (0..=0xFFFF_u32).filter_map(char::from_u32) {
            for value in [c.to_string(), format!("a{c}"), format!("{c}a")] {
                let accepted = text("f", value.clone(), 10).is_ok();
                assert_eq!(pattern.is_match(&value), accepted, "{value:?}");
                checked += 1;
            }
        }
        assert!(checked > 190_000);
    }

    #[derive(Debug, serde::Deserialize)]
    struct Numbers {
        #[serde(deserialize_with = "whole_number")]
        small: u32,
        #[serde(deserialize_with = "whole_number")]
        big: u64,
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        let read =
            |v: serde_json::Value| serde_json::from_value::<Numbers>(v).map(|n| (n.small, n.big));
        assert_eq!(
            read(serde_json::json!({"small": 2, "big": 3})).unwrap(),
            (2, 3)
        );
        assert_eq!(
            read(serde_json::json!({"small": 2.0, "big": 3e3})).unwrap(),
            (2, 3000)
        );
        let exact: serde_json::Value =
            serde_json::from_str(r#"{"small": 1, "big": 2251799813685247.0}"#).unwrap();
        assert_eq!(read(exact).unwrap(), (1, 2_251_799_813_685_247));
        for bad in [
            serde_json::json!({"small": 2.5, "big": 1}),
            serde_json::json!({"small": -1, "big": 1}),
            serde_json::json!({"small": 4_294_967_296_u64, "big": 1}),
            serde_json::json!({"small": "2", "big": 1}),
            serde_json::json!({"small": 1, "big": 1.8446744073709552e19}),
        ] {
            assert!(read(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn uuids_are_hyphenated() {
        let id = "0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6a";
        assert!(parse_uuid(id).is_some());
        assert!(parse_uuid(&id.to_uppercase()).is_some());
        for other in [
            "0192f4c48f3a7cc29a531f2e3d4c5b6a",
            "{0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6a}",
            "urn:uuid:0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6a",
            " 0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6a",
        ] {
            assert!(parse_uuid(other).is_none(), "{other}");
        }
    }
}
