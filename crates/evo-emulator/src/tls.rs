//! The emulator's own certificate authority and server certificate (rcgen).

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::EmulatorError;

/// A CA certificate (PEM, for clients to trust) and TLS acceptors whose leaf it signed.
pub(crate) struct TlsMaterial {
    pub(crate) ca_pem: String,
    /// Offers h2 and HTTP/1.1 by ALPN (the API listener).
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
    /// Offers HTTP/1.1 only, as Azure's blob endpoints do (the blob listener).
    pub(crate) acceptor_http1: tokio_rustls::TlsAcceptor,
}

/// Makes a CA and a server certificate for `localhost`, 127.0.0.1, ::1 and `extra_ips`.
pub(crate) fn make(extra_ips: &[IpAddr]) -> Result<TlsMaterial, EmulatorError> {
    let err = |e: rcgen::Error| EmulatorError::Tls(e.to_string());
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "evo-emulator test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    names.extend(extra_ips.iter().map(IpAddr::to_string));
    let leaf_key = KeyPair::generate().map_err(err)?;
    let mut leaf_params = CertificateParams::new(names).map_err(err)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "evo-emulator");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).map_err(err)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| EmulatorError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(
            vec![
                leaf.der().clone(),
                CertificateDer::from(ca_cert.der().to_vec()),
            ],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .map_err(|e| EmulatorError::Tls(e.to_string()))?;
    let mut http1 = config.clone();
    http1.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        ca_pem: ca_cert.pem(),
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        acceptor_http1: tokio_rustls::TlsAcceptor::from(Arc::new(http1)),
    })
}
