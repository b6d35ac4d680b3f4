//! TLS: the root certificates a client trusts ([`RootStoreBuilder`]) and the rustls client
//! configuration made from them. The transport uses it for servers and `https://` proxies;
//! other clients of evo-rs (evo-sync's WebSocket) use it so every connection trusts the same
//! roots the same way.

use std::fmt;
use std::sync::Arc;

use crate::error::Error;

/// Builds the set of root certificates a TLS client trusts: the Mozilla roots bundled by
/// `webpki-roots` (on by default), optionally the platform's roots, and extra certificates
/// given as PEM text (a local emulator's self-signed certificate, a company CA).
///
/// ```
/// let config = evo_hyper::RootStoreBuilder::new()
///     .native_roots(false)
///     .client_config()
///     .expect("the bundled roots load");
/// assert!(config.alpn_protocols.is_empty());
/// ```
#[derive(Clone)]
pub struct RootStoreBuilder {
    webpki_roots: bool,
    native_roots: bool,
    extra_roots_pem: Vec<Vec<u8>>,
}

impl Default for RootStoreBuilder {
    fn default() -> Self {
        RootStoreBuilder::new()
    }
}

impl fmt::Debug for RootStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootStoreBuilder")
            .field("webpki_roots", &self.webpki_roots)
            .field("native_roots", &self.native_roots)
            .field("extra_roots", &self.extra_roots_pem.len())
            .finish()
    }
}

impl RootStoreBuilder {
    /// The webpki roots only.
    pub fn new() -> Self {
        RootStoreBuilder {
            webpki_roots: true,
            native_roots: false,
            extra_roots_pem: Vec::new(),
        }
    }

    /// Trusts the Mozilla roots bundled by `webpki-roots` (default on).
    pub fn webpki_roots(mut self, enabled: bool) -> Self {
        self.webpki_roots = enabled;
        self
    }

    /// Also trusts the platform's root certificates (default off).
    pub fn native_roots(mut self, enabled: bool) -> Self {
        self.native_roots = enabled;
        self
    }

    /// Also trusts the certificates in this PEM text. Checked by [`build`](Self::build).
    pub fn add_root_certificate(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.extra_roots_pem.push(pem.as_ref().to_vec());
        self
    }

    /// How many PEM texts were added with [`add_root_certificate`](Self::add_root_certificate).
    pub fn added_certificates(&self) -> usize {
        self.extra_roots_pem.len()
    }

    /// The root store. Fails with [`Error::Certificate`] when the platform's roots were asked
    /// for and none could be loaded, when an added PEM text holds no certificate or one that
    /// does not parse, and when no root is trusted at all.
    pub fn build(&self) -> Result<rustls::RootCertStore, Error> {
        let mut roots = rustls::RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if self.native_roots {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty()
                && let Some(first) = found.errors.first()
            {
                return Err(Error::certificate(format!(
                    "could not load the platform's root certificates: {first}"
                )));
            }
            let (_added, _ignored) = roots.add_parsable_certificates(found.certs);
        }
        for pem in &self.extra_roots_pem {
            let mut reader = pem.as_slice();
            let mut count = 0;
            for cert in rustls_pemfile::certs(&mut reader) {
                let cert = cert.map_err(|e| {
                    Error::certificate(format!("a root certificate does not parse as PEM: {e}"))
                })?;
                roots.add(cert).map_err(|e| {
                    Error::certificate(format!("a root certificate was rejected: {e}"))
                })?;
                count += 1;
            }
            if count == 0 {
                return Err(Error::certificate(
                    "add_root_certificate was given text with no PEM certificate in it",
                ));
            }
        }
        if roots.is_empty() {
            return Err(Error::certificate(
                "no root certificate is trusted: enable webpki_roots or native_roots, or add one",
            ));
        }
        Ok(roots)
    }

    /// A rustls client configuration (the `ring` provider, TLS 1.2 and 1.3, no client
    /// certificate, no ALPN protocols) trusting [`build`](Self::build)'s roots.
    pub fn client_config(&self) -> Result<rustls::ClientConfig, Error> {
        let roots = self.build()?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::tls(format!("cannot configure TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_certificates_and_no_roots_are_certificate_errors() {
        let err = RootStoreBuilder::new()
            .add_root_certificate("not a certificate")
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Certificate { .. }), "{err}");
        let err = RootStoreBuilder::new()
            .webpki_roots(false)
            .client_config()
            .unwrap_err();
        assert!(err.to_string().contains("no root certificate"), "{err}");
    }

    #[test]
    fn an_added_certificate_is_trusted_alone() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let roots = RootStoreBuilder::new()
            .webpki_roots(false)
            .add_root_certificate(cert.cert.pem())
            .build()
            .unwrap();
        assert_eq!(roots.len(), 1);
        let webpki = RootStoreBuilder::new().build().unwrap();
        assert_eq!(webpki.len(), webpki_roots::TLS_SERVER_ROOTS.len());
    }
}
