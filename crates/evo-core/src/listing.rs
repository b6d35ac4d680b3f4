//! What the listings of the File and Geoscience Object APIs share: ordering keys, the checks
//! of a page size and of time filters made before a request is sent, and the query pairs a
//! listing query becomes.
//!
//! Each service client keeps its own query type (its filters differ); these are the pieces
//! they have in common.

use std::fmt;

use crate::error::Error;
use crate::time_filter::{TimeFilter, TimeOp};

/// One ordering key of a listing: a field and a direction, `asc:<field>` or `desc:<field>` on
/// the wire. The service clients name it `OrderBy` with their own field type.
///
/// ```
/// use evo_core::listing::OrderBy;
///
/// assert_eq!(OrderBy::desc("modified_at").to_string(), "desc:modified_at");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderBy<F> {
    /// The field.
    pub field: F,
    /// Newest (or largest) first when true.
    pub descending: bool,
}

impl<F> OrderBy<F> {
    /// Ascending by `field`.
    pub fn asc(field: F) -> Self {
        OrderBy {
            field,
            descending: false,
        }
    }
    /// Descending by `field`.
    pub fn desc(field: F) -> Self {
        OrderBy {
            field,
            descending: true,
        }
    }
}

impl<F: fmt::Display> fmt::Display for OrderBy<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = if self.descending { "desc" } else { "asc" };
        write!(f, "{dir}:{}", self.field)
    }
}

/// Checks a page size against `1..=max`, before any request is sent.
pub fn check_page_size(limit: Option<u32>, max: u32) -> Result<(), Error> {
    match limit {
        Some(limit) if !(1..=max).contains(&limit) => Err(Error::invalid_request(format!(
            "page size {limit} is outside 1..={max}"
        ))),
        _ => Ok(()),
    }
}

/// Checks the filters on one time field (`created_at`, …) as the listings take them: at most
/// two (a range), and an exact one alone.
pub fn check_time_filters(field: &str, filters: &[TimeFilter]) -> Result<(), Error> {
    if filters.len() > 2 {
        return Err(Error::invalid_request(format!(
            "{} {field} filters given; at most 2 are allowed",
            filters.len()
        )));
    }
    if filters.len() == 2 && filters.iter().any(|f| f.op == TimeOp::Equal) {
        return Err(Error::invalid_request(format!(
            "an exact {field} filter cannot be combined with another"
        )));
    }
    Ok(())
}

/// The query pairs of a listing, in the order they are added (repeated keys for lists).
///
/// ```
/// use evo_core::listing::{OrderBy, QueryPairs};
///
/// let mut pairs = QueryPairs::new();
/// pairs.push_opt("limit", Some(20));
/// pairs.push("offset", 0);
/// pairs.push_each("author", ["a", "b"]);
/// pairs.push_order_by(&[OrderBy::asc("name"), OrderBy::desc("created_at")]);
/// assert_eq!(
///     pairs.into_vec(),
///     [
///         ("limit", "20".to_owned()),
///         ("offset", "0".to_owned()),
///         ("author", "a".to_owned()),
///         ("author", "b".to_owned()),
///         ("order_by", "asc:name,desc:created_at".to_owned()),
///     ]
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryPairs(Vec<(&'static str, String)>);

impl QueryPairs {
    /// No pairs yet.
    pub fn new() -> Self {
        QueryPairs::default()
    }
    /// Adds `key=value`.
    pub fn push(&mut self, key: &'static str, value: impl fmt::Display) {
        self.0.push((key, value.to_string()));
    }
    /// Adds `key=value` when there is a value.
    pub fn push_opt(&mut self, key: &'static str, value: Option<impl fmt::Display>) {
        if let Some(value) = value {
            self.push(key, value);
        }
    }
    /// Adds `key=value` for each value, in order.
    pub fn push_each<T: fmt::Display>(
        &mut self,
        key: &'static str,
        values: impl IntoIterator<Item = T>,
    ) {
        for value in values {
            self.push(key, value);
        }
    }
    /// Adds `order_by=<key>,<key>…` when there are keys.
    pub fn push_order_by<F: fmt::Display>(&mut self, keys: &[OrderBy<F>]) {
        if !keys.is_empty() {
            let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
            self.push("order_by", keys.join(","));
        }
    }
    /// The pairs, in the order they were added.
    pub fn into_vec(self) -> Vec<(&'static str, String)> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_and_time_filters_are_checked() {
        assert!(check_page_size(None, 10).is_ok());
        assert!(check_page_size(Some(10), 10).is_ok());
        assert!(check_page_size(Some(0), 10).is_err());
        assert!(check_page_size(Some(11), 10).is_err());
        let at = time::macros::datetime!(2024-01-01 0:00 UTC);
        let (since, exact) = (TimeFilter::since(at), TimeFilter::new(TimeOp::Equal, at));
        assert!(check_time_filters("created_at", &[since, TimeFilter::before(at)]).is_ok());
        assert!(check_time_filters("created_at", &[exact]).is_ok());
        let err = check_time_filters("created_at", &[since, since, since]).unwrap_err();
        assert!(err.to_string().contains("3 created_at filters"), "{err}");
        assert!(check_time_filters("deleted_at", &[exact, since]).is_err());
    }
}
