//! Listing objects, in a workspace and across an organization: every filter of the API, ordering
//! by known fields or by a field of the object JSON, and offset paging with links.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::common::{API, Ctx, S, caller, geojson_bbox, listed_json, respond, stage_json, view};
use super::read::org_not_found;
use super::state::{ObjectRec, ObjectsState};
use crate::clock::{TimeFilter, TimeOp, format_workspace_time};
use crate::http_util::{ApiError, Query, link, parse_uuid, with_stamps};
use crate::state::{Role, Shared};

const MAX_LIMIT: u64 = 5000;

fn filter_error(name: &str, reason: impl Into<String>) -> ApiError {
    let reason = reason.into();
    ApiError::new(
        S,
        422,
        "filtering/invalid-params",
        "Invalid Filter Params.",
        format!("{name}: {reason}"),
    )
    .with("invalid-params", json!([{"name": name, "reason": reason}]))
}

fn sort_error(reason: impl Into<String>) -> ApiError {
    ApiError::new(
        S,
        422,
        "sorting/invalid-params",
        "Invalid Sorting Parameters",
        reason.into(),
    )
}

/// A `[op:]pattern` text filter (`object_name`, `schema_id`).
#[derive(Debug)]
enum TextFilter {
    /// No operator on `object_name`: a case-sensitive prefix of the file name.
    NamePrefix(String),
    /// `eq:` (and a bare `schema_id`): equal to the whole value.
    Eq(String),
    /// `like:` with `*` wildcards, case-insensitive.
    Like(String),
}

/// `*` matches any run of characters; the rest literally (case-insensitive).
fn like(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.to_lowercase(), text.to_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    let mut rest = t.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

/// A spatial filter: the envelope of the query polygon, and whether objects must lie within it
/// (`geowithin`) or only intersect it (`geointersects`, the default).
#[derive(Debug)]
struct Spatial {
    within: bool,
    min: (f64, f64),
    max: (f64, f64),
}

fn parse_spatial(raw: &str) -> Result<Spatial, ApiError> {
    let (within, coords) = match raw.split_once(':') {
        Some(("geowithin", c)) => (true, c),
        Some(("geointersects", c)) => (false, c),
        Some((op, _)) if !op.starts_with('(') => {
            return Err(filter_error(
                "geojson_bounding_box",
                format!("unknown operator '{op}'"),
            ));
        }
        _ => (false, raw),
    };
    let bad = || {
        filter_error(
            "geojson_bounding_box",
            "expected 5 (longitude,latitude) pairs",
        )
    };
    let points: Vec<(f64, f64)> = coords
        .split(')')
        .map(|p| p.trim_start_matches(',').trim().trim_start_matches('('))
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (x, y) = p.split_once(',').ok_or_else(bad)?;
            Ok((
                x.trim().parse::<f64>().map_err(|_| bad())?,
                y.trim().parse::<f64>().map_err(|_| bad())?,
            ))
        })
        .collect::<Result<_, ApiError>>()?;
    if points.len() != 5 || points[0] != points[4] {
        return Err(bad());
    }
    let fold = |f: fn(f64, f64) -> f64, pick: fn(&(f64, f64)) -> f64, init: f64| {
        points.iter().map(pick).fold(init, f)
    };
    Ok(Spatial {
        within,
        min: (
            fold(f64::min, |p| p.0, f64::INFINITY),
            fold(f64::min, |p| p.1, f64::INFINITY),
        ),
        max: (
            fold(f64::max, |p| p.0, f64::NEG_INFINITY),
            fold(f64::max, |p| p.1, f64::NEG_INFINITY),
        ),
    })
}

impl Spatial {
    /// Whether the object's GeoJSON box passes (objects without one never do).
    fn matches(&self, object: &Value) -> bool {
        let bbox = geojson_bbox(object);
        let Some(ring) = bbox.pointer("/coordinates/0").and_then(Value::as_array) else {
            return false;
        };
        let pts: Vec<(f64, f64)> = ring
            .iter()
            .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
            .collect();
        let (x0, x1) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
            (a.0.min(p.0), a.1.max(p.0))
        });
        let (y0, y1) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
            (a.0.min(p.1), a.1.max(p.1))
        });
        if self.within {
            x0 >= self.min.0 && x1 <= self.max.0 && y0 >= self.min.1 && y1 <= self.max.1
        } else {
            x0 <= self.max.0 && x1 >= self.min.0 && y0 <= self.max.1 && y1 >= self.min.1
        }
    }
}

/// A sort key: a known field, or a field of the object JSON (`object.a.b`).
#[derive(Debug)]
enum SortKey {
    CreatedAt,
    CreatedBy,
    ModifiedAt,
    ModifiedBy,
    ObjectName,
    DeletedAt,
    Field(String),
}

/// Every filter, the ordering and the page of a list request.
#[derive(Debug)]
struct Listing {
    limit: u64,
    offset: u64,
    deleted: bool,
    created_by: Vec<Uuid>,
    modified_by: Vec<Uuid>,
    deleted_by: Vec<Uuid>,
    created_at: Vec<TimeFilter>,
    modified_at: Vec<TimeFilter>,
    deleted_at: Vec<TimeFilter>,
    names: Vec<TextFilter>,
    schemas: Vec<TextFilter>,
    spatial: Vec<Spatial>,
    order: Vec<(SortKey, bool)>,
}

fn users(q: &Query, names: &[&str]) -> Result<Vec<Uuid>, ApiError> {
    names
        .iter()
        .flat_map(|n| q.all_raw(n).into_iter().map(move |v| (*n, v)))
        .map(|(n, v)| {
            Uuid::parse_str(v).map_err(|_| filter_error(n, format!("'{v}' is not a UUID")))
        })
        .collect()
}

fn dates(q: &Query, name: &str) -> Result<Vec<TimeFilter>, ApiError> {
    let raw = q.all_raw(name);
    if raw.len() > 2 {
        return Err(filter_error(name, "at most 2 dates"));
    }
    let parsed: Vec<TimeFilter> = raw
        .iter()
        .map(|v| {
            TimeFilter::parse(v)
                .ok_or_else(|| filter_error(name, format!("'{v}' is not [op:]ISO-8601")))
        })
        .collect::<Result<_, _>>()?;
    if parsed.len() == 2 && parsed.iter().any(|f| f.op == TimeOp::Eq) {
        return Err(filter_error(
            name,
            "an equality date cannot be combined with another date",
        ));
    }
    Ok(parsed)
}

fn text_filters(
    q: &Query,
    name: &str,
    bare: fn(String) -> TextFilter,
) -> Result<Vec<TextFilter>, ApiError> {
    q.all_raw(name)
        .into_iter()
        .map(|v| {
            let f = match v.split_once(':') {
                Some(("eq", p)) => TextFilter::Eq(p.to_owned()),
                Some(("like", p)) => TextFilter::Like(p.to_owned()),
                _ => bare(v.to_owned()),
            };
            match &f {
                TextFilter::NamePrefix(p) | TextFilter::Eq(p) | TextFilter::Like(p)
                    if p.is_empty() =>
                {
                    Err(filter_error(name, "must not be empty"))
                }
                _ => Ok(f),
            }
        })
        .collect()
}

impl Listing {
    fn parse(q: &Query) -> Result<Self, ApiError> {
        let int = |name: &str, default: u64| -> Result<u64, ApiError> {
            Ok(q.u64(name)
                .map_err(|e| filter_error(name, e))?
                .unwrap_or(default))
        };
        let limit = int("limit", MAX_LIMIT)?;
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(filter_error(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let mut order = Vec::new();
        for item in q.all("order_by") {
            let (desc, field) = match item.split_once(':') {
                Some(("asc", f)) => (false, f),
                Some(("desc", f)) => (true, f),
                Some((op, _)) => return Err(sort_error(format!("unknown sort order '{op}'"))),
                None => (false, item),
            };
            let key = match field {
                "created_at" => SortKey::CreatedAt,
                "created_by" => SortKey::CreatedBy,
                "modified_at" => SortKey::ModifiedAt,
                "modified_by" => SortKey::ModifiedBy,
                "object_name" => SortKey::ObjectName,
                "deleted_at" => SortKey::DeletedAt,
                other => match other.strip_prefix("object.") {
                    Some(path) if !path.is_empty() => {
                        SortKey::Field(format!("/{}", path.replace('.', "/")))
                    }
                    _ => return Err(sort_error(format!("unknown sort field '{other}'"))),
                },
            };
            order.push((key, desc));
        }
        Ok(Self {
            limit,
            offset: int("offset", 0)?,
            deleted: q.flag("deleted").map_err(|e| filter_error("deleted", e))?,
            created_by: users(q, &["created_by", "author"])?,
            modified_by: users(q, &["modified_by"])?,
            deleted_by: users(q, &["deleted_by"])?,
            created_at: dates(q, "created_at")?,
            modified_at: dates(q, "modified_at")?,
            deleted_at: dates(q, "deleted_at")?,
            names: text_filters(q, "object_name", TextFilter::NamePrefix)?,
            schemas: text_filters(q, "schema_id", TextFilter::Eq)?,
            spatial: q
                .all_raw("geojson_bounding_box")
                .into_iter()
                .map(parse_spatial)
                .collect::<Result<_, _>>()?,
            order,
        })
    }

    fn matches(&self, o: &ObjectRec) -> bool {
        let one_of = |list: &[Uuid], id: Option<Uuid>| {
            list.is_empty() || id.is_some_and(|i| list.contains(&i))
        };
        let text = |filters: &[TextFilter], name: &str, full: &str| {
            filters.is_empty()
                || filters.iter().any(|f| match f {
                    TextFilter::NamePrefix(p) => name.starts_with(p.as_str()),
                    TextFilter::Eq(p) => {
                        full == p
                            || full.strip_prefix('/') == Some(p.as_str())
                            || p.strip_prefix('/') == Some(full)
                    }
                    TextFilter::Like(p) => like(p, full) || like(p, full.trim_start_matches('/')),
                })
        };
        let path = format!("/{}", o.path);
        o.stamps.deleted_at.is_some() == self.deleted
            && one_of(&self.created_by, Some(o.stamps.created_by))
            && one_of(&self.modified_by, Some(o.stamps.modified_by))
            && one_of(&self.deleted_by, o.stamps.deleted_by)
            && self
                .created_at
                .iter()
                .all(|f| f.matches(o.stamps.created_at))
            && self
                .modified_at
                .iter()
                .all(|f| f.matches(o.stamps.modified_at))
            && self
                .deleted_at
                .iter()
                .all(|f| o.stamps.deleted_at.is_some_and(|d| f.matches(d)))
            && text(&self.names, o.name(), &path)
            && text(&self.schemas, o.schema(), o.schema())
            && self.spatial.iter().all(|s| s.matches(&o.latest().object))
    }

    fn compare(&self, a: &ObjectRec, b: &ObjectRec) -> Ordering {
        for (key, desc) in &self.order {
            let ord = match key {
                SortKey::CreatedAt => a.stamps.created_at.cmp(&b.stamps.created_at),
                SortKey::CreatedBy => a.stamps.created_by.cmp(&b.stamps.created_by),
                SortKey::ModifiedAt => a.stamps.modified_at.cmp(&b.stamps.modified_at),
                SortKey::ModifiedBy => a.stamps.modified_by.cmp(&b.stamps.modified_by),
                SortKey::ObjectName => a.name().cmp(b.name()),
                SortKey::DeletedAt => a.stamps.deleted_at.cmp(&b.stamps.deleted_at),
                SortKey::Field(pointer) => compare_values(
                    a.latest().object.pointer(pointer),
                    b.latest().object.pointer(pointer),
                ),
            };
            let ord = if *desc { ord.reverse() } else { ord };
            if ord.is_ne() {
                return ord;
            }
        }
        a.stamps
            .created_at
            .cmp(&b.stamps.created_at)
            .then(a.id.cmp(&b.id))
    }

    /// Filters, sorts and pages `objects`; returns the page and the total before paging.
    fn apply<'a>(&self, objects: impl Iterator<Item = &'a ObjectRec>) -> (Vec<&'a ObjectRec>, u64) {
        let mut all: Vec<&ObjectRec> = objects.filter(|o| self.matches(o)).collect();
        all.sort_by(|a, b| self.compare(a, b));
        let total = all.len() as u64;
        let page = all
            .into_iter()
            .skip(usize::try_from(self.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(self.limit).unwrap_or(usize::MAX))
            .collect();
        (page, total)
    }

    /// `{count, limit, offset, total, links: {next, prev}}` plus `objects`.
    fn page_json(
        &self,
        shared: &Shared,
        path: &str,
        q: &Query,
        objects: Vec<Value>,
        total: u64,
    ) -> Value {
        let rest = q.without(&["limit", "offset"]);
        let url = |offset: u64| {
            let mut pairs = rest.clone();
            pairs.push(("limit".into(), self.limit.to_string()));
            if offset > 0 {
                pairs.push(("offset".into(), offset.to_string()));
            }
            link(shared.hub(), path, &pairs)
        };
        let count = objects.len() as u64;
        let next = (self.offset + count < total).then(|| url(self.offset + self.limit));
        let prev = (self.offset > 0).then(|| url(self.offset.saturating_sub(self.limit)));
        json!({
            "count": count,
            "limit": self.limit,
            "offset": self.offset,
            "total": total,
            "links": {"next": next, "prev": prev},
            "objects": objects,
        })
    }
}

/// Numbers by value, strings by text, missing or other values last.
fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::Null) | None, Some(Value::Null) | None) => Ordering::Equal,
        (Some(Value::Null) | None, _) => Ordering::Greater,
        (_, Some(Value::Null) | None) => Ordering::Less,
        (x, y) => x.map(Value::to_string).cmp(&y.map(Value::to_string)),
    }
}

/// `GET /geoscience-object/orgs/{org}/workspaces/{ws}/objects`.
pub(super) async fn list_objects(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let q = Query::parse(raw.as_deref());
        let listing = Listing::parse(&q)?;
        let mut model = shared.model();
        super::common::workspace(&mut model, &c, Role::Viewer)?;
        let (_, w) = view(&model, &c);
        let (page, total) = listing.apply(w.into_iter().flat_map(|w| w.objects.values()));
        let objects = page
            .into_iter()
            .map(|o| listed_json(&shared, &model, &c, o))
            .collect();
        let path = format!("{}/objects", super::common::workspace_base(&c));
        Ok(axum::Json(listing.page_json(&shared, &path, &q, objects, total)).into_response())
    })())
}

/// `GET /geoscience-object/orgs/{org}/objects`: the objects of every live workspace of the
/// organization (with `permitted_workspaces_only=true`, only those the caller has a role in).
pub(super) async fn list_org_objects(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let user = caller(&shared, &headers)?;
        let org = parse_uuid(S, "org_id", &org)?;
        let q = Query::parse(raw.as_deref());
        let listing = Listing::parse(&q)?;
        let permitted_only = q
            .flag("permitted_workspaces_only")
            .map_err(|e| filter_error("permitted_workspaces_only", e))?;
        let mut model = shared.model();
        model.services.get_mut::<ObjectsState>().ensure_stages(org);
        let o = model.org(org).ok_or_else(org_not_found)?;
        let workspaces: Vec<(Uuid, String, Option<Role>)> = o
            .workspaces
            .iter()
            .filter(|w| !w.deleted)
            .map(|w| (w.id, w.name.clone(), w.role_of(user)))
            .filter(|(_, _, role)| !permitted_only || role.is_some())
            .collect();
        let state = model.services.get::<ObjectsState>();
        let all = workspaces.iter().flat_map(|(id, _, _)| {
            state
                .and_then(|s| s.workspaces.get(id))
                .into_iter()
                .flat_map(move |w| w.objects.values().map(move |o| (*id, o)))
        });
        let in_ws: std::collections::HashMap<Uuid, Uuid> =
            all.clone().map(|(ws, o)| (o.id, ws)).collect();
        let (page, total) = listing.apply(all.map(|(_, o)| o));
        let objects: Vec<Value> = page
            .into_iter()
            .map(|o| {
                let ws = in_ws.get(&o.id).copied().unwrap_or_default();
                let (_, name, role) = workspaces
                    .iter()
                    .find(|(id, _, _)| *id == ws)
                    .cloned()
                    .unwrap_or_default();
                let c = Ctx { user, org, ws };
                let (stages, _) = view(&model, &c);
                let v = o.latest();
                let body = json!({
                    "name": o.name(),
                    "object_id": o.id,
                    "schema": v.schema(),
                    "version_id": v.version_id,
                    "geojson_bounding_box": geojson_bbox(&v.object),
                    "stage": stage_json(stages, v.stage),
                    "workspace_id": ws,
                    "workspace_name": name,
                    "workspace_access": role.map(Role::as_str),
                });
                with_stamps(body, &model, &o.stamps, format_workspace_time)
            })
            .collect();
        let path = format!("/geoscience-object/orgs/{org}/objects");
        Ok(axum::Json(listing.page_json(&shared, &path, &q, objects, total)).into_response())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_use_stars() {
        assert!(like(
            "*variogram*",
            "/objects/variogram/1.0.0/variogram.schema.json"
        ));
        assert!(like(
            "/objects/point*",
            "/objects/pointset/1.3.0/pointset.schema.json"
        ));
        assert!(!like(
            "*grid",
            "/objects/pointset/1.3.0/pointset.schema.json"
        ));
        assert!(like("A*.JSON", "a/m.json"));
    }

    #[test]
    fn spatial_filters_need_a_closed_ring_of_five_points() {
        let s = parse_spatial("geowithin:(0,0),(2,0),(2,2),(0,2),(0,0)").unwrap();
        assert!(s.within);
        assert_eq!((s.min, s.max), ((0.0, 0.0), (2.0, 2.0)));
        assert!(parse_spatial("(0,0),(2,0),(2,2),(0,2),(1,1)").is_err());
        assert!(parse_spatial("near:(0,0),(2,0),(2,2),(0,2),(0,0)").is_err());
    }
}
