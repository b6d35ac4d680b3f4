//! The baseline: the same transfer with bare hyper (hyper-util's pooled client), the same block
//! size, block ids and concurrency, and the same positional file reads and writes, but nothing
//! else: no retries, renewal, resume or response checks beyond the status.
//!
//! Uploads send the same requests as evo-io, `Content-MD5` per block and
//! `x-ms-blob-content-md5` on commit included, so the server does the same work for both sides.
//! The baseline computes those digests the plain way, inside its clock: each block's MD5 in the
//! task that reads it, the whole file's MD5 on a thread that reads the file alongside the upload.
//! A second variant (`wire`) is handed the digests computed before its clock starts, which
//! measures the requests alone.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type HyperClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> HyperClient {
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(32)
        .build(HttpConnector::new())
}

fn with_params(url: &url::Url, params: &str) -> String {
    format!("{url}&{params}")
}

async fn send(
    client: &HyperClient,
    request: http::Request<Full<Bytes>>,
    expect: u16,
) -> Result<Bytes, String> {
    let response = client.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if status.as_u16() != expect {
        return Err(format!("answered {status}"));
    }
    Ok(body)
}

/// The digests an upload sends: base64 MD5 of each block and of the whole file.
pub struct UploadDigests {
    blocks: Vec<String>,
    whole: String,
}

impl UploadDigests {
    /// Reads `path` once, block by block (untimed by the caller).
    pub fn compute(path: &Path, block_size: u64) -> Result<Self, String> {
        use md5::{Digest as _, Md5};
        use std::io::Read as _;
        let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; usize::try_from(block_size).map_err(|e| e.to_string())?];
        let mut whole = Md5::new();
        let mut blocks = Vec::new();
        loop {
            let mut filled = 0;
            while filled < buf.len() {
                match file.read(&mut buf[filled..]).map_err(|e| e.to_string())? {
                    0 => break,
                    n => filled += n,
                }
            }
            if filled == 0 {
                break;
            }
            whole.update(&buf[..filled]);
            blocks.push(STANDARD.encode(Md5::digest(&buf[..filled])));
            if filled < buf.len() {
                break;
            }
        }
        Ok(UploadDigests {
            blocks,
            whole: STANDARD.encode(whole.finalize()),
        })
    }
}

/// Put Block per block (positional reads), then Put Block List. With `precomputed` digests the
/// upload only sends; without, it computes them as it goes.
pub async fn upload(
    url: url::Url,
    path: &Path,
    block_size: u64,
    concurrency: usize,
    precomputed: Option<&UploadDigests>,
) -> Result<(), String> {
    use md5::{Digest as _, Md5};
    let client = client();
    let file = Arc::new(std::fs::File::open(path).map_err(|e| e.to_string())?);
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let whole = match precomputed {
        Some(digests) => WholeMd5::Known(digests.whole.clone()),
        None => {
            let path = path.to_owned();
            WholeMd5::Computing(tokio::task::spawn_blocking(move || whole_file_md5(&path)))
        }
    };
    let count = len.div_ceil(block_size);
    let ids: Vec<String> = (0..count)
        .map(|i| STANDARD.encode(format!("{:032}", i * block_size)))
        .collect();
    stream::iter(0..count)
        .map(|i| {
            let (client, file, url) = (client.clone(), file.clone(), url.clone());
            let id = ids[i as usize].replace('=', "%3D");
            let known_md5 = precomputed.map(|d| d.blocks.get(i as usize).cloned());
            async move {
                let offset = i * block_size;
                let n = block_size.min(len - offset);
                let compute = known_md5.is_none();
                let (data, computed_md5) = tokio::task::spawn_blocking(move || {
                    use std::os::unix::fs::FileExt as _;
                    let mut buf = vec![0u8; n as usize];
                    file.read_exact_at(&mut buf, offset)?;
                    let md5 = compute.then(|| STANDARD.encode(Md5::digest(&buf)));
                    Ok::<_, std::io::Error>((Bytes::from(buf), md5))
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
                let block_md5 = match (known_md5, computed_md5) {
                    (Some(Some(known)), _) => known,
                    (None, Some(computed)) => computed,
                    _ => return Err("the file grew after its digests were computed".to_owned()),
                };
                let request =
                    http::Request::put(with_params(&url, &format!("comp=block&blockid={id}")))
                        .header("content-length", n)
                        .header("content-md5", block_md5)
                        .body(Full::new(data))
                        .map_err(|e| e.to_string())?;
                send(&client, request, 201).await.map(drop)
            }
        })
        .buffer_unordered(concurrency)
        .try_collect::<Vec<()>>()
        .await?;
    let whole = match whole {
        WholeMd5::Known(md5) => md5,
        WholeMd5::Computing(task) => task.await.map_err(|e| e.to_string())??,
    };
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    for id in &ids {
        xml.push_str(&format!("<Latest>{id}</Latest>"));
    }
    xml.push_str("</BlockList>");
    let request = http::Request::put(with_params(&url, "comp=blocklist"))
        .header("content-length", xml.len())
        .header("x-ms-blob-content-md5", whole)
        .body(Full::new(Bytes::from(xml)))
        .map_err(|e| e.to_string())?;
    send(&client, request, 201).await.map(drop)
}

enum WholeMd5 {
    Known(String),
    Computing(tokio::task::JoinHandle<Result<String, String>>),
}

/// The base64 MD5 of a whole file, read sequentially.
fn whole_file_md5(path: &Path) -> Result<String, String> {
    use md5::{Digest as _, Md5};
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 1 << 20];
    let mut md5 = Md5::new();
    loop {
        match file.read(&mut buf).map_err(|e| e.to_string())? {
            0 => return Ok(STANDARD.encode(md5.finalize())),
            n => md5.update(&buf[..n]),
        }
    }
}

/// HEAD for the size, ranged GETs (positional writes), then one fsync.
pub async fn download(
    url: url::Url,
    path: &Path,
    block_size: u64,
    concurrency: usize,
) -> Result<(), String> {
    let client = client();
    let head = http::Request::head(url.as_str())
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let response = client.request(head).await.map_err(|e| e.to_string())?;
    let len: u64 = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .ok_or("HEAD without Content-Length")?;
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    file.set_len(len).map_err(|e| e.to_string())?;
    let file = Arc::new(file);
    stream::iter(0..len.div_ceil(block_size))
        .map(|i| {
            let (client, file, url) = (client.clone(), file.clone(), url.clone());
            async move {
                let offset = i * block_size;
                let last = (offset + block_size).min(len) - 1;
                let request = http::Request::get(url.as_str())
                    .header("range", format!("bytes={offset}-{last}"))
                    .body(Full::new(Bytes::new()))
                    .map_err(|e| e.to_string())?;
                let data = send(&client, request, 206).await?;
                tokio::task::spawn_blocking(move || {
                    use std::os::unix::fs::FileExt as _;
                    file.write_all_at(&data, offset)
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())
            }
        })
        .buffer_unordered(concurrency)
        .try_collect::<Vec<()>>()
        .await?;
    file.sync_all().map_err(|e| e.to_string())
}
