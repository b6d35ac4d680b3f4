//! The apply rules of the how-to connector, one sync item at a time, and the REST catch-up.

use serde_json::{Value, json};

use crate::client::UnicatClient;
use crate::error::Error;
use crate::events::{ChangeEvent, JobProgress};
use crate::stores::DataType;

/// A catch-up that keeps answering `warning` without moving the cursors is given up after this.
const MAX_CATCH_UP_PAGES: usize = 100_000;

/// A sync item as Unicat sends it.
#[derive(Debug)]
struct Item {
    cc: bool,
    cursor: u64,
    action: String,
    data_type: String,
    data_key: String,
    data: Option<Value>,
}

impl Item {
    fn parse(raw: &Value) -> Result<Item, String> {
        let text = |field: &str| -> Result<String, String> {
            match raw.get(field) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(Value::Number(n)) => Ok(n.to_string()),
                Some(_) => Err(format!("field {field:?} is not a string")),
                None => Err(format!("field {field:?} is missing")),
            }
        };
        let cursor = match raw.get("cursor") {
            Some(Value::Number(n)) => n.as_u64().ok_or("cursor is not a non-negative integer")?,
            Some(Value::String(s)) => s.trim().parse().map_err(|_| "cursor is not an integer")?,
            _ => return Err("cursor is missing".to_owned()),
        };
        Ok(Item {
            // Any stream type other than "cc" is the project stream.
            cc: text("type")? == "cc",
            cursor,
            action: text("action")?.to_ascii_uppercase(),
            data_type: text("data_type")?,
            data_key: text("data_key")?,
            data: raw.get("data").cloned().filter(|d| !d.is_null()),
        })
    }
}

impl UnicatClient {
    /// Applies one `sync` payload (a list of items) in order. Returns an error only when a
    /// fetch failed at the HTTP level (the cursor then stays before the item, so the next
    /// connection delivers it again); Unicat errors and malformed items are logged and skipped.
    pub(crate) async fn apply_sync_payload(&self, payload: &Value) -> Result<(), Error> {
        let list = match payload {
            Value::Array(list) => list.as_slice(),
            Value::Object(o) if o.get("sync").is_some_and(Value::is_array) => {
                o["sync"].as_array().map(Vec::as_slice).unwrap_or_default()
            }
            Value::Null => &[],
            _ => {
                tracing::warn!("skipping a sync payload that is not a list of items");
                return Ok(());
            }
        };
        for raw in list {
            match Item::parse(raw) {
                Ok(item) => self.apply_item(item).await?,
                Err(why) => tracing::warn!(%why, "skipping a malformed sync item"),
            }
        }
        Ok(())
    }

    async fn apply_item(&self, item: Item) -> Result<(), Error> {
        let is_job = item.data_type == "jobs";
        {
            let state = self.lock_state();
            let applied = if item.cc {
                state.cursors.cc
            } else {
                state.cursors.project
            };
            if !is_job && item.cursor <= applied {
                tracing::debug!(
                    cursor = item.cursor,
                    applied,
                    "skipping a lagging sync item"
                );
                return Ok(());
            }
        }
        match item.data_type.as_str() {
            "cc.version" => self.version_item(&item),
            "jobs" => self.job_item(&item).await?,
            name => match DataType::from_name(name) {
                Some(data_type) => self.data_item(&item, data_type).await?,
                None => tracing::warn!(
                    data_type = name,
                    "skipping a sync item of an unknown data type"
                ),
            },
        }
        let mut state = self.lock_state();
        let cursor = if item.cc {
            &mut state.cursors.cc
        } else {
            &mut state.cursors.project
        };
        // Only forward: a restore re-initialised the cursors past an older job item.
        *cursor = (*cursor).max(item.cursor);
        Ok(())
    }

    fn version_item(&self, item: &Item) {
        let previous = {
            let mut state = self.lock_state();
            if state.cc_version.as_deref() == Some(item.data_key.as_str()) {
                return;
            }
            state.cc_version.replace(item.data_key.clone())
        };
        tracing::info!(version = %item.data_key, "the server version changed");
        self.emit(ChangeEvent::ServerVersionChanged {
            previous,
            current: item.data_key.clone(),
        });
    }

    async fn job_item(&self, item: &Item) -> Result<(), Error> {
        let data = item.data.clone().unwrap_or(Value::Null);
        let text = |name: &str| data.get(name).and_then(Value::as_str).map(str::to_owned);
        let job = text("job").unwrap_or_default();
        let status = text("status").unwrap_or_default();
        let first = self.lock_seen_jobs().first_time(&item.data_key, &status);
        if !first {
            tracing::debug!(%job, %status, "ignoring a replayed job event");
            return Ok(());
        }
        let project = text("project_gid");
        self.emit(ChangeEvent::Job(JobProgress {
            gid: item.data_key.clone(),
            job: job.clone(),
            status: status.clone(),
            info: data.get("info").cloned().unwrap_or(Value::Null),
            project: project.clone(),
        }));
        let ours = project.as_deref().is_none_or(|p| p == self.project());
        if job == "restore_project" && status == "done" && ours {
            tracing::info!("the project was restored; re-initialising the stores");
            self.init().await?;
            self.emit(ChangeEvent::Reinitialized);
        }
        Ok(())
    }

    async fn data_item(&self, item: &Item, data_type: DataType) -> Result<(), Error> {
        let key = item.data_key.as_str();
        match item.action.as_str() {
            "DELETE" => {
                // Race guard: fetch first, so an answer still in flight cannot bring the item
                // back after it was dropped; then drop it.
                if let Err(e) = self.fetch_item(data_type, key).await {
                    tracing::debug!(error = %e, "the fetch before a delete failed (expected)");
                }
                let removed = self.lock_state().stores.remove(data_type, key);
                if removed.is_some() {
                    self.emit(ChangeEvent::Deleted {
                        data_type,
                        key: key.to_owned(),
                    });
                }
            }
            "INSERT" => {
                let wanted = match data_type {
                    DataType::ProjectMembers => key
                        .split_once('/')
                        .is_some_and(|(p, _)| p == self.project()),
                    t => t.is_schema(),
                };
                if wanted {
                    self.fetch_and_report(data_type, key).await?;
                }
            }
            "UPDATE" => {
                let held = self.lock_state().stores.contains(data_type, key);
                if held {
                    self.fetch_and_report(data_type, key).await?;
                }
            }
            other => tracing::warn!(
                action = other,
                data_type = %data_type,
                "skipping a sync item with an unknown action"
            ),
        }
        Ok(())
    }

    /// Fetches an item and tells subscribers. A Unicat error (the item is gone, not allowed) is
    /// logged; an HTTP-level failure is returned.
    async fn fetch_and_report(&self, data_type: DataType, key: &str) -> Result<(), Error> {
        match self.fetch_item(data_type, key).await {
            Ok(()) => {}
            Err(Error::Unicat { code, message, .. }) => {
                tracing::warn!(code, %message, data_type = %data_type, "fetching a changed item failed");
                return Ok(());
            }
            Err(Error::InvalidInput(why)) => {
                tracing::warn!(%why, data_type = %data_type, "cannot fetch this item");
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        let event = match data_type {
            DataType::Records => match self.record(key) {
                Some(record) => ChangeEvent::RecordChanged {
                    gid: key.to_owned(),
                    record,
                },
                None => return Ok(()),
            },
            t if t.is_schema() => ChangeEvent::SchemaChanged {
                data_type,
                key: key.to_owned(),
            },
            _ => ChangeEvent::Changed {
                data_type,
                key: key.to_owned(),
            },
        };
        self.emit(event);
        Ok(())
    }

    /// The `…/get` call of the fetch map; its `data` lands in the stores.
    async fn fetch_item(&self, data_type: DataType, key: &str) -> Result<(), Error> {
        let Some((endpoint, param)) = data_type.fetch_endpoint() else {
            return Err(Error::InvalidInput(format!(
                "{data_type} has no fetch endpoint"
            )));
        };
        let params = if data_type == DataType::ProjectMembers {
            let (project, member) = key.split_once('/').ok_or_else(|| {
                Error::InvalidInput(format!("project member key {key:?} is not project/user"))
            })?;
            json!({"project": project, "member": member})
        } else {
            json!({ param: key })
        };
        self.call(endpoint, params).await.map(|_| ())
    }

    /// Catches up over REST, as the official package's `sync()`: `POST /sync/get` with the
    /// cursors, apply the items by the same rules, again until the answer has no `warning`.
    /// For networks that block WebSockets, and as the Socket.IO connector's resync path.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = unicat_emulator::UnicatEmulator::start().await?;
    /// # let (base_url, project) = (server.base_url().parse()?, server.project());
    /// # let (api_key, record) = (unicat_emulator::DEMO_API_KEY, unicat_emulator::DEMO_RECORD);
    /// # let assets = tempfile::tempdir()?;
    /// # let client = unicat::UnicatClient::builder(base_url, project)
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .asset_folder(assets.path())
    /// #     .build()?;
    /// // `client`: a client of a local Unicat server's demo project; `api_key`, `record`: its
    /// // secret API key and a record's gid.
    /// # client.connect(api_key).await?;
    /// client.call("/records/get", serde_json::json!({"record": record})).await?;
    /// // Changes made while nothing was listening ...
    /// let renamed = serde_json::json!({"gid": record, "fields": {"en": {"name": "Changed offline"}}});
    /// server.put_silently("records", record, renamed);
    /// // ... are read from /sync/get, as the Sync API would have pushed them.
    /// client.catch_up().await?;
    /// assert_eq!(client.record(record).unwrap()["fields"]["en"]["name"], "Changed offline");
    /// # Ok(()) }
    /// ```
    pub async fn catch_up(&self) -> Result<(), Error> {
        for _ in 0..MAX_CATCH_UP_PAGES {
            let before = self.cursors();
            let result = self
                .call_sync_api(
                    "get",
                    json!({"cc_cursor": before.cc, "project": self.project(), "cursor": before.project}),
                )
                .await?;
            let items = result.get("sync").cloned().unwrap_or(Value::Null);
            self.apply_sync_payload(&items).await?;
            if result.get("warning").is_none() {
                return Ok(());
            }
            if self.cursors() == before {
                return Err(Error::Sync(
                    "/sync/get says more is pending but the cursors do not move".to_owned(),
                ));
            }
        }
        Err(Error::Sync("the catch-up did not end".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seen_jobs::SeenJobs;

    #[test]
    fn items_parse_or_are_rejected() {
        let item = Item::parse(&json!({"type": "p-1", "cursor": "7", "action": "update", "data_type": "records", "data_key": 12})).unwrap();
        assert!(!item.cc);
        assert_eq!(
            (item.cursor, item.action.as_str(), item.data_key.as_str()),
            (7, "UPDATE", "12")
        );
        assert!(Item::parse(&json!({"type": "cc", "cursor": 1, "action": "DELETE", "data_type": "cc.users", "data_key": "u"})).unwrap().cc);
        for bad in [
            json!({"type": "cc", "action": "INSERT", "data_type": "records", "data_key": "k"}),
            json!({"type": "cc", "cursor": -1, "action": "INSERT", "data_type": "records", "data_key": "k"}),
            json!({"type": "cc", "cursor": 1, "action": "INSERT", "data_type": ["x"], "data_key": "k"}),
            json!("nope"),
        ] {
            assert!(Item::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn job_pairs_are_deduplicated() {
        let mut seen = SeenJobs::default();
        assert!(seen.first_time("j", "queued"));
        assert!(!seen.first_time("j", "queued"));
        assert!(seen.first_time("j", "done"));
    }
}
