//! A query's result file: the selected blocks' geometry and value columns as Parquet, each
//! column of a row group encoded on a thread of its own, the file hashed as it is written.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use arrow_array::{Array as _, ArrayRef, Float64Array, UInt32Array};
use arrow_schema::Schema;
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::compute_leaves;
use parquet::basic::Encoding;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::selection::Blocks;
use super::state::ModelRec;

/// How a result file is cut: rows per row group, and rows handed to a column writer at a time
/// (a row group is written in such slices: the arrays built and the levels computed for one
/// slice are memory the next one reuses, not fresh pages the kernel must zero).
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    pub(super) group_rows: usize,
    pub(super) write_rows: usize,
}

/// The layout of every result file: row groups of 1 Mi rows written 64 Ki rows at a time.
pub(super) const LAYOUT: Layout = Layout {
    group_rows: 1024 * 1024,
    write_rows: 64 * 1024,
};

/// The largest dictionary of a result column chunk (8,192 float64 values).
const DICTIONARY_BYTES: usize = 64 * 1024;

/// Where the values of a result column come from, for the blocks of a row group.
pub(super) enum Source {
    /// The block's index along an axis (0: i, 1: j, 2: k).
    Index(usize),
    /// The block's centroid's world coordinate along an axis (0: x, 1: y, 2: z).
    Centroid(usize),
    /// A stored column of the version, one value per block.
    Values(ArrayRef),
}

impl Source {
    fn array(
        &self,
        m: &ModelRec,
        rot: &[[f64; 3]; 3],
        blocks: Blocks<'_>,
    ) -> Result<ArrayRef, String> {
        let (n, _) = m.geometry.parents();
        Ok(match self {
            Source::Index(axis) => {
                let mut indices = Vec::with_capacity(blocks.len());
                for row in rows_of(blocks, n) {
                    match axis {
                        0 => indices.extend(row.i.clone()),
                        1 => indices.extend(std::iter::repeat_n(row.j, row.i.len())),
                        _ => indices.extend(std::iter::repeat_n(row.k, row.i.len())),
                    }
                }
                Arc::new(UInt32Array::from(indices))
            }
            Source::Centroid(axis) => Arc::new(Float64Array::from_iter_values(
                rows_of(blocks, n).flat_map(|row| {
                    row.i
                        .map(move |i| m.centroid(rot, [i, row.j, row.k])[*axis])
                }),
            )),
            Source::Values(values) => match blocks.consecutive_from() {
                // A run of consecutive blocks (a whole model, a slab): a view, no copy.
                Some(first) => values.slice(first, blocks.len()),
                None => {
                    let take = UInt32Array::from_iter_values(blocks.iter());
                    arrow_select::take::take(values.as_ref(), &take, None)
                        .map_err(|e| e.to_string())?
                }
            },
        })
    }
}

/// Consecutive blocks of one row of a model: `i` over a range, at one `j` and `k`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RowRun {
    i: std::ops::Range<u32>,
    j: u32,
    k: u32,
}

/// `blocks` (of a model of `n` parent blocks, i fastest) as runs along rows, in order, so
/// index and centroid columns are filled a row at a time (a slice of a range or a repeated
/// value) instead of a block at a time. A run of blocks is cut at row ends without any
/// division past its first block; a list is cut wherever two blocks are not neighbours in
/// one row (a box selects whole runs of its rows).
fn rows_of<'a>(blocks: Blocks<'a>, n: [u32; 3]) -> Box<dyn Iterator<Item = RowRun> + 'a> {
    let at = move |b: u32| [b % n[0], (b / n[0]) % n[1], b / (n[0] * n[1])];
    match blocks {
        Blocks::Run { first, len } => {
            let mut next = (len > 0).then(|| at(first));
            let mut left = len;
            Box::new(std::iter::from_fn(move || {
                let [i, j, k] = next?;
                let take = (left as u64).min(u64::from(n[0] - i)) as u32;
                left -= take as usize;
                next = (left > 0).then(|| {
                    if j + 1 < n[1] {
                        [0, j + 1, k]
                    } else {
                        [0, 0, k + 1]
                    }
                });
                Some(RowRun {
                    i: i..i + take,
                    j,
                    k,
                })
            }))
        }
        Blocks::List(list) => {
            let mut rest = list;
            Box::new(std::iter::from_fn(move || {
                let (&b, tail) = rest.split_first()?;
                let [i, j, k] = at(b);
                // Neighbours in the row: block numbers one apart, up to the row's end.
                let room = (n[0] - i - 1) as usize;
                let mut len = 1;
                while len <= room.min(tail.len()) && tail[len - 1] == b + len as u32 {
                    len += 1;
                }
                rest = &rest[len..];
                Some(RowRun {
                    i: i..i + len as u32,
                    j,
                    k,
                })
            }))
        }
    }
}

/// Writes the result file: `schema`'s columns taken from `sources` for `blocks`, cut as
/// `layout` says. Every column of every row group is its own encoding task, taken in file
/// order by one worker per core (a query job is the whole of a query's wait, so it uses every
/// core, and a row group's slowest column does not leave the others idle); a row group is
/// appended as soon as its columns are in. Block indices are delta-encoded (they grow by one
/// along a row); dictionaries are kept small, so a column of few distinct values (domains,
/// coordinates) is dictionary-encoded and one of many (a continuous grade) gives up on its
/// dictionary early; statistics are kept per column chunk.
pub(super) fn write_result(
    m: &ModelRec,
    schema: Arc<Schema>,
    sources: &[Source],
    blocks: Blocks<'_>,
    layout: Layout,
) -> Result<(Vec<Bytes>, [u8; 16]), String> {
    let group_rows = layout.group_rows.max(1);
    let mut props = WriterProperties::builder()
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_dictionary_page_size_limit(DICTIONARY_BYTES);
    for index in ["i", "j", "k"] {
        if schema.field_with_name(index).is_ok() {
            props = props
                .set_column_dictionary_enabled(ColumnPath::from(index), false)
                .set_column_encoding(ColumnPath::from(index), Encoding::DELTA_BINARY_PACKED);
        }
    }
    // Room for a row group of plain values, so the buffer is not copied as it grows.
    let group_bytes = blocks.len().min(group_rows) * sources.len() * 8;
    let sink = HashedSegments::new(group_bytes);
    let writer = ArrowWriter::try_new(sink, schema.clone(), Some(props.build()))
        .map_err(|e| e.to_string())?;
    let (mut file, factory) = writer.into_serialized_writer().map_err(|e| e.to_string())?;
    let rot = m.rotation_matrix();
    let groups: Vec<Blocks<'_>> = blocks.pieces(group_rows).collect();
    let mut tasks = VecDeque::new();
    for g in 0..groups.len() {
        let writers = factory
            .create_column_writers(g)
            .map_err(|e| e.to_string())?;
        tasks.extend(writers.into_iter().enumerate().map(|(c, w)| (g, c, w)));
    }
    let tasks = Mutex::new(tasks);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        let (done, finished) = std::sync::mpsc::channel();
        for _ in 0..workers {
            let (done, tasks, groups, rot, schema) = (done.clone(), &tasks, &groups, &rot, &schema);
            scope.spawn(move || {
                // A task's mutex is only held to pop; a panicking holder leaves the queue whole.
                let next = || tasks.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                while let Some((g, c, mut writer)) = next() {
                    let encode = || -> Result<_, String> {
                        for part in groups[g].pieces(layout.write_rows) {
                            let array = sources[c].array(m, rot, part)?;
                            let leaves = compute_leaves(schema.field(c), &array);
                            for leaf in leaves.map_err(|e| e.to_string())? {
                                writer.write(&leaf).map_err(|e| e.to_string())?;
                            }
                        }
                        writer.close().map_err(|e| e.to_string())
                    };
                    let encoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(encode))
                        .unwrap_or_else(|_| Err("a column encoder panicked".to_owned()));
                    if done.send((g, c, encoded)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done);
        let mut chunks: Vec<Vec<Option<_>>> = groups
            .iter()
            .map(|_| (0..sources.len()).map(|_| None).collect())
            .collect();
        let mut next_group = 0;
        let mut outcome = Ok(());
        for (g, c, encoded) in finished {
            match encoded {
                Ok(chunk) => chunks[g][c] = Some(chunk),
                Err(e) => {
                    // Stop the workers at their next task.
                    tasks.lock().unwrap_or_else(|p| p.into_inner()).clear();
                    outcome = Err(e);
                    break;
                }
            }
            while next_group < groups.len() && chunks[next_group].iter().all(Option::is_some) {
                let mut row_group = file.next_row_group().map_err(|e| e.to_string())?;
                for chunk in chunks[next_group].iter_mut().filter_map(Option::take) {
                    chunk
                        .append_to_row_group(&mut row_group)
                        .map_err(|e| e.to_string())?;
                }
                row_group.close().map_err(|e| e.to_string())?;
                file.flush().map_err(|e| e.to_string())?;
                file.inner_mut().cut();
                next_group += 1;
            }
        }
        outcome?;
        if next_group < groups.len() {
            return Err("a column encoder stopped before its row group was done".to_owned());
        }
        Ok(())
    })?;
    let sink = file.into_inner().map_err(|e| e.to_string())?;
    Ok(sink.finish())
}

/// The bytes of a result file as they are written, cut into segments at row-group ends. Each
/// cut segment is hashed (MD5) on a thread of its own while the next row group is encoded, so
/// the file's `Content-MD5` is ready with its last byte, and the segments are stored as they
/// are, never copied into one buffer.
struct HashedSegments {
    open: Vec<u8>,
    capacity: usize,
    cut: Vec<Bytes>,
    hashing: Option<(
        std::sync::mpsc::Sender<Bytes>,
        std::thread::JoinHandle<[u8; 16]>,
    )>,
}

impl HashedSegments {
    fn new(capacity: usize) -> Self {
        let (send, receive) = std::sync::mpsc::channel::<Bytes>();
        let hasher = std::thread::spawn(move || {
            use md5::Digest as _;
            let mut md5 = md5::Md5::new();
            for segment in receive {
                md5.update(&segment);
            }
            md5.finalize().into()
        });
        Self {
            open: Vec::with_capacity(capacity),
            capacity,
            cut: Vec::new(),
            hashing: Some((send, hasher)),
        }
    }

    /// Ends the open segment (at a row group's end) and sends it to be hashed.
    fn cut(&mut self) {
        if self.open.is_empty() {
            return;
        }
        let segment = Bytes::from(std::mem::replace(
            &mut self.open,
            Vec::with_capacity(self.capacity),
        ));
        if let Some((send, _)) = &self.hashing {
            // The hasher only stops when it is dropped; a send cannot fail before.
            let _ = send.send(segment.clone());
        }
        self.cut.push(segment);
    }

    /// The file's segments, in order, and its MD5.
    fn finish(mut self) -> (Vec<Bytes>, [u8; 16]) {
        self.cut();
        let md5 = match self.hashing.take() {
            Some((send, hasher)) => {
                drop(send);
                hasher.join().unwrap_or_default()
            }
            None => [0; 16],
        };
        (std::mem::take(&mut self.cut), md5)
    }
}

impl std::io::Write for HashedSegments {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.open.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use arrow_array::RecordBatch;
    use arrow_array::cast::AsArray as _;
    use arrow_array::types::{Float64Type, UInt32Type};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use arrow_schema::{DataType, Field};
    use serde_json::Value;
    use uuid::Uuid;

    use super::*;
    use crate::blockmodels::selection::Selection;
    use crate::blockmodels::state::{Area, Geometry};

    pub(in crate::blockmodels) fn model(n: [u32; 3]) -> ModelRec {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        ModelRec {
            id: Uuid::nil(),
            org: Uuid::nil(),
            ws: Uuid::nil(),
            name: "m".into(),
            description: None,
            crs: None,
            size_unit_id: None,
            fill_subblocks: false,
            origin: [100.0, 200.0, 300.0],
            rotation: Vec::new(),
            size_options: Value::Null,
            geometry: Geometry::Regular {
                n,
                size: [2.0, 4.0, 8.0],
            },
            created_at: now,
            created_by: Uuid::nil(),
            updated_at: now,
            updated_by: Uuid::nil(),
            deleted: false,
            versions: Vec::new(),
        }
    }

    /// The (i, j, k) of every block, expanded from its row runs.
    fn ijk_by_rows(blocks: Blocks<'_>, n: [u32; 3]) -> Vec<[u32; 3]> {
        rows_of(blocks, n)
            .flat_map(|row| row.i.map(move |i| [i, row.j, row.k]))
            .collect()
    }

    /// Row runs give what dividing each block number gives, across row, slab and gap
    /// boundaries, for lists and runs (starting mid-row); no row run is empty or crosses
    /// a row end.
    #[test]
    fn row_runs_give_each_blocks_indices() {
        let n = [4, 3, 5];
        let divided = |blocks: &[u32]| -> Vec<[u32; 3]> {
            blocks
                .iter()
                .map(|&b| [b % 4, (b / 4) % 3, b / 12])
                .collect()
        };
        let gappy: Vec<u32> = (0..60)
            .filter(|b| b % 7 != 3 && !(20..26).contains(b))
            .collect();
        assert_eq!(ijk_by_rows(Blocks::List(&gappy), n), divided(&gappy));
        for (first, len) in [(0, 60), (5, 50), (13, 1), (3, 9), (0, 0)] {
            let list: Vec<u32> = (first..first + len as u32).collect();
            let run = Blocks::Run { first, len };
            assert_eq!(ijk_by_rows(run, n), divided(&list), "run {first}+{len}");
            assert_eq!(ijk_by_rows(Blocks::List(&list), n), divided(&list));
            for row in rows_of(run, n).chain(rows_of(Blocks::List(&list), n)) {
                assert!(!row.i.is_empty() && row.i.end <= n[0], "{row:?}");
            }
        }
        // A whole model is one row run per row.
        assert_eq!(rows_of(Blocks::Run { first: 0, len: 60 }, n).count(), 15);
    }

    /// Row groups of 7 rows written 3 at a time, a gap in the blocks (a box), a whole model
    /// (a run): every row comes back in order with its indices, centroid and value, whatever
    /// the group.
    #[test]
    fn results_in_many_row_groups_keep_every_row_in_order() {
        let m = model([4, 3, 5]);
        let values: ArrayRef = Arc::new(Float64Array::from_iter_values(
            (0..60).map(|b| f64::from(b) * 1.5),
        ));
        let schema = Arc::new(Schema::new(vec![
            Field::new("i", DataType::UInt32, false),
            Field::new("j", DataType::UInt32, false),
            Field::new("k", DataType::UInt32, false),
            Field::new("x", DataType::Float64, false),
            Field::new("grade", DataType::Float64, true),
        ]));
        let sources = [
            Source::Index(0),
            Source::Index(1),
            Source::Index(2),
            Source::Centroid(0),
            Source::Values(values),
        ];
        let boxed = Selection::of(&m, Some(Area::Indices([[1, 2], [0, 2], [1, 3]])));
        assert!(matches!(boxed, Selection::List(_)));
        let whole = Selection::of(&m, None);
        assert_eq!(whole, Selection::Run { first: 0, len: 60 });
        for selection in [boxed, whole] {
            let blocks: Vec<u32> = selection.iter().collect();
            let layout = Layout {
                group_rows: 7,
                write_rows: 3,
            };
            let (segments, md5) =
                write_result(&m, schema.clone(), &sources, selection.as_blocks(), layout).unwrap();
            let bytes = Bytes::from(segments.concat());
            use md5::Digest as _;
            assert_eq!(
                md5,
                <[u8; 16]>::from(md5::Md5::digest(&bytes)),
                "the MD5 of the file"
            );
            let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap();
            assert_eq!(reader.metadata().num_row_groups(), blocks.len().div_ceil(7));
            let batches: Vec<RecordBatch> = reader.build().unwrap().map(Result::unwrap).collect();
            let rows: Vec<(u32, u32, u32, f64, f64)> = batches
                .iter()
                .flat_map(|b| {
                    let u = |c: usize| b.column(c).as_primitive::<UInt32Type>().values().to_vec();
                    let f = |c: usize| b.column(c).as_primitive::<Float64Type>().values().to_vec();
                    let (i, j, k, x, g) = (u(0), u(1), u(2), f(3), f(4));
                    (0..b.num_rows()).map(move |r| (i[r], j[r], k[r], x[r], g[r]))
                })
                .collect();
            let expected: Vec<(u32, u32, u32, f64, f64)> = blocks
                .iter()
                .map(|&b| {
                    let (i, j, k) = (b % 4, (b / 4) % 3, b / 12);
                    (
                        i,
                        j,
                        k,
                        100.0 + (f64::from(i) + 0.5) * 2.0,
                        f64::from(b) * 1.5,
                    )
                })
                .collect();
            assert_eq!(rows, expected);
        }
    }
}
