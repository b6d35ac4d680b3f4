//! [`EmulatorExt::client`]: an [`Evo`] client of the embedded emulator, for tests.

use std::future::Future;
use std::sync::Arc;

use evo_emulator::Emulator;

use crate::{Error, Evo, EvoBuilder};

/// Adds [`client`](EmulatorExt::client) and [`client_builder`](EmulatorExt::client_builder)
/// to [`Emulator`] (in the [prelude](crate::prelude)).
///
/// ```
/// use evo_sdk::prelude::*;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let emulator = Emulator::builder().start().await?;
/// let evo = emulator.client().await?;
/// assert_eq!(evo.org_id(), emulator.org_id());
/// # emulator.shutdown().await;
/// # Ok(()) }
/// ```
pub trait EmulatorExt {
    /// A builder set up for this emulator: its discovery and IMS URLs, its service client's
    /// credentials and, when it serves TLS, a transport trusting its certificate. Adjust it
    /// (another login, organization or hub) before [`connect`](EvoBuilder::connect).
    fn client_builder(&self) -> Result<EvoBuilder, Error>;

    /// A client logged in as the emulator's service client (acting as its test user), on
    /// its seeded organization and hub.
    fn client(&self) -> impl Future<Output = Result<Evo, Error>> + Send;
}

impl EmulatorExt for Emulator {
    fn client_builder(&self) -> Result<EvoBuilder, Error> {
        let credentials = self.service_client();
        let mut builder = Evo::builder()
            .discovery_url(self.discovery_url().as_str())
            .issuer(self.ims_url().as_str())
            .client_credentials(
                credentials.client_id.clone(),
                credentials.client_secret.clone(),
            )
            .organization(self.org_id());
        if let Some(pem) = self.ca_cert_pem() {
            let transport = evo_hyper::HyperTransport::builder()
                .add_root_certificate(pem)
                .build()
                .map_err(|e| Error::config(format!("trusting the emulator's certificate: {e}")))?;
            builder = builder.transport(Arc::new(transport));
        }
        Ok(builder)
    }

    fn client(&self) -> impl Future<Output = Result<Evo, Error>> + Send {
        let builder = self.client_builder();
        async move { builder?.connect().await }
    }
}
