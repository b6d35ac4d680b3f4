//! Shared HTTP helpers: problem-details errors, query parsing, bearer-token checks, the
//! workspace role check and the pieces of the hub APIs' answers every service shapes alike
//! (users, item paths, `303 See Other`).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::state::{Model, Role, Shared, Stamps, Workspace};

/// Which API an error belongs to; decides the `type` URI prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Discovery,
    Workspace,
    File,
    Objects,
    Compute,
    Colormaps,
    BlockModels,
}

impl Service {
    fn prefix(self) -> &'static str {
        match self {
            Service::Discovery => "https://seequent.com/error-codes/discovery/",
            Service::Workspace => "https://seequent.com/error-codes/workspace/",
            Service::File => "https://seequent.com/error-codes/file-api/",
            Service::Objects => "https://seequent.com/error-codes/geoscienceobject/",
            Service::Compute => "https://seequent.com/error-codes/compute/",
            Service::Colormaps => "https://seequent.com/error-codes/colormap/",
            Service::BlockModels => "https://seequent.com/error-codes/block-model-service/",
        }
    }
}

/// An RFC 7807 problem-details answer.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: Value,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    pub(crate) fn new(
        service: Service,
        status: u16,
        type_suffix: &str,
        title: &str,
        detail: impl Into<String>,
    ) -> Self {
        let detail: String = detail.into();
        let mut body = json!({
            "type": format!("{}{}", service.prefix(), type_suffix),
            "title": title,
            "status": status,
        });
        if !detail.is_empty() {
            body["detail"] = Value::String(detail);
        }
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
            headers: Vec::new(),
        }
    }

    /// Adds an extra member to the body (`invalid-params`, `your_role`, ...).
    pub(crate) fn with(mut self, key: &str, value: Value) -> Self {
        self.body[key] = value;
        self
    }

    pub(crate) fn header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    pub(crate) fn bad_request(service: Service, detail: impl Into<String>) -> Self {
        Self::new(service, 400, "bad-request", "Bad Request.", detail)
    }

    /// A validation error with `invalid-params`: 400 on the Workspaces API (as the Python SDK's
    /// workspaces client and its tests expect), 422 on the File API (as its spec documents).
    pub(crate) fn validation(service: Service, params: Vec<(String, String)>) -> Self {
        let detail = params
            .iter()
            .map(|(n, r)| format!("{n}: {r}"))
            .collect::<Vec<_>>()
            .join("; ");
        let list: Vec<Value> = params
            .into_iter()
            .map(|(name, reason)| json!({"name": name, "reason": reason}))
            .collect();
        let status = match service {
            Service::Workspace => 400,
            Service::Discovery
            | Service::File
            | Service::Objects
            | Service::Compute
            | Service::Colormaps
            | Service::BlockModels => 422,
        };
        Self::new(service, status, "validation", "Validation Error.", detail)
            .with("invalid-params", Value::Array(list))
    }

    pub(crate) fn insufficient_role(
        service: Service,
        your_role: Option<&str>,
        permitted: &[&str],
    ) -> Self {
        Self::new(
            service,
            403,
            "auth/insufficient-role",
            "Insufficient Role.",
            "Your role does not permit this operation.",
        )
        .with(
            "your_role",
            your_role.map_or(Value::Null, |r| Value::String(r.to_owned())),
        )
        .with("permitted_roles", json!(permitted))
    }
}

/// A handler's answer: the response, or a problem-details error.
pub(crate) type ApiResult = Result<Response, ApiError>;

/// The response of a handler's answer, error or not.
pub(crate) fn respond(r: ApiResult) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body)).into_response();
        for (k, v) in self.headers {
            resp.headers_mut().append(k, v);
        }
        resp
    }
}

/// A parsed query string that keeps repeated keys and order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Query(pub(crate) Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        Self(
            raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
        )
    }

    fn key_matches(key: &str, name: &str) -> bool {
        key == name
            || key
                .strip_prefix("filter[")
                .and_then(|k| k.strip_suffix(']'))
                == Some(name)
    }

    /// The first value of `name` or its synonym `filter[name]`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| Self::key_matches(k, name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name` / `filter[name]`; comma lists are split.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| Self::key_matches(k, name))
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Every raw value of `name` (no comma split).
    pub(crate) fn all_raw(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| Self::key_matches(k, name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A boolean accepted as `true/True/TRUE/1` or `false/False/0`.
    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(format!("{name}: '{v}' is not a boolean")),
            },
        }
    }

    /// A boolean flag: [`Query::bool`], false when absent.
    pub(crate) fn flag(&self, name: &str) -> Result<bool, String> {
        Ok(self.bool(name)?.unwrap_or(false))
    }

    pub(crate) fn u64(&self, name: &str) -> Result<Option<u64>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .map(Some)
                .map_err(|_| format!("{name}: '{v}' is not a non-negative integer")),
        }
    }

    pub(crate) fn uuids(&self, name: &str) -> Result<Vec<Uuid>, String> {
        self.all(name)
            .into_iter()
            .map(|v| Uuid::parse_str(v).map_err(|_| format!("{name}: '{v}' is not a UUID")))
            .collect()
    }

    /// The query without the given keys, re-encoded (used to build paging links).
    pub(crate) fn without(&self, drop: &[&str]) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(k, _)| !drop.contains(&k.as_str()))
            .cloned()
            .collect()
    }
}

/// Builds `base` + `path` + the query pairs as an absolute URL string.
pub(crate) fn link(base: &url::Url, path: &str, pairs: &[(String, String)]) -> String {
    let mut u = base.clone();
    u.set_path(path);
    if pairs.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut()
            .clear()
            .extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    u.to_string()
}

/// Checks the bearer token and its scope; returns the user id the token acts for.
pub(crate) fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    service: Service,
    scope: &str,
) -> Result<Uuid, ApiError> {
    let Some(token) = bearer(headers) else {
        return Err(ApiError::new(
            service,
            401,
            "auth/missing-token",
            "Access Denied.",
            "No bearer token was sent.",
        )
        .header(header::WWW_AUTHENTICATE, "Bearer realm=\"evo-emulator\""));
    };
    let model = shared.model();
    let invalid = |detail: &str| {
        ApiError::new(service, 401, "auth/invalid-token", "Access Denied.", detail).header(
            header::WWW_AUTHENTICATE,
            &format!("Bearer realm=\"evo-emulator\", error=\"invalid_token\", error_description=\"{detail}\""),
        )
    };
    let Some(info) = model.tokens.get(token) else {
        return Err(invalid("The access token is not valid."));
    };
    if std::time::Instant::now() >= info.expires {
        return Err(invalid("The access token has expired."));
    }
    if !info.scopes.iter().any(|s| s == scope) {
        return Err(ApiError::new(
            service,
            403,
            "auth/insufficient-scope",
            "Insufficient Scope.",
            format!("The access token lacks the scope {scope}."),
        )
        .header(
            header::WWW_AUTHENTICATE,
            &format!(
                "Bearer realm=\"evo-emulator\", error=\"insufficient_scope\", scope=\"{scope}\""
            ),
        ));
    }
    Ok(info.user)
}

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

/// The caller, organization and workspace of a request on one workspace of a hub service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx {
    pub(crate) user: Uuid,
    pub(crate) org: Uuid,
    pub(crate) ws: Uuid,
}

/// How a hub service reads the context of a request on one of its workspaces: the kind of its
/// problem details, the token scope it requires and the name its errors give the organization
/// id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WorkspaceApi {
    pub(crate) service: Service,
    pub(crate) scope: &'static str,
    pub(crate) org_param: &'static str,
}

impl WorkspaceApi {
    /// The context of a request on workspace `ws` of `org`: the caller is authenticated first,
    /// then the ids are parsed.
    pub(crate) fn ctx(
        &self,
        shared: &Shared,
        headers: &HeaderMap,
        org: &str,
        ws: &str,
    ) -> Result<Ctx, ApiError> {
        let user = authenticate(shared, headers, self.service, self.scope)?;
        let org = parse_uuid(self.service, self.org_param, org)?;
        let ws = parse_uuid(self.service, "workspace_id", ws)?;
        Ok(Ctx { user, org, ws })
    }

    /// [`Self::ctx`] of a request on an item of the workspace (a file, an object), and the
    /// item's id (named `id_param` in errors).
    pub(crate) fn item(
        &self,
        shared: &Shared,
        headers: &HeaderMap,
        (org, ws, id): (&str, &str, &str),
        id_param: &str,
    ) -> Result<(Ctx, Uuid), ApiError> {
        let c = self.ctx(shared, headers, org, ws)?;
        Ok((c, parse_uuid(self.service, id_param, id)?))
    }
}

/// Parses a UUID path segment or answers 400 in the File/Workspace style.
pub(crate) fn parse_uuid(service: Service, name: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::validation(
            service,
            vec![(name.to_owned(), format!("'{raw}' is not a UUID"))],
        )
    })
}

/// The live (not deleted) workspace `ws` of `org` with the caller's role in it checked to be
/// at least `min` (403 `auth/insufficient-role` of `service` otherwise); `missing` is the
/// service's answer when there is no such workspace.
pub(crate) fn live_workspace(
    model: &Model,
    service: Service,
    org: Uuid,
    ws: Uuid,
    user: Uuid,
    min: Role,
    missing: impl FnOnce() -> ApiError,
) -> Result<&Workspace, ApiError> {
    let w = model
        .org(org)
        .and_then(|o| o.workspaces.iter().find(|w| w.id == ws && !w.deleted))
        .ok_or_else(missing)?;
    require_role(service, w.role_of(user), min)?;
    Ok(w)
}

/// Checks that `role` (none: the caller has no role) is at least `min`; 403
/// `auth/insufficient-role` of `service` with the caller's role and the permitted ones otherwise.
pub(crate) fn require_role(
    service: Service,
    role: Option<Role>,
    min: Role,
) -> Result<(), ApiError> {
    if role.is_none_or(|r| r < min) {
        let permitted: Vec<&str> = [Role::Viewer, Role::Editor, Role::Owner]
            .into_iter()
            .filter(|r| *r >= min)
            .map(Role::as_str)
            .collect();
        return Err(ApiError::insufficient_role(
            service,
            role.map(Role::as_str),
            &permitted,
        ));
    }
    Ok(())
}

/// A user as the hub APIs describe one (`{id, name, email}`; unknown users with null name and
/// email), or null for no user.
pub(crate) fn user_json(model: &Model, id: impl Into<Option<Uuid>>) -> Value {
    match id.into() {
        None => Value::Null,
        Some(id) => match model.user(id) {
            Some(u) => json!({"id": u.id, "name": u.name, "email": u.email}),
            None => json!({"id": id, "name": null, "email": null}),
        },
    }
}

/// `body` (a JSON object) with the `stamps` of a file or an object as the File and Object APIs
/// answer them (`created_at`, `created_by`, `modified_at`, `modified_by`, `deleted_at`,
/// `deleted_by`), each time written by `time`.
pub(crate) fn with_stamps(
    mut body: Value,
    model: &Model,
    stamps: &Stamps,
    time: fn(time::OffsetDateTime) -> String,
) -> Value {
    body["created_at"] = json!(time(stamps.created_at));
    body["created_by"] = user_json(model, stamps.created_by);
    body["modified_at"] = json!(time(stamps.modified_at));
    body["modified_by"] = user_json(model, stamps.modified_by);
    body["deleted_at"] = json!(stamps.deleted_at.map(time));
    body["deleted_by"] = user_json(model, stamps.deleted_by);
    body
}

/// A file or object path as sent (`/a/b.txt` or `a/b.txt`) without its leading slash, when it
/// is a valid path of the File and Object APIs: not empty, at most 1024 bytes, no empty, `.` or
/// `..` segment, no control character.
pub(crate) fn item_path(raw: &str) -> Option<&str> {
    let p = raw.strip_prefix('/').unwrap_or(raw);
    let bad = p.is_empty()
        || p.len() > 1024
        || p.split('/').any(|s| s.is_empty() || s == "." || s == "..")
        || p.chars().any(char::is_control);
    (!bad).then_some(p)
}

/// A `303 See Other` to `location` with `body`.
pub(crate) fn see_other(location: &str, body: Value) -> Response {
    let mut resp = (StatusCode::SEE_OTHER, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// An empty 204 answer.
pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /{service}/health_check`, the same for every hub service.
pub(crate) async fn health_check(
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    let q = Query::parse(raw.as_deref());
    let mut body = json!({"version": env!("CARGO_PKG_VERSION"), "status": "pass"});
    if q.bool("full").ok().flatten() == Some(true) {
        body["dependencies"] = json!({"storage": "pass", "identity": "pass"});
    }
    axum::Json(body).into_response()
}

/// The problem-details answer of an injected fault with `status` on a hub service.
pub(crate) fn fault_problem(service: Service, status: u16) -> Response {
    let title = match status {
        429 => "Too Many Requests.",
        503 => "Service Unavailable.",
        500 => "An Error Occurred.",
        _ => "Injected Fault.",
    };
    ApiError::new(
        service,
        status,
        "api-errors",
        title,
        "Injected fault (evo-emulator).",
    )
    .into_response()
}
