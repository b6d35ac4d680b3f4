//! Workspace thumbnails: image format detection and the size limit.

use evo_core::bytes::Bytes;

/// The largest thumbnail the service accepts (10 MB), checked before anything is sent.
pub const MAX_THUMBNAIL_BYTES: usize = 10 * 1024 * 1024;

/// The image formats a thumbnail can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    /// JPEG (starts with `FF D8 FF`).
    Jpeg,
    /// PNG (starts with the 8-byte PNG signature).
    Png,
}

impl ImageFormat {
    /// Detects the format from the first bytes of an image.
    pub fn detect(bytes: &[u8]) -> Option<ImageFormat> {
        const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.starts_with(PNG) {
            Some(ImageFormat::Png)
        } else {
            None
        }
    }

    /// The media type, `image/jpeg` or `image/png`.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
        }
    }
}

/// A workspace's thumbnail as downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Thumbnail {
    /// The format found in the image bytes (not trusted from the `Content-Type`).
    pub format: Option<ImageFormat>,
    /// The `Content-Type` the server sent.
    pub content_type: Option<String>,
    /// The image.
    pub data: Bytes,
}

/// Checks a thumbnail before upload: not empty, at most [`MAX_THUMBNAIL_BYTES`], PNG or JPEG.
pub(crate) fn check_upload(image: &[u8]) -> Result<ImageFormat, evo_core::Error> {
    if image.len() > MAX_THUMBNAIL_BYTES {
        return Err(evo_core::Error::invalid_request(format!(
            "the thumbnail is {} bytes; the limit is {MAX_THUMBNAIL_BYTES} bytes (10 MB)",
            image.len()
        )));
    }
    ImageFormat::detect(image).ok_or_else(|| {
        evo_core::Error::invalid_request(
            "the thumbnail is neither a PNG nor a JPEG image (checked from its first bytes)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        assert_eq!(
            ImageFormat::detect(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(
            ImageFormat::detect(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Some(ImageFormat::Png)
        );
        assert_eq!(ImageFormat::detect(b"GIF89a"), None);
        assert_eq!(ImageFormat::detect(&[0xFF, 0xD8]), None);
        assert_eq!(ImageFormat::Png.content_type(), "image/png");
    }

    #[test]
    fn upload_checks() {
        let mut big = vec![0xFF, 0xD8, 0xFF];
        big.resize(MAX_THUMBNAIL_BYTES, 0);
        assert_eq!(check_upload(&big).unwrap(), ImageFormat::Jpeg);
        big.push(0);
        let err = check_upload(&big).unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
        assert!(check_upload(b"").is_err());
        assert!(check_upload(b"not an image").is_err());
    }
}
