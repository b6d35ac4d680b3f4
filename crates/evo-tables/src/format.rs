//! The table formats of the Evo object schemas: how many columns of which types a Parquet file
//! referenced from an object holds, and the metadata the object's JSON carries about it.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_schema::{DataType, Schema, TimeUnit};

use crate::error::{FormatMismatch, FormatProblem, TableError};
use crate::info::TableInfo;

/// The widest table [`TableFormat::from_info`] accepts: a guard against absurd `width` values in
/// untrusted object JSON (Evo's widest fixed format has 8 columns).
pub const MAX_WIDTH: usize = 4096;

/// The type of one column of an Evo table, named as the object schemas name it (`data_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnType {
    /// `float64`: Arrow `Float64`.
    Float64,
    /// `uint8`: Arrow `UInt8` (the bytes of a B-rep container).
    UInt8,
    /// `uint32`: Arrow `UInt32` (RGBA colors).
    UInt32,
    /// `uint64`: Arrow `UInt64` (indices).
    UInt64,
    /// `int32`: Arrow `Int32`.
    Int32,
    /// `int64`: Arrow `Int64`.
    Int64,
    /// `bool`: Arrow `Boolean`.
    Bool,
    /// `string`: Arrow `Utf8` (not `LargeUtf8`).
    String,
    /// `timestamp`: Arrow `Timestamp(Microsecond, "UTC")`.
    Timestamp,
}

impl ColumnType {
    /// Every column type.
    pub const ALL: [ColumnType; 9] = [
        Self::Float64,
        Self::UInt8,
        Self::UInt32,
        Self::UInt64,
        Self::Int32,
        Self::Int64,
        Self::Bool,
        Self::String,
        Self::Timestamp,
    ];

    /// The schemas' name of the type, e.g. `float64`, `uint64`, `timestamp`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Float64 => "float64",
            Self::UInt8 => "uint8",
            Self::UInt32 => "uint32",
            Self::UInt64 => "uint64",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::Bool => "bool",
            Self::String => "string",
            Self::Timestamp => "timestamp",
        }
    }

    /// The type a schema name denotes (`float64`, ...), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The Arrow type of a column of this type.
    pub fn arrow_type(self) -> DataType {
        match self {
            Self::Float64 => DataType::Float64,
            Self::UInt8 => DataType::UInt8,
            Self::UInt32 => DataType::UInt32,
            Self::UInt64 => DataType::UInt64,
            Self::Int32 => DataType::Int32,
            Self::Int64 => DataType::Int64,
            Self::Bool => DataType::Boolean,
            Self::String => DataType::Utf8,
            Self::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC"))),
        }
    }

    /// The column type of an Arrow type, if Evo has one for it (exactly: `LargeUtf8` is not
    /// `string`, a timestamp must be in microseconds and UTC).
    pub fn of_arrow(data_type: &DataType) -> Option<Self> {
        Some(match data_type {
            DataType::Float64 => Self::Float64,
            DataType::UInt8 => Self::UInt8,
            DataType::UInt32 => Self::UInt32,
            DataType::UInt64 => Self::UInt64,
            DataType::Int32 => Self::Int32,
            DataType::Int64 => Self::Int64,
            DataType::Boolean => Self::Bool,
            DataType::Utf8 => Self::String,
            DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if tz.as_ref() == "UTC" => {
                Self::Timestamp
            }
            _ => return None,
        })
    }
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which fields the table metadata of a format has in an object's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InfoShape {
    /// `data`, `length`, `width`, `data_type` (float, integer, index arrays, `bool-array-md`...).
    Array,
    /// `data`, `length`, `data_type` (`bool-array-1`, `color-array`, `date-time-array`,
    /// `string-array`).
    ArrayWithoutWidth,
    /// `data`, `length`, `keys_data_type`, `values_data_type` (`lookup-table`).
    Lookup,
}

/// A table format: its name, its column types (a fixed list, or one type repeated any number of
/// times for the `-md` formats) and the shape of its metadata.
///
/// The known formats are associated constants (e.g. [`TableFormat::FLOAT_ARRAY_3`]), listed in
/// [`TableFormat::ALL`]. [`TableFormat::from_info`] builds the format a table info describes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableFormat {
    name: Cow<'static, str>,
    columns: Cow<'static, [ColumnType]>,
    variable_width: bool,
    shape: InfoShape,
}

const fn fixed(
    name: &'static str,
    columns: &'static [ColumnType],
    shape: InfoShape,
) -> TableFormat {
    TableFormat {
        name: Cow::Borrowed(name),
        columns: Cow::Borrowed(columns),
        variable_width: false,
        shape,
    }
}

const fn multi(name: &'static str, column: &'static [ColumnType; 1]) -> TableFormat {
    TableFormat {
        name: Cow::Borrowed(name),
        columns: Cow::Borrowed(column),
        variable_width: true,
        shape: InfoShape::Array,
    }
}

use ColumnType::{Bool, Float64, Int32, Int64, String as Utf8, Timestamp, UInt8, UInt32, UInt64};
use InfoShape::{Array, ArrayWithoutWidth, Lookup};

impl TableFormat {
    /// `float-array-1`: one `float64` column.
    pub const FLOAT_ARRAY_1: Self = fixed("float-array-1", &[Float64], Array);
    /// `float-array-2`: two `float64` columns (e.g. from, to).
    pub const FLOAT_ARRAY_2: Self = fixed("float-array-2", &[Float64; 2], Array);
    /// `float-array-3`: three `float64` columns (e.g. x, y, z).
    pub const FLOAT_ARRAY_3: Self = fixed("float-array-3", &[Float64; 3], Array);
    /// `float-array-6`: six `float64` columns.
    pub const FLOAT_ARRAY_6: Self = fixed("float-array-6", &[Float64; 6], Array);
    /// `float-array-md`: any number of `float64` columns.
    pub const FLOAT_ARRAY_MD: Self = multi("float-array-md", &[Float64]);
    /// `index-array-1`: one `uint64` column.
    pub const INDEX_ARRAY_1: Self = fixed("index-array-1", &[UInt64], Array);
    /// `index-array-2`: two `uint64` columns (e.g. segments).
    pub const INDEX_ARRAY_2: Self = fixed("index-array-2", &[UInt64; 2], Array);
    /// `index-array-3`: three `uint64` columns (e.g. triangles).
    pub const INDEX_ARRAY_3: Self = fixed("index-array-3", &[UInt64; 3], Array);
    /// `index-array-4`: four `uint64` columns (quadrilaterals, tetrahedra).
    pub const INDEX_ARRAY_4: Self = fixed("index-array-4", &[UInt64; 4], Array);
    /// `index-array-8`: eight `uint64` columns (hexahedrons).
    pub const INDEX_ARRAY_8: Self = fixed("index-array-8", &[UInt64; 8], Array);
    /// `integer-array-1` with `int32` values.
    pub const INTEGER_ARRAY_1_INT32: Self = fixed("integer-array-1-int32", &[Int32], Array);
    /// `integer-array-1` with `int64` values.
    pub const INTEGER_ARRAY_1_INT64: Self = fixed("integer-array-1-int64", &[Int64], Array);
    /// `integer-array-md` with `int32` values (also `integer-array-2`/`-3`).
    pub const INTEGER_ARRAY_MD_INT32: Self = multi("integer-array-md-int32", &[Int32]);
    /// `integer-array-md` with `int64` values (also `integer-array-2`/`-3`).
    pub const INTEGER_ARRAY_MD_INT64: Self = multi("integer-array-md-int64", &[Int64]);
    /// `bool-array-1`: one `bool` column (no `width` in its metadata).
    pub const BOOL_ARRAY_1: Self = fixed("bool-array-1", &[Bool], ArrayWithoutWidth);
    /// `bool-array-md`: any number of `bool` columns.
    pub const BOOL_ARRAY_MD: Self = multi("bool-array-md", &[Bool]);
    /// The `brep` of a `brep-container`: one `uint8` column.
    pub const BREP_CONTAINER_BREP: Self = fixed("brep-container-brep", &[UInt8], Array);
    /// `color-array`: one `uint32` column of RGBA colors (red in the lowest byte).
    pub const COLOR_ARRAY: Self = fixed("color-array", &[UInt32], ArrayWithoutWidth);
    /// `date-time-array`: one `timestamp` column (microseconds, UTC).
    pub const DATE_TIME_ARRAY: Self = fixed("date-time-array", &[Timestamp], ArrayWithoutWidth);
    /// `string-array`: one `string` column.
    pub const STRING_ARRAY: Self = fixed("string-array", &[Utf8], ArrayWithoutWidth);
    /// The `holes` of a downhole collection's `location` (`hole-chunks`): hole index, offset,
    /// count as `int32/uint64/uint64`.
    pub const DOWNHOLE_COLLECTION_LOCATION_HOLES: Self = fixed(
        "downhole-collection-location-holes",
        &[Int32, UInt64, UInt64],
        Array,
    );
    /// The `cells` of an `unstructured-grid-geometry`: shape, offset, count as
    /// `int32/uint64/int32`.
    pub const UNSTRUCTURED_GRID_GEOMETRY_CELLS: Self = fixed(
        "unstructured-grid-geometry-cells",
        &[Int32, UInt64, Int32],
        Array,
    );
    /// `lines-2d-indices`: start, end, arc as `uint64/uint64/float64`.
    pub const LINES_2D_INDICES: Self = fixed("lines-2d-indices", &[UInt64, UInt64, Float64], Array);
    /// `lookup-table` with `int32` keys and `string` values.
    pub const LOOKUP_TABLE_INT32: Self = fixed("lookup-table-int32", &[Int32, Utf8], Lookup);
    /// `lookup-table` with `int64` keys and `string` values.
    pub const LOOKUP_TABLE_INT64: Self = fixed("lookup-table-int64", &[Int64, Utf8], Lookup);

    /// Every known format, in the order [`TableFormat::infer`] tries them (as the Python SDK
    /// does: within a family the fixed widths come before the variable width).
    pub const ALL: &'static [TableFormat] = &[
        Self::FLOAT_ARRAY_1,
        Self::FLOAT_ARRAY_2,
        Self::FLOAT_ARRAY_3,
        Self::FLOAT_ARRAY_6,
        Self::FLOAT_ARRAY_MD,
        Self::INDEX_ARRAY_1,
        Self::INDEX_ARRAY_2,
        Self::INDEX_ARRAY_3,
        Self::INDEX_ARRAY_4,
        Self::INDEX_ARRAY_8,
        Self::INTEGER_ARRAY_1_INT32,
        Self::INTEGER_ARRAY_1_INT64,
        Self::INTEGER_ARRAY_MD_INT32,
        Self::INTEGER_ARRAY_MD_INT64,
        Self::BOOL_ARRAY_1,
        Self::BOOL_ARRAY_MD,
        Self::BREP_CONTAINER_BREP,
        Self::COLOR_ARRAY,
        Self::DATE_TIME_ARRAY,
        Self::STRING_ARRAY,
        Self::DOWNHOLE_COLLECTION_LOCATION_HOLES,
        Self::UNSTRUCTURED_GRID_GEOMETRY_CELLS,
        Self::LINES_2D_INDICES,
        Self::LOOKUP_TABLE_INT32,
        Self::LOOKUP_TABLE_INT64,
    ];

    /// The known format with this name (e.g. `float-array-3`, `lookup-table-int32`).
    pub fn by_name(name: &str) -> Option<&'static TableFormat> {
        Self::ALL.iter().find(|f| f.name() == name)
    }

    /// The format's name, e.g. `float-array-3`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The column types: every column's for a fixed width, the one repeated type for a variable
    /// width.
    pub fn column_types(&self) -> &[ColumnType] {
        &self.columns
    }

    /// The number of columns, or `None` for a variable-width (`-md`) format.
    pub fn width(&self) -> Option<usize> {
        (!self.variable_width).then_some(self.columns.len())
    }

    /// Whether the format accepts any number (at least one) of columns of its one type.
    pub fn is_variable_width(&self) -> bool {
        self.variable_width
    }

    /// The fields its metadata has in an object's JSON.
    pub fn info_shape(&self) -> InfoShape {
        self.shape
    }

    /// The type of column `index` in this format, if it has one.
    pub fn column_type(&self, index: usize) -> Option<ColumnType> {
        if self.variable_width {
            Some(self.columns[0])
        } else {
            self.columns.get(index).copied()
        }
    }

    /// The metadata's `data_type`: the one type's name when every column has it (`float64`),
    /// else the names joined by `/` (`int32/uint64/uint64`).
    pub fn data_type(&self) -> String {
        let first = self.columns[0];
        if self.columns.iter().all(|&c| c == first) {
            first.name().to_owned()
        } else {
            let names: Vec<&str> = self.columns.iter().map(|c| c.name()).collect();
            names.join("/")
        }
    }

    /// Checks that a table with this Arrow schema has this format: its width, then each column's
    /// type (names and nullability are free). The error names the first wrong column.
    pub fn validate(&self, schema: &Schema) -> Result<(), FormatMismatch> {
        let fields = schema.fields();
        let width_ok = if self.variable_width {
            !fields.is_empty()
        } else {
            fields.len() == self.columns.len()
        };
        if !width_ok {
            return Err(self.mismatch(FormatProblem::Width {
                expected: self.columns.len(),
                variable: self.variable_width,
                found: fields.len(),
            }));
        }
        for (index, field) in fields.iter().enumerate() {
            let expected = self.column_type(index).expect("width checked above");
            if ColumnType::of_arrow(field.data_type()) != Some(expected) {
                return Err(self.mismatch(FormatProblem::ColumnType {
                    index,
                    name: field.name().clone(),
                    expected: expected.name().to_owned(),
                    found: describe_arrow_type(field.data_type()),
                }));
            }
        }
        Ok(())
    }

    /// Whether a table with this schema has this format.
    pub fn matches(&self, schema: &Schema) -> bool {
        self.validate(schema).is_ok()
    }

    /// The first known format (in [`TableFormat::ALL`] order) a table with this schema has.
    pub fn infer(schema: &Schema) -> Result<&'static TableFormat, FormatMismatch> {
        Self::infer_among(schema, Self::ALL)
    }

    /// The first of `candidates` a table with this schema has.
    pub fn infer_among<'a>(
        schema: &Schema,
        candidates: &'a [TableFormat],
    ) -> Result<&'a TableFormat, FormatMismatch> {
        candidates
            .iter()
            .find(|f| f.matches(schema))
            .ok_or_else(|| {
                let found: Vec<String> = schema
                    .fields()
                    .iter()
                    .map(|f| describe_arrow_type(f.data_type()))
                    .collect();
                FormatMismatch {
                    format: "a known table format".to_owned(),
                    problem: FormatProblem::NoKnownFormat {
                        found: found.join("/"),
                    },
                }
            })
    }

    /// The format a table info (from an object's JSON) describes: its `width` columns of
    /// `data_type` (one type repeated, or one per column joined by `/`), or the key and value
    /// types of a lookup table. It is named after the known fixed-width format with the same
    /// columns when there is one.
    pub fn from_info(info: &TableInfo) -> Result<TableFormat, TableError> {
        let invalid =
            |what: String| TableError::InvalidInfo(format!("table {}: {what}", info.data));
        let (names, width, shape): (Vec<&str>, usize, InfoShape) = match (
            &info.data_type,
            &info.keys_data_type,
            &info.values_data_type,
        ) {
            (Some(data_type), _, _) => {
                let width = match info.width {
                    None => 1,
                    Some(w) => usize::try_from(w)
                        .ok()
                        .filter(|w| (1..=MAX_WIDTH).contains(w))
                        .ok_or_else(|| {
                            invalid(format!("width {w} is not between 1 and {MAX_WIDTH}"))
                        })?,
                };
                let shape = if info.width.is_some() {
                    Array
                } else {
                    ArrayWithoutWidth
                };
                (data_type.split('/').collect(), width, shape)
            }
            (None, Some(keys), Some(values)) => (vec![keys.as_str(), values.as_str()], 2, Lookup),
            _ => {
                return Err(invalid(
                    "has neither data_type nor keys_data_type and values_data_type".to_owned(),
                ));
            }
        };
        let mut columns = names
            .iter()
            .map(|n| {
                ColumnType::from_name(n).ok_or_else(|| invalid(format!("unknown data type {n:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if columns.len() == 1 && width > 1 {
            columns = vec![columns[0]; width];
        }
        if columns.len() != width {
            return Err(invalid(format!(
                "width {width} does not fit data type {:?}",
                names.join("/")
            )));
        }
        let name = Self::ALL
            .iter()
            .find(|f| !f.variable_width && f.columns.as_ref() == columns.as_slice())
            .map_or_else(
                || Cow::Owned(format!("{} x{width}", names.join("/"))),
                |f| f.name.clone(),
            );
        Ok(TableFormat {
            name,
            columns: Cow::Owned(columns),
            variable_width: false,
            shape,
        })
    }

    /// The metadata of a table of this format, as the object's JSON carries it, with exactly
    /// the fields of the format's [`InfoShape`]. `width` is the table's number of columns.
    pub fn info(&self, data_id: impl Into<String>, length: u64, width: usize) -> TableInfo {
        let data = data_id.into();
        match self.shape {
            Lookup => TableInfo {
                data,
                length,
                width: None,
                data_type: None,
                keys_data_type: Some(self.columns[0].name().to_owned()),
                values_data_type: Some(self.columns[1].name().to_owned()),
            },
            shape => TableInfo {
                data,
                length,
                width: (shape == Array).then_some(width as u64),
                data_type: Some(self.data_type()),
                keys_data_type: None,
                values_data_type: None,
            },
        }
    }

    /// The Arrow schema of a table of this format with these column names (one per column;
    /// columns are nullable, as pyarrow makes them).
    pub fn schema<N: AsRef<str>>(&self, names: &[N]) -> Result<Schema, FormatMismatch> {
        let expected = self.columns.len();
        let width_ok = if self.variable_width {
            !names.is_empty()
        } else {
            names.len() == expected
        };
        if !width_ok {
            return Err(self.mismatch(FormatProblem::Width {
                expected,
                variable: self.variable_width,
                found: names.len(),
            }));
        }
        let fields: Vec<arrow_schema::Field> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let t = self.column_type(i).expect("width checked above");
                arrow_schema::Field::new(n.as_ref(), t.arrow_type(), true)
            })
            .collect();
        Ok(Schema::new(fields))
    }

    fn mismatch(&self, problem: FormatProblem) -> FormatMismatch {
        FormatMismatch {
            format: self.name.to_string(),
            problem,
        }
    }
}

impl std::fmt::Display for TableFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// An Arrow type as error messages show it: its Evo name when it has one, else Arrow's.
pub(crate) fn describe_arrow_type(data_type: &DataType) -> String {
    match ColumnType::of_arrow(data_type) {
        Some(t) => t.name().to_owned(),
        None => format!("{data_type} (no Evo type)"),
    }
}
