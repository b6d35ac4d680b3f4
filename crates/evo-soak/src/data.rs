//! Generated data and memory measurement.

use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Writes `len` pseudo-random bytes drawn from `seed` to `path` and returns their SHA-256.
pub fn write_random_file(path: &Path, len: u64, seed: u64) -> std::io::Result<[u8; 32]> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut hasher = Sha256::new();
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        rng.fill(&mut chunk[..n]);
        hasher.update(&chunk[..n]);
        file.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(hasher.finalize().into())
}

/// The SHA-256 of a file's content.
pub(crate) fn sha256_file(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hasher.finalize().into())
}

/// The peak resident memory of this process so far, in bytes (`VmHWM`; `None` where
/// `/proc/self/status` does not exist).
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
