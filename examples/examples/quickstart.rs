//! The getting-started flow end to end: log in with client credentials, discover organizations
//! and hubs, pick a hub, list workspaces, create one and read it back.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Without configuration it starts the embedded Evo emulator on 127.0.0.1 and talks to it. With
//! `EVO_CLIENT_ID` and `EVO_CLIENT_SECRET` set it talks to a real Evo instead (`EVO_DISCOVERY_URL`
//! and `EVO_IMS_URL` override the production discovery host and Bentley IMS; `EVO_ORG_ID` picks
//! an organization other than the first). Against a real Evo the workspace it creates is real.

use std::error::Error;
use std::sync::Arc;

use evo_auth::{ClientCredentialsAuthorizer, OAuthConnector, Scopes};
use evo_core::ApiConnector;
use evo_discovery::{DEFAULT_DISCOVERY_URL, DiscoveryClient};
use evo_emulator::Emulator;
use evo_hyper::HyperTransport;
use evo_workspaces::{CreateWorkspaceRequest, ListWorkspacesQuery, WorkspacesClient};

/// Where to log in and discover, and as whom.
struct Target {
    client_id: String,
    client_secret: String,
    discovery_url: String,
    ims_url: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // 1. A real Evo from the environment, or the embedded emulator.
    let mut emulator = None;
    let target = match (
        std::env::var("EVO_CLIENT_ID"),
        std::env::var("EVO_CLIENT_SECRET"),
    ) {
        (Ok(client_id), Ok(client_secret)) => {
            let target = Target {
                client_id,
                client_secret,
                discovery_url: std::env::var("EVO_DISCOVERY_URL")
                    .unwrap_or_else(|_| DEFAULT_DISCOVERY_URL.to_owned()),
                ims_url: std::env::var("EVO_IMS_URL")
                    .unwrap_or_else(|_| evo_auth::DEFAULT_ISSUER.to_owned()),
            };
            println!(
                "Using Evo at {} (IMS {})",
                target.discovery_url, target.ims_url
            );
            target
        }
        _ => {
            let emu = Emulator::builder().start().await?;
            println!("Started the embedded Evo emulator at {}", emu.base_url());
            println!("  (set EVO_CLIENT_ID and EVO_CLIENT_SECRET to use a real Evo instead)");
            let client = emu.service_client();
            let target = Target {
                client_id: client.client_id,
                client_secret: client.client_secret,
                discovery_url: emu.discovery_url().to_string(),
                ims_url: emu.ims_url().to_string(),
            };
            emulator = Some(emu);
            target
        }
    };

    // 2. Log in with client credentials. The token is fetched on first use and renewed before
    //    it expires; the secret never appears in logs or errors.
    let transport = Arc::new(HyperTransport::new());
    let oauth = OAuthConnector::builder(transport.clone(), target.client_id.clone())
        .issuer(target.ims_url.as_str())
        .client_secret(target.client_secret.clone())
        .build()?;
    let authorizer = Arc::new(ClientCredentialsAuthorizer::new(oauth, Scopes::all_evo())?);
    let token = authorizer.token().await?;
    let lifetime = token
        .expires_at()
        .and_then(|at| at.duration_since(std::time::SystemTime::now()).ok())
        .map(|d| format!("{} s", d.as_secs()))
        .unwrap_or_else(|| "an unknown time".to_owned());
    println!(
        "Logged in as client {:?} (the token is valid for {lifetime})",
        target.client_id
    );
    let discovery_connector = ApiConnector::builder(target.discovery_url.parse()?)
        .transport(transport)
        .authorizer(authorizer)
        .build()?;

    // 3. Discover organizations and their hubs.
    let organizations = DiscoveryClient::new(discovery_connector.clone())
        .list_organizations()
        .await?;
    println!("Discovered {} organization(s):", organizations.len());
    for org in &organizations {
        println!("  {} ({})", org.display_name, org.id);
        for hub in &org.hubs {
            println!(
                "    hub {} {} at {}: {}",
                hub.code,
                hub.display_name,
                hub.url,
                hub.services.join(", ")
            );
        }
    }

    // 4. Pick an organization and its first hub.
    let wanted = std::env::var("EVO_ORG_ID").ok();
    let org = organizations
        .iter()
        .filter(|o| !o.hubs.is_empty())
        .find(|o| wanted.as_deref().is_none_or(|id| o.id.to_string() == id))
        .ok_or("no organization with a hub was discovered")?;
    let hub = &org.hubs[0];
    println!(
        "Using organization {} on hub {} ({})",
        org.display_name, hub.display_name, hub.url
    );
    let workspaces = WorkspacesClient::new(org.id, hub.connector(&discovery_connector)?);

    // 5. List workspaces (first page).
    let query = ListWorkspacesQuery::new().limit(10);
    let page = workspaces.list_workspaces(&query).await?;
    println!(
        "{} workspace(s) in total; the first {}:",
        page.total.unwrap_or(0),
        page.items.len()
    );
    for ws in &page.items {
        println!("  {} ({}, {})", ws.name, ws.id, ws.current_user_role);
    }

    // 6. Create a workspace and read it back.
    let name = format!(
        "evo-rs quickstart {}",
        evo_core::uuid::Uuid::new_v4().simple()
    );
    let request = CreateWorkspaceRequest::new(&name[..name.len().min(60)])
        .with_description("Created by the evo-rs quickstart example.");
    let created = workspaces.create_workspace(&request).await?;
    println!("Created workspace {:?} ({})", created.name, created.id);
    let read = workspaces.get_workspace(created.id).await?;
    println!(
        "Read it back: {:?}, created {} by {}, your role: {}",
        read.name,
        read.created_at,
        read.created_by.name.as_deref().unwrap_or("?"),
        read.current_user_role
    );
    println!("Its environment: {}", workspaces.environment(read.id));

    if let Some(emu) = emulator {
        emu.shutdown().await;
        println!("Stopped the emulator.");
    }
    Ok(())
}
