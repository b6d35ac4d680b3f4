//! What the caller knows of the blob before the download (its size, its version) checked
//! against what the server says, before a byte is fetched, and against what arrived.

use super::fetch::Job;
use super::probe::Probe;
use crate::error::{Error, ErrorKind, Step};

impl Job {
    /// Checks the server's claims (size, ETag) against what the caller expects. Claims the
    /// server does not make are checked later (the size, by [`Job::check_size`]) or not at
    /// all (an ETag).
    pub(super) fn check_claims(&self, probe: &Probe) -> Result<(), Error> {
        if let Some(size) = probe.size {
            self.check_size(size)?;
        }
        if let (Some(expected), Some(got)) = (&self.expected_etag, &probe.etag) {
            let (expected, got) = (unquoted(expected), unquoted(got));
            if !expected.is_empty() && !got.is_empty() && expected != got {
                return Err(Error::new(
                    ErrorKind::Changed,
                    Step::Probe,
                    format!("the blob is version {got:?}, not the expected version {expected:?}"),
                ));
            }
        }
        Ok(())
    }

    /// Checks a size (claimed, or of the bytes that arrived) against the expected one.
    pub(super) fn check_size(&self, size: u64) -> Result<(), Error> {
        match self.expected_size {
            Some(expected) if expected != size => Err(Error::new(
                ErrorKind::Integrity,
                Step::Verify,
                format!("the blob holds {size} bytes, not the expected {expected} bytes"),
            )),
            _ => Ok(()),
        }
    }
}

/// An ETag without its quotes (servers differ in sending them).
fn unquoted(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}
