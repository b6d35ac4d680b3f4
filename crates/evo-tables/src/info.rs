//! The table metadata an object's JSON carries next to a data reference.

use serde::{Deserialize, Serialize};

/// The metadata of one table as the object schemas define it: the `data` reference (the file's
/// SHA-256 name), `length` (rows) and the type fields of its format: `width` and `data_type` for
/// arrays (`data_type` alone for `bool-array-1`, `color-array`, `date-time-array`,
/// `string-array`), `keys_data_type` and `values_data_type` for lookup tables.
///
/// It (de)serializes to exactly those JSON fields; absent ones are omitted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableInfo {
    /// The data id: the lowercase hex SHA-256 of the Parquet file.
    pub data: String,
    /// The number of rows.
    pub length: u64,
    /// The number of columns (array formats that have it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u64>,
    /// The column type(s), e.g. `float64` or `int32/uint64/uint64` (array formats).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// The type of a lookup table's keys (`int32` or `int64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_data_type: Option<String>,
    /// The type of a lookup table's values (`string`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_data_type: Option<String>,
}

/// Whether `name` is a data id this crate produces: 64 hexadecimal digits (a SHA-256).
///
/// The object schemas also allow a uuid as a data reference; such data is not content-addressed.
pub fn is_sha256_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}
