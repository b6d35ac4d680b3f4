//! The integration tests of evo-objects, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod common;

mod emulator;
mod fixtures;
mod python_interop;
mod reference_props;
mod scripted;
mod spatial;
mod spatial_emulator;
mod typed_objects;
