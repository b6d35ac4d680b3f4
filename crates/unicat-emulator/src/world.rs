//! The emulated server's state: data per type, the two change logs, users, keys and JWTs.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

/// Data types on the global (`cc`) stream.
pub(crate) fn is_global(data_type: &str) -> bool {
    data_type.starts_with("cc.")
}

/// Everything the server knows.
#[derive(Debug, Clone)]
pub(crate) struct World {
    pub(crate) project: String,
    pub(crate) version: String,
    /// API key → user gid.
    pub(crate) api_keys: HashMap<String, String>,
    /// JWT → user gid.
    pub(crate) tokens: HashMap<String, String>,
    pub(crate) token_serial: u64,
    /// Rotate the caller's JWT on every n-th authenticated REST response.
    pub(crate) rotate_every: Option<u64>,
    pub(crate) requests: u64,
    /// data type → key → entity.
    pub(crate) data: BTreeMap<String, BTreeMap<String, Value>>,
    /// File contents of assets and their derivatives, by media path.
    pub(crate) media: HashMap<String, bytes::Bytes>,
    pub(crate) log: Vec<Value>,
    pub(crate) cc_head: u64,
    pub(crate) project_head: u64,
    pub(crate) sync_page: usize,
    pub(crate) backup: Option<BTreeMap<String, BTreeMap<String, Value>>>,
    pub(crate) job_serial: u64,
    pub(crate) clock: f64,
}

impl World {
    pub(crate) fn new(project: &str) -> Self {
        World {
            project: project.to_owned(),
            version: "2025.07.001".to_owned(),
            api_keys: HashMap::new(),
            tokens: HashMap::new(),
            token_serial: 0,
            rotate_every: None,
            requests: 0,
            data: BTreeMap::new(),
            media: HashMap::new(),
            log: Vec::new(),
            cc_head: 0,
            project_head: 0,
            sync_page: 100,
            backup: None,
            job_serial: 0,
            clock: 1_700_000_000.0,
        }
    }

    /// A fresh JWT for `user` (opaque to clients; unguessable enough for a local server).
    pub(crate) fn issue_token(&mut self, user: &str) -> String {
        self.token_serial += 1;
        let token = format!(
            "jwt.{}.{:016x}{:016x}",
            self.token_serial,
            fastrand::u64(..),
            fastrand::u64(..)
        );
        self.tokens.insert(token.clone(), user.to_owned());
        token
    }

    pub(crate) fn now(&mut self) -> f64 {
        self.clock += 1.0;
        self.clock
    }

    pub(crate) fn get(&self, data_type: &str, key: &str) -> Option<&Value> {
        self.data.get(data_type)?.get(key)
    }

    /// Appends a change to the log of its stream (items carry no data, as Unicat's, except jobs).
    pub(crate) fn log_change(
        &mut self,
        action: &str,
        data_type: &str,
        key: &str,
        data: Option<Value>,
    ) -> Value {
        let (stream, cursor) = if is_global(data_type) || data_type == "jobs" {
            self.cc_head += 1;
            ("cc".to_owned(), self.cc_head)
        } else {
            self.project_head += 1;
            (self.project.clone(), self.project_head)
        };
        let mut item = json!({
            "type": stream,
            "cursor": cursor,
            "action": action,
            "data_type": data_type,
            "data_key": key,
        });
        if let Some(data) = data {
            item["data"] = data;
        }
        self.log.push(item.clone());
        item
    }

    /// Stores an entity and logs the change; returns the sync item.
    pub(crate) fn put(&mut self, data_type: &str, key: &str, mut value: Value) -> Value {
        let now = self.now();
        let existed = self.get(data_type, key).is_some();
        if let Some(object) = value.as_object_mut() {
            object.insert("updated_on".to_owned(), json!(now));
            if !is_global(data_type) {
                let version = self
                    .get(data_type, key)
                    .and_then(|v| v.get("version"))
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                object.insert("version".to_owned(), json!(version + 1));
            }
        }
        self.data
            .entry(data_type.to_owned())
            .or_default()
            .insert(key.to_owned(), value);
        let action = if existed { "UPDATE" } else { "INSERT" };
        self.log_change(action, data_type, key, None)
    }

    /// Removes an entity and logs the change; `None` when it did not exist.
    pub(crate) fn remove(&mut self, data_type: &str, key: &str) -> Option<Value> {
        self.data.get_mut(data_type)?.remove(key)?;
        Some(self.log_change("DELETE", data_type, key, None))
    }

    /// The log items after the given cursors, for `project` (cc items for everyone).
    pub(crate) fn items_after(&self, cc: u64, project: &str, cursor: u64) -> Vec<Value> {
        self.log
            .iter()
            .filter(|item| {
                let c = item["cursor"].as_u64().unwrap_or(0);
                match item["type"].as_str() {
                    Some("cc") => c > cc,
                    Some(p) => p == project && c > cursor,
                    None => false,
                }
            })
            .cloned()
            .collect()
    }

    /// The envelope `data` holding one entity (project members as a list, as Unicat sends them).
    pub(crate) fn data_of(&self, data_type: &str, key: &str) -> Value {
        match self.get(data_type, key) {
            Some(value) if data_type == "cc.projects_members" => json!({ data_type: [value] }),
            Some(value) => json!({ data_type: { key: value } }),
            None => json!({}),
        }
    }

    /// Everything the project sees, as `/init` and `/auth` return it.
    pub(crate) fn init_data(&self) -> Value {
        let mut data = serde_json::Map::new();
        for (data_type, entries) in &self.data {
            if data_type == "records" {
                // Records are fetched on demand (there may be millions); only the root.
                continue;
            }
            if data_type == "cc.projects_members" {
                let ours: Vec<Value> = entries
                    .iter()
                    .filter(|(k, _)| k.starts_with(&format!("{}/", self.project)))
                    .map(|(_, v)| v.clone())
                    .collect();
                data.insert(data_type.clone(), Value::Array(ours));
                continue;
            }
            let map: serde_json::Map<String, Value> = entries
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            data.insert(data_type.clone(), Value::Object(map));
        }
        Value::Object(data)
    }
}
