//! Client futures and streams can be moved to other tasks (`tokio::spawn`).

use crate::common;

use common::{client, emulator};
use evo_workspaces::{CreateWorkspaceRequest, ListWorkspacesQuery};
use futures_util::TryStreamExt;

#[tokio::test]
async fn futures_and_streams_are_send() {
    let emu = emulator().await;
    let (ws, _) = client(&emu).await;
    let creator = ws.clone();
    let created = tokio::spawn(async move {
        creator
            .create_workspace(&CreateWorkspaceRequest::new("spawned"))
            .await
    })
    .await
    .unwrap()
    .unwrap();
    let stream = ws.list_all_workspaces(ListWorkspacesQuery::default());
    let all: Vec<_> = tokio::spawn(async move { stream.try_collect::<Vec<_>>().await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, created.id);
}
