//! Downloading media into the asset folder: a published or transformed asset, written whole
//! or not at all, and not downloaded again while the local file is fresh.

use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use http::Method;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::{Transform, asset_file};
use crate::client::UnicatClient;
use crate::error::Error;

impl UnicatClient {
    /// Downloads an asset's file (published, or transformed when `transform` is given) into the
    /// asset folder at the asset's folder plus the published file name. Skipped when that file
    /// exists and is not older than the asset's `updated_on`. Written to a temporary file and
    /// renamed, so an interrupted download never counts as present; a server pathname that
    /// would leave the asset folder is rejected. Returns the path of the local file.
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
    /// use unicat::Transform;
    ///
    /// let logo = client.with_stores(|s| s.asset_by_pathname("/brand/logo.png").cloned()).unwrap();
    /// // Into the client's asset folder, at the asset's own folder.
    /// let path = client.download(&logo, None).await?;
    /// assert_eq!(path, assets.path().join("brand/logo.png"));
    /// assert!(std::fs::read(&path)?.starts_with(b"\x89PNG"));
    ///
    /// let small = Transform::new().resize_named("fit").width(64.0).height(64.0).image_type("png");
    /// let thumbnail = client.download(&logo, Some(&small)).await?;
    /// assert!(thumbnail.starts_with(assets.path().join("brand")));
    /// # Ok(()) }
    /// ```
    pub async fn download(
        &self,
        asset: &Value,
        transform: Option<&Transform>,
    ) -> Result<PathBuf, Error> {
        let folder = self
            .inner
            .asset_folder
            .clone()
            .ok_or_else(|| Error::InvalidInput("no asset folder configured".to_owned()))?;
        let file = asset_file(asset)?;
        let result = match transform {
            Some(t) => self.dam("transform", &file, &t.options()).await?,
            None => self.dam("publish", &file, &[]).await?,
        };
        let public_url = result
            .get("public_url")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::InvalidResponse {
                status: http::StatusCode::OK,
                reason: "the DAM result has no public_url".to_owned(),
                snippet: result.to_string().chars().take(512).collect(),
            })?;
        let url: url::Url = public_url.parse().map_err(|_| Error::InvalidResponse {
            status: http::StatusCode::OK,
            reason: "the DAM public_url is not a URL".to_owned(),
            snippet: public_url.chars().take(512).collect(),
        })?;
        let name = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .map(|n| {
                percent_encoding::percent_decode_str(n)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Error::InvalidInput("the public_url has no file name".to_owned()))?;
        let dir = match file.pathname.rfind('/') {
            Some(i) => &file.pathname[..i],
            None => "",
        };
        let relative = safe_relative(&format!("{dir}/{name}"))?;
        let target = folder.join(&relative);
        if is_fresh(&target, file.updated_on).await {
            tracing::debug!(path = %target.display(), "the local file is fresh; not downloading");
            return Ok(target);
        }
        let response = self
            .inner
            .connector
            .request_url(Method::GET, url)
            .send()
            .await?;
        let parent = target.parent().unwrap_or(&folder).to_path_buf();
        tokio::fs::create_dir_all(&parent)
            .await
            .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
        let part = parent.join(format!(
            ".{}.{:08x}.part",
            target
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            fastrand::u32(..)
        ));
        let written = write_body(response.into_body(), &part).await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(e);
        }
        tokio::fs::rename(&part, &target).await.map_err(|e| {
            Error::io(
                format!("renaming {} to {}", part.display(), target.display()),
                e,
            )
        })?;
        Ok(target)
    }
}

async fn write_body(body: evo_core::Body, part: &Path) -> Result<(), Error> {
    use futures_util::StreamExt;
    let mut out = tokio::fs::File::create(part)
        .await
        .map_err(|e| Error::io(format!("creating {}", part.display()), e))?;
    let mut stream = body.into_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::io("reading the media download", e))?;
        out.write_all(&chunk)
            .await
            .map_err(|e| Error::io(format!("writing {}", part.display()), e))?;
    }
    out.sync_all()
        .await
        .map_err(|e| Error::io(format!("syncing {}", part.display()), e))?;
    Ok(())
}

/// True when `path` exists and its modification time is at or after `updated_on` (seconds
/// since the epoch); without `updated_on`, existing is enough.
async fn is_fresh(path: &Path, updated_on: Option<f64>) -> bool {
    let Ok(meta) = tokio::fs::metadata(path).await else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let Some(updated) = updated_on.filter(|u| u.is_finite() && *u >= 0.0) else {
        return true;
    };
    let updated = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(updated);
    meta.modified().is_ok_and(|m| m >= updated)
}

/// A server-supplied pathname as a relative path that stays inside the asset folder: leading
/// slashes dropped, `.` skipped, `..`, drive prefixes, backslashes and NULs rejected.
pub(crate) fn safe_relative(pathname: &str) -> Result<PathBuf, Error> {
    let unsafe_path = || Error::InvalidInput(format!("unsafe asset pathname {pathname:?}"));
    if pathname.contains(['\\', '\0', ':']) {
        return Err(unsafe_path());
    }
    let mut out = PathBuf::new();
    for part in pathname.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(unsafe_path()),
            p => out.push(p),
        }
    }
    if out.as_os_str().is_empty() || out.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(unsafe_path());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pathnames_cannot_leave_the_asset_folder() {
        assert_eq!(safe_relative("/a/b.jpg").unwrap(), PathBuf::from("a/b.jpg"));
        assert_eq!(
            safe_relative("//a/./b.jpg").unwrap(),
            PathBuf::from("a/b.jpg")
        );
        for bad in [
            "/../x",
            "a/../../x",
            "..",
            "/",
            "",
            "a\\..\\x",
            "C:/x",
            "a/\0",
        ] {
            assert!(safe_relative(bad).is_err(), "{bad:?}");
        }
    }
}
