//! Applying a column change once its file is uploaded: the new version, its columns and
//! values, and the index box of the blocks it touched.

use arrow_array::{ArrayRef, BooleanArray, UInt32Array};
use arrow_schema::DataType;
use axum::body::Bytes;
use serde_json::{Value, json};
use uuid::Uuid;

use super::file::{fail, read_file};
use crate::blockmodels::common::version_json;
use crate::blockmodels::jobs::failure;
use crate::blockmodels::state::{
    BlockModelsState, ColumnRec, JobKind, JobRec, ModelRec, Touched, VersionRec, arrow_type,
};
use crate::state::Shared;

/// Applies the column change of job `rec` (with its uploaded file) as a new version.
pub(super) fn apply(shared: &Shared, rec: &JobRec, file: Option<Bytes>) -> Result<Value, Value> {
    let JobKind::Update {
        request,
        version_uuid,
        ..
    } = &rec.kind
    else {
        return Err(fail("not an update job"));
    };
    let (m, base) = {
        let model = shared.model();
        let m = model
            .services
            .get::<BlockModelsState>()
            .and_then(|s| s.models.get(&rec.bm))
            .filter(|m| !m.deleted)
            .ok_or_else(|| failure(404, "Error in Update", "The block model was deleted."))?;
        let base = m
            .latest()
            .cloned()
            .ok_or_else(|| fail("The block model has no version."))?;
        (
            ModelRec {
                versions: Vec::new(),
                ..m.clone()
            },
            base,
        )
    };
    let blocks = m.geometry.blocks();
    let wanted: Vec<(String, DataType)> = request
        .new
        .iter()
        .map(|(t, ty, _)| (t.clone(), arrow_type(ty).unwrap_or(DataType::Null)))
        .chain(request.update.iter().map(|t| {
            let ty = base
                .column(t)
                .and_then(|c| arrow_type(&c.data_type))
                .unwrap_or(DataType::Null);
            (t.clone(), ty)
        }))
        .collect();
    let rows = match file {
        Some(bytes) => Some(read_file(bytes, &m, &wanted)?),
        None if request.has_data() => return Err(fail("The update file was not uploaded.")),
        None => None,
    };
    // Where each block's value is in the file (`None`: not in it).
    let (positions, bbox) = match rows.as_ref().and_then(|r| r.blocks.as_ref()) {
        Some(file_blocks) => {
            let mut pos: Vec<Option<u32>> = vec![None; blocks];
            for (row, b) in file_blocks.iter().enumerate() {
                if pos[*b as usize].replace(row as u32).is_some() {
                    return Err(fail(format!(
                        "Row {row}: the block appears twice in the update file."
                    )));
                }
            }
            let in_order = file_blocks.len() == blocks
                && file_blocks
                    .iter()
                    .enumerate()
                    .all(|(r, b)| *b as usize == r);
            let bbox = index_box(&m, file_blocks);
            (
                if in_order {
                    None
                } else {
                    Some(UInt32Array::from(pos))
                },
                bbox,
            )
        }
        None => (
            None,
            rows.as_ref()
                .and_then(|_| index_box(&m, &[0, blocks.saturating_sub(1) as u32])),
        ),
    };
    // A replace update of existing columns changes every block (those not in the file become
    // null).
    let bbox = if !request.merge && !request.update.is_empty() {
        index_box(&m, &[0, blocks.saturating_sub(1) as u32])
    } else {
        bbox
    };
    let full = |values: &ArrayRef| -> Result<ArrayRef, Value> {
        match &positions {
            None => Ok(values.clone()),
            Some(pos) => arrow_select::take::take(values.as_ref(), pos, None)
                .map_err(|e| fail(e.to_string())),
        }
    };
    let mut columns = base.columns.clone();
    let mut touched = Touched::default();
    let mut changes =
        json!({"new": [], "updated": [], "deleted": [], "renamed": [], "metadata_updated": []});
    columns.retain(|c| {
        let keep = !request.delete.contains(&c.title);
        if !keep {
            touched.deleted.push(c.id);
        }
        keep
    });
    changes["deleted"] = json!(request.delete);
    for (title, new_title) in &request.rename {
        if let Some(c) = columns.iter_mut().find(|c| &c.title == title) {
            c.title = new_title.clone();
        }
    }
    changes["renamed"] = json!(
        request
            .rename
            .iter()
            .map(|(o, n)| json!({"old_title": o, "new_title": n}))
            .collect::<Vec<_>>()
    );
    for (title, unit) in &request.units {
        if let Some(c) = columns.iter_mut().find(|c| &c.title == title) {
            c.unit_id = unit.clone();
        }
    }
    changes["metadata_updated"] = json!(
        request
            .units
            .iter()
            .map(|(t, u)| json!({"title": t, "values": {"unit_id": u}}))
            .collect::<Vec<_>>()
    );
    let file_column = |title: &str| {
        rows.as_ref()
            .and_then(|r| r.columns.iter().find(|(t, _)| t == title))
            .map(|(_, a)| a.clone())
    };
    for title in &request.update {
        let Some(values) = file_column(title) else {
            continue;
        };
        let new_values = full(&values)?;
        let c = columns
            .iter_mut()
            .find(|c| &c.title == title)
            .ok_or_else(|| fail(format!("The column '{title}' is gone.")))?;
        c.values = Some(match (&positions, request.merge, &c.values) {
            (Some(pos), true, Some(old)) => {
                let in_file = BooleanArray::from_iter(pos.iter().map(|p| Some(p.is_some())));
                arrow_select::zip::zip(&in_file, &new_values, old)
                    .map_err(|e| fail(e.to_string()))?
            }
            _ => new_values,
        });
        touched.updated.push(c.id);
    }
    changes["updated"] = json!(request.update);
    for (title, data_type, unit) in &request.new {
        let values = file_column(title).map(|v| full(&v)).transpose()?;
        let id = Uuid::new_v4();
        columns.push(ColumnRec {
            id,
            title: title.clone(),
            data_type: data_type.clone(),
            unit_id: unit.clone(),
            values,
        });
        touched.new.push(id);
    }
    changes["new"] = json!(request.new.iter().map(|(t, _, _)| t).collect::<Vec<_>>());
    let now = shared.clock.now();
    let mut model = shared.model();
    let state = model.services.get_mut::<BlockModelsState>();
    let live = state
        .models
        .get_mut(&rec.bm)
        .filter(|m| !m.deleted)
        .ok_or_else(|| failure(404, "Error in Update", "The block model was deleted."))?;
    if live.latest().map(|v| v.uuid) != Some(base.uuid) {
        return Err(failure(
            409,
            "Error in Update",
            "Another update made a new version meanwhile; send the change again.",
        ));
    }
    let version = VersionRec {
        version_id: base.version_id + 1,
        uuid: *version_uuid,
        created_at: now,
        created_by: rec.user,
        comment: request.comment.clone(),
        columns,
        bbox,
        changes: json!({
            "columns": changes,
            "total_blocks": blocks,
            "blocks_uploaded": rows.as_ref().map_or(0, |r| r.count),
            "update_type": if request.merge { "merge" } else { "replace" },
        }),
        touched,
    };
    live.versions.push(version);
    live.touch(now, rec.user);
    let live = live.clone();
    let v = live.latest().ok_or_else(|| fail("no version"))?;
    Ok(version_json(&model, &live, v, false))
}

fn index_box(m: &ModelRec, blocks: &[u32]) -> Option<[[u32; 2]; 3]> {
    let (n, _) = m.geometry.parents();
    let mut b = [[u32::MAX, 0]; 3];
    for block in blocks {
        let block = *block as u64;
        let ijk = [
            block % u64::from(n[0]),
            (block / u64::from(n[0])) % u64::from(n[1]),
            block / (u64::from(n[0]) * u64::from(n[1])),
        ];
        for a in 0..3 {
            b[a][0] = b[a][0].min(ijk[a] as u32);
            b[a][1] = b[a][1].max(ijk[a] as u32);
        }
    }
    (!blocks.is_empty()).then_some(b)
}
