//! Tables in files for `evo objects import|export`: CSV read into typed columns (or Parquet
//! through evo-tables), and Evo tables written as CSV. Output files are written beside their
//! destination and renamed into place, so a failure never leaves a half-written file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use evo_objects::evo_tables::arrow_array::types::{
    Float64Type, Int32Type, Int64Type, UInt8Type, UInt32Type, UInt64Type,
};
use evo_objects::evo_tables::arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, PrimitiveArray, RecordBatch,
    StringArray, TimestampMicrosecondArray,
};
use evo_objects::evo_tables::arrow_schema::{DataType, TimeUnit};
use evo_objects::evo_tables::{ReadOptions, TableReader};

use crate::cli::TableFileFormat;
use crate::error::{CliError, CliResult, Kind, io_error};

/// The format named by `--format`, else by the extension of `path`.
pub fn format_of(path: &Path, flag: Option<TableFileFormat>) -> CliResult<TableFileFormat> {
    if let Some(format) = flag {
        return Ok(format);
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => Ok(TableFileFormat::Csv),
        Some("parquet" | "pq") => Ok(TableFileFormat::Parquet),
        _ => Err(CliError::usage(format!(
            "cannot tell the format of {} from its extension",
            path.display()
        ))
        .hint("name it .csv or .parquet, or pass --format csv|parquet")),
    }
}

/// A column read from a file, with the narrowest type all its cells fit.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Whole numbers.
    Int(Vec<Option<i64>>),
    /// Numbers.
    Float(Vec<Option<f64>>),
    /// `true`/`false`.
    Bool(Vec<Option<bool>>),
    /// Anything else.
    Text(Vec<Option<String>>),
}

impl Column {
    /// The column as an Arrow array (`Int64`, `Float64`, `Boolean` or `Utf8`).
    pub fn into_array(self) -> ArrayRef {
        match self {
            Column::Int(v) => Arc::new(Int64Array::from(v)),
            Column::Float(v) => Arc::new(Float64Array::from(v)),
            Column::Bool(v) => Arc::new(BooleanArray::from(v)),
            Column::Text(v) => Arc::new(StringArray::from(v)),
        }
    }

    /// The values as coordinates: numbers without gaps.
    pub fn into_coordinates(self, name: &str) -> CliResult<Float64Array> {
        let missing = |row: usize| {
            CliError::usage(format!(
                "coordinate column {name:?} has no value in data row {}",
                row + 1
            ))
        };
        let values: Vec<f64> = match self {
            Column::Float(v) => v
                .into_iter()
                .enumerate()
                .map(|(i, v)| v.ok_or_else(|| missing(i)))
                .collect::<CliResult<_>>()?,
            Column::Int(v) => v
                .into_iter()
                .enumerate()
                .map(|(i, v)| v.map(|v| v as f64).ok_or_else(|| missing(i)))
                .collect::<CliResult<_>>()?,
            _ => {
                return Err(CliError::usage(format!(
                    "coordinate column {name:?} is not numeric"
                )));
            }
        };
        Ok(Float64Array::from(values))
    }
}

/// What a cell can be, narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum CellKind {
    Empty,
    Int,
    Float,
    Bool,
    Text,
}

fn kind_of(cell: &str) -> CellKind {
    if cell.is_empty() {
        CellKind::Empty
    } else if cell.parse::<i64>().is_ok() {
        CellKind::Int
    } else if cell.parse::<f64>().is_ok() {
        CellKind::Float
    } else if parse_bool(cell).is_some() {
        CellKind::Bool
    } else {
        CellKind::Text
    }
}

fn parse_bool(cell: &str) -> Option<bool> {
    match cell {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// The type two kinds of cells share.
fn widen(a: CellKind, b: CellKind) -> CellKind {
    match (a.min(b), a.max(b)) {
        (CellKind::Empty, other) => other,
        (x, y) if x == y => x,
        (CellKind::Int, CellKind::Float) => CellKind::Float,
        _ => CellKind::Text,
    }
}

/// A table read from a file: its column names and columns, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    /// (name, values) in file order.
    pub columns: Vec<(String, Column)>,
    /// The number of rows.
    pub rows: usize,
}

impl Columns {
    /// Takes the column `name` out.
    pub fn take(&mut self, name: &str) -> CliResult<Column> {
        let index = self
            .columns
            .iter()
            .position(|(n, _)| n == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.columns.iter().map(|(n, _)| n.as_str()).collect();
                CliError::usage(format!("the table has no column {name:?}")).hint(format!(
                    "its columns: {}; choose with --x, --y and --z",
                    names.join(", ")
                ))
            })?;
        Ok(self.columns.remove(index).1)
    }
}

/// Reads a CSV file with a header row: two passes, the first finding each column's type.
pub fn read_csv(path: &Path) -> CliResult<Columns> {
    let open = || {
        csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| csv_error(path, e))
    };
    let mut reader = open()?;
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err(CliError::usage(format!(
            "{} has no header row",
            path.display()
        )));
    }
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() || names[..i].contains(name) {
            return Err(CliError::usage(format!(
                "{}: column {} of the header is empty or repeated ({name:?})",
                path.display(),
                i + 1
            )));
        }
    }
    let mut kinds = vec![CellKind::Empty; names.len()];
    let mut rows = 0usize;
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        for (kind, cell) in kinds.iter_mut().zip(record.iter()) {
            *kind = widen(*kind, kind_of(cell));
        }
        rows += 1;
    }
    let mut columns: Vec<Column> = kinds
        .iter()
        .map(|k| match k {
            CellKind::Int => Column::Int(Vec::with_capacity(rows)),
            CellKind::Float | CellKind::Empty => Column::Float(Vec::with_capacity(rows)),
            CellKind::Bool => Column::Bool(Vec::with_capacity(rows)),
            CellKind::Text => Column::Text(Vec::with_capacity(rows)),
        })
        .collect();
    let mut reader = open()?;
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        for (column, cell) in columns.iter_mut().zip(record.iter()) {
            let empty = cell.is_empty();
            match column {
                Column::Int(v) => v.push((!empty).then(|| cell.parse().ok()).flatten()),
                Column::Float(v) => v.push((!empty).then(|| cell.parse().ok()).flatten()),
                Column::Bool(v) => v.push(parse_bool(cell)),
                Column::Text(v) => v.push((!empty).then(|| cell.to_owned())),
            }
        }
    }
    Ok(Columns {
        columns: names.into_iter().zip(columns).collect(),
        rows,
    })
}

fn csv_error(path: &Path, e: csv::Error) -> CliError {
    let kind = if e.is_io_error() {
        Kind::Failure
    } else {
        Kind::Usage
    };
    CliError::new(kind, format!("reading {}: {e}", path.display()))
}

/// Reads a Parquet file (any columns of numbers, booleans or strings).
pub fn read_parquet(path: &Path) -> CliResult<Columns> {
    let reader = TableReader::open(path, &ReadOptions::new())
        .map_err(|e| CliError::usage(format!("reading {}: {e}", path.display())))?;
    let schema = reader.schema();
    let mut columns: Vec<(String, Column)> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column = match field.data_type() {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32 => Column::Int(Vec::new()),
            DataType::UInt64 | DataType::Float16 | DataType::Float32 | DataType::Float64 => {
                Column::Float(Vec::new())
            }
            DataType::Boolean => Column::Bool(Vec::new()),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Column::Text(Vec::new()),
            other => {
                return Err(CliError::usage(format!(
                    "{}: column {:?} has the type {other}, which cannot be imported",
                    path.display(),
                    field.name()
                )));
            }
        };
        columns.push((field.name().clone(), column));
    }
    let mut rows = 0usize;
    for batch in reader {
        let batch =
            batch.map_err(|e| CliError::failure(format!("reading {}: {e}", path.display())))?;
        rows += batch.num_rows();
        for (i, (_, column)) in columns.iter_mut().enumerate() {
            append(column, batch.column(i))?;
        }
    }
    Ok(Columns { columns, rows })
}

/// Appends an Arrow array to a column of the type chosen for it.
fn append(column: &mut Column, array: &ArrayRef) -> CliResult<()> {
    let cast_failed = || CliError::failure(format!("converting a {} column", array.data_type()));
    match column {
        Column::Int(values) => {
            let cast = arrow_cast_i64(array).ok_or_else(cast_failed)?;
            values.extend(cast);
        }
        Column::Float(values) => {
            let cast = arrow_cast_f64(array).ok_or_else(cast_failed)?;
            values.extend(cast);
        }
        Column::Bool(values) => {
            let a = array
                .as_any()
                .downcast_ref::<BooleanArray>()
                .ok_or_else(cast_failed)?;
            values.extend(a.iter());
        }
        Column::Text(values) => {
            for i in 0..array.len() {
                values.push(if array.is_null(i) {
                    None
                } else {
                    Some(text_of(array, i).ok_or_else(cast_failed)?)
                });
            }
        }
    }
    Ok(())
}

fn primitive_iter<T: evo_objects::evo_tables::arrow_array::types::ArrowPrimitiveType>(
    array: &ArrayRef,
) -> Option<&PrimitiveArray<T>> {
    array.as_any().downcast_ref::<PrimitiveArray<T>>()
}

fn arrow_cast_i64(array: &ArrayRef) -> Option<Vec<Option<i64>>> {
    use evo_objects::evo_tables::arrow_array::types::{Int8Type, Int16Type, UInt16Type};
    macro_rules! ints {
        ($($t:ty),*) => {$(
            if let Some(a) = primitive_iter::<$t>(array) {
                return Some(a.iter().map(|v| v.map(i64::from)).collect());
            }
        )*};
    }
    ints!(
        Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type
    );
    None
}

fn arrow_cast_f64(array: &ArrayRef) -> Option<Vec<Option<f64>>> {
    use evo_objects::evo_tables::arrow_array::types::{Float16Type, Float32Type};
    if let Some(a) = primitive_iter::<Float64Type>(array) {
        return Some(a.iter().collect());
    }
    if let Some(a) = primitive_iter::<Float32Type>(array) {
        return Some(a.iter().map(|v| v.map(f64::from)).collect());
    }
    if let Some(a) = primitive_iter::<Float16Type>(array) {
        return Some(a.iter().map(|v| v.map(f64::from)).collect());
    }
    if let Some(a) = primitive_iter::<UInt64Type>(array) {
        return Some(a.iter().map(|v| v.map(|v| v as f64)).collect());
    }
    None
}

/// The text of cell `i` (not null) of an array of a type Evo tables use.
fn text_of(array: &ArrayRef, i: usize) -> Option<String> {
    let any = array.as_any();
    macro_rules! display {
        ($($t:ty),*) => {$(
            if let Some(a) = any.downcast_ref::<PrimitiveArray<$t>>() {
                return Some(a.value(i).to_string());
            }
        )*};
    }
    use evo_objects::evo_tables::arrow_array::types::{
        Float32Type, Int8Type, Int16Type, UInt16Type,
    };
    display!(
        Float64Type,
        Float32Type,
        Int8Type,
        Int16Type,
        Int32Type,
        Int64Type,
        UInt8Type,
        UInt16Type,
        UInt32Type,
        UInt64Type
    );
    if let Some(a) = any.downcast_ref::<StringArray>() {
        return Some(a.value(i).to_owned());
    }
    if let Some(a) = any.downcast_ref::<BooleanArray>() {
        return Some(a.value(i).to_string());
    }
    if let Some(a) = any.downcast_ref::<TimestampMicrosecondArray>() {
        let at =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(a.value(i)) * 1000).ok()?;
        return at
            .format(&time::format_description::well_known::Rfc3339)
            .ok();
    }
    if let Some(a) = any.downcast_ref::<evo_objects::evo_tables::arrow_array::Date32Array>() {
        // Days since 1970-01-01 (Julian day 2440588).
        let day = time::Date::from_julian_day(2_440_588_i32.checked_add(a.value(i))?).ok()?;
        return day
            .format(&time::format_description::well_known::Iso8601::DATE)
            .ok();
    }
    if let Some(a) = any.downcast_ref::<evo_objects::evo_tables::arrow_array::LargeStringArray>() {
        return Some(a.value(i).to_owned());
    }
    if let Some(a) = any.downcast_ref::<evo_objects::evo_tables::arrow_array::StringViewArray>() {
        return Some(a.value(i).to_owned());
    }
    None
}

/// Whether an Arrow type can be written as CSV by [`write_csv`].
fn csv_writable(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Float64
            | DataType::Float32
            | DataType::Int8
            | DataType::Int16
            | DataType::UInt16
            | DataType::Date32
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Boolean
            | DataType::Utf8
            | DataType::Timestamp(TimeUnit::Microsecond, _)
    )
}

/// A file written beside `destination` and renamed into place by [`Staged::commit`]; dropped
/// without committing, it is removed.
pub struct Staged {
    file: tempfile::NamedTempFile,
    destination: PathBuf,
}

impl Staged {
    /// Starts writing `destination`; fails with a conflict when it exists and not `force`.
    pub fn new(destination: &Path, force: bool) -> CliResult<Staged> {
        check_destination(destination, force)?;
        let dir = match destination.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| io_error(dir.display(), e))?;
        let file = tempfile::Builder::new()
            .prefix(".evo-export-")
            .tempfile_in(&dir)
            .map_err(|e| io_error(format!("creating a file in {}", dir.display()), e))?;
        Ok(Staged {
            file,
            destination: destination.to_path_buf(),
        })
    }

    /// The file being written.
    pub fn file(&self) -> &File {
        self.file.as_file()
    }

    /// Flushes the file to disk and renames it to its destination.
    pub fn commit(self) -> CliResult<()> {
        self.file
            .as_file()
            .sync_all()
            .map_err(|e| io_error(self.destination.display(), e))?;
        self.file
            .persist(&self.destination)
            .map_err(|e| io_error(self.destination.display(), e.error))?;
        Ok(())
    }
}

/// Fails with a conflict when `destination` exists and not `force`.
pub fn check_destination(destination: &Path, force: bool) -> CliResult<()> {
    if !force && destination.exists() {
        return Err(
            CliError::new(Kind::Conflict, format!("{} exists", destination.display()))
                .hint("pass --force to replace it"),
        );
    }
    Ok(())
}

/// Writes the batches of `reader` as CSV with a header row into `staged` (nulls as empty
/// cells, timestamps in RFC 3339), and returns the number of rows written.
pub fn write_csv(reader: TableReader, staged: &Staged) -> CliResult<u64> {
    let schema = reader.schema();
    if let Some(field) = schema
        .fields()
        .iter()
        .find(|f| !csv_writable(f.data_type()))
    {
        return Err(CliError::usage(format!(
            "column {:?} has the type {}, which cannot be written as CSV",
            field.name(),
            field.data_type()
        ))
        .hint("export it as Parquet instead"));
    }
    let write_error = |e: csv::Error| CliError::failure(format!("writing CSV: {e}"));
    let mut out = csv::Writer::from_writer(BufWriter::new(staged.file()));
    out.write_record(schema.fields().iter().map(|f| f.name().as_str()))
        .map_err(write_error)?;
    let mut rows = 0u64;
    let mut record: Vec<String> = Vec::with_capacity(schema.fields().len());
    for batch in reader {
        let batch: RecordBatch =
            batch.map_err(|e| CliError::failure(format!("reading the table: {e}")))?;
        for row in 0..batch.num_rows() {
            record.clear();
            for column in batch.columns() {
                record.push(if column.is_null(row) {
                    String::new()
                } else {
                    text_of(column, row).ok_or_else(|| {
                        CliError::failure(format!("formatting a {} cell", column.data_type()))
                    })?
                });
            }
            out.write_record(&record).map_err(write_error)?;
            rows += 1;
        }
    }
    let mut inner = out
        .into_inner()
        .map_err(|e| CliError::failure(format!("writing CSV: {e}")))?;
    inner.flush().map_err(|e| io_error("writing CSV", e))?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_columns_get_the_narrowest_type_every_cell_fits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(
            &path,
            "x,y,n,f,b,s\n1,2.5,3,,true,a\n2, -1e3 ,,0.5,false,\"b,c\"\n",
        )
        .unwrap();
        let table = read_csv(&path).unwrap();
        assert_eq!(table.rows, 2);
        let by_name = |n: &str| {
            table
                .columns
                .iter()
                .find(|(c, _)| c == n)
                .unwrap()
                .1
                .clone()
        };
        assert_eq!(by_name("x"), Column::Int(vec![Some(1), Some(2)]));
        assert_eq!(by_name("y"), Column::Float(vec![Some(2.5), Some(-1000.0)]));
        assert_eq!(by_name("n"), Column::Int(vec![Some(3), None]));
        assert_eq!(by_name("f"), Column::Float(vec![None, Some(0.5)]));
        assert_eq!(by_name("b"), Column::Bool(vec![Some(true), Some(false)]));
        assert_eq!(
            by_name("s"),
            Column::Text(vec![Some("a".into()), Some("b,c".into())])
        );
    }

    #[test]
    fn a_repeated_header_and_a_gap_in_coordinates_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "x,x\n1,2\n").unwrap();
        assert_eq!(read_csv(&path).unwrap_err().kind, Kind::Usage);
        let gap = Column::Float(vec![Some(1.0), None]);
        let e = gap.into_coordinates("z").unwrap_err();
        assert!(e.message.contains("data row 2"), "{e}");
        let text = Column::Text(vec![Some("a".into())]);
        assert_eq!(text.into_coordinates("x").unwrap_err().kind, Kind::Usage);
    }

    #[test]
    fn block_model_column_types_have_csv_text() {
        use evo_objects::evo_tables::arrow_array::{Date32Array, Float32Array, Int16Array};
        let date: ArrayRef = Arc::new(Date32Array::from(vec![0, 20_424]));
        assert!(csv_writable(date.data_type()));
        assert_eq!(text_of(&date, 0).as_deref(), Some("1970-01-01"));
        assert_eq!(text_of(&date, 1).as_deref(), Some("2025-12-02"));
        let small: ArrayRef = Arc::new(Int16Array::from(vec![-7]));
        assert_eq!(text_of(&small, 0).as_deref(), Some("-7"));
        let single: ArrayRef = Arc::new(Float32Array::from(vec![0.5]));
        assert_eq!(text_of(&single, 0).as_deref(), Some("0.5"));
    }

    #[test]
    fn the_format_comes_from_the_flag_or_the_extension() {
        assert_eq!(
            format_of(Path::new("a.CSV"), None).unwrap(),
            TableFileFormat::Csv
        );
        assert_eq!(
            format_of(Path::new("a.txt"), Some(TableFileFormat::Parquet)).unwrap(),
            TableFileFormat::Parquet
        );
        assert_eq!(
            format_of(Path::new("a.txt"), None).unwrap_err().kind,
            Kind::Usage
        );
    }
}
