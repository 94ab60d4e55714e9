//! The query string of `GET /search/orders`: the documented parameters ([`SearchParams`],
//! whose `IntoParams` derive is the OpenAPI description) and the parser that accepts
//! exactly what that description allows. Every refusal is a 400 naming the parameter.

use chrono::{DateTime, Utc};
use utoipa::IntoParams;
use uuid::Uuid;

use super::choices::{listed, SortOrder, StatusFilter};
use crate::error::ApiError;
use crate::http::validate::{self, MAX_MINOR_UNITS};

/// The longest `q`, in characters as sent.
pub const MAX_Q_CHARS: usize = 200;
pub const DEFAULT_PER_PAGE: u32 = 20;
pub const MAX_PER_PAGE: u32 = 100;
/// Elasticsearch's `index.max_result_window`: no page may end beyond this hit.
pub const MAX_RESULT_WINDOW: u32 = 10_000;

// The numbers in the `#[param]` attributes below are these constants spelled out (utoipa
// takes literals only); `tests::the_document_states_the_limits` checks that they agree.

/// The filters, order and page of an order search. Filters combine with AND; a parameter
/// not listed here is refused (400), as is one given twice (`status` excepted).
#[derive(Debug, Clone, Default, PartialEq, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Free text, matched against the customer's name, the lines' names (full text) and the
    /// lines' SKUs (the whole SKU, any case). At most 200 characters; blank means no text
    /// search.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only orders in one of these statuses; repeat the parameter for several
    /// (`status=placed&status=shipped`).
    #[param(style = Form, explode, inline)]
    pub status: Option<Vec<StatusFilter>>,
    /// Only this customer's orders.
    pub customer_id: Option<Uuid>,
    /// Only orders placed at or after this instant (RFC 3339, e.g. `2025-05-01T00:00:00Z`;
    /// send `+` in an offset as `%2B`). Elasticsearch keeps milliseconds.
    pub placed_from: Option<DateTime<Utc>>,
    /// Only orders placed at or before this instant (RFC 3339); not before `placed_from`.
    pub placed_to: Option<DateTime<Utc>>,
    /// Only orders whose total is at least this, in minor units.
    #[param(minimum = 0, maximum = 9007199254740991_u64)]
    pub min_total: Option<u64>,
    /// Only orders whose total is at most this, in minor units; not below `min_total`.
    #[param(minimum = 0, maximum = 9007199254740991_u64)]
    pub max_total: Option<u64>,
    /// The order of the hits (default: `relevance` when `q` is given, else `-placed_at`).
    #[param(inline)]
    pub sort: Option<SortOrder>,
    /// The page, from 1 (default 1). `page × per_page` may not exceed 10000.
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<u32>,
    /// Hits per page (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// The parameters' names, in the document's order.
pub const NAMES: [&str; 10] = [
    "q",
    "status",
    "customer_id",
    "placed_from",
    "placed_to",
    "min_total",
    "max_total",
    "sort",
    "page",
    "per_page",
];

impl SearchParams {
    /// `q` when it holds more than whitespace.
    pub fn text(&self) -> Option<&str> {
        self.q.as_deref().filter(|q| !q.trim().is_empty())
    }

    pub fn statuses(&self) -> &[StatusFilter] {
        self.status.as_deref().unwrap_or_default()
    }

    pub fn sort_order(&self) -> SortOrder {
        match (self.sort, self.text()) {
            (Some(sort), _) => sort,
            (None, Some(_)) => SortOrder::Relevance,
            (None, None) => SortOrder::PlacedAtDesc,
        }
    }

    pub fn page(&self) -> u32 {
        self.page.unwrap_or(1)
    }

    pub fn per_page(&self) -> u32 {
        self.per_page.unwrap_or(DEFAULT_PER_PAGE)
    }

    /// How many hits come before this page.
    pub fn offset(&self) -> u32 {
        // Checked by `parse`: page × per_page ≤ MAX_RESULT_WINDOW.
        (self.page() - 1) * self.per_page()
    }

    /// Reads the query string's name/value pairs (already percent-decoded).
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut params = SearchParams::default();
        let mut seen: Vec<&str> = Vec::new();
        for (name, raw) in pairs {
            let Some(known) = NAMES.iter().copied().find(|n| n == name) else {
                return Err(unknown(name));
            };
            if known != "status" && seen.contains(&known) {
                return Err(invalid(
                    known,
                    format!("`{known}` is given more than once; give it once"),
                ));
            }
            seen.push(known);
            params.set(known, raw)?;
        }
        params.check_combinations()?;
        Ok(params)
    }

    fn set(&mut self, name: &str, raw: &str) -> Result<(), ApiError> {
        match name {
            "q" => {
                if raw.chars().count() > MAX_Q_CHARS {
                    return Err(invalid(
                        name,
                        format!("`q` must be at most {MAX_Q_CHARS} characters"),
                    ));
                }
                self.q = Some(raw.to_owned());
            }
            "status" => {
                let status = StatusFilter::parse(raw).ok_or_else(|| {
                    invalid(
                        name,
                        format!(
                            "`status` is `{raw}`, expected {} (repeat `status` for several)",
                            listed(StatusFilter::ALL.map(StatusFilter::as_str))
                        ),
                    )
                })?;
                self.status.get_or_insert_with(Vec::new).push(status);
            }
            "customer_id" => {
                self.customer_id = Some(validate::parse_uuid(raw).ok_or_else(|| {
                    invalid(
                        name,
                        format!(
                            "`customer_id` is `{raw}`, expected a UUID like 0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6a"
                        ),
                    )
                })?);
            }
            "placed_from" => self.placed_from = Some(instant(name, raw)?),
            "placed_to" => self.placed_to = Some(instant(name, raw)?),
            "min_total" => self.min_total = Some(number(name, raw, 0, MAX_MINOR_UNITS)?),
            "max_total" => self.max_total = Some(number(name, raw, 0, MAX_MINOR_UNITS)?),
            "sort" => {
                self.sort = Some(SortOrder::parse(raw).ok_or_else(|| {
                    invalid(
                        name,
                        format!(
                            "`sort` is `{raw}`, expected {}",
                            listed(SortOrder::ALL.map(SortOrder::as_str))
                        ),
                    )
                })?);
            }
            "page" => self.page = Some(small_number(name, raw, 1, MAX_RESULT_WINDOW)?),
            "per_page" => self.per_page = Some(small_number(name, raw, 1, MAX_PER_PAGE)?),
            _ => return Err(unknown(name)),
        }
        Ok(())
    }

    /// What no single parameter's schema can say.
    fn check_combinations(&self) -> Result<(), ApiError> {
        if let (Some(min), Some(max)) = (self.min_total, self.max_total) {
            if min > max {
                return Err(invalid(
                    "min_total",
                    format!("`min_total` ({min}) must not exceed `max_total` ({max})"),
                ));
            }
        }
        if let (Some(from), Some(to)) = (self.placed_from, self.placed_to) {
            if from > to {
                return Err(invalid(
                    "placed_from",
                    format!("`placed_from` ({from}) must not be after `placed_to` ({to})"),
                ));
            }
        }
        let (page, per_page) = (self.page(), self.per_page());
        if u64::from(page) * u64::from(per_page) > u64::from(MAX_RESULT_WINDOW) {
            return Err(invalid(
                "page",
                format!(
                    "page too deep: page × per_page ({page} × {per_page}) may not exceed \
                     {MAX_RESULT_WINDOW}; narrow the search with filters instead"
                ),
            ));
        }
        Ok(())
    }
}

fn unknown(name: &str) -> ApiError {
    invalid(
        name,
        format!(
            "`{name}` is not a parameter of this search; the parameters are {}",
            listed(NAMES)
        ),
    )
}

fn invalid(name: &str, detail: String) -> ApiError {
    ApiError::InvalidQuery {
        field: Some(name.to_owned()),
        detail,
    }
}

/// An RFC 3339 date-time with a `T` between date and time (chrono also takes a space, which
/// JSON Schema's `date-time` does not).
fn instant(name: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    let separated = matches!(raw.as_bytes().get(10), Some(b'T' | b't'));
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .filter(|_| separated)
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            invalid(
                name,
                format!(
                    "`{name}` is `{raw}`, expected an RFC 3339 date-time like \
                     2025-05-01T12:00:00Z or 2025-05-01T14:00:00%2B02:00"
                ),
            )
        })
}

/// A whole number from `min` to `max`. JSON Schema's `integer` includes a zero fraction
/// (`20.0`), so that spelling is read as the number; a sign or exponent is not.
fn number(name: &str, raw: &str, min: u64, max: u64) -> Result<u64, ApiError> {
    let digits = match raw.split_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() && fraction.bytes().all(|b| b == b'0') => {
            whole
        }
        Some(_) => "",
        None => raw,
    };
    let value = (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse::<u64>().ok())
        .flatten();
    match value {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(invalid(
            name,
            format!("`{name}` is `{raw}`, expected a whole number from {min} to {max}"),
        )),
    }
}

fn small_number(name: &str, raw: &str, min: u32, max: u32) -> Result<u32, ApiError> {
    let n = number(name, raw, u64::from(min), u64::from(max))?;
    // In range, so it fits.
    Ok(u32::try_from(n).unwrap_or(max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::IntoParams;

    fn parse(query: &[(&str, &str)]) -> Result<SearchParams, ApiError> {
        let pairs: Vec<(String, String)> = query
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        SearchParams::parse(&pairs)
    }

    fn refused(query: &[(&str, &str)]) -> (String, String) {
        match parse(query) {
            Err(ApiError::InvalidQuery {
                field: Some(field),
                detail,
            }) => (field, detail),
            other => panic!("{query:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults_without_parameters() {
        let params = parse(&[]).unwrap();
        assert_eq!(
            (params.page(), params.per_page(), params.offset()),
            (1, 20, 0)
        );
        assert_eq!(params.sort_order(), SortOrder::PlacedAtDesc);
        assert!(params.statuses().is_empty());
        let searched = parse(&[("q", "ada")]).unwrap();
        assert_eq!(searched.sort_order(), SortOrder::Relevance);
        let blank = parse(&[("q", "  ")]).unwrap();
        assert_eq!(blank.text(), None);
        assert_eq!(blank.sort_order(), SortOrder::PlacedAtDesc);
    }

    #[test]
    fn reads_every_parameter() {
        let params = parse(&[
            ("q", "Ada"),
            ("status", "placed"),
            ("status", "shipped"),
            ("customer_id", "0192f4c4-8f3a-7cc2-9a53-1f2e3d4c5b6a"),
            ("placed_from", "2025-01-01T00:00:00Z"),
            ("placed_to", "2025-01-02T02:00:00+02:00"),
            ("min_total", "0"),
            ("max_total", "1500.0"),
            ("sort", "-total"),
            ("page", "3"),
            ("per_page", "100"),
        ])
        .unwrap();
        assert_eq!(
            params.statuses(),
            [StatusFilter::Placed, StatusFilter::Shipped]
        );
        assert_eq!(params.max_total, Some(1500));
        assert_eq!(
            params.placed_to.unwrap().to_rfc3339(),
            "2025-01-02T00:00:00+00:00"
        );
        assert_eq!(params.sort_order(), SortOrder::TotalDesc);
        assert_eq!(params.offset(), 200);
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("size", "3")], "size"),
            (&[("page", "1"), ("page", "2")], "page"),
            (&[("status", "lost")], "status"),
            (&[("status", "placed,shipped")], "status"),
            (&[("status", "")], "status"),
            (&[("customer_id", "42")], "customer_id"),
            (&[("placed_from", "yesterday")], "placed_from"),
            (&[("placed_to", "2025-01-01 00:00:00Z")], "placed_to"),
            (&[("placed_to", "2025-01-01")], "placed_to"),
            (&[("min_total", "-1")], "min_total"),
            (&[("min_total", "1.5")], "min_total"),
            (&[("max_total", "+3")], "max_total"),
            (&[("max_total", "9007199254740992")], "max_total"),
            (&[("max_total", "")], "max_total"),
            (&[("min_total", "5"), ("max_total", "4")], "min_total"),
            (
                &[
                    ("placed_from", "2025-01-02T00:00:00Z"),
                    ("placed_to", "2025-01-01T00:00:00Z"),
                ],
                "placed_from",
            ),
            (&[("sort", "price")], "sort"),
            (&[("page", "0")], "page"),
            (&[("page", "10001")], "page"),
            (&[("per_page", "0")], "per_page"),
            (&[("per_page", "101")], "per_page"),
            (&[("per_page", "1e2")], "per_page"),
            (&[("page", "101"), ("per_page", "100")], "page"),
        ];
        for (query, field) in cases {
            assert_eq!(refused(query).0, *field, "{query:?}");
        }
        let (_, detail) = refused(&[("page", "200"), ("per_page", "51")]);
        assert!(detail.starts_with("page too deep"), "{detail}");
        assert!(parse(&[("page", "100"), ("per_page", "100")]).is_ok());
        assert!(parse(&[("q", &"é".repeat(MAX_Q_CHARS))]).is_ok());
        assert_eq!(
            refused(&[("q", &"é".repeat(MAX_Q_CHARS + 1))]).0,
            "q",
            "characters, not bytes"
        );
    }

    /// The document names exactly the parameters the parser reads, with the limits it
    /// applies, the statuses and sorts it knows, and none of them required.
    #[test]
    fn the_document_states_the_limits() {
        let parameters = SearchParams::into_params(|| None);
        let names: Vec<String> = parameters.iter().map(|p| p.name.clone()).collect();
        assert_eq!(names, NAMES);
        let doc = serde_json::to_value(&parameters).unwrap();
        for parameter in doc.as_array().unwrap() {
            assert_eq!(parameter["in"], "query", "{parameter}");
            assert_ne!(parameter["required"], true, "{parameter}");
        }
        let schema = |name: &str| {
            doc.as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .map(|p| p["schema"].clone())
                .unwrap()
        };
        assert_eq!(schema("q")["maxLength"], MAX_Q_CHARS);
        assert_eq!(schema("per_page")["maximum"], MAX_PER_PAGE);
        assert_eq!(schema("per_page")["minimum"], 1);
        assert_eq!(schema("page")["maximum"], MAX_RESULT_WINDOW);
        for total in ["min_total", "max_total"] {
            assert_eq!(schema(total)["maximum"], MAX_MINOR_UNITS, "{total}");
            assert_eq!(schema(total)["minimum"], 0, "{total}");
        }
        let statuses: Vec<&str> = StatusFilter::ALL.map(StatusFilter::as_str).to_vec();
        assert_eq!(
            schema("status")["items"]["enum"],
            serde_json::json!(statuses)
        );
        let sorts: Vec<&str> = SortOrder::ALL.map(SortOrder::as_str).to_vec();
        assert_eq!(schema("sort")["enum"], serde_json::json!(sorts));
        assert_eq!(schema("customer_id")["format"], "uuid");
        assert_eq!(schema("placed_from")["format"], "date-time");
    }
}
