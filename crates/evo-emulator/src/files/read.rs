//! Listing files (filters, ordering, paging) and getting one by id or path.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::common::{
    API, Ctx, R, download_json, files_base, gone, invalid, list_json, normalize_path, not_found,
    respond, workspace,
};
use super::state::{FileRec, WorkspaceFiles};
use crate::clock::TimeFilter;
use crate::http_util::{ApiError, Query, link};
use crate::state::{Model, Role, Shared};

// ---------- list ----------

pub(super) fn date_filters(q: &Query, name: &str) -> Result<Vec<TimeFilter>, ApiError> {
    let raw: Vec<&str> = q.all_raw(name);
    if raw.len() > 2 {
        return Err(invalid(name, "at most 2 dates".into()));
    }
    let parsed: Vec<TimeFilter> = raw
        .iter()
        .map(|v| {
            TimeFilter::parse(v).ok_or_else(|| invalid(name, format!("'{v}' is not [op:]ISO-8601")))
        })
        .collect::<Result<_, _>>()?;
    if parsed.len() == 2 && parsed.iter().any(|f| f.op == crate::clock::TimeOp::Eq) {
        return Err(invalid(
            name,
            "an equality date cannot be combined with another date".into(),
        ));
    }
    Ok(parsed)
}

pub(super) async fn list_files(
    State(shared): State<Arc<Shared>>,
    Path((org, ws)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let q = Query::parse(raw.as_deref());
        let limit = q
            .u64("limit")
            .map_err(|e| invalid("limit", e))?
            .unwrap_or(5000);
        if !(1..=5000).contains(&limit) {
            return Err(invalid("limit", "must be between 1 and 5000".into()));
        }
        let offset = q
            .u64("offset")
            .map_err(|e| invalid("offset", e))?
            .unwrap_or(0);
        let deleted = q.flag("deleted").map_err(|e| invalid("deleted", e))?;
        let authors = q.uuids("author").map_err(|e| invalid("author", e))?;
        let modified_by = q
            .uuids("modified_by")
            .map_err(|e| invalid("modified_by", e))?;
        let deleted_by = q
            .uuids("deleted_by")
            .map_err(|e| invalid("deleted_by", e))?;
        let name = q.get("file_name").map(str::to_lowercase);
        if name
            .as_deref()
            .is_some_and(|n| n.is_empty() || n.contains('/'))
        {
            return Err(invalid(
                "file_name",
                "must be non-empty and contain no '/'".into(),
            ));
        }
        let created_at = date_filters(&q, "created_at")?;
        let modified_at = date_filters(&q, "modified_at")?;
        let deleted_at = date_filters(&q, "deleted_at")?;
        let mut keys = Vec::new();
        for item in q.all("order_by") {
            let (desc, field) = match item.split_once(':') {
                Some(("asc", f)) => (false, f),
                Some(("desc", f)) => (true, f),
                Some(_) => return Err(invalid("order_by", format!("bad item '{item}'"))),
                None => (false, item),
            };
            if !["created_at", "modified_at", "deleted_at"].contains(&field) {
                return Err(invalid("order_by", format!("unknown field '{field}'")));
            }
            keys.push((field.to_owned(), desc));
        }
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Viewer)?;
        let mut files: Vec<FileRec> = w
            .files
            .values()
            .filter(|f| f.visible())
            .filter(|f| f.stamps.deleted_at.is_some() == deleted)
            .filter(|f| authors.is_empty() || authors.contains(&f.stamps.created_by))
            .filter(|f| modified_by.is_empty() || modified_by.contains(&f.stamps.modified_by))
            .filter(|f| {
                deleted_by.is_empty()
                    || f.stamps.deleted_by.is_some_and(|d| deleted_by.contains(&d))
            })
            .filter(|f| {
                name.as_deref()
                    .is_none_or(|n| f.name().to_lowercase().contains(n))
            })
            .filter(|f| created_at.iter().all(|t| t.matches(f.stamps.created_at)))
            .filter(|f| modified_at.iter().all(|t| t.matches(f.stamps.modified_at)))
            .filter(|f| {
                deleted_at
                    .iter()
                    .all(|t| f.stamps.deleted_at.is_some_and(|d| t.matches(d)))
            })
            .cloned()
            .collect();
        files.sort_by(|a, b| {
            for (field, desc) in &keys {
                let ord = match field.as_str() {
                    "created_at" => a.stamps.created_at.cmp(&b.stamps.created_at),
                    "modified_at" => a.stamps.modified_at.cmp(&b.stamps.modified_at),
                    _ => a.stamps.deleted_at.cmp(&b.stamps.deleted_at),
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
        });
        let total = files.len() as u64;
        let page: Vec<Value> = files
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|f| list_json(&shared, &model, &c, f))
            .collect();
        let count = page.len() as u64;
        let rest = q.without(&["limit", "offset"]);
        let url = |o: u64| {
            let mut pairs = rest.clone();
            pairs.push(("limit".into(), limit.to_string()));
            pairs.push(("offset".into(), o.to_string()));
            link(shared.hub(), &files_base(&c), &pairs)
        };
        let next = if offset + count < total {
            json!(url(offset + limit))
        } else {
            Value::Null
        };
        let prev = if offset > 0 {
            json!(url(offset.saturating_sub(limit)))
        } else {
            Value::Null
        };
        Ok(axum::Json(json!({
            "count": count,
            "total": total,
            "limit": limit,
            "offset": offset,
            "links": {"self": url(offset), "next": next, "prev": prev},
            "files": page,
        }))
        .into_response())
    })())
}

// ---------- get ----------

pub(super) fn get_common(shared: &Shared, model: &Model, c: &Ctx, f: &FileRec, q: &Query) -> R {
    let include = q
        .flag("include_versions")
        .map_err(|e| invalid("include_versions", e))?;
    let version =
        match q.get("version_id") {
            None => f.latest(),
            Some(v) => {
                let id: u64 = v
                    .parse()
                    .map_err(|_| invalid("version_id", format!("'{v}' is not an integer")))?;
                let found = f.versions.iter().find(|x| x.version_id == id);
                Some(found.ok_or_else(|| {
                    not_found(&format!("Version {id} of this file does not exist."))
                })?)
            }
        };
    let v = version.ok_or_else(|| not_found("File not found."))?;
    Ok(axum::Json(download_json(shared, model, c, f, v, include)).into_response())
}

pub(super) async fn get_by_id(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, file)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let (c, id) = API.item(&shared, &headers, (&org, &ws, &file), "file_id")?;
        let q = Query::parse(raw.as_deref());
        let allow_deleted = q.flag("deleted").map_err(|e| invalid("deleted", e))?;
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Viewer)?;
        let f = w
            .files
            .get(&id)
            .filter(|f| f.visible())
            .cloned()
            .ok_or_else(|| not_found("File not found."))?;
        if f.stamps.deleted_at.is_some() && !allow_deleted {
            return Err(gone());
        }
        get_common(&shared, &model, &c, &f, &q)
    })())
}

/// The live file at `path` (visible or still waiting for its first commit).
pub(super) fn live_at<'a>(w: &'a WorkspaceFiles, path: &str) -> Option<&'a FileRec> {
    w.files
        .values()
        .find(|f| f.stamps.deleted_at.is_none() && f.path == path)
}

pub(super) async fn get_by_path(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, path)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let path = normalize_path(&path)?;
        let q = Query::parse(raw.as_deref());
        let mut model = shared.model();
        let w = workspace(&mut model, &c, Role::Viewer)?;
        let f = match live_at(w, &path).filter(|f| f.visible()) {
            Some(f) => f.clone(),
            None if w
                .files
                .values()
                .any(|f| f.path == path && f.visible() && f.stamps.deleted_at.is_some()) =>
            {
                return Err(gone());
            }
            None => return Err(not_found("File not found.")),
        };
        get_common(&shared, &model, &c, &f, &q)
    })())
}
