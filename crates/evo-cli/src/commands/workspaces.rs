//! `evo workspaces ...`.

use evo_workspaces::{
    CreateWorkspaceRequest, ListWorkspacesQuery, RestoreWorkspaceResponse, SortDirection,
    UpdateWorkspaceRequest, Workspace, WorkspaceSortField,
};
use futures_util::TryStreamExt;
use serde_json::json;

use crate::cli::WorkspacesCommand;
use crate::error::{CliError, CliResult, Kind};
use crate::output::{Table, human_time, print_json};
use crate::session::Session;

/// Runs an `evo workspaces` command.
pub async fn run(session: &mut Session, command: WorkspacesCommand) -> CliResult<()> {
    match command {
        WorkspacesCommand::Ls { deleted } => list(session, deleted).await,
        WorkspacesCommand::Show { workspace } => {
            let (_, ws) = session.workspace(workspace.as_deref()).await?;
            show(session, &ws, "")
        }
        WorkspacesCommand::Create {
            name,
            description,
            labels,
            use_it,
        } => {
            let (_, client) = session.workspaces().await?;
            let mut request =
                CreateWorkspaceRequest::new(name.clone()).with_description(description);
            if !labels.is_empty() {
                request = request.with_labels(labels);
            }
            let created = client.create_workspace(&request).await.map_err(|e| {
                let e = CliError::from(e);
                if e.kind == Kind::Conflict {
                    e.hint(format!("a workspace named {name:?} exists (maybe deleted: `evo workspaces ls --deleted`)"))
                } else {
                    e
                }
            })?;
            if use_it {
                session.profile.workspace = Some(created.id.to_string());
                session.save_profile()?;
            }
            show(session, &created, "Created")
        }
        WorkspacesCommand::Rename {
            workspace,
            new_name,
        } => {
            let (chosen, client) = session.workspaces().await?;
            let ws = session
                .find_workspace(&client, &chosen, &workspace, false)
                .await?;
            let update = UpdateWorkspaceRequest::new().with_name(new_name);
            let renamed = client.update_workspace(ws.id, &update).await?;
            show(session, &renamed, "Renamed")
        }
        WorkspacesCommand::Rm { workspace } => {
            let (chosen, client) = session.workspaces().await?;
            let ws = session
                .find_workspace(&client, &chosen, &workspace, false)
                .await?;
            client.delete_workspace(ws.id).await?;
            done(
                session,
                &ws,
                "deleted",
                "`evo workspaces restore` brings it back",
            )
        }
        WorkspacesCommand::Restore { workspace } => {
            let (chosen, client) = session.workspaces().await?;
            let ws = find_deleted(session, &client, &chosen, &workspace).await?;
            match client.restore_workspace(ws.id).await? {
                RestoreWorkspaceResponse::NoContent => done(session, &ws, "restored", ""),
                RestoreWorkspaceResponse::SeeOther(detail) => {
                    let note = serde_json::to_string(&detail).unwrap_or_default();
                    done(session, &ws, "restored elsewhere", &note)
                }
            }
        }
        WorkspacesCommand::Members { workspace } => {
            let (chosen, ws) = session.workspace(workspace.as_deref()).await?;
            let client = evo_workspaces::WorkspacesClient::new(chosen.org.id, chosen.hub_connector);
            let members = client.list_user_roles(ws.id, None).await?;
            if session.json() {
                return print_json(&members);
            }
            let mut table = Table::new(["USER", "EMAIL", "NAME", "ROLE"]);
            for m in &members {
                table.row(vec![
                    m.user_id.to_string(),
                    m.email.clone().unwrap_or_default(),
                    m.full_name.clone().unwrap_or_default(),
                    m.role.as_str().to_owned(),
                ]);
            }
            table.print("No members.");
            Ok(())
        }
        WorkspacesCommand::Use { workspace } => {
            let (chosen, client) = session.workspaces().await?;
            let ws = session
                .find_workspace(&client, &chosen, &workspace, false)
                .await?;
            session.profile.org = Some(chosen.org.id.to_string());
            session.profile.hub = Some(chosen.hub.code.clone());
            session.profile.workspace = Some(ws.id.to_string());
            session.save_profile()?;
            done(session, &ws, "remembered", "")
        }
    }
}

/// A deleted workspace by name or id (restore looks among deleted ones only).
async fn find_deleted(
    session: &Session,
    client: &evo_workspaces::WorkspacesClient,
    chosen: &crate::session::Chosen,
    wanted: &str,
) -> CliResult<Workspace> {
    if uuid::Uuid::parse_str(wanted).is_ok() {
        return session.find_workspace(client, chosen, wanted, true).await;
    }
    // `deleted=true` lists live and deleted workspaces; the live ones are not candidates.
    let live: Vec<uuid::Uuid> = client
        .list_all_workspaces(ListWorkspacesQuery::new().name(wanted))
        .map_ok(|w| w.id)
        .try_collect()
        .await?;
    let mut deleted: Vec<Workspace> = client
        .list_all_workspaces(ListWorkspacesQuery::new().name(wanted).deleted(true))
        .try_filter(|w| std::future::ready(w.name == wanted && !live.contains(&w.id)))
        .try_collect()
        .await?;
    match deleted.len() {
        1 => Ok(deleted.remove(0)),
        0 => Err(
            CliError::not_found(format!("no deleted workspace named {wanted:?}"))
                .hint("`evo workspaces ls --deleted` lists them"),
        ),
        n => Err(CliError::usage(format!(
            "{n} deleted workspaces are named {wanted:?}; name the one to restore by id"
        ))
        .hint("`evo workspaces ls --deleted` shows their ids")),
    }
}

async fn list(session: &Session, deleted: bool) -> CliResult<()> {
    let (_, client) = session.workspaces().await?;
    let mut query =
        ListWorkspacesQuery::new().order_by(WorkspaceSortField::Name, SortDirection::Asc);
    if deleted {
        query = query.deleted(true);
    }
    let workspaces: Vec<Workspace> = client.list_all_workspaces(query).try_collect().await?;
    if session.json() {
        return print_json(&workspaces);
    }
    let remembered = session.profile.workspace.as_deref();
    let mut table = Table::new(["", "NAME", "ID", "ROLE", "UPDATED"]);
    for ws in &workspaces {
        let current = remembered.is_some_and(|r| r == ws.id.to_string() || r == ws.name);
        table.row(vec![
            if current { "*".into() } else { String::new() },
            ws.name.clone(),
            ws.id.to_string(),
            ws.current_user_role.as_str().to_owned(),
            human_time(ws.updated_at),
        ]);
    }
    table.print("No workspaces: create one with `evo workspaces create NAME`.");
    Ok(())
}

fn show(session: &Session, ws: &Workspace, verb: &str) -> CliResult<()> {
    if session.json() {
        return print_json(ws);
    }
    if !verb.is_empty() {
        println!("{verb} workspace {:?} ({}).", ws.name, ws.id);
        return Ok(());
    }
    println!("name:        {}", ws.name);
    println!("id:          {}", ws.id);
    println!("description: {}", ws.description);
    println!("your role:   {}", ws.current_user_role.as_str());
    println!("labels:      {}", ws.labels.join(", "));
    println!(
        "created:     {} by {}",
        human_time(ws.created_at),
        ws.created_by.name.as_deref().unwrap_or("?")
    );
    println!("updated:     {}", human_time(ws.updated_at));
    Ok(())
}

fn done(session: &Session, ws: &Workspace, what: &str, note: &str) -> CliResult<()> {
    if session.json() {
        return print_json(&json!({"id": ws.id, "name": ws.name, "done": what}));
    }
    println!("Workspace {:?} ({}) {what}.", ws.name, ws.id);
    if !note.is_empty() {
        println!("{note}");
    }
    Ok(())
}
