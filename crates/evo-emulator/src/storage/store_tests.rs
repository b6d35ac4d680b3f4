//! Tests of the blob store's own entry points.

use super::*;

/// A blob the service writes in segments reads back whole, in memory and in files, with
/// the MD5 it was given, and counts as nothing received from a client.
#[tokio::test]
async fn a_service_blob_reads_back_whole_with_its_md5() {
    let folder = tempfile::tempdir().expect("temporary folder");
    for storage in [
        BlobStorage::Memory,
        BlobStorage::Folder(folder.path().to_owned()),
    ] {
        let store = BlobStore::new(&storage, std::time::Duration::from_secs(60)).expect("store");
        let segments = vec![Bytes::from_static(b"abc"), Bytes::from_static(b"defgh")];
        let props = store
            .put_service_blob("c/result", segments, [7; 16], None)
            .await
            .expect("stored");
        assert_eq!(props.size, 8);
        use base64::Engine as _;
        let md5 = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
        assert_eq!(props.content_md5.as_deref(), Some(md5.as_str()));
        let read: Vec<Bytes> = store
            .read("c/result", &props.etag, 2, 7)
            .expect("readable")
            .map(|chunk| chunk.expect("chunk"))
            .collect()
            .await;
        assert_eq!(read.concat(), b"cdefg", "{storage:?}");
        assert_eq!(store.bytes_received(""), 0, "{storage:?}");
    }
}
