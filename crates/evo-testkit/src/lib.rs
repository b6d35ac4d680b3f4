//! Test harness helpers of evo-rs (not published).
//!
//! The third-party peers the tests run against are installed by `scripts/install-peers.sh` into
//! `<workspace>/.peers` (or `$EVO_PEERS_DIR`); `cargo xtask test` runs it first. A test that needs
//! a peer that is not installed fails with a message saying how to install it.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// The folder holding the installed peers.
pub fn peers_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("EVO_PEERS_DIR") {
        return PathBuf::from(dir);
    }
    workspace_root().join(".peers")
}

/// The workspace root (the folder of the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/evo-testkit sits two levels below the workspace root")
        .to_path_buf()
}

fn require(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is not installed at {}: run `bash scripts/install-peers.sh` (or `cargo xtask test`, which does)",
        path.display()
    );
    path
}

/// The Python interpreter of the peers' venv (has evo-sdk-common, evo-files, python-socketio).
pub fn python() -> PathBuf {
    require(peers_dir().join("venv/bin/python"), "the Python venv")
}

/// An executable of the peers' npm packages, e.g. `azurite-blob`.
pub fn node_bin(name: &str) -> PathBuf {
    require(
        peers_dir().join("node/node_modules/.bin").join(name),
        &format!("the npm executable {name}"),
    )
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral port on 127.0.0.1")
}

/// Waits until something accepts TCP connections on `addr`, or panics after `limit`.
pub async fn wait_for_port(addr: SocketAddr, limit: Duration) {
    let start = Instant::now();
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "nothing listened on {addr} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A child process killed when dropped.
#[derive(Debug)]
pub struct ChildGuard {
    child: Child,
    /// The address it listens on, when it is a server.
    pub addr: Option<SocketAddr>,
}

impl ChildGuard {
    /// Starts `command` (stdout/stderr inherited so failures show in test output).
    pub fn spawn(mut command: Command) -> Self {
        command.kill_on_drop(true).stdin(Stdio::null());
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        ChildGuard { child, addr: None }
    }

    /// The process id.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the process and waits for it to end.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Access to the child, e.g. to wait for its exit status.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The well-known Azurite account name.
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
/// The well-known Azurite account key (base64).
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running Azurite blob service on a loopback address with its data in a temporary folder.
#[derive(Debug)]
pub struct Azurite {
    /// The process.
    pub process: ChildGuard,
    /// `http://127.0.0.1:PORT/devstoreaccount1`, or `https://127.x.y.z/devstoreaccount1` when
    /// started by [`Azurite::start_https_on_random_loopback_443`].
    pub account_url: String,
    /// The port.
    pub port: u16,
    /// The data folder (removed by the caller's temp-dir guard).
    pub location: PathBuf,
    /// The PEM file of the CA that signed Azurite's certificate, for clients to trust (e.g.
    /// `SSL_CERT_FILE`); `None` over plain HTTP.
    pub ca_pem: Option<PathBuf>,
}

impl Azurite {
    /// Starts `azurite-blob` on a free port, storing data under `location`.
    pub async fn start(location: &Path) -> Azurite {
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        Azurite::spawn(location, addr, None).await
    }

    /// Starts `azurite-blob` over HTTPS (HTTP/1.1, as Azure) on port 443 of a random
    /// `127.x.y.z` address, storing data under `location`: the official Python SDK only accepts
    /// `https` blob URLs on the default port. Its certificate is signed by a CA made here, whose
    /// PEM is written to `location/tls/ca.pem` ([`Azurite::ca_pem`]). Needs the right to bind
    /// port 443 (root, or `CAP_NET_BIND_SERVICE`); panics saying so otherwise.
    pub async fn start_https_on_random_loopback_443(location: &Path) -> Azurite {
        let ip = random_loopback_with_free_443();
        let tls = location.join("tls");
        std::fs::create_dir_all(&tls).unwrap_or_else(|e| panic!("creating {}: {e}", tls.display()));
        let (ca, cert, key) = (
            tls.join("ca.pem"),
            tls.join("cert.pem"),
            tls.join("key.pem"),
        );
        let material = make_certificates(ip);
        for (path, pem) in [
            (&ca, &material.0),
            (&cert, &material.1),
            (&key, &material.2),
        ] {
            std::fs::write(path, pem).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        }
        let mut azurite = Azurite::spawn(location, (ip, 443).into(), Some((&cert, &key))).await;
        azurite.ca_pem = Some(ca);
        azurite
    }

    async fn spawn(location: &Path, addr: SocketAddr, tls: Option<(&Path, &Path)>) -> Azurite {
        let mut cmd = Command::new(node_bin("azurite-blob"));
        cmd.args(["--location"])
            .arg(location)
            .args(["--blobHost", &addr.ip().to_string()])
            .args(["--blobPort", &addr.port().to_string()])
            .args([
                "--skipApiVersionCheck",
                "--loose",
                "--disableTelemetry",
                "--silent",
            ])
            .stdout(Stdio::null());
        if let Some((cert, key)) = tls {
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        let mut process = ChildGuard::spawn(cmd);
        process.addr = Some(addr);
        wait_for_port(addr, Duration::from_secs(30)).await;
        let account_url = match (tls, addr.port()) {
            (Some(_), 443) => format!("https://{}/{AZURITE_ACCOUNT}", addr.ip()),
            (Some(_), port) => format!("https://{}:{port}/{AZURITE_ACCOUNT}", addr.ip()),
            (None, port) => format!("http://{}:{port}/{AZURITE_ACCOUNT}", addr.ip()),
        };
        Azurite {
            process,
            account_url,
            port: addr.port(),
            location: location.to_path_buf(),
            ca_pem: None,
        }
    }

    /// A signer for SAS URLs of blobs in `container` (and for creating it).
    pub fn signer(&self, container: &str) -> AzuriteSigner {
        AzuriteSigner::new(&self.account_url, container)
    }
}

/// A `127.x.y.z` address (never 127.0.0.1) whose port 443 could be bound a moment ago.
fn random_loopback_with_free_443() -> std::net::IpAddr {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut last = None;
    for _ in 0..32 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        let [a, b, c, ..] = hasher.finish().to_le_bytes();
        let ip = std::net::Ipv4Addr::new(127, a, b, c.clamp(2, 254));
        match TcpListener::bind((ip, 443)) {
            Ok(_) => return ip.into(),
            Err(e) => last = Some(e),
        }
    }
    panic!(
        "binding port 443 of a random 127.x.y.z address (needs root or CAP_NET_BIND_SERVICE): {}",
        last.map_or_else(String::new, |e| e.to_string())
    )
}

/// A CA's certificate, and a server certificate for `ip` (followed by the CA's) and its key,
/// all PEM.
fn make_certificates(ip: std::net::IpAddr) -> (String, String, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "evo-testkit Azurite CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("the CA certificate");
    let leaf_key = KeyPair::generate().expect("a server key");
    let mut leaf_params = CertificateParams::new(vec![ip.to_string(), "localhost".to_owned()])
        .expect("server certificate parameters");
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "azurite");
    let leaf = leaf_params
        .signed_by(&leaf_key, &Issuer::new(ca_params, ca_key))
        .expect("the server certificate");
    let ca_pem = ca_cert.pem();
    (
        ca_pem.clone(),
        format!("{}{ca_pem}", leaf.pem()),
        leaf_key.serialize_pem(),
    )
}

/// HMAC-SHA256 of `string_to_sign` with Azurite's well-known key, base64.
fn azurite_signature(string_to_sign: &str) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use hmac::Mac as _;
    let key = STANDARD.decode(AZURITE_KEY).expect("AZURITE_KEY is base64");
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// `YYYY-MM-DDThh:mm:ssZ`, the form of SAS times.
fn sas_time(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a time after 1970")
        .as_secs() as i64;
    let dt = time::OffsetDateTime::from_unix_timestamp(secs).expect("a representable time");
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        dt.month() as u8,
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Signs service SAS URLs for blobs of one container of Azurite's well-known account, and the
/// Shared Key request creating that container (cheap to clone into callbacks).
#[derive(Debug, Clone)]
pub struct AzuriteSigner {
    account_url: String,
    container: String,
}

impl AzuriteSigner {
    /// A signer for `container` under `account_url` (e.g. [`Azurite::account_url`]).
    pub fn new(account_url: &str, container: &str) -> AzuriteSigner {
        AzuriteSigner {
            account_url: account_url.trim_end_matches('/').to_owned(),
            container: container.to_owned(),
        }
    }

    /// The container's name.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// Create Container (`PUT ?restype=container`, Shared Key auth): the URL and the headers to
    /// send with an empty body, by any HTTP client.
    pub fn create_container_request(&self) -> (String, Vec<(&'static str, String)>) {
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let version = "2021-08-06";
        let account = AZURITE_ACCOUNT;
        let string_to_sign = format!(
            "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{account}/{account}/{}\nrestype:container",
            self.container
        );
        let url = format!("{}/{}?restype=container", self.account_url, self.container);
        let headers = vec![
            ("x-ms-date", date),
            ("x-ms-version", version.to_owned()),
            (
                "authorization",
                format!("SharedKey {account}:{}", azurite_signature(&string_to_sign)),
            ),
            ("content-length", "0".to_owned()),
        ];
        (url, headers)
    }

    /// A service SAS URL for one blob: permissions `perms`, valid until `expiry`.
    pub fn blob_url_until(
        &self,
        blob: &str,
        perms: &str,
        expiry: std::time::SystemTime,
    ) -> url::Url {
        let account = AZURITE_ACCOUNT;
        let version = "2025-01-05";
        let se = sas_time(expiry);
        let resource = format!("/blob/{account}/{}/{blob}", self.container);
        let fields = [
            perms, "", &se, &resource, "", "", "", version, "b", "", "", "", "", "", "", "",
        ];
        let sig = azurite_signature(&fields.join("\n"));
        let mut url: url::Url = format!("{}/{}/{blob}", self.account_url, self.container)
            .parse()
            .expect("a blob URL");
        url.query_pairs_mut()
            .append_pair("sv", version)
            .append_pair("se", &se)
            .append_pair("sr", "b")
            .append_pair("sp", perms)
            .append_pair("sig", &sig);
        url
    }

    /// A read/create/write SAS URL valid for an hour.
    pub fn blob_url(&self, blob: &str) -> url::Url {
        self.blob_url_until(
            blob,
            "rcw",
            std::time::SystemTime::now() + Duration::from_secs(3600),
        )
    }
}

/// A running oauth2-mock-server on 127.0.0.1.
#[derive(Debug)]
pub struct OAuthMockServer {
    /// The process.
    pub process: ChildGuard,
    /// `http://127.0.0.1:PORT` (issuer base; `/authorize`, `/token` below it).
    pub base_url: String,
}

impl OAuthMockServer {
    /// Starts `oauth2-mock-server` on a free port of 127.0.0.1.
    pub async fn start() -> OAuthMockServer {
        let port = free_port();
        let mut cmd = Command::new(node_bin("oauth2-mock-server"));
        cmd.args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null());
        let mut process = ChildGuard::spawn(cmd);
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        process.addr = Some(addr);
        wait_for_port(addr, Duration::from_secs(30)).await;
        OAuthMockServer {
            process,
            base_url: format!("http://127.0.0.1:{port}"),
        }
    }
}
