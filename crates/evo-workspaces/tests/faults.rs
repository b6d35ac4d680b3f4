//! The client over an unreliable server (the emulator's fault injection): transient failures of
//! reads are retried by the connector, broken bodies are typed errors, never panics.

use crate::common;

use std::sync::Arc;

use common::recording;
use evo_core::{ApiConnector, Error, RetryPolicy, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Fault, FaultPlan, RouteClass};
use evo_workspaces::{CreateWorkspaceRequest, ListWorkspacesQuery, Workspace, WorkspacesClient};
use futures_util::TryStreamExt;

fn client_with_retries(emu: &Emulator) -> WorkspacesClient {
    let (transport, _) = recording();
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(transport)
        .authorizer(Arc::new(StaticTokenAuthorizer::new(
            emu.issue_token(&["evo.workspace"]),
        )))
        .retry_policy(RetryPolicy::default())
        .build()
        .unwrap();
    WorkspacesClient::new(emu.org_id(), connector)
}

#[tokio::test]
async fn paging_survives_transient_failures() {
    let emu = Emulator::builder().start().await.unwrap();
    let ws = client_with_retries(&emu);
    for i in 0..5 {
        ws.create_workspace(&CreateWorkspaceRequest::new(format!("f{i}")))
            .await
            .unwrap();
    }
    // The next two Workspaces requests fail (503, then a reset); the GETs are retried.
    emu.set_faults(
        FaultPlan::seeded(7)
            .with_nth(RouteClass::Workspaces, Fault::Status(503), 1)
            .with_nth(RouteClass::Workspaces, Fault::ResetBeforeBody, 2),
    );
    let query = ListWorkspacesQuery::new().limit(2);
    let all: Vec<Workspace> = ws.list_all_workspaces(query).try_collect().await.unwrap();
    assert_eq!(all.len(), 5);
    assert!(
        emu.fault_counters().total() >= 2,
        "{:?}",
        emu.fault_counters()
    );
}

#[tokio::test]
async fn truncated_bodies_are_errors() {
    let emu = Emulator::builder().start().await.unwrap();
    let ws = client_with_retries(&emu);
    let created = ws
        .create_workspace(&CreateWorkspaceRequest::new("t"))
        .await
        .unwrap();
    let (transport, _) = recording();
    let no_retry = WorkspacesClient::new(
        emu.org_id(),
        ApiConnector::builder(emu.hub_url())
            .transport(transport)
            .authorizer(Arc::new(StaticTokenAuthorizer::new(
                emu.issue_token(&["evo.workspace"]),
            )))
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap(),
    );
    emu.set_faults(FaultPlan::seeded(1).with(RouteClass::Workspaces, Fault::TruncatedBody, 1.0));
    let err = no_retry.get_workspace(created.id).await.unwrap_err();
    assert!(
        matches!(err, Error::Transport(_) | Error::Decode(_)),
        "a short body is a transport or decode error: {err}"
    );
    emu.set_faults(FaultPlan::none());
    assert_eq!(
        no_retry.get_workspace(created.id).await.unwrap().id,
        created.id
    );
}
