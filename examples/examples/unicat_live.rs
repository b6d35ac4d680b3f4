//! A live Unicat record: connect, fetch a record, and print one line each time it changes.
//!
//! ```text
//! cargo run --example unicat_live
//! ```
//!
//! With no configuration it starts the embedded Unicat emulator, changes the record from another
//! task (another user, through the REST API) a few times, deletes it, and stops by itself.
//! Against a real server set `UNICAT_URL`, `UNICAT_PROJECT`, `UNICAT_API_KEY` and
//! `UNICAT_RECORD`; it runs for `UNICAT_SECONDS` (default: until Ctrl-C).
//!
//! Output, flushed at once: `changed <record gid> <the record's fields as compact JSON>` for every
//! change, `deleted <record gid>` for a deletion.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use unicat::{ChangeEvent, DataType, SyncOptions, UnicatClient};

fn client(url: &str, project: &str) -> Result<UnicatClient, Box<dyn std::error::Error>> {
    Ok(UnicatClient::builder(url.parse()?, project)
        .transport(Arc::new(evo_hyper::HyperTransport::new()))
        .build()?)
}

fn print(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let configured = std::env::var("UNICAT_URL").ok();
    let mut emulator = None;
    let (url, project, api_key, record) = match configured {
        Some(url) => {
            let var = |name: &str| {
                std::env::var(name).map_err(|_| format!("{name} must be set with UNICAT_URL"))
            };
            (
                url,
                var("UNICAT_PROJECT")?,
                var("UNICAT_API_KEY")?,
                var("UNICAT_RECORD")?,
            )
        }
        None => {
            let server = unicat_emulator::UnicatEmulator::start().await?;
            let url = server.base_url();
            emulator = Some(server);
            (
                url,
                unicat_emulator::DEMO_PROJECT.to_owned(),
                unicat_emulator::DEMO_API_KEY.to_owned(),
                unicat_emulator::DEMO_RECORD.to_owned(),
            )
        }
    };
    let seconds: Option<u64> = match std::env::var("UNICAT_SECONDS") {
        Ok(s) => Some(
            s.parse()
                .map_err(|_| format!("UNICAT_SECONDS {s:?} is not a number"))?,
        ),
        Err(_) => None,
    };

    let unicat = client(&url, &project)?;
    unicat.connect(&api_key).await?;
    unicat
        .call("/records/get", json!({ "record": record }))
        .await?;
    let mut events = unicat.subscribe();
    let sync = unicat.start_sync(SyncOptions::default())?;
    if !sync.wait_connected(Duration::from_secs(30)).await {
        eprintln!("the Sync API did not connect: {:?}", sync.status());
    }

    // On the embedded emulator, another user edits the record, then deletes it.
    let editor = if emulator.is_some() {
        let editor = client(&url, &project)?;
        editor.connect(unicat_emulator::EDITOR_API_KEY).await?;
        let record = record.clone();
        Some(tokio::spawn(async move {
            for (n, name) in ["Second draft", "Final title", "Final title, priced"]
                .iter()
                .enumerate()
            {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let fields = json!({"en": {"name": name, "price": 10 + n}});
                if let Err(e) = editor
                    .call(
                        "/records/update",
                        json!({"record": record, "fields": fields}),
                    )
                    .await
                {
                    eprintln!("editor: {e}");
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            if let Err(e) = editor
                .call("/records/delete", json!({ "record": record }))
                .await
            {
                eprintln!("editor: {e}");
            }
        }))
    } else {
        None
    };

    let stop = async {
        match seconds {
            Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
            None if emulator.is_some() => std::future::pending::<()>().await,
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    tokio::pin!(stop);
    let mut last: Option<Value> = unicat.record(&record).map(|r| r["fields"].clone());
    loop {
        let event = tokio::select! {
            () = &mut stop => break,
            event = events.recv() => match event {
                Some(event) => event,
                None => break,
            },
        };
        match event {
            ChangeEvent::RecordChanged { gid, record: value } if gid == record => {
                let fields = value["fields"].clone();
                print(format!("changed {gid} {}", serde_json::to_string(&fields)?));
                last = Some(fields);
            }
            ChangeEvent::Deleted {
                data_type: DataType::Records,
                key,
            } if key == record => {
                print(format!("deleted {key}"));
                last = None;
                if emulator.is_some() {
                    break;
                }
            }
            // The stores were reloaded or events were missed: compare with what was printed.
            ChangeEvent::Reinitialized | ChangeEvent::Lagged { .. } => {
                if last.is_some() {
                    let _ = unicat
                        .call("/records/get", json!({ "record": record }))
                        .await;
                }
                let now = unicat.record(&record).map(|r| r["fields"].clone());
                match (&now, &last) {
                    (Some(fields), previous) if Some(fields) != previous.as_ref() => {
                        print(format!(
                            "changed {record} {}",
                            serde_json::to_string(fields)?
                        ));
                    }
                    (None, Some(_)) => print(format!("deleted {record}")),
                    _ => {}
                }
                last = now;
            }
            _ => {}
        }
    }
    sync.stop().await;
    if let Some(editor) = editor {
        editor.abort();
    }
    Ok(())
}
