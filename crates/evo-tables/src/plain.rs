//! The fast path for the tables Evo holds most: flat columns of fixed-width numbers (positions,
//! float and integer attributes, indices), PLAIN-encoded without nulls, in gzip pages, as this
//! crate and the Python SDK write them. A column chunk (one column of one row group) is read
//! page by page and each page is inflated by libdeflate straight into the chunk's Arrow buffer:
//! no page buffer, no copy into the array, and libdeflate inflates these pages about a fifth
//! faster than zlib-rs (parquet's own reader).
//!
//! This path never judges a file: anything it does not expect in a chunk (a dictionary page,
//! nulls, another encoding, a page that does not inflate to exactly its values, a read that
//! fails) sends that chunk to parquet's own reader, which decodes it or says what is wrong.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use arrow_array::types::{
    ArrowPrimitiveType, Float32Type, Float64Type, Int32Type, Int64Type, UInt32Type, UInt64Type,
};
use arrow_array::{ArrayRef, PrimitiveArray, new_empty_array};
use arrow_buffer::{MutableBuffer, ScalarBuffer};
use arrow_schema::DataType;
use libdeflater::Decompressor;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::basic::{Compression, Encoding, Type as PhysicalType};
use parquet::column::page::Page;
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::reader::ChunkReader;
use parquet::file::serialized_reader::SerializedPageReader;

use crate::error::TableError;
use crate::parallel::SharedInput;
use crate::read::guard;

/// The most bytes of one column of one row group decoded in one piece by this path (a chunk
/// is held whole until its row group's batches are read): 16 MiB, two million float64s, twice
/// the row groups Evo's writers make. Files with larger row groups are read by parquet's
/// reader, batch by batch.
const MAX_CHUNK_BYTES: usize = 16 << 20;

/// The Arrow types of the columns of a table this path can read, in column order, or `None`
/// when any column, or any column chunk, is of another kind (the whole table then goes
/// through parquet's reader). Decided from the footer alone.
pub(crate) fn plain_columns(metadata: &ArrowReaderMetadata) -> Option<Vec<DataType>> {
    let parquet = metadata.metadata();
    let descriptors = parquet.file_metadata().schema_descr();
    let fields = metadata.schema().fields();
    if fields.is_empty() || descriptors.num_columns() != fields.len() {
        return None;
    }
    let types = fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let column = descriptors.column(i);
            let physical = match field.data_type() {
                DataType::Float64 => PhysicalType::DOUBLE,
                DataType::Float32 => PhysicalType::FLOAT,
                DataType::Int64 | DataType::UInt64 => PhysicalType::INT64,
                DataType::Int32 | DataType::UInt32 => PhysicalType::INT32,
                _ => return None,
            };
            let flat = column.max_rep_level() == 0 && column.max_def_level() <= 1;
            (flat && column.physical_type() == physical).then(|| field.data_type().clone())
        })
        .collect::<Option<Vec<_>>>()?;
    for group in parquet.row_groups() {
        let rows = usize::try_from(group.num_rows()).ok()?;
        for (chunk, data_type) in group.columns().iter().zip(&types) {
            let width = data_type.primitive_width()?;
            if rows.checked_mul(width)? > MAX_CHUNK_BYTES || !plain_chunk(chunk) {
                return None;
            }
        }
    }
    Some(types)
}

/// Whether the footer says a column chunk is gzip or uncompressed PLAIN values without nulls.
fn plain_chunk(chunk: &ColumnChunkMetaData) -> bool {
    let codec = matches!(
        chunk.compression(),
        Compression::GZIP(_) | Compression::UNCOMPRESSED
    );
    let encodings = chunk
        .encodings()
        .all(|e| matches!(e, Encoding::PLAIN | Encoding::RLE));
    let no_nulls = chunk
        .statistics()
        .and_then(|s| s.null_count_opt())
        .is_none_or(|nulls| nulls == 0);
    codec && encodings && no_nulls && chunk.dictionary_page_offset().is_none()
}

/// Decodes column chunks of a table [`plain_columns`] accepted, each into one array.
pub(crate) struct ChunkDecoder {
    inflater: Decompressor,
}

impl ChunkDecoder {
    pub(crate) fn new() -> Self {
        Self {
            inflater: Decompressor::new(),
        }
    }

    /// Column `column` of row group `group`, as an array of `data_type` (its type in
    /// [`plain_columns`]): by this path, or else by parquet's reader.
    pub(crate) fn decode<R: ChunkReader + 'static>(
        &mut self,
        input: &SharedInput<R>,
        metadata: &ArrowReaderMetadata,
        group: usize,
        column: usize,
        data_type: &DataType,
    ) -> Result<ArrayRef, TableError> {
        let fast = catch_unwind(AssertUnwindSafe(|| {
            self.plain(input, metadata, group, column, data_type)
        }));
        match fast {
            Ok(Some(array)) => Ok(array),
            Ok(None) | Err(_) => by_parquet(input, metadata, group, column, data_type),
        }
    }

    fn plain<R: ChunkReader + 'static>(
        &mut self,
        input: &SharedInput<R>,
        metadata: &ArrowReaderMetadata,
        group: usize,
        column: usize,
        data_type: &DataType,
    ) -> Option<ArrayRef> {
        let parquet = metadata.metadata();
        let rows = usize::try_from(parquet.row_group(group).num_rows()).ok()?;
        let chunk = parquet.row_group(group).column(column);
        let nullable = chunk.column_descr().max_def_level() > 0;
        let mut fill = |values: &mut [u8]| self.fill(input, chunk, nullable, rows, values);
        match data_type {
            DataType::Float64 => decode_into::<Float64Type>(rows, &mut fill),
            DataType::Float32 => decode_into::<Float32Type>(rows, &mut fill),
            DataType::Int64 => decode_into::<Int64Type>(rows, &mut fill),
            DataType::UInt64 => decode_into::<UInt64Type>(rows, &mut fill),
            DataType::Int32 => decode_into::<Int32Type>(rows, &mut fill),
            DataType::UInt32 => decode_into::<UInt32Type>(rows, &mut fill),
            _ => None,
        }
    }

    /// Fills `values` (the chunk's values, little-endian, as PLAIN stores them) from the
    /// chunk's pages: `None` unless they hold exactly that many values.
    fn fill<R: ChunkReader + 'static>(
        &mut self,
        input: &SharedInput<R>,
        chunk: &ColumnChunkMetaData,
        nullable: bool,
        rows: usize,
        values: &mut [u8],
    ) -> Option<()> {
        let gzip = matches!(chunk.compression(), Compression::GZIP(_));
        let width = physical_width(chunk.column_descr().physical_type())?;
        // The pages as stored: parquet's page reader parses their headers, this path inflates.
        let stored = chunk
            .clone()
            .into_builder()
            .set_compression(Compression::UNCOMPRESSED)
            .build()
            .ok()?;
        let pages = SerializedPageReader::new(input.0.clone(), &stored, rows, None).ok()?;
        let mut filled = 0usize;
        for page in pages {
            let (data, count, compressed) = match page.ok()? {
                Page::DataPageV2 {
                    buf,
                    num_values,
                    encoding: Encoding::PLAIN,
                    num_nulls: 0,
                    def_levels_byte_len,
                    rep_levels_byte_len: 0,
                    is_compressed,
                    ..
                } => {
                    // Levels (all "present" here) come first, never compressed.
                    let levels = usize::try_from(def_levels_byte_len).ok()?;
                    (
                        buf.slice(levels.min(buf.len())..),
                        num_values,
                        gzip && is_compressed,
                    )
                }
                // Version 1 pages compress their levels with the values: only without levels.
                Page::DataPage {
                    buf,
                    num_values,
                    encoding: Encoding::PLAIN,
                    ..
                } if !nullable => (buf, num_values, gzip),
                _ => return None,
            };
            let size = usize::try_from(count).ok()?.checked_mul(width)?;
            let end = filled.checked_add(size)?;
            let target = values.get_mut(filled..end)?;
            if compressed {
                inflate_page(&mut self.inflater, &data, target)?;
            } else {
                target.copy_from_slice(data.get(..size).filter(|_| data.len() == size)?);
            }
            filled = end;
        }
        (filled == values.len()).then_some(())
    }
}

/// Inflates a gzip page into `target`: `None` unless the page starts with a gzip member that
/// inflates to exactly `target.len()` bytes and ends with that size. libdeflate ignores bytes
/// after a member, parquet's reader does not; the size at the page's end turns away bytes
/// after the member, though not a second member of the same size.
fn inflate_page(inflater: &mut Decompressor, page: &[u8], target: &mut [u8]) -> Option<()> {
    let size = target.len();
    let trailer = page.get(page.len().checked_sub(4)?..)?;
    (u32::from_le_bytes(trailer.try_into().ok()?) == size as u32).then_some(())?;
    let inflated = inflater.gzip_decompress(page, target).ok()?;
    (inflated == size).then_some(())
}

/// The width in bytes of a PLAIN value of the fixed-width physical types this path reads.
fn physical_width(physical: PhysicalType) -> Option<usize> {
    match physical {
        PhysicalType::DOUBLE | PhysicalType::INT64 => Some(8),
        PhysicalType::FLOAT | PhysicalType::INT32 => Some(4),
        _ => None,
    }
}

/// An array of `rows` values of `T`, its bytes filled by `fill`. The buffer comes zeroed from
/// the allocator (fresh pages, not written twice) and is aligned for `T` by construction.
fn decode_into<T: ArrowPrimitiveType>(
    rows: usize,
    fill: &mut dyn FnMut(&mut [u8]) -> Option<()>,
) -> Option<ArrayRef> {
    let mut values = MutableBuffer::from(vec![T::Native::default(); rows]);
    fill(values.as_slice_mut())?;
    let values = ScalarBuffer::<T::Native>::new(values.into(), 0, rows);
    Some(Arc::new(PrimitiveArray::<T>::new(values, None)))
}

/// Column `column` of row group `group` by parquet's own reader, in one array.
fn by_parquet<R: ChunkReader + 'static>(
    input: &SharedInput<R>,
    metadata: &ArrowReaderMetadata,
    group: usize,
    column: usize,
    data_type: &DataType,
) -> Result<ArrayRef, TableError> {
    let parquet = metadata.metadata();
    let rows = usize::try_from(parquet.row_group(group).num_rows()).unwrap_or(0);
    let mask = ProjectionMask::leaves(parquet.file_metadata().schema_descr(), [column]);
    let reader = guard("preparing the Parquet reader", || {
        ParquetRecordBatchReaderBuilder::new_with_metadata(input.clone(), metadata.clone())
            .with_projection(mask)
            .with_row_groups(vec![group])
            .with_batch_size(rows.max(1))
            .build()
    })?;
    let mut arrays = Vec::with_capacity(1);
    for batch in reader {
        let batch = guard("decoding a column chunk", || batch)?;
        arrays.push(batch.column(0).clone());
    }
    match arrays.len() {
        0 => Ok(new_empty_array(data_type)),
        1 => Ok(arrays.remove(0)),
        n => Err(TableError::Parquet {
            message: format!(
                "row group {group} of column {column} decoded in {n} pieces instead of one"
            ),
            source: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ParquetWriter, WriteOptions};
    use arrow_array::{Array, Float64Array, Int32Array, RecordBatch};
    use arrow_schema::{Field, Schema};
    use bytes::Bytes;
    use parquet::arrow::arrow_reader::ArrowReaderOptions;

    fn written(table: &RecordBatch) -> (SharedInput<Bytes>, ArrowReaderMetadata) {
        let options = WriteOptions::new().max_row_group_rows(3_000);
        let mut writer = ParquetWriter::new(Vec::new(), table.schema(), &options).unwrap();
        writer.write(table).unwrap();
        let bytes = Bytes::from(writer.finish().unwrap().0);
        let metadata = ArrowReaderMetadata::load(&bytes, ArrowReaderOptions::new()).unwrap();
        (SharedInput(Arc::new(bytes)), metadata)
    }

    fn table(nulls: bool) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, true),
            Field::new("n", DataType::Int32, false),
        ]));
        let x = Float64Array::from_iter(
            (0..10_000).map(|i| (!nulls || i % 3 > 0).then_some(i as f64 * 0.5)),
        );
        let n = Int32Array::from_iter_values(0..10_000);
        RecordBatch::try_new(schema, vec![Arc::new(x), Arc::new(n)]).unwrap()
    }

    #[test]
    fn the_chunks_evo_writes_are_inflated_by_this_path_into_the_arrays_written() {
        let table = table(false);
        let (input, metadata) = written(&table);
        let types = plain_columns(&metadata).expect("a table of plain number columns");
        assert_eq!(types, [DataType::Float64, DataType::Int32]);
        let mut decoder = ChunkDecoder::new();
        for group in 0..metadata.metadata().num_row_groups() {
            for (column, data_type) in types.iter().enumerate() {
                let array = decoder
                    .plain(&input, &metadata, group, column, data_type)
                    .expect("decoded by the fast path, not parquet's reader");
                let rows = array.len();
                assert_eq!(array.null_count(), 0);
                assert_eq!(
                    array.as_ref(),
                    table.column(column).slice(group * 3_000, rows).as_ref(),
                    "row group {group}, column {column}"
                );
            }
        }
    }

    #[test]
    fn a_page_is_inflated_only_when_it_is_one_gzip_member_of_exactly_the_values() {
        use std::io::Write;
        let values: Vec<u8> = (0..4_000u32).flat_map(|i| (i * 7).to_le_bytes()).collect();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        encoder.write_all(&values).unwrap();
        let page = encoder.finish().unwrap();
        let mut inflater = Decompressor::new();
        let mut target = vec![0u8; values.len()];
        assert_eq!(inflate_page(&mut inflater, &page, &mut target), Some(()));
        assert_eq!(target, values);

        let mut with_junk = page.clone();
        with_junk.extend_from_slice(b"junk after the member");
        let mut corrupt = page.clone();
        corrupt[page.len() / 2] ^= 0x55;
        for (what, page) in [
            ("bytes after the member", with_junk),
            ("a flipped byte", corrupt),
            ("a cut member", page[..page.len() - 9].to_vec()),
            ("no member", Vec::new()),
        ] {
            let mut target = vec![0u8; values.len()];
            assert_eq!(
                inflate_page(&mut inflater, &page, &mut target),
                None,
                "{what}"
            );
        }
        // A member of other values than the page holds.
        let mut short = vec![0u8; values.len() - 4];
        assert_eq!(inflate_page(&mut inflater, &page, &mut short), None);

        // The one shape it cannot tell from one member: a second member of the same size
        // after it (libdeflate does not say where a member ends). It is read as its first
        // member, where parquet's reader refuses it; only a forged page has one, and the
        // SHA-256 a file is named by guards what is downloaded.
        let mut twice = page.clone();
        twice.extend_from_slice(&page);
        let mut target = vec![0u8; values.len()];
        assert_eq!(inflate_page(&mut inflater, &twice, &mut target), Some(()));
        assert_eq!(target, values);
    }

    #[test]
    fn a_column_with_nulls_is_left_to_parquets_reader() {
        let (_, metadata) = written(&table(true));
        assert_eq!(plain_columns(&metadata), None);
    }
}
