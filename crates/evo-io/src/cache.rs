//! Downloads into evo-core's [`Cache`]: published only complete and verified, one download per
//! file at a time, names (and sub-folders) from the server kept inside the cache folder.

use std::future::{Future, IntoFuture};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use evo_core::{Cache, Environment, Feedback};
use url::Url;

use crate::client::BlobClient;
use crate::digest::{BlobDigest, check, hash_file};
use crate::download::Destination;
use crate::download::target_lock;
use crate::error::{Error, ErrorKind, Step, join_error};
use crate::url::RenewUrl;

/// A download into the cache, to set up and then await. Made by
/// [`BlobClient::download_to_cache`]; resolves to the cached file's path.
#[must_use = "a download does nothing until it is awaited"]
pub struct CachedDownload<'a> {
    client: &'a BlobClient,
    /// The folder the file goes into (the scope's, or a sub-folder of it).
    folder: Result<PathBuf, Error>,
    name: String,
    url: Url,
    renewer: Option<Arc<dyn RenewUrl + 'static>>,
    feedback: Option<&'a dyn Feedback>,
    expected: Option<BlobDigest>,
    expected_size: Option<u64>,
    expected_etag: Option<String>,
}

impl BlobClient {
    /// Downloads the blob at `url` into `cache` as `<root>/<org>/<workspace>/<scope>/<name>`,
    /// unless it is there already.
    ///
    /// `name` may come from a server: anything that could leave the folder (`..`, absolute
    /// paths, separators, NUL) is refused. A file appears under its name only complete (and
    /// verified, when a digest or size is expected), so an existing file is reused; with an
    /// expected size or digest it is checked first and fetched again on a mismatch. Concurrent
    /// requests for the same file in this process wait for the first instead of downloading it
    /// twice. [`CachedDownload::in_folder`] files it deeper, for keys of more than a name.
    pub fn download_to_cache<'a>(
        &'a self,
        cache: &Cache,
        environment: &Environment,
        scope: &str,
        name: &str,
        url: Url,
    ) -> CachedDownload<'a> {
        let folder = cache.location(environment, scope).map_err(invalid);
        CachedDownload {
            client: self,
            folder,
            name: name.to_owned(),
            url,
            renewer: None,
            feedback: None,
            expected: None,
            expected_size: None,
            expected_etag: None,
        }
    }
}

impl<'a> CachedDownload<'a> {
    /// Puts the file in the sub-folder `segment` of where it would go (called again, in a
    /// sub-folder of that): `<scope>/<segment>/…/<name>`, for files whose name alone does not
    /// identify them (a file id and a version, say). `segment` may come from a server and is
    /// checked like a name.
    pub fn in_folder(mut self, segment: &str) -> Self {
        self.folder = self
            .folder
            .and_then(|folder| evo_core::cache::safe_join(&folder, segment).map_err(invalid));
        self
    }

    /// Called for a fresh URL when the current one is refused (401/403).
    pub fn renew_with(mut self, renewer: impl RenewUrl + 'static) -> Self {
        self.renewer = Some(Arc::new(renewer));
        self
    }

    /// Receives byte-based progress.
    pub fn feedback(mut self, feedback: &'a dyn Feedback) -> Self {
        self.feedback = Some(feedback);
        self
    }

    /// Verifies the file (downloaded or already cached) against this digest.
    pub fn expect_digest(mut self, digest: BlobDigest) -> Self {
        self.expected = Some(digest);
        self
    }

    /// Verifies the file's size (downloaded or already cached): a cached file of another size
    /// is fetched again (see [`Download::expect_size`](crate::Download::expect_size)).
    pub fn expect_size(mut self, size: u64) -> Self {
        self.expected_size = Some(size);
        self
    }

    /// Verifies the version of the blob downloaded (see
    /// [`Download::expect_etag`](crate::Download::expect_etag)). A file already cached is
    /// not checked: the blob is not asked for.
    pub fn expect_etag(mut self, etag: impl Into<String>) -> Self {
        self.expected_etag = Some(etag.into());
        self
    }

    async fn run(self) -> Result<PathBuf, Error> {
        let folder = self.folder?;
        let target = evo_core::cache::safe_join(&folder, &self.name).map_err(invalid)?;
        tokio::fs::create_dir_all(&folder).await.map_err(|e| {
            Error::local(Step::Prepare, format!("creating {}", folder.display()), e)
        })?;
        let lock = target_lock(&target);
        let _guard = lock.lock().await;
        if is_complete(&target, self.expected_size, self.expected.as_ref()).await? {
            return Ok(target);
        }
        if target.exists() {
            tracing::warn!(path = %target.display(), "cached file does not match its size or digest; downloading it again");
        }
        let mut download = self
            .client
            .download(self.url, Destination::file(target.clone()))
            .overwrite(true)
            // A cached file is read again soon: from the page cache, not the device.
            .direct_writes(false)
            .target_already_locked();
        if let Some(r) = self.renewer {
            download = download.renew_with_shared(r);
        }
        if let Some(f) = self.feedback {
            download = download.feedback(f);
        }
        if let Some(d) = self.expected {
            download = download.expect_digest(d);
        }
        if let Some(size) = self.expected_size {
            download = download.expect_size(size);
        }
        if let Some(etag) = self.expected_etag {
            download = download.expect_etag(etag);
        }
        download.await?;
        Ok(target)
    }
}

/// True when the cached file at `target` is complete: its size and digest, when expected,
/// match.
async fn is_complete(
    target: &Path,
    size: Option<u64>,
    digest: Option<&BlobDigest>,
) -> Result<bool, Error> {
    let Ok(found) = tokio::fs::metadata(target).await else {
        return Ok(false);
    };
    if !found.is_file() || size.is_some_and(|size| size != found.len()) {
        return Ok(false);
    }
    let Some(expected) = digest else {
        return Ok(true);
    };
    let (path, like) = (target.to_path_buf(), expected.clone());
    let actual = tokio::task::spawn_blocking(move || hash_file(&path, &like))
        .await
        .map_err(|e| join_error(Step::Verify, e))??;
    Ok(check(expected, &actual).is_ok())
}

/// A name or folder the cache refuses.
fn invalid(e: evo_core::Error) -> Error {
    Error::from_core(Step::Prepare, e).with_kind(ErrorKind::InvalidInput)
}

impl<'a> IntoFuture for CachedDownload<'a> {
    type Output = Result<PathBuf, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
