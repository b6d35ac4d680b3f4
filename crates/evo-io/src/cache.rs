//! Downloads into evo-core's [`Cache`]: published only complete and verified, one download per
//! file at a time, names from the server kept inside the cache folder.

use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use evo_core::{Cache, Environment, Feedback};
use url::Url;

use crate::client::{BlobClient, Destination};
use crate::digest::{BlobDigest, check, hash_file};
use crate::download::target_lock;
use crate::error::{Error, ErrorKind, Step, join_error};
use crate::url::RenewUrl;

/// A download into the cache, to set up and then await. Made by
/// [`BlobClient::download_to_cache`]; resolves to the cached file's path.
#[must_use = "a download does nothing until it is awaited"]
pub struct CachedDownload<'a> {
    client: &'a BlobClient,
    target: Result<PathBuf, Error>,
    url: Url,
    renewer: Option<Arc<dyn RenewUrl + 'static>>,
    feedback: Option<&'a dyn Feedback>,
    expected: Option<BlobDigest>,
}

impl BlobClient {
    /// Downloads the blob at `url` into `cache` as `<root>/<org>/<workspace>/<scope>/<name>`,
    /// unless it is there already.
    ///
    /// `name` may come from a server: anything that could leave the folder (`..`, absolute
    /// paths, separators, NUL) is refused. A file appears under its name only complete (and
    /// verified, when a digest is expected), so an existing file is reused; with an expected
    /// digest it is checked first and fetched again on a mismatch. Concurrent requests for the
    /// same file in this process wait for the first instead of downloading it twice.
    pub fn download_to_cache<'a>(
        &'a self,
        cache: &Cache,
        environment: &Environment,
        scope: &str,
        name: &str,
        url: Url,
    ) -> CachedDownload<'a> {
        let target = cache
            .file_path(environment, scope, name)
            .map_err(|e| Error::from_core(Step::Prepare, e).with_kind(ErrorKind::InvalidInput));
        CachedDownload {
            client: self,
            target,
            url,
            renewer: None,
            feedback: None,
            expected: None,
        }
    }
}

impl<'a> CachedDownload<'a> {
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

    async fn run(self) -> Result<PathBuf, Error> {
        let target = self.target?;
        let lock = target_lock(&target);
        let _guard = lock.lock().await;
        if target.is_file() {
            let Some(expected) = &self.expected else {
                return Ok(target);
            };
            let (path, like) = (target.clone(), expected.clone());
            let actual = tokio::task::spawn_blocking(move || hash_file(&path, &like))
                .await
                .map_err(|e| join_error(Step::Verify, e))??;
            if check(expected, &actual).is_ok() {
                return Ok(target);
            }
            tracing::warn!(path = %target.display(), "cached file does not match its digest; downloading it again");
        }
        let mut download = self
            .client
            .download(self.url, Destination::file(target.clone()))
            .overwrite(true)
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
        download.await?;
        Ok(target)
    }
}

impl<'a> IntoFuture for CachedDownload<'a> {
    type Output = Result<PathBuf, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
