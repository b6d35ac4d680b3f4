//! `evo watch workspaces|files|objects`: live replicas (evo-sync) printing each change as it happens,
//! as lines for people or one JSON object per line for scripts.

use std::collections::BTreeMap;
use std::time::Duration;

use evo_sync::evo::{EvoPollOptions, LiveFiles, LiveObjects, LiveWorkspaces};
use evo_sync::{Replica, Update};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::cli::{WatchArgs, WatchCommand};
use crate::error::{CliError, CliResult};
use crate::session::Session;

/// Runs an `evo watch` command.
pub async fn run(session: &mut Session, command: WatchCommand) -> CliResult<()> {
    match command {
        WatchCommand::Workspaces(args) => {
            let (chosen, _) = session.workspaces().await?;
            let live = LiveWorkspaces::start(chosen.hub_connector, chosen.org.id, options(&args)?)?;
            let describe = |w: &evo_workspaces::Workspace| {
                let updated_at = w
                    .updated_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .ok();
                json!({"name": w.name, "updated_at": updated_at})
            };
            let result = watch(session, &live, &args, "workspace", describe).await;
            live.stop().await;
            result
        }
        WatchCommand::Files(args) => {
            let files = session.files_client(None).await?;
            let live = LiveFiles::start(files, options(&args)?)?;
            let describe = |f: &evo_files::FileSummary| json!({"name": f.full_path(), "version_id": f.version_id, "size": f.size});
            let result = watch(session, &live, &args, "file", describe).await;
            live.stop().await;
            result
        }
        WatchCommand::Objects(args) => {
            let objects = session.objects_client().await?;
            let live = LiveObjects::start(objects, options(&args)?)?;
            let describe = |o: &evo_objects::ListedObject| json!({"name": o.full_path(), "version_id": o.version_id, "schema": o.schema});
            let result = watch(session, &live, &args, "object", describe).await;
            live.stop().await;
            result
        }
    }
}

fn options(args: &WatchArgs) -> CliResult<EvoPollOptions> {
    if args.interval_ms < 50 {
        return Err(CliError::usage("--interval-ms must be at least 50"));
    }
    if args.seconds.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
        return Err(CliError::usage("--seconds must be a positive number"));
    }
    let interval = Duration::from_millis(args.interval_ms);
    Ok(EvoPollOptions {
        interval,
        overlap: interval.max(Duration::from_secs(2)),
        ..EvoPollOptions::default()
    })
}

/// Prints the replica's updates until `--seconds` pass (or Ctrl-C).
async fn watch<V: Send + Sync + 'static>(
    session: &Session,
    replica: &Replica<Uuid, V>,
    args: &WatchArgs,
    what: &str,
    describe: impl Fn(&V) -> Value,
) -> CliResult<()> {
    let (snapshot, mut updates) = replica.subscribe_with_snapshot();
    let stop = args.seconds.map(Duration::from_secs_f64);
    let deadline = async {
        match stop {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    // Names of what was seen, to say what a removal was about.
    let mut known: BTreeMap<Uuid, Value> = BTreeMap::new();
    let emit = |event: &str, id: Option<Uuid>, detail: Value| {
        if session.json() {
            let mut line = json!({"event": event, "kind": what});
            if let Some(id) = id {
                line["id"] = json!(id);
            }
            if let Value::Object(map) = detail {
                for (k, v) in map {
                    line[k] = v;
                }
            }
            println!("{line}");
        } else {
            let name = detail.get("name").and_then(Value::as_str).unwrap_or("");
            match (event, id) {
                ("snapshot", _) => println!(
                    "{} {what}(s) now; watching for changes (Ctrl-C to stop)",
                    detail.get("count").and_then(Value::as_u64).unwrap_or(0)
                ),
                (_, Some(id)) => println!("{event:<9} {what} {name:?} ({id})"),
                (_, None) => println!("{event} {name}"),
            }
        }
    };
    // The first load may have finished before the subscription started.
    if snapshot.is_ready() {
        known = snapshot.iter().map(|(k, v)| (*k, describe(v))).collect();
        emit("snapshot", None, json!({"count": known.len()}));
    }
    let mut started = snapshot.is_ready();
    loop {
        let update = tokio::select! {
            _ = &mut deadline => return Ok(()),
            update = updates.recv() => update,
        };
        match update {
            Some(Update::Upserted { key, value, .. }) => {
                let detail = describe(&value);
                let event = if known.insert(key, detail.clone()).is_some() {
                    "changed"
                } else {
                    "added"
                };
                emit(event, Some(key), detail);
            }
            Some(Update::Removed { key, .. }) => {
                let detail = known.remove(&key).unwrap_or_else(|| json!({}));
                emit("removed", Some(key), detail);
            }
            Some(Update::Reset { snapshot, .. }) | Some(Update::Lagged { snapshot }) => {
                let now: BTreeMap<Uuid, Value> =
                    snapshot.iter().map(|(k, v)| (*k, describe(v))).collect();
                let first = !started;
                started = true;
                for (id, detail) in now.iter().filter(|_| !first) {
                    match known.get(id) {
                        None => emit("added", Some(*id), detail.clone()),
                        Some(before) if before != detail => {
                            emit("changed", Some(*id), detail.clone())
                        }
                        Some(_) => {}
                    }
                }
                for (id, detail) in &known {
                    if !now.contains_key(id) {
                        emit("removed", Some(*id), detail.clone());
                    }
                }
                if first {
                    emit("snapshot", None, json!({"count": now.len()}));
                }
                known = now;
            }
            Some(Update::Status(evo_sync::Status::Disconnected { reason })) => {
                tracing::warn!(%reason, "the watch lost its connection; retrying");
                if !session.json() {
                    eprintln!("warning: {reason}; retrying");
                }
            }
            Some(_) => {}
            None => return Err(CliError::failure("the watch stopped")),
        }
    }
}
