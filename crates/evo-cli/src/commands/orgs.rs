//! `evo orgs`: organizations and their hubs.

use serde_json::json;

use crate::cli::OrgsCommand;
use crate::error::CliResult;
use crate::output::{Table, print_json};
use crate::session::{Session, pick_hub, pick_org};

/// Runs an `evo orgs` command.
pub async fn run(session: &mut Session, command: Option<OrgsCommand>) -> CliResult<()> {
    match command.unwrap_or(OrgsCommand::Ls) {
        OrgsCommand::Ls => list(session).await,
        OrgsCommand::Use { org } => use_org(session, &org).await,
    }
}

async fn list(session: &Session) -> CliResult<()> {
    let (_, organizations) = session.organizations().await?;
    if session.json() {
        let orgs: Vec<_> = organizations
            .iter()
            .map(|o| {
                let hubs: Vec<_> = o
                    .hubs
                    .iter()
                    .map(|h| json!({"code": h.code, "name": h.display_name, "url": h.url, "services": h.services}))
                    .collect();
                json!({"id": o.id, "name": o.display_name, "hubs": hubs})
            })
            .collect();
        return print_json(&orgs);
    }
    let remembered = session.profile.org.as_deref();
    let mut table = Table::new(["", "NAME", "ID", "HUBS"]);
    for org in &organizations {
        let current = remembered.is_some_and(|r| r == org.display_name || r == org.id.to_string());
        let hubs: Vec<&str> = org.hubs.iter().map(|h| h.code.as_str()).collect();
        table.row(vec![
            if current { "*".into() } else { String::new() },
            org.display_name.clone(),
            org.id.to_string(),
            hubs.join(","),
        ]);
    }
    table.print("No organizations.");
    Ok(())
}

async fn use_org(session: &mut Session, wanted: &str) -> CliResult<()> {
    let (_, organizations) = session.organizations().await?;
    let org = pick_org(&organizations, Some(wanted))?.clone();
    let hub = pick_hub(&org, session.global.hub.as_deref())?.clone();
    let changed = session.profile.org.as_deref() != Some(org.id.to_string().as_str());
    session.profile.org = Some(org.id.to_string());
    session.profile.hub = Some(hub.code.clone());
    if changed {
        // A workspace belongs to one organization.
        session.profile.workspace = None;
    }
    session.save_profile()?;
    if session.json() {
        return print_json(
            &json!({"org": {"id": org.id, "name": org.display_name}, "hub": hub.code}),
        );
    }
    println!(
        "Using organization {:?} ({}) on hub {} in profile {:?}.",
        org.display_name, org.id, hub.code, session.profile_name
    );
    Ok(())
}
