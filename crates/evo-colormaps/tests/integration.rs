//! The integration tests of evo-colormaps, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod emulator;
mod fixtures;
mod python_interop;
