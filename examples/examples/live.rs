//! A live replica of an organization's workspaces that updates itself.
//!
//! ```text
//! cargo run --example live
//! ```
//!
//! Starts the embedded Evo emulator, keeps a `LiveWorkspaces` replica of its workspaces (Evo has
//! no push API, so the replica polls with the `updated_at` filter and an overlap window), and
//! prints every change while another task creates, renames, deletes and restores workspaces.
//! At the end it checks that the replica equals what the server lists.

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use evo_auth::{ClientCredentialsAuthorizer, OAuthConnector, Scopes};
use evo_core::ApiConnector;
use evo_emulator::Emulator;
use evo_hyper::HyperTransport;
use evo_sync::Update;
use evo_sync::evo::{EvoPollOptions, LiveWorkspaces};
use evo_workspaces::{
    CreateWorkspaceRequest, ListWorkspacesQuery, UpdateWorkspaceRequest, WorkspacesClient,
};
use futures_util::TryStreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let emu = Emulator::builder().start().await?;
    println!("Started the embedded Evo emulator at {}", emu.base_url());

    // Log in with client credentials and talk to the hub.
    let transport = Arc::new(HyperTransport::new());
    let client = emu.service_client();
    let oauth = OAuthConnector::builder(transport.clone(), client.client_id)
        .issuer(emu.ims_url().as_str())
        .client_secret(client.client_secret)
        .build()?;
    let authorizer = Arc::new(ClientCredentialsAuthorizer::new(oauth, Scopes::all_evo())?);
    let hub = ApiConnector::builder(emu.hub_url())
        .transport(transport)
        .authorizer(authorizer)
        .build()?;
    let org_id = emu.org_id();

    // The replica: polls every 250 ms (the default is 5 s, gentler on a real Evo).
    let options = EvoPollOptions {
        interval: Duration::from_millis(250),
        overlap: Duration::from_secs(1),
        ..EvoPollOptions::default()
    };
    let live = LiveWorkspaces::start(hub.clone(), org_id, options)?;
    let (snapshot, mut updates) = live.subscribe_with_snapshot();
    println!("Replica started with {} workspace(s)", snapshot.len());

    // Another task changes the workspaces while the replica watches.
    let workspaces = WorkspacesClient::new(org_id, hub.clone());
    let writer = workspaces.clone();
    let mut changes = tokio::spawn(async move {
        let pause = || tokio::time::sleep(Duration::from_millis(600));
        let north = writer
            .create_workspace(&CreateWorkspaceRequest::new("Survey North"))
            .await?;
        println!("  [writer] created {:?}", north.name);
        pause().await;
        let drill = writer
            .create_workspace(&CreateWorkspaceRequest::new("Drillholes 2026"))
            .await?;
        println!("  [writer] created {:?}", drill.name);
        pause().await;
        let rename = UpdateWorkspaceRequest::new().with_name("Survey North (final)");
        writer.update_workspace(north.id, &rename).await?;
        println!(
            "  [writer] renamed {:?} to \"Survey North (final)\"",
            north.name
        );
        pause().await;
        writer.delete_workspace(drill.id).await?;
        println!("  [writer] deleted {:?}", drill.name);
        pause().await;
        writer.restore_workspace(drill.id).await?;
        println!("  [writer] restored {:?}", drill.name);
        pause().await;
        writer.delete_workspace(north.id).await?;
        println!("  [writer] deleted \"Survey North (final)\"");
        Ok::<(), evo_core::Error>(())
    });

    // Print what the replica reports until the writer is done and the replica has caught up.
    // Names seen so far, to say which workspace a removal was about.
    let mut names: BTreeMap<evo_core::uuid::Uuid, String> = snapshot
        .iter()
        .map(|(id, w)| (*id, w.name.clone()))
        .collect();
    let mut writer_done = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        tokio::select! {
            result = &mut changes, if !writer_done => {
                result??;
                writer_done = true;
            }
            update = updates.recv() => match update {
                Some(Update::Upserted { key, value, .. }) => {
                    println!("replica: upserted {:?}", value.name);
                    names.insert(key, value.name.clone());
                }
                Some(Update::Removed { key, .. }) => {
                    let name = names.get(&key).cloned().unwrap_or_else(|| key.to_string());
                    println!("replica: removed {name:?}");
                }
                Some(Update::Reset { reason, snapshot }) => {
                    names.extend(snapshot.iter().map(|(id, w)| (*id, w.name.clone())));
                    println!("replica: reset ({reason:?}), {} workspace(s)", snapshot.len());
                }
                Some(Update::Lagged { snapshot }) => {
                    println!("replica: lagged; resuming from {} workspace(s)", snapshot.len());
                }
                Some(_) => {}
                None => return Err("the replica stopped".into()),
            },
            _ = tokio::time::sleep(Duration::from_millis(300)), if writer_done => {}
        }
        if writer_done && replica_matches_server(&live, &workspaces).await? {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            return Err("the replica did not catch up with the server within 30 s".into());
        }
    }

    let snapshot = live.snapshot();
    println!("Replica equals the server: {} workspace(s)", snapshot.len());
    for (_, workspace) in snapshot.iter() {
        println!("  {:?}", workspace.name);
    }
    live.stop().await;
    Ok(())
}

/// Compares the replica's names with a fresh listing of the server.
async fn replica_matches_server(
    live: &LiveWorkspaces,
    workspaces: &WorkspacesClient,
) -> Result<bool, evo_core::Error> {
    let server: BTreeMap<String, String> = workspaces
        .list_all_workspaces(ListWorkspacesQuery::default())
        .map_ok(|w| (w.id.to_string(), w.name))
        .try_collect()
        .await?;
    let replica: BTreeMap<String, String> = live
        .snapshot()
        .iter()
        .map(|(id, w)| (id.to_string(), w.name.clone()))
        .collect();
    Ok(server == replica)
}
