//! The Block Model API's data: block models with every version, each version's columns with
//! their values (Arrow arrays, one value per block, shared between versions that did not
//! change them), and the jobs with what they were asked to do (the checked column change or
//! query) and how they run ([`Work`]).
//!
//! The bottom of the Block Model API's modules: it names none of the others, so every one of
//! them may name it (issue #17: no circle of imports between files).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::ArrayRef;
use arrow_schema::DataType;
use futures_util::future::BoxFuture;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::state::Shared;

/// The blob container of uploaded column files and query results.
pub(super) const CONTAINER: &str = "blockmodel-data";

/// The Block Model API's part of the model.
#[derive(Debug, Default)]
pub(super) struct BlockModelsState {
    pub(super) models: HashMap<Uuid, ModelRec>,
    pub(super) jobs: HashMap<Uuid, JobRec>,
    /// How long jobs take (see `Emulator::set_blockmodel_job_delay`).
    pub(super) job_delay: Duration,
}

/// The geometry of a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Geometry {
    /// `n` blocks of `size`.
    Regular { n: [u32; 3], size: [f64; 3] },
    /// A sub-blocked model (`model_type` in the JSON): `n` parents of `size`.
    SubBlocked { n: [u32; 3], size: [f64; 3] },
}

impl Geometry {
    pub(super) fn parents(&self) -> ([u32; 3], [f64; 3]) {
        match *self {
            Geometry::Regular { n, size } | Geometry::SubBlocked { n, size } => (n, size),
        }
    }

    /// The number of blocks (of parent blocks for sub-blocked models).
    pub(super) fn blocks(&self) -> usize {
        let (n, _) = self.parents();
        n.iter().map(|v| *v as usize).product()
    }
}

/// A block model.
#[derive(Debug, Clone)]
pub(super) struct ModelRec {
    pub(super) id: Uuid,
    pub(super) org: Uuid,
    pub(super) ws: Uuid,
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) crs: Option<String>,
    pub(super) size_unit_id: Option<String>,
    pub(super) fill_subblocks: bool,
    pub(super) origin: [f64; 3],
    /// `(axis, degrees)` in the order given.
    pub(super) rotation: Vec<(char, f64)>,
    /// The `size_options` JSON as validated.
    pub(super) size_options: Value,
    pub(super) geometry: Geometry,
    pub(super) created_at: OffsetDateTime,
    pub(super) created_by: Uuid,
    pub(super) updated_at: OffsetDateTime,
    pub(super) updated_by: Uuid,
    pub(super) deleted: bool,
    /// Every version, oldest first; empty until the creation job ran.
    pub(super) versions: Vec<VersionRec>,
}

impl ModelRec {
    /// Changed by `user` at `now`.
    pub(super) fn touch(&mut self, now: OffsetDateTime, user: Uuid) {
        self.updated_at = now;
        self.updated_by = user;
    }

    pub(super) fn latest(&self) -> Option<&VersionRec> {
        self.versions.last()
    }

    pub(super) fn version(&self, uuid: Uuid) -> Option<&VersionRec> {
        self.versions.iter().find(|v| v.uuid == uuid)
    }

    /// The 3×3 rotation matrix (model axes to world axes) of the rotations, applied in order.
    pub(super) fn rotation_matrix(&self) -> [[f64; 3]; 3] {
        let mut m = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        for (axis, degrees) in &self.rotation {
            // Clockwise looking down the axis towards the origin (a negative right-hand angle).
            let (s, c) = (-degrees.to_radians()).sin_cos();
            let r = match axis {
                'x' => [[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]],
                'y' => [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]],
                _ => [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]],
            };
            m = matmul(r, m);
        }
        m
    }

    /// The world coordinates of the centroid of block `i, j, k` (of parent blocks).
    pub(super) fn centroid(&self, m: &[[f64; 3]; 3], ijk: [u32; 3]) -> [f64; 3] {
        let (_, size) = self.geometry.parents();
        let local = [
            (f64::from(ijk[0]) + 0.5) * size[0],
            (f64::from(ijk[1]) + 0.5) * size[1],
            (f64::from(ijk[2]) + 0.5) * size[2],
        ];
        let mut out = self.origin;
        for (row, o) in m.iter().zip(out.iter_mut()) {
            *o += row[0] * local[0] + row[1] * local[1] + row[2] * local[2];
        }
        out
    }

    /// The world extent of the model (the box around its eight corners).
    pub(super) fn extent(&self) -> [[f64; 2]; 3] {
        let (n, size) = self.geometry.parents();
        let m = self.rotation_matrix();
        let mut ext = [[f64::INFINITY, f64::NEG_INFINITY]; 3];
        for corner in 0..8 {
            let local = [
                if corner & 1 == 0 {
                    0.0
                } else {
                    f64::from(n[0]) * size[0]
                },
                if corner & 2 == 0 {
                    0.0
                } else {
                    f64::from(n[1]) * size[1]
                },
                if corner & 4 == 0 {
                    0.0
                } else {
                    f64::from(n[2]) * size[2]
                },
            ];
            for (axis, e) in ext.iter_mut().enumerate() {
                let row = m[axis];
                let v =
                    self.origin[axis] + row[0] * local[0] + row[1] * local[1] + row[2] * local[2];
                e[0] = e[0].min(v);
                e[1] = e[1].max(v);
            }
        }
        ext
    }
}

fn matmul(a: [[f64; 3]; 3], b: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut out = [[0.0; 3]; 3];
    for (r, row) in out.iter_mut().enumerate() {
        for (c, cell) in row.iter_mut().enumerate() {
            *cell = (0..3).map(|k| a[r][k] * b[k][c]).sum();
        }
    }
    out
}

/// A user column of a version.
#[derive(Debug, Clone)]
pub(super) struct ColumnRec {
    pub(super) id: Uuid,
    pub(super) title: String,
    /// The service's type name (`Float64`, `Utf8`, ...).
    pub(super) data_type: String,
    pub(super) unit_id: Option<String>,
    /// One value per block in block order (`i` fastest); `None`: every value null.
    pub(super) values: Option<ArrayRef>,
}

/// A version of a model.
#[derive(Debug, Clone)]
pub(super) struct VersionRec {
    pub(super) version_id: u64,
    pub(super) uuid: Uuid,
    pub(super) created_at: OffsetDateTime,
    pub(super) created_by: Uuid,
    pub(super) comment: String,
    pub(super) columns: Vec<ColumnRec>,
    /// The index box of the blocks the version changed.
    pub(super) bbox: Option<[[u32; 2]; 3]>,
    /// The `changes` JSON (`VersionChanges`).
    pub(super) changes: Value,
    /// Column ids whose values this version set, removed or added (for deltas).
    pub(super) touched: Touched,
}

/// What a version did to the values of columns, by column id.
#[derive(Debug, Clone, Default)]
pub(super) struct Touched {
    pub(super) new: Vec<Uuid>,
    pub(super) updated: Vec<Uuid>,
    pub(super) deleted: Vec<Uuid>,
}

impl VersionRec {
    pub(super) fn column(&self, title_or_id: &str) -> Option<&ColumnRec> {
        self.columns
            .iter()
            .find(|c| c.title == title_or_id || c.id.to_string() == title_or_id)
    }
}

/// The Arrow type of a service type name (a column's `data_type`).
pub(super) fn arrow_type(name: &str) -> Option<DataType> {
    use arrow_schema::TimeUnit;
    Some(match name {
        "Boolean" => DataType::Boolean,
        "Int8" => DataType::Int8,
        "Int16" => DataType::Int16,
        "Int32" => DataType::Int32,
        "Int64" => DataType::Int64,
        "UInt8" => DataType::UInt8,
        "UInt16" => DataType::UInt16,
        "UInt32" => DataType::UInt32,
        "UInt64" => DataType::UInt64,
        "Float16" => DataType::Float16,
        "Float32" => DataType::Float32,
        "Float64" => DataType::Float64,
        "Utf8" => DataType::Utf8,
        "Date32" => DataType::Date32,
        "Timestamp" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        _ => return None,
    })
}

/// The state of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    PendingUpload,
    Queued,
    Processing,
    Complete,
    Failed,
}

impl Status {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Status::PendingUpload => "PENDING_UPLOAD",
            Status::Queued => "QUEUED",
            Status::Processing => "PROCESSING",
            Status::Complete => "COMPLETE",
            Status::Failed => "FAILED",
        }
    }
}

/// A checked column change (`PATCH .../blocks`, checked by `update`).
#[derive(Debug, Clone)]
pub(super) struct UpdateRequest {
    pub(super) new: Vec<(String, String, Option<String>)>,
    pub(super) update: Vec<String>,
    pub(super) delete: Vec<String>,
    pub(super) rename: Vec<(String, String)>,
    pub(super) units: Vec<(String, Option<String>)>,
    pub(super) merge: bool,
    pub(super) comment: String,
}

impl UpdateRequest {
    pub(super) fn has_data(&self) -> bool {
        !self.new.is_empty() || !self.update.is_empty()
    }
}

/// A checked query (`POST .../blocks`, checked by `query`).
#[derive(Debug, Clone)]
pub(super) struct QueryRequest {
    pub(super) version: Uuid,
    /// Column ids, in the order asked.
    pub(super) columns: Vec<Uuid>,
    pub(super) bbox: Option<Area>,
    pub(super) coordinates: bool,
    pub(super) by_id: bool,
    pub(super) exclude_null_rows: bool,
}

/// A bounding box: inclusive index ranges, or inclusive centroid coordinate ranges.
#[derive(Debug, Clone, Copy)]
pub(super) enum Area {
    Indices([[i64; 2]; 3]),
    Coordinates([[f64; 2]; 3]),
}

/// What a job does.
#[derive(Debug, Clone)]
pub(super) enum JobKind {
    /// Makes version 1 of a new model.
    Create { comment: String },
    /// Applies column changes (with the uploaded file at `blob`, when it carries values).
    Update {
        request: Arc<UpdateRequest>,
        blob: Option<String>,
        version_uuid: Uuid,
    },
    /// Answers a query into the blob `blob`.
    Query {
        request: Arc<QueryRequest>,
        blob: String,
    },
    /// Runs report specification `spec` on `version`, making result `result`.
    Report {
        spec: Uuid,
        version: Uuid,
        result: Uuid,
    },
    /// Makes the missing results of a comparison of `spec` between two versions.
    Comparison {
        spec: Uuid,
        from_version: Uuid,
        to_version: Uuid,
    },
}

/// A job.
#[derive(Debug, Clone)]
pub(super) struct JobRec {
    pub(super) bm: Uuid,
    pub(super) user: Uuid,
    pub(super) kind: JobKind,
    pub(super) status: Status,
    /// The result (`Version` JSON) or the failure payload, once finished.
    pub(super) payload: Option<Value>,
    pub(super) delay: Duration,
    /// How it runs.
    pub(super) work: Work,
}

/// How a job runs. The handler that opens a job gives it, beside the [`JobKind`], so that
/// the job machinery (`jobs`), below the handlers, calls into none of them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Work {
    /// Does the job while it is `PROCESSING`: its result payload, or its failure payload.
    pub(super) run: fn(Arc<Shared>, JobRec) -> BoxFuture<'static, Result<Value, Value>>,
    /// Called with the job once it is `COMPLETE` (a column change runs the reports that
    /// run on every new version).
    pub(super) then: Option<fn(&Arc<Shared>, Uuid)>,
}
