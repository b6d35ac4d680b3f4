//! Discovery against the evo-emulator, logged in with client credentials (evo-auth), then on to
//! the hub it names: the getting-started flow.

use std::sync::{Arc, Mutex};

use evo_auth::{ClientCredentialsAuthorizer, OAuthConnector, Scopes};
use evo_core::{ApiConnector, RetryPolicy, StaticTokenAuthorizer, Transport, transport_fn};
use evo_discovery::DiscoveryClient;
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;

/// HyperTransport that records the URI of every request.
fn recording() -> (Arc<dyn Transport>, Arc<Mutex<Vec<String>>>) {
    let inner = HyperTransport::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let transport = transport_fn(move |request: evo_core::http::Request<evo_core::Body>| {
        let inner = inner.clone();
        sink.lock().unwrap().push(request.uri().to_string());
        async move { inner.send(request).await }
    });
    (Arc::new(transport), log)
}

fn logged_in(emu: &Emulator, transport: Arc<dyn Transport>) -> ApiConnector {
    let client = emu.service_client();
    let oauth = OAuthConnector::builder(transport.clone(), client.client_id)
        .issuer(emu.ims_url().as_str())
        .client_secret(client.client_secret)
        .build()
        .unwrap();
    let authorizer = ClientCredentialsAuthorizer::new(oauth, Scopes::all_evo()).unwrap();
    ApiConnector::builder(emu.discovery_url())
        .transport(transport)
        .authorizer(Arc::new(authorizer))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn with_token(emu: &Emulator, token: Option<String>) -> ApiConnector {
    let builder = ApiConnector::builder(emu.discovery_url())
        .transport(Arc::new(HyperTransport::new()))
        .retry_policy(RetryPolicy::none());
    match token {
        Some(token) => builder.authorizer(Arc::new(StaticTokenAuthorizer::new(token))),
        None => builder,
    }
    .build()
    .unwrap()
}

#[tokio::test]
async fn discover_then_use_the_hub() {
    let emu = Emulator::builder().start().await.unwrap();
    let (transport, log) = recording();
    let connector = logged_in(&emu, transport);
    let discovery = DiscoveryClient::new(connector.clone());

    let orgs = discovery.list_organizations().await.unwrap();
    assert_eq!(orgs.len(), 1);
    let org = &orgs[0];
    assert_eq!(org.id, emu.org_id());
    assert_eq!(org.hubs.len(), 1);
    let hub = &org.hubs[0];
    assert_eq!(hub.base_url().unwrap(), emu.hub_url());
    assert!(hub.has_service("evo"), "{hub:?}");
    let uris = log.lock().unwrap().clone();
    assert!(
        uris.iter().any(|u| u.ends_with("/connect/token")),
        "{uris:?}"
    );
    assert!(
        uris.iter()
            .any(|u| u.ends_with("/evo/identity/v2/discovery?service=evo")),
        "{uris:?}"
    );

    // An expired token is renewed once (after the 401) and the call succeeds.
    let token_requests = emu.token_requests();
    emu.expire_tokens();
    assert_eq!(discovery.list_organizations().await.unwrap(), orgs);
    assert_eq!(emu.token_requests(), token_requests + 1);

    // The hub connector keeps the transport and credentials: create and read a workspace.
    let hub_connector = hub.connector(&connector).unwrap();
    let workspaces = evo_workspaces::WorkspacesClient::new(org.id, hub_connector);
    let created = workspaces
        .create_workspace(&evo_workspaces::CreateWorkspaceRequest::new(
            "From discovery",
        ))
        .await
        .unwrap();
    let env = org.environment(hub, created.id).unwrap();
    assert_eq!(env, workspaces.environment(created.id));
    assert_eq!(
        workspaces
            .get_workspace(env.workspace_id)
            .await
            .unwrap()
            .name,
        "From discovery"
    );
}

#[tokio::test]
async fn custom_service_codes_are_repeated() {
    let emu = Emulator::builder().start().await.unwrap();
    let (transport, log) = recording();
    let discovery = DiscoveryClient::new(logged_in(&emu, transport));
    let orgs = discovery
        .list_organizations_for(["file", "workspace"])
        .await
        .unwrap();
    let uris = log.lock().unwrap().clone();
    assert!(
        uris.iter()
            .any(|u| u.ends_with("/evo/identity/v2/discovery?service=file&service=workspace")),
        "{uris:?}"
    );
    let mut services = orgs[0].hubs[0].services.clone();
    services.sort();
    assert_eq!(services, ["file", "workspace"]);

    // A service nobody offers: no organizations.
    let none = discovery
        .list_organizations_for(["blockmodel"])
        .await
        .unwrap();
    assert!(none.is_empty());
    // No codes means the catch-all.
    let raw = discovery.discover(Vec::<String>::new()).await.unwrap();
    assert_eq!(raw.discovery.organizations.len(), 1);
    assert!(
        log.lock()
            .unwrap()
            .last()
            .unwrap()
            .ends_with("?service=evo")
    );
}

#[tokio::test]
async fn organizations_are_sorted_and_linked_to_their_hubs() {
    let seed = Seed::from_json(
        r#"{"organizations": [
            {"display_name": "Zeta", "hub_code": "us", "hub_display_name": "US"},
            {"display_name": "Alpha", "hub_code": "au", "hub_display_name": "Australia"},
            {"display_name": "Mid", "hub_code": "au", "hub_display_name": "Australia"}
        ]}"#,
    )
    .unwrap();
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    let token = emu.issue_token(&["evo.discovery"]);
    let orgs = DiscoveryClient::new(with_token(&emu, Some(token)))
        .list_organizations()
        .await
        .unwrap();
    let names: Vec<&str> = orgs.iter().map(|o| o.display_name.as_str()).collect();
    assert_eq!(names, ["Alpha", "Mid", "Zeta"]);
    let hubs: Vec<Vec<&str>> = orgs
        .iter()
        .map(|o| o.hubs.iter().map(|h| h.code.as_str()).collect())
        .collect();
    assert_eq!(hubs, [vec!["au"], vec!["au"], vec!["us"]]);
    assert_eq!(orgs[2].hub("us").unwrap().display_name, "US");
}

#[tokio::test]
async fn missing_token_or_scope_is_an_error() {
    let emu = Emulator::builder().start().await.unwrap();
    let err = DiscoveryClient::new(with_token(&emu, None))
        .list_organizations()
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    let token = emu.issue_token(&["evo.workspace"]);
    let err = DiscoveryClient::new(with_token(&emu, Some(token)))
        .list_organizations()
        .await
        .unwrap_err();
    assert!(err.is_forbidden(), "{err}");
    assert!(err.as_api().unwrap().problem().is_some(), "{err}");
}
