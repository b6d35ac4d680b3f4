//! Blob bytes and pre-signed URLs, shared by the services that hand out blob URLs (the File API,
//! the Object API) and the blob service that answers them, none of which imports another.
//!
//! * [`store`]: block-blob storage, in memory or in a folder;
//! * [`block_file`]: the folder store's block files, written and read off the runtime;
//! * [`sas`]: signing and checking pre-signed URLs;
//! * [`checksum`]: MD5 and Azure's CRC-64 of request bodies;
//! * [`error`]: the Azure-style error both answer with.

mod block_file;
pub(crate) mod checksum;
pub(crate) mod error;
pub(crate) mod sas;
pub(crate) mod store;
