//! Checksums of request bodies, as Azure computes them: MD5 (`Content-MD5`) and Azure Storage's
//! CRC-64 (`x-ms-content-crc64`: the reflected polynomial 0x9A6C9329AC4BC9B5 with all-ones
//! initial value and final XOR, which is the CRC-64/NVME of the CRC catalogue; sent as the 8
//! little-endian bytes in base64).
//!
//! For service versions from 2019-02-02, Azure computes a Put Block's MD5 only when the request
//! carries `Content-MD5`, and its CRC-64 otherwise (and when asked); the emulator does the same.

use md5::{Digest, Md5};

use super::error::StoreError;

/// The checksums a request claims for its body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Expected {
    /// `Content-MD5`.
    pub(crate) md5: Option<[u8; 16]>,
    /// `x-ms-content-crc64`.
    pub(crate) crc64: Option<u64>,
}

/// The checksums the store computed over a body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Computed {
    pub(crate) md5: Option<[u8; 16]>,
    pub(crate) crc64: Option<u64>,
}

/// Hashes a body as it streams in.
pub(crate) struct Hasher {
    md5: Option<Md5>,
    crc64: Option<crc_fast::Digest>,
}

impl Hasher {
    /// Computes the MD5 when `md5`, Azure's CRC-64 when `crc64`.
    pub(crate) fn new(md5: bool, crc64: bool) -> Self {
        Hasher {
            md5: md5.then(Md5::new),
            crc64: crc64.then(|| crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme)),
        }
    }

    /// What a Put Block computes for these claims: the MD5 when one is claimed, the CRC-64
    /// when one is claimed or no MD5 is.
    pub(crate) fn for_block(expected: &Expected) -> Self {
        Hasher::new(
            expected.md5.is_some(),
            expected.crc64.is_some() || expected.md5.is_none(),
        )
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        if let Some(m) = &mut self.md5 {
            m.update(data);
        }
        if let Some(c) = &mut self.crc64 {
            c.update(data);
        }
    }

    pub(crate) fn finish(self) -> Computed {
        Computed {
            md5: self.md5.map(|m| m.finalize().into()),
            crc64: self.crc64.map(|c| c.finalize()),
        }
    }
}

impl Computed {
    /// A claimed checksum that differs from the computed one is Azure's 400 `Md5Mismatch` or
    /// `Crc64Mismatch`.
    pub(crate) fn check(&self, expected: &Expected) -> Result<(), StoreError> {
        if let (Some(claimed), Some(computed)) = (expected.md5, self.md5) {
            if claimed != computed {
                return Err(StoreError::new(
                    400,
                    "Md5Mismatch",
                    "The MD5 value specified in the request did not match with the MD5 value calculated by the server.",
                ));
            }
        }
        if let (Some(claimed), Some(computed)) = (expected.crc64, self.crc64) {
            if claimed != computed {
                return Err(StoreError::new(
                    400,
                    "Crc64Mismatch",
                    "The CRC64 value specified in the request did not match with the CRC64 value calculated by the server.",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc64(data: &[u8]) -> u64 {
        crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, data)
    }

    /// Azure's CRC-64 written out bit by bit from its definition (reflected polynomial
    /// 0x9A6C9329AC4BC9B5, the CRC inverted before and after), as Azure Storage's reference
    /// implementations compute it.
    fn azure_crc64_bitwise(data: &[u8]) -> u64 {
        let mut crc = !0u64;
        for &b in data {
            crc ^= u64::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0x9A6C_9329_AC4B_C9B5
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn the_crc_is_azures_crc64() {
        // The catalogue's check value of CRC-64/NVME for "123456789".
        assert_eq!(crc64(b"123456789"), 0xAE8B_1486_0A79_9888);
        assert_eq!(azure_crc64_bitwise(b"123456789"), 0xAE8B_1486_0A79_9888);
        assert_eq!(crc64(b""), 0);
        let data: Vec<u8> = (0..100_003u32).map(|i| (i * 7 % 256) as u8).collect();
        assert_eq!(crc64(&data), azure_crc64_bitwise(&data));
    }

    #[test]
    fn mismatches_are_azures_errors() {
        let mut h = Hasher::for_block(&Expected::default());
        h.update(b"abc");
        let computed = h.finish();
        assert!(computed.md5.is_none(), "no MD5 unless asked");
        assert_eq!(computed.crc64, Some(crc64(b"abc")));
        let wrong = Expected {
            md5: None,
            crc64: Some(crc64(b"abd")),
        };
        assert_eq!(computed.check(&wrong).unwrap_err().code, "Crc64Mismatch");
        let right = Expected {
            md5: None,
            crc64: Some(crc64(b"abc")),
        };
        assert!(computed.check(&right).is_ok());
    }
}
