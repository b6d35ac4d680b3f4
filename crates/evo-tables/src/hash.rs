//! SHA-256 names: computed while writing, and checked by streaming a file.

use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::TableError;
use crate::info::is_sha256_name;

/// A writer that hashes and counts every byte it passes on.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    /// The wrapped writer, the lowercase hex SHA-256 and the count of the bytes written.
    pub(crate) fn finish(self) -> (W, String, u64) {
        (
            self.inner,
            hex::encode(self.hasher.finalize()),
            self.written,
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The lowercase hex SHA-256 of everything `reader` yields, read in bounded blocks.
pub fn sha256_of_reader(mut reader: impl Read) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 256 * 1024];
    loop {
        match reader.read(&mut block) {
            Ok(0) => break,
            Ok(n) => hasher.update(&block[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The lowercase hex SHA-256 of some bytes.
pub fn sha256_of_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The lowercase hex SHA-256 of a file, streamed (bounded memory).
pub fn sha256_file(path: impl AsRef<Path>) -> Result<String, TableError> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| TableError::io("opening", path, e))?;
    sha256_of_reader(io::BufReader::new(file)).map_err(|e| TableError::io("reading", path, e))
}

/// Checks that a file's SHA-256 is `expected_name` (64 hex digits, either case), streaming the
/// file. A corrupted or foreign file is [`TableError::Sha256Mismatch`].
pub fn verify_sha256(path: impl AsRef<Path>, expected_name: &str) -> Result<(), TableError> {
    if !is_sha256_name(expected_name) {
        return Err(TableError::InvalidDataId(expected_name.to_owned()));
    }
    let actual = sha256_file(path)?;
    if actual.eq_ignore_ascii_case(expected_name) {
        Ok(())
    } else {
        Err(TableError::Sha256Mismatch {
            expected: expected_name.to_ascii_lowercase(),
            actual,
        })
    }
}
