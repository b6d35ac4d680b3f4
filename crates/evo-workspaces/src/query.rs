//! Filters, ordering and the page of a workspace listing, built with chained setters like the
//! other clients' list queries.

use evo_core::TimeFilter;
use evo_core::uuid::Uuid;

use crate::generated::endpoints as ep;

/// A sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SortDirection {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// A field workspaces can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WorkspaceSortField {
    /// The workspace name.
    Name,
    /// Creation time.
    CreatedAt,
    /// Last update time.
    UpdatedAt,
    /// The caller's role in the workspace.
    UserRole,
}

impl WorkspaceSortField {
    fn wire(self) -> &'static str {
        match self {
            WorkspaceSortField::Name => "name",
            WorkspaceSortField::CreatedAt => "created_at",
            WorkspaceSortField::UpdatedAt => "updated_at",
            WorkspaceSortField::UserRole => "user_role",
        }
    }
}

/// What to list: filters, ordering and the page. `ListWorkspacesQuery::new()` lists the
/// first page of every workspace the caller has a role in.
///
/// ```
/// use evo_workspaces::{ListWorkspacesQuery, SortDirection, WorkspaceSortField};
/// let query = ListWorkspacesQuery::new()
///     .name("Drilling 2026")
///     .order_by(WorkspaceSortField::UpdatedAt, SortDirection::Desc)
///     .limit(50);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListWorkspacesQuery {
    pub(crate) offset: Option<u64>,
    pub(crate) limit: Option<u64>,
    order_by: Vec<(WorkspaceSortField, SortDirection)>,
    created_by: Option<Uuid>,
    created: Option<TimeFilter>,
    updated: Option<TimeFilter>,
    name: Option<String>,
    deleted: Option<bool>,
    user_id: Option<Uuid>,
}

impl ListWorkspacesQuery {
    /// The first page of every workspace.
    pub fn new() -> Self {
        Self::default()
    }

    /// The page size (the service's default when unset; more than 100 is deprecated).
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// How many workspaces to skip.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Orders by `field` in `direction`, after the orderings given before.
    pub fn order_by(mut self, field: WorkspaceSortField, direction: SortDirection) -> Self {
        self.order_by.push((field, direction));
        self
    }

    /// Only workspaces created by this user.
    pub fn created_by(mut self, user: Uuid) -> Self {
        self.created_by = Some(user);
        self
    }

    /// Only workspaces created within `filter`.
    pub fn created(mut self, filter: TimeFilter) -> Self {
        self.created = Some(filter);
        self
    }

    /// Only workspaces last updated within `filter`.
    pub fn updated(mut self, filter: TimeFilter) -> Self {
        self.updated = Some(filter);
        self
    }

    /// Only workspaces with this name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Lists soft-deleted workspaces (`true`) instead of live ones.
    pub fn deleted(mut self, deleted: bool) -> Self {
        self.deleted = Some(deleted);
        self
    }

    /// Only workspaces this user has a role in (administrators).
    pub fn user_id(mut self, user: Uuid) -> Self {
        self.user_id = Some(user);
        self
    }

    /// The `order_by` parameter: `asc:name,desc:updated_at`.
    fn order_by_param(&self) -> Option<String> {
        (!self.order_by.is_empty()).then(|| {
            self.order_by
                .iter()
                .map(|(field, direction)| match direction {
                    SortDirection::Asc => format!("asc:{}", field.wire()),
                    SortDirection::Desc => format!("desc:{}", field.wire()),
                })
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    /// The query parameters of `GET .../workspaces`.
    pub(crate) fn params(&self) -> ep::ListWorkspacesParams {
        // Offsets and limits past i64::MAX are not pages any server has.
        let wire = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        ep::ListWorkspacesParams {
            limit: self.limit.map(wire),
            offset: self.offset.map(wire),
            sort: None,
            order_by: self.order_by_param(),
            created_by: self.created_by,
            created_at: self.created.map(|f| f.to_string()),
            updated_at: self.updated.map(|f| f.to_string()),
            name: self.name.clone(),
            deleted: self.deleted,
            user_id: self.user_id,
        }
    }

    /// The query parameters of `GET .../workspaces/summary` (the same filters).
    pub(crate) fn summary_params(&self) -> ep::ListWorkspacesSummaryParams {
        let p = self.params();
        ep::ListWorkspacesSummaryParams {
            limit: p.limit,
            offset: p.offset,
            sort: p.sort,
            order_by: p.order_by,
            created_by: p.created_by,
            created_at: p.created_at,
            updated_at: p.updated_at,
            name: p.name,
            deleted: p.deleted,
            user_id: p.user_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setter_reaches_its_parameter() {
        let at = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        let user = Uuid::from_u128(7);
        let p = ListWorkspacesQuery::new()
            .limit(20)
            .offset(40)
            .order_by(WorkspaceSortField::UserRole, SortDirection::Asc)
            .order_by(WorkspaceSortField::Name, SortDirection::Desc)
            .created_by(user)
            .created(TimeFilter::since(at))
            .updated(TimeFilter::before(at))
            .name("Pit")
            .deleted(true)
            .user_id(user)
            .params();
        assert_eq!((p.limit, p.offset), (Some(20), Some(40)));
        assert_eq!(p.order_by.as_deref(), Some("asc:user_role,desc:name"));
        assert_eq!(p.created_at.as_deref(), Some("gte:2026-01-02T03:04:05Z"));
        assert_eq!(p.updated_at.as_deref(), Some("lt:2026-01-02T03:04:05Z"));
        assert_eq!((p.created_by, p.user_id), (Some(user), Some(user)));
        assert_eq!((p.name.as_deref(), p.deleted), (Some("Pit"), Some(true)));
        let empty = ListWorkspacesQuery::new().params();
        assert_eq!(empty.order_by, None);
        assert_eq!(
            (empty.limit, empty.offset, empty.deleted),
            (None, None, None)
        );
    }
}
