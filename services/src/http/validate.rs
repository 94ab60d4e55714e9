//! Shape checks that turn request DTOs into domain values with a 400 naming the field.
//! Business rules stay in the domain (422); these only refuse what cannot be a value at all.

use keel_schemas::{Currency, MinorUnits};

use crate::error::ApiError;

/// Trimmed text of 1 to `max` characters.
pub fn text(field: &str, value: String, max: usize) -> Result<String, ApiError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(invalid(field, format!("`{field}` must not be empty")));
    }
    if trimmed.chars().count() > max {
        return Err(invalid(
            field,
            format!("`{field}` must be at most {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// An ISO 4217 code in capitals.
pub fn currency(field: &str, value: &str) -> Result<Currency, ApiError> {
    Currency::parse(value).map_err(|e| invalid(field, e.to_string()))
}

/// An amount of at least one minor unit.
pub fn positive_amount(field: &str, value: u64) -> Result<MinorUnits, ApiError> {
    if value == 0 {
        return Err(invalid(
            field,
            format!("`{field}` must be at least 1 (minor units, e.g. cents)"),
        ));
    }
    Ok(MinorUnits::new(value))
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
        assert!(at_most("lines", &[1, 2, 3], 2).is_err());
    }
}
