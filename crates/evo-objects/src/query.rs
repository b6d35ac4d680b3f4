//! Filters and ordering of an object listing.

use std::fmt;

use uuid::Uuid;

use evo_core::listing::{AuditFilters, QueryPairs, check_page_size};

use crate::error::Error;
pub use evo_core::{TimeFilter, TimeOp};

/// A field to order a listing by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SortField {
    /// `author` (deprecated alias of `created_by`).
    Author,
    /// `created_at`.
    CreatedAt,
    /// `created_by`.
    CreatedBy,
    /// `deleted_at`.
    DeletedAt,
    /// `modified_at`.
    ModifiedAt,
    /// `modified_by`.
    ModifiedBy,
    /// `object_name`.
    ObjectName,
    /// A member inside the object JSON, by its dotted path (`object.a.b.c`).
    Object(String),
}

impl fmt::Display for SortField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SortField::Author => "author",
            SortField::CreatedAt => "created_at",
            SortField::CreatedBy => "created_by",
            SortField::DeletedAt => "deleted_at",
            SortField::ModifiedAt => "modified_at",
            SortField::ModifiedBy => "modified_by",
            SortField::ObjectName => "object_name",
            SortField::Object(path) => path,
        })
    }
}

/// One ordering key: a field and a direction (`asc:created_at`, `desc:object_name`).
pub type OrderBy = evo_core::listing::OrderBy<SortField>;

/// The largest page the client asks for (the Python SDK's default page size).
pub const MAX_PAGE_SIZE: u32 = 5000;

/// A query for a listing of objects: page, filters and ordering. Every filter of the API is
/// here; multi-valued filters are repeated keys on the wire (`schema_id=a&schema_id=b`).
///
/// ```
/// use evo_objects::{ListObjectsQuery, OrderBy, SortField, TimeFilter};
/// let q = ListObjectsQuery::new()
///     .limit(100)
///     .schema_id("/objects/pointset/1.3.0/pointset.schema.json")
///     .modified(TimeFilter::since(time::macros::datetime!(2024-01-01 0:00 UTC)))
///     .order_by(OrderBy::desc(SortField::ModifiedAt));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListObjectsQuery {
    pub(crate) limit: Option<u32>,
    pub(crate) offset: u64,
    pub(crate) deleted: Option<bool>,
    pub(crate) order_by: Vec<OrderBy>,
    pub(crate) authors: Vec<Uuid>,
    pub(crate) audit: AuditFilters,
    pub(crate) object_name: Vec<String>,
    pub(crate) schema_id: Vec<String>,
    pub(crate) geojson_bounding_box: Vec<String>,
    pub(crate) permitted_workspaces_only: Option<bool>,
}

impl ListObjectsQuery {
    /// Every live object, the service's default page size.
    pub fn new() -> Self {
        ListObjectsQuery::default()
    }
    /// The page size (1..=[`MAX_PAGE_SIZE`]).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
    /// Skip this many objects.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }
    /// `true`: only deleted objects; `false`: only live ones (the default).
    pub fn deleted(mut self, deleted: bool) -> Self {
        self.deleted = Some(deleted);
        self
    }
    /// Adds an ordering key (the first added sorts first).
    pub fn order_by(mut self, order: OrderBy) -> Self {
        self.order_by.push(order);
        self
    }
    /// Objects created by `user` (deprecated `author` filter; prefer [`Self::created_by`]).
    pub fn author(mut self, user: Uuid) -> Self {
        self.authors.push(user);
        self
    }
    /// Objects created by `user` (repeatable: any of them).
    pub fn created_by(mut self, user: Uuid) -> Self {
        self.audit.created_by(user);
        self
    }
    /// Objects last modified by `user` (repeatable).
    pub fn modified_by(mut self, user: Uuid) -> Self {
        self.audit.modified_by(user);
        self
    }
    /// Objects deleted by `user` (repeatable).
    pub fn deleted_by(mut self, user: Uuid) -> Self {
        self.audit.deleted_by(user);
        self
    }
    /// A filter on the creation time (at most two: a range).
    pub fn created(mut self, filter: TimeFilter) -> Self {
        self.audit.created_at(filter);
        self
    }
    /// A filter on the last modification time (at most two).
    pub fn modified(mut self, filter: TimeFilter) -> Self {
        self.audit.modified_at(filter);
        self
    }
    /// A filter on the deletion time (at most two).
    pub fn deleted_time(mut self, filter: TimeFilter) -> Self {
        self.audit.deleted_at(filter);
        self
    }
    /// A name filter (repeatable). Without an operator the service matches a case-sensitive
    /// prefix of the file name; with one (`eq:`, `like:`, …) it matches the whole path.
    pub fn object_name(mut self, name: impl Into<String>) -> Self {
        self.object_name.push(name.into());
        self
    }
    /// Objects of this schema (repeatable: any of them).
    pub fn schema_id(mut self, schema_id: impl Into<String>) -> Self {
        self.schema_id.push(schema_id.into());
        self
    }
    /// A spatial filter: `[geowithin:|geointersects:](lon,lat),…` with five points closing
    /// a polygon (repeatable).
    pub fn geojson_bounding_box(mut self, filter: impl Into<String>) -> Self {
        self.geojson_bounding_box.push(filter.into());
        self
    }
    /// Organization listings only: `true` to list only workspaces the caller may read.
    pub fn permitted_workspaces_only(mut self, only: bool) -> Self {
        self.permitted_workspaces_only = Some(only);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let invalid = |message: String| Error::Service(evo_core::Error::invalid_request(message));
        check_page_size(self.limit, MAX_PAGE_SIZE)?;
        self.audit.check()?;
        for text in self
            .object_name
            .iter()
            .chain(&self.schema_id)
            .chain(&self.geojson_bounding_box)
        {
            if text.is_empty() || text.chars().any(char::is_control) {
                return Err(invalid(format!(
                    "filter value {text:?} is empty or has a control character"
                )));
            }
        }
        for order in &self.order_by {
            if let SortField::Object(path) = &order.field
                && (path.is_empty()
                    || path.contains([',', ':'])
                    || path.chars().any(char::is_control))
            {
                return Err(invalid(format!("sort field {path:?} is not a dotted path")));
            }
        }
        Ok(())
    }

    /// The query pairs for a workspace listing (`org = false`) or an organization listing.
    pub(crate) fn to_pairs(&self, org: bool) -> Vec<(&'static str, String)> {
        let mut pairs = QueryPairs::new();
        pairs.push_opt("limit", self.limit);
        pairs.push("offset", self.offset);
        pairs.push_opt("deleted", self.deleted);
        if org {
            pairs.push_opt("permitted_workspaces_only", self.permitted_workspaces_only);
        }
        pairs.push_order_by(&self.order_by);
        if !org {
            pairs.push_each("author", &self.authors);
        }
        self.audit.push_pairs(&mut pairs, "created_by");
        pairs.push_each("object_name", &self.object_name);
        pairs.push_each("schema_id", &self.schema_id);
        pairs.push_each("geojson_bounding_box", &self.geojson_bounding_box);
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
        let q = ListObjectsQuery::new()
            .limit(20)
            .offset(10)
            .deleted(true)
            .created_by(user)
            .modified(TimeFilter::since(datetime!(2024-01-02 03:04:05 UTC)))
            .modified(TimeFilter::before(datetime!(2024-02-01 0:00 UTC)))
            .schema_id("/objects/a/1.0.0/a.schema.json")
            .schema_id("/objects/b/1.0.0/b.schema.json")
            .object_name("gold")
            .order_by(OrderBy::desc(SortField::ModifiedAt))
            .order_by(OrderBy::asc(SortField::Object("object.name".into())))
            .permitted_workspaces_only(true);
        q.validate().unwrap();
        let ws = q.to_pairs(false);
        let get = |k: &str| -> Vec<String> {
            ws.iter()
                .filter(|(key, _)| *key == k)
                .map(|(_, v)| v.clone())
                .collect()
        };
        assert_eq!(get("limit"), ["20"]);
        assert_eq!(get("offset"), ["10"]);
        assert_eq!(get("deleted"), ["true"]);
        assert_eq!(get("created_by"), [user.to_string()]);
        assert_eq!(
            get("modified_at"),
            ["gte:2024-01-02T03:04:05Z", "lt:2024-02-01T00:00:00Z"]
        );
        assert_eq!(get("schema_id").len(), 2);
        assert_eq!(get("object_name"), ["gold"]);
        assert_eq!(get("order_by"), ["desc:modified_at,asc:object.name"]);
        assert!(get("permitted_workspaces_only").is_empty());
        let org = q.to_pairs(true);
        assert!(
            org.iter()
                .any(|(k, v)| *k == "permitted_workspaces_only" && v == "true")
        );
    }

    #[test]
    fn invalid_queries_are_refused() {
        let t = datetime!(2024-01-01 0:00 UTC);
        assert!(ListObjectsQuery::new().limit(0).validate().is_err());
        assert!(
            ListObjectsQuery::new()
                .limit(MAX_PAGE_SIZE + 1)
                .validate()
                .is_err()
        );
        let three = ListObjectsQuery::new()
            .created(TimeFilter::since(t))
            .created(TimeFilter::since(t))
            .created(TimeFilter::before(t));
        assert!(three.validate().is_err());
        let exact = ListObjectsQuery::new()
            .deleted_time(TimeFilter::new(TimeOp::Equal, t))
            .deleted_time(TimeFilter::before(t));
        assert!(exact.validate().is_err());
        assert!(ListObjectsQuery::new().object_name("").validate().is_err());
        assert!(
            ListObjectsQuery::new()
                .order_by(OrderBy::asc(SortField::Object("a,b".into())))
                .validate()
                .is_err()
        );
    }
}
