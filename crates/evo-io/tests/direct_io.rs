//! Uploads reading their files and downloads writing them past the page cache (`O_DIRECT` on
//! Linux): the same bytes as ordinary reads and writes, and used only where they help.

use crate::support;

use evo_emulator::{BlobStorage, Emulator};
use evo_io::{BlobClient, BlobDigest, Destination};
use md5::Digest as _;
use support::*;

const MIB: usize = 1 << 20;

/// An emulator keeping its blobs in memory.
async fn memory_emulator() -> Emulator {
    Emulator::builder()
        .blob_storage(BlobStorage::Memory)
        .start()
        .await
        .unwrap()
}

/// A client that stages every upload in 1 MiB blocks and fetches 1 MiB ranges, 4 at a time.
fn one_mib_blocks() -> BlobClient {
    BlobClient::builder(HyperTransport::shared())
        .block_size(MIB as u64)
        .single_put_max(0)
        .concurrency(4)
        .adaptive(false)
        .build()
}

/// A blob of 9 MiB and a few bytes in 1 MiB ranges: with the defaults every whole range goes
/// past the page cache (on Linux, in the target folder's file system, which takes direct
/// I/O) and the few bytes of the last one through it; turned off, or with a digest checked
/// by reading the file back, nothing does. The file is the blob every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_go_past_the_page_cache_only_where_that_helps() {
    let emu = memory_emulator().await;
    let bytes = data(9 * MIB + 1234, 7);
    let client = one_mib_blocks();
    let url = emu.blob_url("evo-io", "direct.bin", "rcw");
    client
        .upload(url.clone(), evo_io::Source::bytes(bytes.clone()))
        .resume(false)
        .await
        .unwrap();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let md5 = BlobDigest::Md5(md5::Md5::digest(&bytes).into());
    let cases = [
        ("defaults", None, None, cfg!(target_os = "linux")),
        ("turned off", Some(false), None, false),
        ("digest read back", Some(true), Some(md5), false),
    ];
    for (name, direct, digest, expect_direct) in cases {
        let path = dir.path().join(format!("{name}.bin"));
        let mut download = client.download(url.clone(), Destination::file(&path));
        if let Some(direct) = direct {
            download = download.direct_writes(direct);
        }
        if let Some(d) = digest {
            download = download.expect_digest(d);
        }
        let report = download.await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = if expect_direct { 9 * MIB as u64 } else { 0 };
        assert_eq!(report.direct_bytes, want, "{name}");
        assert!(
            std::fs::read(&path).unwrap() == bytes,
            "{name}: the file is the blob"
        );
    }
}

/// A file of 9 MiB and a few bytes uploaded in 1 MiB blocks: with the defaults every whole
/// block is read past the page cache (on Linux, in the target folder's file system) and the
/// few bytes of the last one through it, from a file just written (its bytes still in the
/// cache); turned off, nothing is. The blob is the file every time: its CRC-64 and its bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_read_whole_blocks_past_the_page_cache() {
    let emu = memory_emulator().await;
    let bytes = data(9 * MIB + 1234, 11);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("source.bin");
    std::fs::write(&path, &bytes).unwrap();
    let client = one_mib_blocks();
    for (name, direct, expect_direct) in [
        ("defaults", None, cfg!(target_os = "linux")),
        ("turned off", Some(false), false),
    ] {
        let url = emu.blob_url("evo-io", &format!("{name}.bin"), "rcw");
        let mut upload = client
            .upload(url.clone(), evo_io::Source::file(&path))
            .resume(false);
        if let Some(direct) = direct {
            upload = upload.direct_reads(direct);
        }
        let report = upload.await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = if expect_direct { 9 * MIB as u64 } else { 0 };
        assert_eq!(report.direct_bytes, want, "{name}");
        assert_eq!(report.crc64, Some(azure_crc64(&bytes)), "{name}");
        let blob = client
            .download(url, Destination::memory())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .into_bytes();
        assert!(blob == bytes, "{name}: the blob is the file");
    }
}
