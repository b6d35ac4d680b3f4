//! Which checksums an upload computes, sends and stores.

/// The checksums of an upload: set per client with
/// [`BlobClientBuilder::integrity`](crate::BlobClientBuilder::integrity) or per upload with
/// [`Upload::integrity`](crate::Upload::integrity).
///
/// | | per block (`Put Block`) | stored with the blob | cost |
/// |---|---|---|---|
/// | [`Crc64`](Integrity::Crc64) (default) | `x-ms-content-crc64` | metadata `evo_crc64` | each block in its own task, in parallel |
/// | [`Md5`](Integrity::Md5) | `Content-MD5` | `Content-MD5` property | every byte twice through MD5, in block order |
/// | [`Both`](Integrity::Both) | `x-ms-content-crc64` | both | the CRC-64 in parallel, the whole-blob MD5 in block order |
///
/// Azure checks each block against its header and refuses a mismatch (`400 Crc64Mismatch` or
/// `Md5Mismatch`; a refused block is sent again, and a commit never names it). Azure keeps no
/// checksum of a blob committed from blocks, so the whole-blob CRC-64 is combined from the
/// block CRCs (no second pass over the data) and stored as the blob's metadata `evo_crc64`
/// (`x-ms-meta-evo_crc64`, the 8 little-endian bytes in base64, as `x-ms-content-crc64`); a
/// [download](crate::Download::verify_crc64) checks it. Choose [`Md5`](Integrity::Md5) or
/// [`Both`](Integrity::Both) when a reader needs the blob's `Content-MD5` property (other SDKs
/// and tools verify that one).
///
/// Azure reads `x-ms-content-crc64` from service version 2019-02-02. evo-io sends no
/// `x-ms-version`, so the SAS URL's signed version (`sv`) decides; an older one would ignore
/// the header, leaving the whole-blob check of the metadata.
///
/// Azurite (3.35, Microsoft's storage emulator) accepts `x-ms-content-crc64` without checking
/// it, and keeps the metadata: there a block damaged on the way is committed, and the download
/// check is what reports it. The evo-emulator checks it as Azure does.
///
/// A `Put Blob` (a small source) sends `x-ms-content-crc64` with [`Crc64`](Integrity::Crc64)
/// and `Content-MD5` otherwise (Azure refuses a request that carries both), and stores the same
/// metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Integrity {
    /// Azure's CRC-64 per block, and the combined CRC-64 of the blob in its metadata.
    #[default]
    Crc64,
    /// MD5 per block (`Content-MD5`), and the blob's MD5 as its `Content-MD5` property
    /// (`x-ms-blob-content-md5`): the behaviour before CRC-64 became the default.
    Md5,
    /// CRC-64 per block; the blob's MD5 as its `Content-MD5` property and its CRC-64 in its
    /// metadata.
    Both,
}

impl Integrity {
    /// Whether the whole-blob MD5 is computed.
    pub(crate) fn md5(self) -> bool {
        matches!(self, Integrity::Md5 | Integrity::Both)
    }

    /// Whether blocks carry CRC-64 and the blob its combined CRC-64.
    pub(crate) fn crc64(self) -> bool {
        matches!(self, Integrity::Crc64 | Integrity::Both)
    }
}

/// The checksum header of one `Put Block` or `Put Blob` (never both kinds: Azure refuses a
/// request with `Content-MD5` and `x-ms-content-crc64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockCheck {
    Md5([u8; 16]),
    Crc64(u64),
}

impl BlockCheck {
    /// The header's name and value.
    pub(crate) fn header(self) -> (&'static str, String) {
        use base64::Engine as _;
        match self {
            BlockCheck::Md5(md5) => (
                "content-md5",
                base64::engine::general_purpose::STANDARD.encode(md5),
            ),
            BlockCheck::Crc64(crc) => (crate::crc64::CONTENT_HEADER, crate::crc64::to_header(crc)),
        }
    }
}
