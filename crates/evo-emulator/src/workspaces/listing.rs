//! Listing workspaces: filters, ordering and paging (the full list and the summary).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::clock::TimeFilter;
use crate::http_util::{ApiError, Query, link};
use crate::state::{Model, Shared, Workspace};

use super::common::{invalid, org_caller, org_not_found, respond, ws_json};

/// Parses `order_by` (`asc:name,desc:updated_at`) and `sort` (`name,-created_at`).
pub(super) fn sort_keys(q: &Query) -> Result<Vec<(String, bool)>, ApiError> {
    let mut keys = Vec::new();
    let fields = ["name", "created_at", "updated_at", "user_role"];
    for item in q.all("order_by") {
        let (desc, field) = match item.split_once(':') {
            Some(("asc", f)) => (false, f),
            Some(("desc", f)) => (true, f),
            Some(_) => {
                return Err(invalid("order_by", format!("bad item '{item}'")));
            }
            None => (false, item),
        };
        if !fields.contains(&field) {
            return Err(invalid("order_by", format!("unknown field '{field}'")));
        }
        keys.push((field.to_owned(), desc));
    }
    for item in q.all("sort") {
        let (desc, field) = match item.strip_prefix('-') {
            Some(f) => (true, f),
            None => (false, item),
        };
        if !fields.contains(&field) {
            return Err(invalid("sort", format!("unknown field '{field}'")));
        }
        keys.push((field.to_owned(), desc));
    }
    Ok(keys)
}

pub(super) fn time_filters(q: &Query, name: &str) -> Result<Vec<TimeFilter>, ApiError> {
    q.all_raw(name)
        .into_iter()
        .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            TimeFilter::parse(&v)
                .ok_or_else(|| invalid(name, format!("'{v}' is not [op:]ISO-8601")))
        })
        .collect()
}

/// The workspaces a list request selects, filtered and sorted.
pub(super) fn select_workspaces(
    model: &Model,
    org: Uuid,
    user: Uuid,
    q: &Query,
) -> Result<Vec<Workspace>, ApiError> {
    let o = model.org(org).ok_or_else(|| org_not_found(org))?;
    let deleted = q.flag("deleted").map_err(|e| invalid("deleted", e))?;
    let created_by = q
        .uuids("created_by")
        .map_err(|e| invalid("created_by", e))?;
    let user_ids = q.uuids("user_id").map_err(|e| invalid("user_id", e))?;
    let created_at = time_filters(q, "created_at")?;
    let updated_at = time_filters(q, "updated_at")?;
    let name = q.get("name");
    let keys = sort_keys(q)?;
    let mut out: Vec<Workspace> = o
        .workspaces
        .iter()
        .filter(|w| w.role_of(user).is_some())
        .filter(|w| deleted || !w.deleted)
        .filter(|w| created_by.is_empty() || created_by.contains(&w.created_by))
        .filter(|w| user_ids.is_empty() || user_ids.iter().any(|u| w.role_of(*u).is_some()))
        .filter(|w| created_at.iter().all(|f| f.matches(w.created_at)))
        .filter(|w| updated_at.iter().all(|f| f.matches(w.updated_at)))
        .filter(|w| match name {
            None => true,
            Some(n) => match n.split_once(':') {
                Some(("eq", v)) => w.name == v,
                Some(("like" | "ilike", v)) => w
                    .name
                    .to_lowercase()
                    .contains(&v.trim_matches(|c| c == '*' || c == '%').to_lowercase()),
                _ => w.name == n,
            },
        })
        .cloned()
        .collect();
    out.sort_by(|a, b| {
        for (field, desc) in &keys {
            let ord = match field.as_str() {
                "name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
                "created_at" => a.created_at.cmp(&b.created_at),
                "updated_at" => a.updated_at.cmp(&b.updated_at),
                _ => a.role_of(user).cmp(&b.role_of(user)),
            };
            let ord = if *desc { ord.reverse() } else { ord };
            if ord.is_ne() {
                return ord;
            }
        }
        a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id))
    });
    Ok(out)
}

/// Builds the `links` object of a page from the number of items in it.
pub(super) type LinkMaker = Box<dyn Fn(usize) -> Value>;

/// Paging with `first/last/next/previous/count/total` (or without `last/total`).
pub(super) fn paging(
    shared: &Shared,
    path: &str,
    q: &Query,
    total: usize,
    with_total: bool,
) -> Result<(usize, usize, LinkMaker), ApiError> {
    let limit_param = q.u64("limit").map_err(|e| invalid("limit", e))?;
    let offset = q
        .u64("offset")
        .map_err(|e| invalid("offset", e))?
        .unwrap_or(0) as usize;
    if limit_param == Some(0) {
        return Err(invalid("limit", "must be at least 1"));
    }
    let limit = limit_param.map(|l| l as usize);
    let rest = q.without(&["limit", "offset"]);
    let hub = shared.hub().clone();
    let path = path.to_owned();
    let url = move |o: usize, l: Option<usize>| {
        let mut pairs = rest.clone();
        if let Some(l) = l {
            pairs.push(("limit".into(), l.to_string()));
            pairs.push(("offset".into(), o.to_string()));
        }
        link(&hub, &path, &pairs)
    };
    let make = move |count: usize| -> Value {
        let (next, prev, last) = match limit {
            None => (Value::Null, Value::Null, url(0, None)),
            Some(l) => {
                let next = if offset + count < total {
                    json!(url(offset + l, Some(l)))
                } else {
                    Value::Null
                };
                let prev = if offset > 0 {
                    json!(url(offset.saturating_sub(l), Some(l)))
                } else {
                    Value::Null
                };
                let last_off = if total == 0 { 0 } else { (total - 1) / l * l };
                (next, prev, url(last_off, Some(l)))
            }
        };
        let mut v = json!({
            "first": url(0, limit),
            "next": next,
            "previous": prev,
            "count": count,
        });
        if with_total {
            v["last"] = json!(last);
            v["total"] = json!(total);
        }
        v
    };
    Ok((offset, limit.unwrap_or(usize::MAX), Box::new(make)))
}

/// A `{links, results}` page of `items` (each rendered by `render`) with the paging links of
/// `path`: the one shape of every paged Workspaces API listing.
pub(super) fn paged_json<I: ExactSizeIterator>(
    shared: &Shared,
    path: &str,
    q: &Query,
    items: I,
    with_total: bool,
    render: impl FnMut(I::Item) -> Value,
) -> Result<Response, ApiError> {
    let (offset, limit, links) = paging(shared, path, q, items.len(), with_total)?;
    let page: Vec<Value> = items.skip(offset).take(limit).map(render).collect();
    Ok(axum::Json(json!({"links": links(page.len()), "results": page})).into_response())
}

pub(super) async fn list_workspaces(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    list_page(
        &shared,
        &org,
        &headers,
        raw.as_deref(),
        "workspaces",
        ws_json,
    )
}

pub(super) async fn list_summary(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    list_page(
        &shared,
        &org,
        &headers,
        raw.as_deref(),
        "workspaces/summary",
        |_, _, _, w, _| json!({"id": w.id, "name": w.name}),
    )
}

/// One page of the workspaces of `org` the caller may see, each rendered by `item`, with the
/// paging links of `/workspace/orgs/{org}/{path}` (the full list and the summary share this).
pub(super) fn list_page(
    shared: &Arc<Shared>,
    org: &str,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    path: &str,
    item: impl Fn(&Shared, &Model, Uuid, &Workspace, Uuid) -> Value,
) -> Response {
    respond((|| {
        let (user, org) = org_caller(shared, headers, org)?;
        let q = Query::parse(raw_query);
        let model = shared.model();
        let all = select_workspaces(&model, org, user, &q)?;
        paged_json(
            shared,
            &format!("/workspace/orgs/{org}/{path}"),
            &q,
            all.iter(),
            true,
            |w| item(shared, &model, org, w, user),
        )
    })())
}
