//! Nothing here: the project is its test, `tests/getting_started.rs`.
