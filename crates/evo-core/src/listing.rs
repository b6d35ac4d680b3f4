//! What the listings of the File and Geoscience Object APIs share: ordering keys, the checks
//! of a page size and of time filters made before a request is sent, the audit filters (who
//! created, modified or deleted an item, and when) and the query pairs a listing query
//! becomes.
//!
//! Each service client keeps its own query type (its filters differ); these are the pieces
//! they have in common.

use std::fmt;

use uuid::Uuid;

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

/// The audit filters of a listing, as the File and Geoscience Object APIs both take them:
/// who created, last modified or deleted an item (user ids, repeatable: any of them) and when
/// (at most two [`TimeFilter`]s per time field: a range, or one exact time).
///
/// A service's query type holds one, its setters add to it, [`AuditFilters::check`] checks it
/// before a request is sent and [`AuditFilters::push_pairs`] writes it into the query.
///
/// ```
/// use evo_core::listing::{AuditFilters, QueryPairs};
/// use evo_core::{TimeFilter, uuid::Uuid};
///
/// let at = time::macros::datetime!(2024-01-01 0:00 UTC);
/// let mut audit = AuditFilters::new();
/// audit.created_by(Uuid::nil()).modified_at(TimeFilter::since(at));
/// audit.check()?;
/// let mut pairs = QueryPairs::new();
/// audit.push_pairs(&mut pairs, "created_by");
/// assert_eq!(
///     pairs.into_vec(),
///     [
///         ("created_by", Uuid::nil().to_string()),
///         ("modified_at", "gte:2024-01-01T00:00:00Z".to_owned()),
///     ]
/// );
/// # Ok::<(), evo_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilters {
    created_by: Vec<Uuid>,
    modified_by: Vec<Uuid>,
    deleted_by: Vec<Uuid>,
    created_at: Vec<TimeFilter>,
    modified_at: Vec<TimeFilter>,
    deleted_at: Vec<TimeFilter>,
}

impl AuditFilters {
    /// No filters.
    pub fn new() -> Self {
        AuditFilters::default()
    }
    /// Items created by `user` (repeatable: any of them).
    pub fn created_by(&mut self, user: Uuid) -> &mut Self {
        self.created_by.push(user);
        self
    }
    /// Items last modified by `user` (repeatable: any of them).
    pub fn modified_by(&mut self, user: Uuid) -> &mut Self {
        self.modified_by.push(user);
        self
    }
    /// Items deleted by `user` (repeatable: any of them).
    pub fn deleted_by(&mut self, user: Uuid) -> &mut Self {
        self.deleted_by.push(user);
        self
    }
    /// A filter on the creation time (at most two).
    pub fn created_at(&mut self, filter: TimeFilter) -> &mut Self {
        self.created_at.push(filter);
        self
    }
    /// A filter on the last modification time (at most two).
    pub fn modified_at(&mut self, filter: TimeFilter) -> &mut Self {
        self.modified_at.push(filter);
        self
    }
    /// A filter on the deletion time (at most two).
    pub fn deleted_at(&mut self, filter: TimeFilter) -> &mut Self {
        self.deleted_at.push(filter);
        self
    }

    /// Checks the time filters as the listings take them ([`check_time_filters`] on
    /// `created_at`, `modified_at` and `deleted_at`, in that order), before any request is
    /// sent.
    pub fn check(&self) -> Result<(), Error> {
        check_time_filters("created_at", &self.created_at)?;
        check_time_filters("modified_at", &self.modified_at)?;
        check_time_filters("deleted_at", &self.deleted_at)?;
        Ok(())
    }

    /// Adds the filters to `pairs`, one pair per value: the creators under `created_by_key`
    /// (the File API calls them `author`, the Geoscience Object API `created_by`), then
    /// `modified_by`, `deleted_by`, `created_at`, `modified_at` and `deleted_at`.
    pub fn push_pairs(&self, pairs: &mut QueryPairs, created_by_key: &'static str) {
        pairs.push_each(created_by_key, &self.created_by);
        pairs.push_each("modified_by", &self.modified_by);
        pairs.push_each("deleted_by", &self.deleted_by);
        pairs.push_each("created_at", &self.created_at);
        pairs.push_each("modified_at", &self.modified_at);
        pairs.push_each("deleted_at", &self.deleted_at);
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

    #[test]
    fn audit_filters_are_written_in_order_under_their_names() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let at = time::macros::datetime!(2024-01-01 0:00 UTC);
        let mut audit = AuditFilters::new();
        audit
            .deleted_at(TimeFilter::before(at))
            .modified_at(TimeFilter::since(at))
            .created_at(TimeFilter::since(at))
            .created_at(TimeFilter::before(at))
            .deleted_by(c)
            .modified_by(b)
            .created_by(a)
            .created_by(b);
        audit.check().unwrap();
        for key in ["author", "created_by"] {
            let mut pairs = QueryPairs::new();
            pairs.push("offset", 0);
            audit.push_pairs(&mut pairs, key);
            let pairs: Vec<(&str, String)> = pairs.into_vec();
            assert_eq!(
                pairs,
                [
                    ("offset", "0".to_owned()),
                    (key, a.to_string()),
                    (key, b.to_string()),
                    ("modified_by", b.to_string()),
                    ("deleted_by", c.to_string()),
                    ("created_at", "gte:2024-01-01T00:00:00Z".to_owned()),
                    ("created_at", "lt:2024-01-01T00:00:00Z".to_owned()),
                    ("modified_at", "gte:2024-01-01T00:00:00Z".to_owned()),
                    ("deleted_at", "lt:2024-01-01T00:00:00Z".to_owned()),
                ]
            );
        }
        let mut none = QueryPairs::new();
        AuditFilters::new().push_pairs(&mut none, "author");
        assert!(none.into_vec().is_empty());
    }

    #[test]
    fn audit_filters_check_each_time_field() {
        let at = time::macros::datetime!(2024-01-01 0:00 UTC);
        let (since, exact) = (TimeFilter::since(at), TimeFilter::new(TimeOp::Equal, at));
        assert!(AuditFilters::new().check().is_ok());
        let mut range = AuditFilters::new();
        range
            .created_at(since)
            .created_at(TimeFilter::before(at))
            .modified_at(exact)
            .deleted_at(since);
        assert!(range.check().is_ok());
        let mut three = AuditFilters::new();
        three
            .modified_at(since)
            .modified_at(since)
            .modified_at(since);
        let err = three.check().unwrap_err();
        assert!(err.to_string().contains("3 modified_at filters"), "{err}");
        let mut exact_and_more = AuditFilters::new();
        exact_and_more.deleted_at(exact).deleted_at(since);
        let err = exact_and_more.check().unwrap_err();
        assert!(err.to_string().contains("exact deleted_at"), "{err}");
        let mut created = AuditFilters::new();
        created.created_at(since).created_at(exact);
        let err = created.check().unwrap_err();
        assert!(err.to_string().contains("exact created_at"), "{err}");
        // The first field at fault is the one named.
        let mut both = AuditFilters::new();
        both.created_at(exact)
            .created_at(exact)
            .deleted_at(exact)
            .deleted_at(exact);
        assert!(both.check().unwrap_err().to_string().contains("created_at"));
    }
}
