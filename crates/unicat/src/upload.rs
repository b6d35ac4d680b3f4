//! Multipart uploads, with Unicat's 10 MB limit checked before anything is sent.

use std::path::Path;

use bytes::{BufMut, Bytes, BytesMut};
use evo_core::Body;
use http::Method;
use serde_json::Value;

use crate::client::{Snapshot, UnicatClient};
use crate::error::Error;

/// The largest file Unicat accepts (10,000,000 bytes).
pub const MAX_UPLOAD_BYTES: u64 = 10_000_000;

impl UnicatClient {
    /// Uploads the file at `path` to a project endpoint (e.g. `/assets/upload`) as the multipart
    /// field `upload_file`, with `params` (an object) as form fields. A file over
    /// [`MAX_UPLOAD_BYTES`] fails with [`Error::PayloadTooLarge`] before anything is sent; a
    /// server 413 maps to the same error.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = unicat_emulator::UnicatEmulator::start().await?;
    /// # let (base_url, project) = (server.base_url().parse()?, server.project());
    /// # let (api_key, record) = (unicat_emulator::DEMO_API_KEY, unicat_emulator::DEMO_RECORD);
    /// # let assets = tempfile::tempdir()?;
    /// # let client = unicat::UnicatClient::builder(base_url, project)
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .asset_folder(assets.path())
    /// #     .build()?;
    /// // `client`: a client of a local Unicat server's demo project; `api_key`, `record`: its
    /// // secret API key and a record's gid.
    /// # client.connect(api_key).await?;
    /// let local = assets.path().join("spec-sheet.pdf");
    /// std::fs::write(&local, b"%PDF-1.7")?;
    /// let result = client
    ///     .upload_file("/assets/upload", &serde_json::json!({"folder": "docs"}), &local)
    ///     .await?;
    /// let gid = result["asset"].as_str().unwrap();
    /// assert_eq!(client.with_stores(|s| s.asset(gid).unwrap()["size"].clone()), 8);
    /// # Ok(()) }
    /// ```
    pub async fn upload_file(
        &self,
        endpoint: &str,
        params: &Value,
        path: &Path,
    ) -> Result<Value, Error> {
        let shown = path.display().to_string();
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| Error::io(format!("reading {shown}"), e))?
            .len();
        check_size(&shown, size)?;
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| Error::io(format!("reading {shown}"), e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "upload".to_owned());
        self.upload_bytes(endpoint, params, &name, Bytes::from(bytes))
            .await
    }

    /// As [`upload_file`](Self::upload_file), with the content in memory under `filename`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = unicat_emulator::UnicatEmulator::start().await?;
    /// # let (base_url, project) = (server.base_url().parse()?, server.project());
    /// # let (api_key, record) = (unicat_emulator::DEMO_API_KEY, unicat_emulator::DEMO_RECORD);
    /// # let assets = tempfile::tempdir()?;
    /// # let client = unicat::UnicatClient::builder(base_url, project)
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .asset_folder(assets.path())
    /// #     .build()?;
    /// // `client`: a client of a local Unicat server's demo project; `api_key`, `record`: its
    /// // secret API key and a record's gid.
    /// # client.connect(api_key).await?;
    /// let result = client
    ///     .upload_bytes("/assets/upload", &serde_json::json!({"folder": "docs"}), "notes.txt", "hello".into())
    ///     .await?;
    /// let gid = result["asset"].as_str().unwrap().to_owned();
    /// assert!(client.with_stores(|s| s.asset_by_pathname("/docs/notes.txt").is_some_and(|a| a["gid"] == gid.as_str())));
    /// # Ok(()) }
    /// ```
    pub async fn upload_bytes(
        &self,
        endpoint: &str,
        params: &Value,
        filename: &str,
        content: Bytes,
    ) -> Result<Value, Error> {
        let size = content.len() as u64;
        check_size(filename, size)?;
        if endpoint.starts_with("//") {
            return Err(Error::InvalidInput(
                "uploads go to the project API (an endpoint starting with a single '/')".to_owned(),
            ));
        }
        let path = self.api_path(endpoint)?;
        let fields = params.as_object().cloned().unwrap_or_default();
        let boundary = format!(
            "unicat-rs-{:016x}{:016x}",
            fastrand::u64(..),
            fastrand::u64(..)
        );
        let mut body = BytesMut::with_capacity(content.len() + 1024);
        for (name, value) in &fields {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            body.put_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{text}\r\n",
                    quote(name)
                )
                .as_bytes(),
            );
        }
        body.put_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"upload_file\"; \
                 filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                quote(filename)
            )
            .as_bytes(),
        );
        body.put_slice(&content);
        body.put_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let (body, content_type) = (
            body.freeze(),
            format!("multipart/form-data; boundary={boundary}"),
        );
        let sent = self
            .with_reauth(|| async {
                let response = self
                    .inner
                    .connector
                    .request(Method::POST, &path)
                    .body(Body::from_bytes(body.clone()), Some(&content_type))
                    .send_unchecked()
                    .await?;
                self.read_envelope(response, Snapshot::Merge).await
            })
            .await;
        match sent {
            Err(Error::Unicat { code: 413, .. }) => Err(Error::PayloadTooLarge {
                what: filename.to_owned(),
                size,
                limit: MAX_UPLOAD_BYTES,
            }),
            other => other,
        }
    }
}

fn check_size(what: &str, size: u64) -> Result<(), Error> {
    if size > MAX_UPLOAD_BYTES {
        return Err(Error::PayloadTooLarge {
            what: what.to_owned(),
            size,
            limit: MAX_UPLOAD_BYTES,
        });
    }
    Ok(())
}

/// A header parameter value: quotes and line breaks escaped so a name cannot break the part.
fn quote(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace(['\r', '\n'], " ")
}
