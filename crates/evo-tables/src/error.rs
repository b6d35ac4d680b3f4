//! The one error type of the crate.

use std::fmt;
use std::path::PathBuf;

/// A boxed error kept as the source of a [`TableError`] (an Arrow or Parquet error, never exposed
/// by type).
pub type BoxedSource = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while validating, writing or reading an Evo table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// The table does not have the columns its format requires.
    #[error(transparent)]
    Format(#[from] FormatMismatch),

    /// The table has a different number of rows than its metadata says.
    #[error("the table has {found} rows but its metadata says length {expected}")]
    Length {
        /// The `length` the table info declares.
        expected: u64,
        /// The number of rows the Parquet file holds.
        found: u64,
    },

    /// The columns given to build a table do not have the same length.
    #[error("column {index} ({name}) has {found} rows, the columns before it have {expected}")]
    RaggedColumns {
        /// 0-based position of the first column with a different length.
        index: usize,
        /// Its name.
        name: String,
        /// The length of the first column.
        expected: usize,
        /// Its length.
        found: usize,
    },

    /// Table metadata (as found in an object's JSON) that does not describe a known table.
    #[error("invalid table info: {0}")]
    InvalidInfo(String),

    /// A data id that is not the 64-hex-digit SHA-256 name of a file.
    #[error("invalid data id {0:?}: expected 64 hexadecimal digits (a SHA-256)")]
    InvalidDataId(String),

    /// The file's SHA-256 differs from its name: corrupted or not the expected file.
    #[error("SHA-256 mismatch: expected {expected}, the bytes hash to {actual}")]
    Sha256Mismatch {
        /// The expected name (lowercase hex).
        expected: String,
        /// The SHA-256 of the bytes read (lowercase hex).
        actual: String,
    },

    /// The bytes are not a readable Parquet file (malformed, truncated or unsupported).
    #[error("invalid Parquet data: {message}")]
    Parquet {
        /// What was being done and what went wrong.
        message: String,
        /// The underlying Parquet or Arrow error.
        #[source]
        source: Option<BoxedSource>,
    },

    /// Encoding the table as Parquet failed.
    #[error("writing Parquet failed: {message}")]
    Write {
        /// What went wrong.
        message: String,
        /// The underlying Parquet or Arrow error.
        #[source]
        source: Option<BoxedSource>,
    },

    /// Reading or writing a local file failed.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done (e.g. "opening", "renaming").
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl TableError {
    pub(crate) fn parquet(message: impl Into<String>, source: impl Into<BoxedSource>) -> Self {
        Self::Parquet {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    pub(crate) fn write(message: impl Into<String>, source: impl Into<BoxedSource>) -> Self {
        Self::Write {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// A table that does not match its [`TableFormat`](crate::TableFormat): which format, and what
/// was wrong, naming the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatMismatch {
    /// The format's name, e.g. `float-array-3`.
    pub format: String,
    /// What was wrong.
    pub problem: FormatProblem,
}

/// What made a table not match its format.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatProblem {
    /// The table has the wrong number of columns.
    Width {
        /// The number of columns the format requires (the minimum, for a variable width).
        expected: usize,
        /// Whether the format accepts any width of at least `expected`.
        variable: bool,
        /// The number of columns found.
        found: usize,
    },
    /// A column has the wrong data type.
    ColumnType {
        /// 0-based position of the column.
        index: usize,
        /// The column's name.
        name: String,
        /// The Evo type the format requires (e.g. `float64`).
        expected: String,
        /// The type found: its Evo name when it has one, else the Arrow type.
        found: String,
    },
    /// No known format matches the table's columns.
    NoKnownFormat {
        /// The column types found, joined by `/`.
        found: String,
    },
}

impl fmt::Display for FormatMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "table does not match {}: ", self.format)?;
        match &self.problem {
            FormatProblem::Width {
                expected,
                variable: false,
                found,
            } => write!(f, "expected {expected} columns, found {found}"),
            FormatProblem::Width {
                expected,
                variable: true,
                found,
            } => write!(f, "expected at least {expected} column(s), found {found}"),
            FormatProblem::ColumnType {
                index,
                name,
                expected,
                found,
            } => write!(
                f,
                "column {index} ({name}): expected {expected}, found {found}"
            ),
            FormatProblem::NoKnownFormat { found } => {
                write!(f, "no known table format has the columns {found}")
            }
        }
    }
}

impl std::error::Error for FormatMismatch {}
