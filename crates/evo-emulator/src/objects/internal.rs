//! What other services of the emulator (the compute tasks) may ask the Object API: read an
//! object version and its data files, store a data file, and write a new version of an object
//! (checked against its schema, as a POST would be).

use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::common::data_blob;
use super::data::data_refs;
use super::schema;
use super::state::{DATA_CONTAINER, DataFile, ObjectVersion, ObjectsState};
use crate::state::Shared;

/// An object version as another service sees it.
#[derive(Debug, Clone)]
pub(crate) struct StoredObject {
    pub(crate) object: Arc<Value>,
}

/// The version `version` (latest when `None`) of the live object `id` of workspace `ws`.
pub(crate) fn object(
    shared: &Shared,
    ws: Uuid,
    id: Uuid,
    version: Option<&str>,
) -> Option<StoredObject> {
    let model = shared.model();
    let o = model
        .services
        .get::<ObjectsState>()?
        .workspaces
        .get(&ws)?
        .objects
        .get(&id)
        .filter(|o| o.stamps.deleted_at.is_none())?;
    let v = match version {
        Some(v) => o.version(v)?,
        None => o.latest(),
    };
    Some(StoredObject {
        object: v.object.clone(),
    })
}

/// The bytes of data file `name` of workspace `ws` (`None` when it was never uploaded).
pub(crate) async fn read_data(shared: &Shared, org: Uuid, ws: Uuid, name: &str) -> Option<Bytes> {
    let key = format!("{DATA_CONTAINER}/{}", data_blob(org, ws, name));
    let props = shared.blobs.props(&key)?;
    let stream = shared.blobs.read(&key, &props.etag, 0, props.size)?;
    let parts: Vec<Bytes> = stream.try_collect().await.ok()?;
    Some(parts.concat().into())
}

/// Stores `bytes` as a data file of workspace `ws`, named by their SHA-256; returns the name.
pub(crate) async fn write_data(
    shared: &Shared,
    org: Uuid,
    ws: Uuid,
    bytes: Vec<u8>,
) -> Result<String, String> {
    let name = hex::encode(Sha256::digest(&bytes));
    let key = format!("{DATA_CONTAINER}/{}", data_blob(org, ws, &name));
    shared
        .blobs
        .put_bytes(&key, Bytes::from(bytes))
        .await
        .map_err(|e| format!("storing the data file failed: {e:?}"))?;
    Ok(name)
}

/// Writes `object` as a new version of the live object `id` of workspace `ws`, by `user`:
/// checked against its schema, every data file it references must be held. Returns the new
/// version id.
pub(crate) fn write_version(
    shared: &Shared,
    org: Uuid,
    ws: Uuid,
    id: Uuid,
    user: Uuid,
    object: Value,
) -> Result<String, String> {
    let schema_id = object
        .get("schema")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    schema::validate(&schema_id, &object).map_err(|e| format!("{e:?}"))?;
    let data = data_refs(&object);
    for name in &data {
        let key = format!("{DATA_CONTAINER}/{}", data_blob(org, ws, name));
        if shared.blobs.props(&key).is_none() {
            return Err(format!("the data file {name} is not held"));
        }
    }
    let now = shared.clock.now();
    let etag = hex::encode(Sha256::digest(object.to_string().as_bytes()));
    let mut model = shared.model();
    let state = model.services.get_mut::<ObjectsState>();
    let version_id = state.next_version_id(now);
    let w = state.workspace(ws);
    for name in &data {
        w.data
            .entry(name.clone())
            .or_insert_with(|| DataFile { id: Uuid::new_v4() });
    }
    let o = w
        .objects
        .get_mut(&id)
        .filter(|o| o.stamps.deleted_at.is_none())
        .ok_or_else(|| format!("the object {id} is gone"))?;
    o.stamps.modify(now, user);
    o.versions.push(ObjectVersion {
        version_id: version_id.clone(),
        object: Arc::new(object),
        created_at: now,
        created_by: user,
        etag,
        stage: None,
        data,
    });
    Ok(version_id)
}
