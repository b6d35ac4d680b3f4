//! The getting-started flow of the Python SDK's quickstart, in a project that depends on
//! evo-sdk alone: connect (log in, discover, pick the hub), list and create workspaces, get a
//! workspace's environment, upload and download a file.

use evo_sdk::prelude::*;

#[tokio::test]
async fn getting_started_against_the_emulator() -> Result<(), Box<dyn std::error::Error>> {
    // The whole setup: an emulator, and a client logged in, discovered and on its hub.
    let emulator = Emulator::builder().start().await?;
    let evo = emulator.client().await?;

    // Discovery found the emulator's organization and hub.
    assert_eq!(evo.org_id(), emulator.org_id());
    assert!(
        evo.organizations()
            .iter()
            .any(|o| o.id == emulator.org_id()),
        "{:?}",
        evo.organizations()
    );
    assert!(evo.hub().has_service("evo"), "{:?}", evo.hub());

    // Workspaces: create one, find it in the list, read it back.
    let workspaces = evo.workspaces();
    let created = workspaces
        .create_workspace(
            &CreateWorkspaceRequest::new("Getting started").with_description("from evo-sdk"),
        )
        .await?;
    let page = workspaces
        .list_workspaces(&ListWorkspacesQuery::default())
        .await?;
    assert!(page.items.iter().any(|w| w.id == created.id));
    let read = workspaces.get_workspace(created.id).await?;
    assert_eq!(read.name, "Getting started");
    assert_eq!(read.description, "from evo-sdk");

    // The environment that workspace-scoped clients take, from the session or the workspace.
    let environment = evo.environment(created.id);
    assert_eq!(environment.org_id, emulator.org_id());
    assert_eq!(environment.workspace_id, created.id);
    assert_eq!(read.environment()?, environment);

    // A name over 60 characters is an error before anything is sent, never shortened.
    let long = CreateWorkspaceRequest::new("n".repeat(61));
    let refused = workspaces.create_workspace(&long).await.unwrap_err();
    assert!(
        matches!(refused, evo_sdk::core::Error::InvalidRequest { .. }),
        "{refused:?}"
    );

    // File I/O through the File API and blob storage.
    let files = evo.files(created.id)?;
    let content = b"hole_id,x,y,z\nDH1,1,2,3\n".to_vec();
    let uploaded = files
        .upload_bytes("data/collars.csv", content.clone())
        .await?;
    let listed = files.list_page(&ListFilesQuery::default()).await?;
    assert!(
        listed.items.iter().any(|f| f.file_id == uploaded.file_id),
        "{listed:?}"
    );
    let downloaded = files.download_to_memory(uploaded.file_id, None).await?;
    assert_eq!(downloaded.as_ref(), content.as_slice());

    emulator.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_wrong_organization_is_a_typed_error_naming_what_was_discovered() {
    let emulator = Emulator::builder().start().await.expect("emulator");
    let missing = Uuid::new_v4();
    let error = emulator
        .client_builder()
        .expect("builder")
        .organization(missing)
        .connect()
        .await
        .expect_err("an undiscovered organization");
    assert!(
        matches!(error, evo_sdk::Error::NotDiscovered { .. }),
        "{error:?}"
    );
    let shown = error.to_string();
    assert!(shown.contains(&missing.to_string()), "{shown}");
    assert!(shown.contains(&emulator.org_id().to_string()), "{shown}");
    emulator.shutdown().await;
}
