//! Pre-signed blob URLs and their renewal.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use url::Url;

use crate::error::{Error, ErrorKind, Step};

/// Obtains a fresh pre-signed URL for the same blob when the current one is refused (401/403),
/// for example by asking the File API again (`GET /files/{id}?version_id=` for a download,
/// `PUT /files/{id}?version_id=` for an upload).
///
/// Any async closure `Fn() -> impl Future<Output = Result<Url, evo_core::Error>>` is one.
/// Parallel blocks that are refused at the same time share one call.
#[async_trait]
pub trait RenewUrl: Send + Sync {
    /// Returns a new URL for the same blob.
    async fn renew(&self) -> Result<Url, evo_core::Error>;
}

#[async_trait]
impl<F, Fut> RenewUrl for F
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<Url, evo_core::Error>> + Send,
{
    async fn renew(&self) -> Result<Url, evo_core::Error> {
        self().await
    }
}

struct Current {
    url: Url,
    generation: u64,
    obtained: Instant,
}

/// The URL of one transfer, shared by its blocks, renewed at most once per refusal burst.
pub(crate) struct SignedUrl {
    current: Mutex<Current>,
    renewer: Option<Arc<dyn RenewUrl + 'static>>,
    renewing: tokio::sync::Mutex<()>,
    debounce: Duration,
}

impl SignedUrl {
    pub(crate) fn new(
        url: Url,
        renewer: Option<Arc<dyn RenewUrl + 'static>>,
        debounce: Duration,
    ) -> Result<Self, Error> {
        check_url(&url)?;
        Ok(SignedUrl {
            current: Mutex::new(Current {
                url,
                generation: 0,
                obtained: Instant::now(),
            }),
            renewer,
            renewing: tokio::sync::Mutex::new(()),
            debounce,
        })
    }

    /// The URL to use now and its generation (to pass to [`SignedUrl::renew`] when refused).
    pub(crate) fn get(&self) -> (Url, u64) {
        let c = self.current.lock().unwrap_or_else(|p| p.into_inner());
        (c.url.clone(), c.generation)
    }

    /// The blob's identity (scheme, host, port, path) without the query, for state files.
    pub(crate) fn blob_key(&self) -> String {
        let (mut url, _) = self.get();
        url.set_query(None);
        url.set_fragment(None);
        url.to_string()
    }

    /// Renews the URL after `refused_generation` was refused. If another block renewed it
    /// meanwhile, returns at once. A URL obtained less than the debounce time ago is renewed
    /// only after that time, so a burst of refusals of a fresh URL does not hammer the API.
    pub(crate) async fn renew(&self, refused_generation: u64) -> Result<(), Error> {
        let Some(renewer) = &self.renewer else {
            return Err(Error::new(
                ErrorKind::Denied,
                Step::RenewUrl,
                "the blob URL was refused (expired?) and no renewal callback was given",
            ));
        };
        let _one_at_a_time = self.renewing.lock().await;
        let obtained = {
            let c = self.current.lock().unwrap_or_else(|p| p.into_inner());
            if c.generation != refused_generation {
                return Ok(());
            }
            c.obtained
        };
        let age = obtained.elapsed();
        if age < self.debounce {
            tokio::time::sleep(self.debounce - age).await;
        }
        let fresh = renewer
            .renew()
            .await
            .map_err(|e| Error::from_core(Step::RenewUrl, e).with_kind(ErrorKind::Denied))?;
        check_url(&fresh).map_err(|e| e.with_kind(ErrorKind::Denied))?;
        tracing::debug!(url = %evo_core::redact_url(&fresh), "renewed the blob URL");
        let mut c = self.current.lock().unwrap_or_else(|p| p.into_inner());
        c.url = fresh;
        c.generation += 1;
        c.obtained = Instant::now();
        Ok(())
    }
}

fn check_url(url: &Url) -> Result<(), Error> {
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            Step::Prepare,
            format!("not an http(s) blob URL: {}", evo_core::redact_url(url)),
        ));
    }
    Ok(())
}

/// The URL with operation parameters appended after the SAS query, which is kept verbatim.
pub(crate) fn with_params(url: &Url, params: &str) -> Url {
    let mut out = url.clone();
    let query = match url.query() {
        Some(q) if !q.is_empty() => format!("{q}&{params}"),
        _ => params.to_owned(),
    };
    out.set_query(Some(&query));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn params_are_appended_keeping_the_sas_verbatim() {
        let url: Url = "https://a.blob/c/b?sv=2025-01-05&sig=a%2Bb%3D&se=x"
            .parse()
            .unwrap();
        let u = with_params(&url, "comp=block&blockid=QQ%3D%3D");
        assert_eq!(
            u.as_str(),
            "https://a.blob/c/b?sv=2025-01-05&sig=a%2Bb%3D&se=x&comp=block&blockid=QQ%3D%3D"
        );
        let bare: Url = "http://127.0.0.1:9/c/b".parse().unwrap();
        assert_eq!(
            with_params(&bare, "comp=blocklist").query(),
            Some("comp=blocklist")
        );
    }

    #[tokio::test]
    async fn parallel_refusals_share_one_renewal() {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let renew = move || {
            let c = c.clone();
            async move {
                let n = c.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(format!("http://h/c/b?sig=v{n}").parse().unwrap())
            }
        };
        let url = SignedUrl::new(
            "http://h/c/b?sig=v0".parse().unwrap(),
            Some(Arc::new(renew)),
            Duration::from_millis(10),
        )
        .unwrap();
        let (_, generation) = url.get();
        let all = (0..16).map(|_| url.renew(generation));
        for r in futures_util::future::join_all(all).await {
            r.unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(url.get().0.as_str(), "http://h/c/b?sig=v1");
        assert_eq!(url.get().1, 1);
    }

    #[tokio::test]
    async fn without_a_callback_a_refusal_is_final() {
        let url =
            SignedUrl::new("http://h/c/b?sig=S".parse().unwrap(), None, Duration::ZERO).unwrap();
        let e = url.renew(0).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Denied);
        assert!(SignedUrl::new("ftp://h/x".parse().unwrap(), None, Duration::ZERO).is_err());
    }
}
