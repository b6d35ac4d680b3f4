//! The integration tests of evo-blockmodels, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod common;

mod columns;
mod failures;
mod models;
mod python_interop;
mod query;
mod reports;
mod reports_fixture;
mod reports_policies_and_failures;
