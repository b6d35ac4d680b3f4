//! # evo-hyper
//!
//! [`HyperTransport`], the default [`evo_core::Transport`] of evo-rs: hyper-util's pooled client
//! with rustls (HTTP/1.1, and HTTP/2 when the server offers it by ALPN), webpki roots (optionally
//! the platform's roots and extra certificates), a connect timeout, connection-pool limits,
//! proxies from `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` (or given to the builder) and
//! streaming bodies both ways.
//!
//! ## Proxies
//!
//! | proxy URL | `http://` destinations | `https://` destinations |
//! |---|---|---|
//! | `http://[user:password@]host[:port]` | forwarded (absolute-form requests, `Proxy-Authorization: Basic`) | `CONNECT` tunnel (with `Proxy-Authorization`), TLS to the origin inside it |
//! | `https://[user:password@]host[:port]` | the same, inside TLS to the proxy | `CONNECT` inside TLS to the proxy, then TLS to the origin inside that |
//! | `socks5://[user:password@]host[:port]` | SOCKS5 tunnel; this side resolves the name | the same, TLS to the origin inside it |
//! | `socks5h://[user:password@]host[:port]` | SOCKS5 tunnel; the proxy resolves the name | the same, TLS to the origin inside it |
//! | `socks4://host[:port]` | SOCKS4 tunnel; this side resolves the name (IPv4 only) | the same, TLS to the origin inside it |
//!
//! SOCKS5 credentials use RFC 1929 username/password authentication; SOCKS4 takes none (a
//! `socks4://` URL with credentials is refused). An `https://` proxy's certificate is verified
//! with the same roots as servers' (webpki, native, added). Other schemes (`socks4a://`,
//! `ftp://`, ...) are not supported: [`HyperTransportBuilder::proxy`] rejects them with
//! [`Error::Proxy`]; from the environment `socks4a://` fails each request with a `Connect`
//! error, and a scheme `hyper-util` does not recognise at all is ignored with a warning. Loopback destinations bypass proxies unless
//! [`HyperTransportBuilder::proxy_loopback`] says otherwise. Errors name the proxy's
//! `host:port`, never its password.
//!
//! ## Connection pools and blob transfers
//!
//! Requests to an HTTP/2 server share one connection per host. Azure's blob endpoints (and the
//! emulator's blob listener) speak HTTP/1.1 only, so there each request in flight has its own
//! connection: the pool grows to the transfer's concurrency and keeps up to
//! [`HyperTransportBuilder::pool_max_idle_per_host`] idle connections (default 32) for the next
//! blocks. Keep that at least the largest concurrency a blob transfer uses, or connections are
//! closed and opened again between blocks. [`HyperTransportBuilder::http2`]`(false)` makes
//! every connection HTTP/1.1.
//!
//! ## What lives where
//!
//! | file | what |
//! |---|---|
//! | `transport.rs` | [`HyperTransport`]: sending a request on the pooled client |
//! | `builder.rs` | [`HyperTransportBuilder`]: the settings, and the connection stack they assemble |
//! | `connect.rs` | the connection under a request: TCP directly or through a proxy |
//! | `proxy/` | which proxy a destination uses, proxy URLs, `CONNECT` tunnels (`tunnel.rs`), SOCKS (`socks.rs`) |
//! | `tls.rs` | [`RootStoreBuilder`]: the trusted roots and the rustls client configuration |
//! | `timeout.rs` | the connect timeout over the whole stack |
//! | `body.rs` | response bodies as [`evo_core::Body`] streams |
//! | `error.rs` | [`Error`], and the mapping of hyper's and the connector's failures to [`evo_core::TransportError`] |
//!
//! It never follows redirects and never interprets status codes: that is the connector's job.
//! Read and idle timeouts are applied by [`evo_core::ApiConnector`].
//!
//! ```
//! use std::sync::Arc;
//! use evo_core::{ApiConnector, StaticTokenAuthorizer};
//! use evo_hyper::HyperTransport;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An Evo hub over HTTPS: the embedded emulator, whose certificate is signed by its own CA.
//! let emulator = evo_emulator::Emulator::builder().tls(true).start().await?;
//! let ca_pem = emulator.ca_cert_pem().expect("a TLS emulator has a CA");
//!
//! let transport = HyperTransport::builder()
//!     .connect_timeout(Some(std::time::Duration::from_secs(5)))
//!     .add_root_certificate(ca_pem) // besides the system's roots
//!     .build()?;
//! let connector = ApiConnector::builder(emulator.hub_url())
//!     .transport(Arc::new(transport))
//!     .authorizer(Arc::new(StaticTokenAuthorizer::new(emulator.issue_token(&["evo.workspace"]))))
//!     .build()?;
//! let workspaces: serde_json::Value = connector
//!     .request(evo_core::http::Method::GET, "workspace/orgs/{org}/workspaces")
//!     .path_param("org", emulator.org_id())
//!     .send_json()
//!     .await?;
//! assert!(emulator.hub_url().scheme() == "https" && workspaces["results"].is_array());
//! # Ok(()) }
//! ```

mod body;
mod builder;
mod connect;
mod error;
mod proxy;
mod read_ahead;
mod timeout;
mod tls;
mod transport;

use std::time::Duration;

pub use crate::builder::HyperTransportBuilder;
pub use crate::error::Error;
pub use crate::tls::RootStoreBuilder;
pub use crate::transport::HyperTransport;

/// The default connect timeout (10 s), used when a request does not ask for another.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default number of idle connections kept per host (32).
pub const DEFAULT_POOL_MAX_IDLE_PER_HOST: usize = 32;
/// The default time an idle pooled connection is kept (90 s).
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
