//! [`BoxError`]: an error from another library, kept as the `source()` of an evo-core error.

/// A boxed error from another library, kept as the `source()` of an evo-core error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
