//! The closed sets that search parameters pick from: order statuses and sort orders. The
//! names here are the ones the OpenAPI document lists (their serde names) and the only ones
//! the parser accepts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An order's status, as the search model stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    Placed,
    PaymentAuthorised,
    Confirmed,
    Shipped,
    Delivered,
    Cancelled,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 6] = [
        StatusFilter::Placed,
        StatusFilter::PaymentAuthorised,
        StatusFilter::Confirmed,
        StatusFilter::Shipped,
        StatusFilter::Delivered,
        StatusFilter::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Placed => "placed",
            StatusFilter::PaymentAuthorised => "payment_authorised",
            StatusFilter::Confirmed => "confirmed",
            StatusFilter::Shipped => "shipped",
            StatusFilter::Delivered => "delivered",
            StatusFilter::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// How hits are ordered: a field ascending, or descending with a leading `-`; `relevance`
/// is best match of `q` first. Ties are broken by `placed_at` (newest first), then
/// `order_id`, so paging is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum SortOrder {
    #[serde(rename = "relevance")]
    Relevance,
    #[serde(rename = "placed_at")]
    PlacedAt,
    #[serde(rename = "-placed_at")]
    PlacedAtDesc,
    #[serde(rename = "total")]
    Total,
    #[serde(rename = "-total")]
    TotalDesc,
    #[serde(rename = "updated_at")]
    UpdatedAt,
    #[serde(rename = "-updated_at")]
    UpdatedAtDesc,
}

impl SortOrder {
    pub const ALL: [SortOrder; 7] = [
        SortOrder::Relevance,
        SortOrder::PlacedAt,
        SortOrder::PlacedAtDesc,
        SortOrder::Total,
        SortOrder::TotalDesc,
        SortOrder::UpdatedAt,
        SortOrder::UpdatedAtDesc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Relevance => "relevance",
            SortOrder::PlacedAt => "placed_at",
            SortOrder::PlacedAtDesc => "-placed_at",
            SortOrder::Total => "total",
            SortOrder::TotalDesc => "-total",
            SortOrder::UpdatedAt => "updated_at",
            SortOrder::UpdatedAtDesc => "-updated_at",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// `a, b or c`, for messages that list what is accepted.
pub fn listed<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_owned(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The serde names (what the document lists) are the names the parser reads.
    #[test]
    fn documented_names_are_parsed_names() {
        for status in StatusFilter::ALL {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
            assert_eq!(StatusFilter::parse(status.as_str()), Some(status));
        }
        for sort in SortOrder::ALL {
            assert_eq!(serde_json::to_value(sort).unwrap(), sort.as_str());
            assert_eq!(SortOrder::parse(sort.as_str()), Some(sort));
        }
        assert_eq!(StatusFilter::parse("Placed"), None);
        assert_eq!(SortOrder::parse("+total"), None);
        assert_eq!(listed(["a", "b", "c"]), "a, b or c");
        assert_eq!(listed(["a"]), "a");
    }
}
