//! Filters and ordering of a file listing.

use std::fmt;

use uuid::Uuid;

use evo_core::listing::{AuditFilters, QueryPairs, check_page_size};

use crate::error::Error;
pub use evo_core::{TimeFilter, TimeOp};

/// A field a listing can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SortField {
    /// Creation time.
    CreatedAt,
    /// Last modification time.
    ModifiedAt,
    /// Deletion time.
    DeletedAt,
}

impl fmt::Display for SortField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SortField::CreatedAt => "created_at",
            SortField::ModifiedAt => "modified_at",
            SortField::DeletedAt => "deleted_at",
        })
    }
}

/// One ordering key of a listing (`asc:modified_at`), newest first when `descending`.
pub type OrderBy = evo_core::listing::OrderBy<SortField>;

/// The largest page the File API serves.
pub const MAX_PAGE_SIZE: u32 = 5000;

/// What to list: filters, ordering and the page. Built with chained setters:
///
/// ```
/// use evo_files::{ListFilesQuery, OrderBy, SortField};
/// let query = ListFilesQuery::new()
///     .file_name("survey")
///     .order_by(OrderBy::desc(SortField::ModifiedAt))
///     .limit(100);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListFilesQuery {
    pub(crate) limit: Option<u32>,
    pub(crate) offset: u64,
    pub(crate) deleted: bool,
    pub(crate) file_name: Option<String>,
    pub(crate) audit: AuditFilters,
    pub(crate) order_by: Vec<OrderBy>,
}

impl ListFilesQuery {
    /// Every live file, server-default page size and order.
    pub fn new() -> Self {
        ListFilesQuery::default()
    }
    /// The page size (1..=5000).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
    /// How many files to skip.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }
    /// Lists only deleted files when true (the API's `deleted` flag).
    pub fn deleted(mut self, deleted: bool) -> Self {
        self.deleted = deleted;
        self
    }
    /// Files whose name contains `part`, ignoring case.
    pub fn file_name(mut self, part: impl Into<String>) -> Self {
        self.file_name = Some(part.into());
        self
    }
    /// Files created by `user` (may be given several times).
    pub fn author(mut self, user: Uuid) -> Self {
        self.audit.created_by(user);
        self
    }
    /// Files last modified by `user` (may be given several times).
    pub fn modified_by(mut self, user: Uuid) -> Self {
        self.audit.modified_by(user);
        self
    }
    /// Files deleted by `user` (may be given several times).
    pub fn deleted_by(mut self, user: Uuid) -> Self {
        self.audit.deleted_by(user);
        self
    }
    /// A filter on the creation time (at most two).
    pub fn created(mut self, filter: TimeFilter) -> Self {
        self.audit.created_at(filter);
        self
    }
    /// A filter on the modification time (at most two).
    pub fn modified(mut self, filter: TimeFilter) -> Self {
        self.audit.modified_at(filter);
        self
    }
    /// A filter on the deletion time (at most two).
    pub fn deleted_time(mut self, filter: TimeFilter) -> Self {
        self.audit.deleted_at(filter);
        self
    }
    /// An ordering key; keys apply in the order given.
    pub fn order_by(mut self, order: OrderBy) -> Self {
        self.order_by.push(order);
        self
    }

    /// Checks the query against the API's documented limits, before any request is sent.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let invalid = |message: String| Error::Service(evo_core::Error::invalid_request(message));
        check_page_size(self.limit, MAX_PAGE_SIZE)?;
        if let Some(name) = &self.file_name {
            if name.is_empty() {
                return Err(invalid("the file name filter is empty".into()));
            }
            if name.contains('/') {
                return Err(invalid(format!(
                    "the file name filter {name:?} contains '/'; it matches names, not paths"
                )));
            }
            if name.chars().any(char::is_control) {
                return Err(invalid(format!(
                    "the file name filter {name:?} contains a control character"
                )));
            }
        }
        self.audit.check()?;
        Ok(())
    }

    /// The query parameters, in a stable order.
    pub(crate) fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = QueryPairs::new();
        pairs.push_opt("limit", self.limit);
        pairs.push("offset", self.offset);
        pairs.push("deleted", self.deleted);
        pairs.push_opt("file_name", self.file_name.as_ref());
        self.audit.push_pairs(&mut pairs, "author");
        pairs.push_order_by(&self.order_by);
        pairs.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn pairs_are_what_the_api_documents() {
        let user = Uuid::from_u128(7);
        let q = ListFilesQuery::new()
            .limit(20)
            .offset(10)
            .file_name("x.csv")
            .author(user)
            .created(TimeFilter::since(datetime!(2023-03-10 22:56:53 UTC)))
            .created(TimeFilter::before(datetime!(2023-03-11 00:00:00 +02:00)))
            .modified(TimeFilter::new(
                TimeOp::Equal,
                datetime!(2024-01-01 00:00:00 UTC),
            ))
            .order_by(OrderBy::asc(SortField::ModifiedAt))
            .order_by(OrderBy::desc(SortField::CreatedAt));
        q.validate().unwrap();
        let pairs = q.to_pairs();
        let get = |k: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(key, _)| *key == k)
                .map(|(_, v)| v.clone())
                .collect()
        };
        assert_eq!(get("limit"), ["20"]);
        assert_eq!(get("offset"), ["10"]);
        assert_eq!(get("deleted"), ["false"]);
        assert_eq!(get("file_name"), ["x.csv"]);
        assert_eq!(get("author"), [user.to_string()]);
        assert_eq!(
            get("created_at"),
            ["gte:2023-03-10T22:56:53Z", "lt:2023-03-10T22:00:00Z"]
        );
        assert_eq!(get("modified_at"), ["2024-01-01T00:00:00Z"]);
        assert_eq!(get("order_by"), ["asc:modified_at,desc:created_at"]);
    }

    #[test]
    fn limits_are_checked_before_sending() {
        let t = TimeFilter::since(datetime!(2023-01-01 00:00:00 UTC));
        let eq = TimeFilter::new(TimeOp::Equal, datetime!(2023-01-01 00:00:00 UTC));
        for bad in [
            ListFilesQuery::new().limit(0),
            ListFilesQuery::new().limit(5001),
            ListFilesQuery::new().file_name(""),
            ListFilesQuery::new().file_name("a/b"),
            ListFilesQuery::new().created(t).created(t).created(t),
            ListFilesQuery::new().deleted_time(eq).deleted_time(t),
        ] {
            let err = bad.validate().unwrap_err();
            assert!(err.to_string().contains("invalid request"), "{err}");
        }
        ListFilesQuery::new().limit(5000).validate().unwrap();
    }
}
