//! The emulator's command-line options and server loop, shared by the `evo-emulator` binary
//! and the `evo emulator` command.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use crate::{BlobStorage, Emulator, EmulatorError, Seed, WanProfile};

/// The options of the `evo-emulator` binary (also `evo emulator` of the `evo` command).
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Port to listen on (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// Serve HTTPS with a self-signed certificate authority.
    #[arg(long)]
    pub tls: bool,
    /// Write the CA certificate PEM here (with --tls or --blob-listener).
    #[arg(long)]
    pub ca_cert: Option<PathBuf>,
    /// Seed file (JSON: users, organizations with workspaces, OAuth clients).
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Keep blobs in this folder instead of memory.
    #[arg(long)]
    pub blob_dir: Option<PathBuf>,
    /// Also serve HTTPS on this address (e.g. 127.0.0.2:443) and hand out blob URLs on it.
    #[arg(long)]
    pub blob_listener: Option<SocketAddr>,
    /// Seconds uncommitted blob blocks survive after the blob's last Put Block (default: a week).
    #[arg(long)]
    pub uncommitted_block_ttl_secs: Option<u64>,
    /// WAN profile: milliseconds every request waits before it is handled.
    #[arg(long, default_value_t = 0)]
    pub wan_latency_ms: u64,
    /// WAN profile: the most megabits per second each connection moves in each direction
    /// (0 = no cap).
    #[arg(long, default_value_t = 0.0)]
    pub wan_bandwidth_mbit: f64,
}

/// Starts the emulator as `args` say, prints its URLs, clients and seeded data, and serves
/// until Ctrl-C.
pub async fn serve(args: EmulatorArgs) -> Result<(), EmulatorError> {
    let mut b = Emulator::builder()
        .bind(SocketAddr::new(args.host, args.port))
        .tls(args.tls);
    if let Some(path) = &args.seed {
        b = b.seed(Seed::from_json_file(path)?);
    }
    if let Some(dir) = args.blob_dir {
        b = b.blob_storage(BlobStorage::Folder(dir));
    }
    if let Some(addr) = args.blob_listener {
        b = b.blob_listener(addr);
    }
    if let Some(p) = &args.ca_cert {
        b = b.ca_cert_path(p);
    }
    if let Some(secs) = args.uncommitted_block_ttl_secs {
        b = b.uncommitted_block_ttl(std::time::Duration::from_secs(secs));
    }
    if args.wan_latency_ms > 0 || args.wan_bandwidth_mbit > 0.0 {
        let bytes_per_second = (args.wan_bandwidth_mbit * 1e6 / 8.0).round();
        b = b.wan_profile(
            WanProfile::new()
                .latency(std::time::Duration::from_millis(args.wan_latency_ms))
                .bandwidth_per_connection(
                    (bytes_per_second.is_finite() && bytes_per_second >= 1.0)
                        .then_some(bytes_per_second as u64),
                ),
        );
    }
    let emu = b.start().await?;
    let service = emu.service_client();
    println!("base_url:        {}", emu.base_url());
    println!(
        "discovery_url:   {}evo/identity/v2/discovery?service=evo",
        emu.discovery_url()
    );
    println!("hub_url:         {}", emu.hub_url());
    println!("ims_url:         {}", emu.ims_url());
    println!("blob_base_url:   {}", emu.blob_base_url());
    println!(
        "service client:  client_id={} client_secret={}",
        service.client_id, service.client_secret
    );
    println!("public client:   client_id={}", emu.public_client_id());
    println!("test user:       {}", emu.test_user_id());
    for org in emu.organizations() {
        println!(
            "organization:    {} {} (hub {})",
            org.id, org.display_name, org.hub_code
        );
        for (id, name) in org.workspaces {
            println!("  workspace:     {id} {name}");
        }
    }
    if let (Some(path), true) = (&args.ca_cert, emu.ca_cert_pem().is_some()) {
        println!("CA certificate:  {}", path.display());
    }
    let _ = tokio::signal::ctrl_c().await;
    emu.shutdown().await;
    Ok(())
}
