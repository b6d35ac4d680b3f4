//! The integration tests of evo-hyper, one module per file, built as one test binary
//! (one link and one copy of the dependencies' generic code instead of one per file).

mod common;

mod connector;
mod large_body;
mod proxies;
mod tls_proxy;
