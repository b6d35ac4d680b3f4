//! The REST side: `/api` (project and global), `/sync/get|cursors`, DAM and media.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::Shared;
use crate::world::World;

/// The largest upload accepted (Unicat's limit).
pub(crate) const MAX_UPLOAD: usize = 10_000_000;

/// The singular parameter name of each data type's `…/get`.
fn param_of(data_type: &str) -> Option<&'static str> {
    Some(match data_type {
        "records" => "record",
        "definitions" => "definition",
        "classes" => "class",
        "fields" => "field",
        "layouts" => "layout",
        "queries" => "query",
        "modules" => "module",
        "assets" => "asset",
        _ => return None,
    })
}

fn envelope(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn ok(result: Value, data: Value) -> Response {
    envelope(
        StatusCode::OK,
        json!({"success": true, "result": result, "data": data}),
    )
}

fn fail(status: StatusCode, code: i64, message: &str, info: Value) -> Response {
    envelope(
        status,
        json!({"success": false, "result": {"code": code, "message": message, "info": info}, "data": {}}),
    )
}

fn unauthorized() -> Response {
    let mut response = fail(StatusCode::UNAUTHORIZED, 401, "Unauthorized", Value::Null);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"JWT access to Unicat.\""),
    );
    response
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    Some(
        value
            .strip_prefix("Bearer ")
            .unwrap_or(value)
            .trim()
            .to_owned(),
    )
}

/// Checks the JWT; on success returns the user and, when this response rotates the token, the
/// new one (the old one is revoked at once).
// The error is the finished 401 response, returned as is by every handler.
#[allow(clippy::result_large_err)]
fn authorize(
    shared: &Shared,
    world: &mut World,
    headers: &HeaderMap,
) -> Result<(String, Option<String>), Response> {
    let token = bearer(headers);
    shared
        .stats
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .rest_tokens
        .push(token.clone());
    let Some(user) = token.as_ref().and_then(|t| world.tokens.get(t)).cloned() else {
        return Err(unauthorized());
    };
    world.requests += 1;
    let rotated = match world.rotate_every {
        Some(n) if n > 0 && world.requests % n == 0 => {
            if let Some(old) = &token {
                world.tokens.remove(old);
            }
            Some(world.issue_token(&user))
        }
        _ => None,
    };
    Ok((user, rotated))
}

fn with_token(mut response: Response, token: Option<String>) -> Response {
    if let Some(token) = token
        && let Ok(value) = HeaderValue::from_str(&token)
    {
        response.headers_mut().insert(header::AUTHORIZATION, value);
    }
    response
}

/// `POST /api/{*endpoint}`: `p/<project>/<endpoint>` is the project API, the rest global.
pub(crate) async fn api(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<String>,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let (project, endpoint) = match path.strip_prefix("p/").and_then(|r| r.split_once('/')) {
        Some((project, endpoint)) => (Some(project.to_owned()), endpoint.to_owned()),
        None => (None, path.clone()),
    };
    shared.record_call(&format!(
        "{}{endpoint}",
        if project.is_some() { "/" } else { "//" }
    ));
    if let Some(p) = &project {
        let ours = shared.world().project.clone();
        if *p != ours {
            return fail(
                StatusCode::FORBIDDEN,
                403,
                "Unknown project",
                json!({"project": p}),
            );
        }
    }
    if project.is_some() && endpoint == "assets/upload" {
        return upload(shared, headers, request).await;
    }
    let body = match Bytes::from_request(request, &()).await {
        Ok(b) => b,
        Err(_) => return fail(StatusCode::BAD_REQUEST, 400, "Unreadable body", Value::Null),
    };
    let params: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return fail(
                    StatusCode::BAD_REQUEST,
                    400,
                    "The body is not a JSON object",
                    Value::Null,
                );
            }
        }
    };
    if project.is_some() && endpoint == "auth" {
        return auth(&shared, &params);
    }
    let (response, items) = {
        let mut world = shared.world();
        let (user, rotated) = match authorize(&shared, &mut world, &headers) {
            Ok(v) => v,
            Err(response) => return response,
        };
        let (response, items) = match project {
            Some(_) => project_call(&mut world, &user, &endpoint, &params),
            None => (global_call(&world, &endpoint, &params), Vec::new()),
        };
        (with_token(response, rotated), items)
    };
    shared.broadcast(items).await;
    response
}

fn auth(shared: &Shared, params: &Value) -> Response {
    let mut world = shared.world();
    let key = params
        .get("api_key")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(user) = world.api_keys.get(key).cloned() else {
        return unauthorized();
    };
    let token = world.issue_token(&user);
    let result = json!({
        "user": user,
        "project": world.project,
        "cc.cursor": world.cc_head,
        "cursor": world.project_head,
        "cc.version": world.version,
    });
    with_token(ok(result, world.init_data()), Some(token))
}

fn not_found(data_type: &str, key: &str) -> Response {
    fail(
        StatusCode::BAD_REQUEST,
        1001,
        "Not found",
        json!({ data_type: key }),
    )
}

fn project_call(
    world: &mut World,
    user: &str,
    endpoint: &str,
    params: &Value,
) -> (Response, Vec<Value>) {
    let text = |name: &str| params.get(name).and_then(Value::as_str).map(str::to_owned);
    match endpoint {
        "init" => {
            let result = json!({
                "user": user,
                "project": world.project,
                "cc.cursor": world.cc_head,
                "cursor": world.project_head,
                "cc.version": world.version,
            });
            (ok(result, world.init_data()), Vec::new())
        }
        "records/update" | "records/create" => {
            let gid = match (endpoint, text("record")) {
                ("records/update", Some(gid)) if world.get("records", &gid).is_some() => gid,
                ("records/update", other) => {
                    return (not_found("record", &other.unwrap_or_default()), Vec::new());
                }
                (_, Some(gid)) if world.get("records", &gid).is_none() => gid,
                (_, Some(gid)) => {
                    return (
                        fail(
                            StatusCode::BAD_REQUEST,
                            1001,
                            "Record exists",
                            json!({"record": gid}),
                        ),
                        Vec::new(),
                    );
                }
                (_, None) => format!("rec-{:016x}", fastrand::u64(..)),
            };
            let Some(Value::Object(changes)) = params.get("fields") else {
                return (
                    fail(
                        StatusCode::BAD_REQUEST,
                        1001,
                        "fields must be an object",
                        Value::Null,
                    ),
                    Vec::new(),
                );
            };
            let mut record = world
                .get("records", &gid)
                .cloned()
                .unwrap_or_else(|| json!({"gid": gid, "fields": {}}));
            for (language, values) in changes {
                let Value::Object(values) = values else {
                    continue;
                };
                let slot = &mut record["fields"][language];
                if !slot.is_object() {
                    *slot = json!({});
                }
                for (name, value) in values {
                    slot[name] = value.clone();
                }
            }
            let item = world.put("records", &gid, record);
            (
                ok(json!({"record": gid}), world.data_of("records", &gid)),
                vec![item],
            )
        }
        "records/delete" => {
            let gid = text("record").unwrap_or_default();
            match world.remove("records", &gid) {
                Some(item) => (ok(json!({"record": gid}), json!({})), vec![item]),
                None => (not_found("record", &gid), Vec::new()),
            }
        }
        _ => match endpoint
            .strip_suffix("/get")
            .and_then(|t| Some((t, param_of(t)?)))
        {
            Some((data_type, param)) => {
                let key = text(param).unwrap_or_default();
                if world.get(data_type, &key).is_none() {
                    return (not_found(param, &key), Vec::new());
                }
                (
                    ok(json!({ param: key }), world.data_of(data_type, &key)),
                    Vec::new(),
                )
            }
            None => (
                fail(
                    StatusCode::NOT_IMPLEMENTED,
                    501,
                    "Not implemented by the emulator",
                    json!({"endpoint": endpoint}),
                ),
                Vec::new(),
            ),
        },
    }
}

fn global_call(world: &World, endpoint: &str, params: &Value) -> Response {
    let text = |name: &str| {
        params
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (data_type, key, result) = match endpoint {
        "users/get" => ("cc.users", text("user"), json!({"user": text("user")})),
        "projects/get" => (
            "cc.projects",
            text("project"),
            json!({"project": text("project")}),
        ),
        "members/get" => {
            let key = format!("{}/{}", text("project"), text("member"));
            (
                "cc.projects_members",
                key,
                json!({"project": text("project"), "member": text("member")}),
            )
        }
        _ => {
            return fail(
                StatusCode::NOT_IMPLEMENTED,
                501,
                "Not implemented by the emulator",
                json!({"endpoint": endpoint}),
            );
        }
    };
    if world.get(data_type, &key).is_none() {
        return not_found(data_type, &key);
    }
    ok(result, world.data_of(data_type, &key))
}

async fn upload(shared: Arc<Shared>, headers: HeaderMap, request: Request) -> Response {
    {
        let mut world = shared.world();
        if let Err(response) = authorize(&shared, &mut world, &headers) {
            return response;
        }
    }
    let too_large = || {
        fail(
            StatusCode::PAYLOAD_TOO_LARGE,
            413,
            "Request Entity Too Large",
            Value::Null,
        )
    };
    let mut multipart = match Multipart::from_request(request, &()).await {
        Ok(m) => m,
        Err(_) => {
            return fail(
                StatusCode::BAD_REQUEST,
                400,
                "Not a multipart body",
                Value::Null,
            );
        }
    };
    let mut folder = String::new();
    let mut file: Option<(String, Bytes)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let filename = field.file_name().map(str::to_owned);
                let Ok(bytes) = field.bytes().await else {
                    return too_large();
                };
                if name == "upload_file" {
                    if bytes.len() > MAX_UPLOAD {
                        return too_large();
                    }
                    file = Some((filename.unwrap_or_else(|| "upload".to_owned()), bytes));
                } else if name == "folder" {
                    folder = String::from_utf8_lossy(&bytes).trim_matches('/').to_owned();
                }
            }
            Ok(None) => break,
            Err(_) => return too_large(),
        }
    }
    let Some((name, bytes)) = file else {
        return fail(StatusCode::BAD_REQUEST, 1001, "No upload_file", Value::Null);
    };
    if name.contains(['/', '\\']) || name.starts_with('.') {
        return fail(
            StatusCode::BAD_REQUEST,
            1001,
            "Bad file name",
            json!({"name": name}),
        );
    }
    let (response, items) = {
        let mut world = shared.world();
        let gid = format!("asset-{:016x}", fastrand::u64(..));
        let pathname = if folder.is_empty() {
            format!("/{name}")
        } else {
            format!("/{folder}/{name}")
        };
        let media = format!("{}/{gid}/{name}", world.project);
        world.media.insert(media, bytes.clone());
        let asset = json!({"gid": gid, "name": name, "pathname": pathname, "is_file": true, "size": bytes.len()});
        let item = world.put("assets", &gid, asset);
        (
            ok(json!({"asset": gid}), world.data_of("assets", &gid)),
            vec![item],
        )
    };
    shared.broadcast(items).await;
    response
}

/// `POST /sync/get {cc_cursor, project, cursor}`: a page of the log; `warning` when more is left.
pub(crate) async fn sync_get(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.record_call("/sync/get");
    let mut world = shared.world();
    let rotated = match authorize(&shared, &mut world, &headers) {
        Ok((_, rotated)) => rotated,
        Err(response) => return response,
    };
    let params: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let number = |name: &str| params.get(name).and_then(Value::as_u64).unwrap_or(0);
    let project = params
        .get("project")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut items = world.items_after(number("cc_cursor"), &project, number("cursor"));
    let mut result = json!({});
    if items.len() > world.sync_page {
        items.truncate(world.sync_page);
        result["warning"] = json!("more sync items are pending; call /sync/get again");
    }
    result["sync"] = Value::Array(items);
    with_token(ok(result, json!({})), rotated)
}

/// `POST /sync/cursors`: the newest cursors.
pub(crate) async fn sync_cursors(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Response {
    shared.record_call("/sync/cursors");
    let mut world = shared.world();
    let rotated = match authorize(&shared, &mut world, &headers) {
        Ok((_, rotated)) => rotated,
        Err(response) => return response,
    };
    let result = json!({"cc.cursor": world.cc_head, "cursor": world.project_head});
    with_token(ok(result, json!({})), rotated)
}

/// The transform options the DAM accepts.
const TRANSFORM_KEYS: [&str; 15] = [
    "name", "key", "type", "force", "optimize", "width", "height", "fit", "fill", "hs", "crop",
    "padding", "bg", "q", "dpr",
];

/// `GET /dam/p/<project>/<publish|transform>/<gid>~<version><ext>[/k=v…]`.
pub(crate) async fn dam(
    State(shared): State<Arc<Shared>>,
    Path((project, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut world = shared.world();
    let rotated = match authorize(&shared, &mut world, &headers) {
        Ok((_, rotated)) => rotated,
        Err(response) => return response,
    };
    if project != world.project {
        return fail(StatusCode::FORBIDDEN, 403, "Unknown project", Value::Null);
    }
    let mut parts = path.split('/');
    let action = parts.next().unwrap_or_default();
    let spec = parts.next().unwrap_or_default();
    let Some((gid, rest)) = spec.split_once('~') else {
        return fail(
            StatusCode::BAD_REQUEST,
            1001,
            "Bad asset reference",
            json!({"asset": spec}),
        );
    };
    let Some(asset) = world.get("assets", gid).cloned() else {
        return not_found("asset", gid);
    };
    let version = asset
        .get("version")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .to_string();
    let name = asset["name"].as_str().unwrap_or_default().to_owned();
    let ext = name
        .rfind('.')
        .filter(|&i| i > 0)
        .map(|i| name[i..].to_owned())
        .unwrap_or_default();
    if asset["is_file"] != json!(true) || rest != format!("{version}{ext}") {
        return fail(
            StatusCode::BAD_REQUEST,
            1001,
            "Not this asset's file version",
            json!({"asset": gid, "version": version}),
        );
    }
    let source = format!("{}/{gid}/{name}", world.project);
    let media_name = match action {
        "publish" => name.clone(),
        "transform" => {
            let mut options = serde_json::Map::new();
            for part in parts {
                let Some((k, v)) = part.split_once('=') else {
                    return fail(
                        StatusCode::BAD_REQUEST,
                        1001,
                        "Bad transform option",
                        json!({"option": part}),
                    );
                };
                if !TRANSFORM_KEYS.contains(&k) {
                    return fail(
                        StatusCode::BAD_REQUEST,
                        1001,
                        "Unknown transform option",
                        json!({"option": k}),
                    );
                }
                options.insert(k.to_owned(), json!(v));
            }
            let Some(key) = options.get("key").and_then(Value::as_str) else {
                return fail(
                    StatusCode::BAD_REQUEST,
                    1001,
                    "A transform needs a key",
                    Value::Null,
                );
            };
            let stem = name
                .rfind('.')
                .filter(|&i| i > 0)
                .map_or(name.as_str(), |i| &name[..i]);
            let ext = options
                .get("type")
                .and_then(Value::as_str)
                .map(|t| format!(".{t}"))
                .unwrap_or(ext.clone());
            match options.get("name").and_then(Value::as_str) {
                Some(n) => format!("{n}{ext}"),
                None => format!("{stem}.{key}{ext}"),
            }
        }
        _ => {
            return fail(
                StatusCode::NOT_IMPLEMENTED,
                501,
                "Unknown DAM endpoint",
                json!({"endpoint": action}),
            );
        }
    };
    let target = format!("{}/{gid}/{media_name}", world.project);
    // The emulator does not process images: a derivative holds the original bytes.
    if let Some(bytes) = world.media.get(&source).cloned() {
        world.media.insert(target.clone(), bytes);
    }
    let public_url = format!("{}/media/{target}", shared.base_url);
    with_token(ok(json!({"public_url": public_url}), json!({})), rotated)
}

/// `GET /media/{*path}`: published files (public, no JWT).
pub(crate) async fn media(State(shared): State<Arc<Shared>>, Path(path): Path<String>) -> Response {
    shared.record_call(&format!("media/{path}"));
    match shared.world().media.get(&path).cloned() {
        Some(bytes) => (StatusCode::OK, bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
