//! The local stores: what Unicat's `data` envelopes and the Sync API keep current.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// A kind of Unicat data kept in a local store (the `data_type` of sync items and the keys of
/// an envelope's `data`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DataType {
    /// `cc.users` (global).
    Users,
    /// `cc.projects` (global).
    Projects,
    /// `cc.projects_members` (global), keyed `project_gid/user_gid`.
    ProjectMembers,
    /// `cc.languages` (global).
    Languages,
    /// `records`.
    Records,
    /// `definitions`.
    Definitions,
    /// `classes`.
    Classes,
    /// `fields`.
    Fields,
    /// `layouts`.
    Layouts,
    /// `assets` (also indexed by pathname).
    Assets,
    /// `queries`.
    Queries,
    /// `modules`.
    Modules,
}

impl DataType {
    /// Every data type.
    pub const ALL: [DataType; 12] = [
        DataType::Users,
        DataType::Projects,
        DataType::ProjectMembers,
        DataType::Languages,
        DataType::Records,
        DataType::Definitions,
        DataType::Classes,
        DataType::Fields,
        DataType::Layouts,
        DataType::Assets,
        DataType::Queries,
        DataType::Modules,
    ];

    /// The name Unicat uses (`records`, `cc.users`, …).
    pub fn name(self) -> &'static str {
        match self {
            DataType::Users => "cc.users",
            DataType::Projects => "cc.projects",
            DataType::ProjectMembers => "cc.projects_members",
            DataType::Languages => "cc.languages",
            DataType::Records => "records",
            DataType::Definitions => "definitions",
            DataType::Classes => "classes",
            DataType::Fields => "fields",
            DataType::Layouts => "layouts",
            DataType::Assets => "assets",
            DataType::Queries => "queries",
            DataType::Modules => "modules",
        }
    }

    /// The data type called `name`, if it is a known one.
    pub fn from_name(name: &str) -> Option<DataType> {
        DataType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The "base" (schema) data whose INSERTs the sync fetches: definitions, classes, fields,
    /// layouts and queries.
    pub fn is_schema(self) -> bool {
        matches!(
            self,
            DataType::Definitions
                | DataType::Classes
                | DataType::Fields
                | DataType::Layouts
                | DataType::Queries
        )
    }

    /// The `…/get` endpoint that fetches one item and the name of its key parameter
    /// (`//` marks the global API). Project members use `//members/get {project, member}`.
    pub fn fetch_endpoint(self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            DataType::Users => ("//users/get", "user"),
            DataType::Projects => ("//projects/get", "project"),
            DataType::ProjectMembers => ("//members/get", "member"),
            DataType::Records => ("/records/get", "record"),
            DataType::Definitions => ("/definitions/get", "definition"),
            DataType::Classes => ("/classes/get", "class"),
            DataType::Fields => ("/fields/get", "field"),
            DataType::Layouts => ("/layouts/get", "layout"),
            DataType::Assets => ("/assets/get", "asset"),
            DataType::Queries => ("/queries/get", "query"),
            DataType::Modules => ("/modules/get", "module"),
            DataType::Languages => return None,
        })
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The local copy of Unicat data: one map per [`DataType`] (key → the entity's JSON) plus the
/// assets-by-pathname index, derived in the same step as every asset change.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stores {
    maps: BTreeMap<DataType, BTreeMap<String, Value>>,
    assets_by_pathname: BTreeMap<String, String>,
}

impl Stores {
    /// Empty stores.
    pub fn new() -> Self {
        Self::default()
    }

    /// The entity `key` of `data_type`.
    pub fn get(&self, data_type: DataType, key: &str) -> Option<&Value> {
        self.maps.get(&data_type)?.get(key)
    }

    /// True when the store of `data_type` holds `key`.
    pub fn contains(&self, data_type: DataType, key: &str) -> bool {
        self.get(data_type, key).is_some()
    }

    /// Every entity of `data_type`, in key order.
    pub fn iter(&self, data_type: DataType) -> impl Iterator<Item = (&str, &Value)> {
        self.maps
            .get(&data_type)
            .into_iter()
            .flat_map(|m| m.iter().map(|(k, v)| (k.as_str(), v)))
    }

    /// How many entities of `data_type` are held.
    pub fn len(&self, data_type: DataType) -> usize {
        self.maps.get(&data_type).map_or(0, BTreeMap::len)
    }

    /// A record by gid.
    pub fn record(&self, gid: &str) -> Option<&Value> {
        self.get(DataType::Records, gid)
    }

    /// An asset by gid.
    pub fn asset(&self, gid: &str) -> Option<&Value> {
        self.get(DataType::Assets, gid)
    }

    /// An asset by its pathname (`/folder/name.jpg`).
    pub fn asset_by_pathname(&self, pathname: &str) -> Option<&Value> {
        self.asset(self.assets_by_pathname.get(pathname)?)
    }

    /// A project member by project gid and user gid.
    pub fn project_member(&self, project: &str, user: &str) -> Option<&Value> {
        self.get(DataType::ProjectMembers, &format!("{project}/{user}"))
    }

    /// Inserts or replaces one entity (and keeps the pathname index right).
    pub fn insert(&mut self, data_type: DataType, key: String, value: Value) {
        if data_type == DataType::Assets {
            self.unindex_asset(&key);
            if let Some(pathname) = value.get("pathname").and_then(Value::as_str) {
                self.assets_by_pathname
                    .insert(pathname.to_owned(), key.clone());
            }
        }
        self.maps.entry(data_type).or_default().insert(key, value);
    }

    /// Removes one entity; returns it when it was held.
    pub fn remove(&mut self, data_type: DataType, key: &str) -> Option<Value> {
        if data_type == DataType::Assets {
            self.unindex_asset(key);
        }
        self.maps.get_mut(&data_type)?.remove(key)
    }

    fn unindex_asset(&mut self, gid: &str) {
        let old = self
            .get(DataType::Assets, gid)
            .and_then(|a| a.get("pathname"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(old) = old
            && self.assets_by_pathname.get(&old).map(String::as_str) == Some(gid)
        {
            self.assets_by_pathname.remove(&old);
        }
    }

    /// Empties every store.
    pub fn clear(&mut self) {
        self.maps.clear();
        self.assets_by_pathname.clear();
    }

    /// Merges an envelope's `data` (`{type: {key: entity}}`; project members may come as a
    /// list). Returns the `(type, key)` pairs merged. Unknown types and malformed entries are
    /// skipped with a log line.
    pub fn merge(&mut self, data: &Value) -> Vec<(DataType, String)> {
        let mut merged = Vec::new();
        let Some(map) = data.as_object() else {
            if !data.is_null() {
                tracing::warn!("ignoring an envelope whose data is not an object");
            }
            return merged;
        };
        for (name, values) in map {
            let Some(data_type) = DataType::from_name(name) else {
                tracing::debug!(data_type = %name, "not keeping envelope data of this type");
                continue;
            };
            let entries: Vec<(String, Value)> = match values {
                Value::Object(entries) => entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                Value::Array(list) if data_type == DataType::ProjectMembers => list
                    .iter()
                    .filter_map(|m| {
                        let project = m.get("project_gid")?.as_str()?;
                        let user = m.get("user_gid")?.as_str()?;
                        Some((format!("{project}/{user}"), m.clone()))
                    })
                    .collect(),
                _ => {
                    tracing::warn!(data_type = %name, "ignoring malformed envelope data");
                    continue;
                }
            };
            for (key, value) in entries {
                if !value.is_object() {
                    tracing::warn!(data_type = %name, "ignoring an entity that is not an object");
                    continue;
                }
                self.insert(data_type, key.clone(), value);
                merged.push((data_type, key));
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn asset_pathname_index_follows_renames_and_deletes() {
        let mut stores = Stores::new();
        stores.merge(&json!({"assets": {"a1": {"gid": "a1", "pathname": "/x/one.jpg"}}}));
        assert!(stores.asset_by_pathname("/x/one.jpg").is_some());
        stores.merge(&json!({"assets": {"a1": {"gid": "a1", "pathname": "/x/two.jpg"}}}));
        assert!(stores.asset_by_pathname("/x/one.jpg").is_none());
        assert_eq!(stores.asset_by_pathname("/x/two.jpg").unwrap()["gid"], "a1");
        stores.remove(DataType::Assets, "a1");
        assert!(stores.asset_by_pathname("/x/two.jpg").is_none());
    }

    #[test]
    fn merges_known_types_members_lists_and_skips_junk() {
        let mut stores = Stores::new();
        let merged = stores.merge(&json!({
            "records": {"r1": {"gid": "r1"}, "bad": 3},
            "cc.projects_members": [{"project_gid": "p", "user_gid": "u", "status": "active"}, {"x": 1}],
            "holograms": {"h": {}},
            "files": ["f"],
        }));
        assert_eq!(merged.len(), 2);
        assert!(stores.record("r1").is_some());
        assert!(stores.record("bad").is_none());
        assert_eq!(stores.project_member("p", "u").unwrap()["status"], "active");
        assert!(stores.merge(&json!("nope")).is_empty());
        for t in DataType::ALL {
            assert_eq!(DataType::from_name(t.name()), Some(t));
        }
    }
}
