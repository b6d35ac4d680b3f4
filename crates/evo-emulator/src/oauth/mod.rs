//! IMS-style OAuth 2.0 and OpenID Connect (IdentityServer paths): `/connect/token`,
//! `/connect/authorize`, `/connect/endsession` (RP-initiated logout) and `/connect/revocation`
//! (RFC 7009).
//!
//! A *grant* is one login: an authorization code and every access and refresh token that code
//! and its refresh chain produce share its id, which is also the id token's `sid`. Ending the
//! session or revoking a refresh token acts on grants.

mod handlers;
mod id_token;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::faults::RouteClass;
use crate::service::ServiceDef;
use crate::state::Shared;

pub(crate) use handlers::mint_access;

/// IMS OAuth in the service registry.
pub(crate) const SERVICE: ServiceDef = ServiceDef {
    name: "oauth",
    route_classes: &[("/connect/", RouteClass::Token)],
    routes,
    fault_response,
    discovery: &[],
    on_blob_committed: None,
};

fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/connect/token", post(handlers::token))
        .route("/connect/authorize", get(handlers::authorize))
        .route(
            "/connect/endsession",
            get(handlers::end_session_get).post(handlers::end_session_post),
        )
        .route("/connect/revocation", post(handlers::revocation))
}

/// An injected fault as an OAuth error (`temporarily_unavailable` for 429 and 503).
fn fault_response(status: u16) -> Response {
    let error = if status == 503 || status == 429 {
        "temporarily_unavailable"
    } else {
        "server_error"
    };
    let s = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        s,
        axum::Json(
            serde_json::json!({"error": error, "error_description": "Injected fault (evo-emulator)."}),
        ),
    )
        .into_response()
}
