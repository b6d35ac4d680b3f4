//! Discovery: `GET /evo/identity/v2/discovery` (and its hub-side copy under
//! `/workspace/evo/identity/v2/discovery`). The services it advertises come from the service
//! registry ([`crate::services`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use uuid::Uuid;

use crate::faults::RouteClass;
use crate::http_util::{ApiError, Query, Service, authenticate, fault_problem};
use crate::service::ServiceDef;
use crate::state::{Org, Shared};

/// Discovery in the service registry.
pub(crate) const SERVICE: ServiceDef = ServiceDef {
    name: "discovery",
    route_classes: &[
        ("/evo/identity/", RouteClass::Discovery),
        ("/workspace/evo/identity/", RouteClass::Discovery),
    ],
    routes,
    fault_response: |status| fault_problem(Service::Discovery, status),
    discovery: &[],
    on_blob_committed: None,
};

fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/evo/identity/v2/discovery", get(discovery))
        .route("/workspace/evo/identity/v2/discovery", get(discovery))
}

/// Answers discovery; `service` filters the organizations to those offering one of the codes.
async fn discovery(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    match discovery_inner(&shared, &headers, raw.as_deref()) {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn discovery_inner(
    shared: &Shared,
    headers: &HeaderMap,
    raw: Option<&str>,
) -> Result<Value, ApiError> {
    authenticate(shared, headers, Service::Discovery, "evo.discovery")?;
    let q = Query::parse(raw);
    let wanted: Vec<&str> = q.all_raw("service");
    // `evo` is the catch-all code: it asks for every service.
    let offered =
        |code: &str| wanted.is_empty() || wanted.contains(&"evo") || wanted.contains(&code);
    let services: Vec<&(&str, &str)> = shared
        .advertised
        .iter()
        .filter(|(c, _)| offered(c))
        .collect();
    let model = shared.model();
    let hub_url = shared.hub().to_string();
    let mut orgs = Vec::new();
    let mut hubs: Vec<Value> = Vec::new();
    let mut access = Vec::new();
    if !services.is_empty() {
        for org in &model.orgs {
            orgs.push(json!({"id": org.id, "display_name": org.display_name}));
            let hub =
                json!({"code": org.hub_code, "display_name": org.hub_display_name, "url": hub_url});
            if !hubs.iter().any(|h| h["code"] == org.hub_code.as_str()) {
                hubs.push(hub);
            }
            access.push(json!({
                "org_id": org.id,
                "hub_code": org.hub_code,
                "services": services.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
            }));
        }
    }
    let services_json: Vec<Value> = services
        .iter()
        .map(|(c, n)| json!({"code": c, "display_name": n}))
        .collect();
    let mut discovery = json!({
        "organizations": orgs,
        "hubs": hubs,
        "services": services_json,
        "service_access": access,
    });
    // `accounts` is optional: only a seed with a Central instance makes the key appear, so the
    // answer of every other seed stays exactly as before.
    if model.orgs.iter().any(|o| o.central.is_some()) {
        let listed: Vec<&Org> = if services.is_empty() {
            Vec::new()
        } else {
            model.orgs.iter().collect()
        };
        discovery["accounts"] = accounts(&listed, &hub_url);
    }
    Ok(json!({ "discovery": discovery }))
}

/// `accounts[]`: each account with its instances (the organizations linked to a Central
/// instance), in seed order.
fn accounts(orgs: &[&Org], hub_url: &str) -> Value {
    let mut accounts: Vec<(Uuid, &str, Vec<Value>)> = Vec::new();
    for org in orgs {
        let Some(c) = &org.central else { continue };
        let instance = json!({
            "id": org.id,
            "display_name": org.display_name,
            "hub": {"code": org.hub_code, "display_name": org.hub_display_name, "url": hub_url},
            "central": {
                "id": c.id,
                "display_name": c.display_name,
                "name": c.name,
                "host": c.host,
                "organization_name": c.organization_name,
            },
        });
        match accounts.iter_mut().find(|(id, _, _)| *id == c.account_id) {
            Some((_, _, instances)) => instances.push(instance),
            None => accounts.push((c.account_id, &c.account_name, vec![instance])),
        }
    }
    Value::Array(
        accounts
            .into_iter()
            .map(|(id, name, instances)| json!({"name": name, "id": id, "instances": instances}))
            .collect(),
    )
}
