//! Writing objects: create or update by path (moving an object when its uuid is posted to a new
//! path), update by id, restore, delete, and the stage of a version.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::common::{
    API, Ctx, R, S, bad_request, data_held, invalid, json_body, normalize_path, object_json,
    object_not_found, respond, workspace,
};
use super::data::{data_refs, invalid_keys};
use super::read::header_version;
use super::schema::{self, SchemaError};
use super::state::{ObjectRec, ObjectVersion, ObjectsState, WorkspaceObjects};
use crate::http_util::{ApiError, Query, link, no_content, see_other};
use crate::state::{Model, Role, Shared, Stamps};

/// Where a POST writes.
enum Target {
    Path(String),
    Id(Uuid),
}

/// A posted object, checked against its schema and with its data references listed.
struct Posted {
    object: Map<String, Value>,
    /// The `uuid` the client sent (`None` for `null` or absent: a new object).
    uuid: Option<Uuid>,
    /// The id a new object gets (already set as its `uuid` for validation).
    new_id: Uuid,
    data: Vec<String>,
}

fn parse_object(body: &[u8]) -> Result<Posted, ApiError> {
    let value = json_body(body)?;
    let Value::Object(mut object) = value else {
        return Err(invalid("body", "the object must be a JSON object"));
    };
    let schema_id = object
        .get("schema")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("schema", "a schema id string is required"))?
        .to_owned();
    let uuid = match object.get("uuid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            Some(Uuid::parse_str(s).map_err(|_| invalid("uuid", format!("'{s}' is not a UUID")))?)
        }
        Some(other) => return Err(invalid("uuid", format!("{other} is not a UUID"))),
    };
    let new_id = Uuid::new_v4();
    object.insert(
        "uuid".into(),
        Value::String(uuid.unwrap_or(new_id).to_string()),
    );
    let value = Value::Object(object);
    let data = data_refs(&value);
    let bad = invalid_keys(&data);
    if !bad.is_empty() {
        return Err(ApiError::new(
            S,
            400,
            "data/invalid-key",
            "Data Key Not Valid.",
            "Data references must be SHA-256 digests or UUIDs.",
        )
        .with("invalid", json!(bad)));
    }
    schema::validate(&schema_id, &value).map_err(|e| match e {
        SchemaError::Unknown(id) => ApiError::new(
            S,
            404,
            "schemas/not-found",
            "Failed To Request Geoscience Object Schema.",
            format!("No object schema has the id '{id}'."),
        ),
        SchemaError::Invalid {
            json_path,
            schema_path,
            message,
        } => ApiError::new(
            S,
            400,
            "schemas/invalid-object",
            "The Geoscience Object Is Invalid.",
            message,
        )
        .with("json_path", json!(json_path))
        .with("schema_path", json!(schema_path)),
    })?;
    let Value::Object(object) = value else {
        unreachable!("built as an object above")
    };
    Ok(Posted {
        object,
        uuid,
        new_id,
        data,
    })
}

/// `pointset.schema.json` of `/objects/pointset/1.3.0/pointset.schema.json`.
fn schema_file(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

fn stale() -> ApiError {
    ApiError::new(
        S,
        412,
        "objects/modified",
        "Object Modified.",
        "Specified object version is stale.",
    )
}

fn already_exists(existing: Uuid, path: &str) -> ApiError {
    ApiError::new(
        S,
        409,
        "objects/already-exists",
        "Object already exists.",
        "That object has already been created",
    )
    .with("existing_id", json!(existing))
    .with("object_path", json!(format!("/{path}")))
}

/// Checks an update of `o`: its version is the one `If-Match` names, its schema type stays.
fn check_update(o: &ObjectRec, if_match: Option<&str>, schema_id: &str) -> Result<(), ApiError> {
    if if_match.is_some_and(|v| v != o.latest().version_id) {
        return Err(stale());
    }
    let (expected, actual) = (schema_file(o.schema()), schema_file(schema_id));
    if expected != actual {
        return Err(ApiError::new(
            S,
            400,
            "objects/invalid-object",
            "Object Error.",
            "The uploaded object must be of the same schema type as the existing object.",
        )
        .with("expected", json!(expected))
        .with("actual", json!(actual)));
    }
    Ok(())
}

/// Where the posted object goes: its id (an existing object, maybe moved, or a new one) and path.
fn resolve(
    w: &WorkspaceObjects,
    target: &Target,
    p: &Posted,
    if_match: Option<&str>,
    schema_id: &str,
) -> Result<(Uuid, String), ApiError> {
    match target {
        Target::Path(path) => match p.uuid {
            None => match w.live_at(path) {
                Some(o) => Err(already_exists(o.id, path)),
                None => Ok((p.new_id, path.clone())),
            },
            Some(id) => {
                let o = w
                    .objects
                    .get(&id)
                    .filter(|o| o.stamps.deleted_at.is_none())
                    .ok_or_else(|| object_not_found(Some(id), "Object not found."))?;
                if let Some(other) = w.live_at(path).filter(|other| other.id != id) {
                    return Err(already_exists(other.id, path));
                }
                check_update(o, if_match, schema_id)?;
                Ok((id, path.clone()))
            }
        },
        Target::Id(id) => {
            if p.uuid.is_some_and(|u| u != *id) {
                return Err(bad_request(
                    "The uuid of the object must match the object id of the URL.",
                ));
            }
            let o = w
                .objects
                .get(id)
                .filter(|o| o.stamps.deleted_at.is_none())
                .ok_or_else(|| object_not_found(Some(*id), "Object not found."))?;
            check_update(o, if_match, schema_id)?;
            Ok((*id, o.path.clone()))
        }
    }
}

fn post(shared: &Shared, c: &Ctx, target: Target, headers: &HeaderMap, body: &[u8]) -> R {
    let mut p = parse_object(body)?;
    let if_match = header_version(headers, header::IF_MATCH);
    let schema_id = p
        .object
        .get("schema")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let missing: Vec<&String> = p
        .data
        .iter()
        .filter(|name| !data_held(shared, c, name))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::new(
            S,
            400,
            "objects/data-key-not-found",
            "Data Key Not Moved.",
            "The object references data that was not uploaded.",
        )
        .with("missing", json!(missing)));
    }
    let now = shared.clock.now();
    let mut model = shared.model();
    let w = workspace(&mut model, c, Role::Editor)?;
    let (id, path) = resolve(w, &target, &p, if_match.as_deref(), &schema_id)?;
    p.object
        .insert("uuid".into(), Value::String(id.to_string()));
    let object = Value::Object(std::mem::take(&mut p.object));
    let etag = hex::encode(Sha256::digest(object.to_string().as_bytes()));
    for name in &p.data {
        w.data
            .entry(name.clone())
            .or_insert_with(|| super::state::DataFile { id: Uuid::new_v4() });
    }
    let state = model.services.get_mut::<ObjectsState>();
    let version = ObjectVersion {
        version_id: state.next_version_id(now),
        object: Arc::new(object),
        created_at: now,
        created_by: c.user,
        etag,
        stage: None,
        data: p.data,
    };
    let w = state.workspace(c.ws);
    let o = w.objects.entry(id).or_insert_with(|| ObjectRec {
        id,
        path: path.clone(),
        stamps: Stamps::new(now, c.user),
        versions: Vec::new(),
    });
    o.path = path;
    o.stamps.modify(now, c.user);
    o.versions.push(version);
    let o = o.clone();
    let body = object_json(shared, &model, c, &o, o.latest(), false);
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

pub(super) async fn post_by_path(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, path)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let path = normalize_path(&path)?;
        post(&shared, &c, Target::Path(path), &headers, &body)
    })())
}

pub(super) async fn post_by_id(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    respond((|| {
        let (c, id) = API.item(&shared, &headers, (&org, &ws, &id), "object_id")?;
        let q = Query::parse(raw.as_deref());
        if q.bool("deleted").map_err(|e| invalid("deleted", e))? == Some(false) {
            return restore(&shared, &c, id);
        }
        post(&shared, &c, Target::Id(id), &headers, &body)
    })())
}

/// A free path for a restored object whose path was taken: `x (1).json`, `x (2).json`, ...
fn free_path(w: &WorkspaceObjects, path: &str) -> Option<String> {
    let stem = path.strip_suffix(".json").unwrap_or(path);
    (1..1000)
        .map(|i| format!("{stem} ({i}).json"))
        .find(|p| w.live_at(p).is_none())
}

/// `POST .../objects/{id}?deleted=false`: 204 when restored in place (or not deleted), 303 with
/// the object when its path was taken and it was restored under a new name.
fn restore(shared: &Shared, c: &Ctx, id: Uuid) -> R {
    let now = shared.clock.now();
    let mut model = shared.model();
    let w = workspace(&mut model, c, Role::Editor)?;
    let o = w
        .objects
        .get(&id)
        .ok_or_else(|| object_not_found(Some(id), "Object not found."))?;
    if o.stamps.deleted_at.is_none() {
        return Ok(no_content());
    }
    let renamed = match w.live_at(&o.path) {
        Some(_) => Some(free_path(w, &o.path).ok_or_else(|| already_exists(id, &o.path))?),
        None => None,
    };
    let Some(o) = w.objects.get_mut(&id) else {
        return Err(object_not_found(Some(id), "Object not found."));
    };
    o.stamps.restore(now, c.user);
    let Some(path) = renamed else {
        return Ok(no_content());
    };
    o.path = path;
    let o = o.clone();
    let body = object_json(shared, &model, c, &o, o.latest(), false);
    let location = link(
        shared.hub(),
        &format!("{}/objects/{id}", super::common::workspace_base(c)),
        &[],
    );
    Ok(see_other(&location, body))
}

fn delete(
    model: &mut Model,
    c: &Ctx,
    now: time::OffsetDateTime,
    find: impl Fn(&WorkspaceObjects) -> Option<Uuid>,
) -> R {
    let w = workspace(model, c, Role::Editor)?;
    let id = find(w).ok_or_else(|| object_not_found(None, "Object not found."))?;
    let Some(o) = w
        .objects
        .get_mut(&id)
        .filter(|o| o.stamps.deleted_at.is_none())
    else {
        return Err(object_not_found(Some(id), "Object not found."));
    };
    o.stamps.delete(now, c.user);
    Ok(no_content())
}

pub(super) async fn delete_by_id(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (c, id) = API.item(&shared, &headers, (&org, &ws, &id), "object_id")?;
        let now = shared.clock.now();
        delete(&mut shared.model(), &c, now, |_| Some(id))
    })())
}

pub(super) async fn delete_by_path(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, path)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let c = API.ctx(&shared, &headers, &org, &ws)?;
        let path = normalize_path(&path)?;
        let now = shared.clock.now();
        delete(&mut shared.model(), &c, now, |w| {
            w.live_at(&path).map(|o| o.id)
        })
    })())
}

/// `PATCH .../objects/{id}/metadata[?version_id=]` with `{stage_id}`: sets (or, with `null`,
/// clears) the stage of a version (default: the latest).
pub(super) async fn update_metadata(
    State(shared): State<Arc<Shared>>,
    Path((org, ws, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    respond((|| {
        let (c, id) = API.item(&shared, &headers, (&org, &ws, &id), "object_id")?;
        let q = Query::parse(raw.as_deref());
        let body = json_body(&body)?;
        let stage = match body.get("stage_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(
                Uuid::parse_str(s)
                    .map_err(|_| invalid("stage_id", format!("'{s}' is not a UUID")))?,
            ),
            Some(other) => return Err(invalid("stage_id", format!("{other} is not a UUID"))),
        };
        let mut model = shared.model();
        workspace(&mut model, &c, Role::Editor)?;
        let state = model.services.get_mut::<ObjectsState>();
        if stage.is_some_and(|s| !state.stages(c.org).iter().any(|x| x.id == s)) {
            return Err(invalid("stage_id", "no stage has this id"));
        }
        let o = state
            .workspace(c.ws)
            .objects
            .get_mut(&id)
            .filter(|o| o.stamps.deleted_at.is_none())
            .ok_or_else(|| object_not_found(Some(id), "Object not found."))?;
        let v = match q.get("version_id") {
            None => o.versions.last_mut(),
            Some(v) => o.versions.iter_mut().find(|x| x.version_id == v),
        }
        .ok_or_else(|| object_not_found(Some(id), "Version not found."))?;
        v.stage = stage;
        Ok(no_content())
    })())
}
