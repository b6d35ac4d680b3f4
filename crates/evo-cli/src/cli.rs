//! The command line: global options and subcommands (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::EXIT_CODES;

/// `evo`: Seequent Evo from the shell: sign in, organizations, workspaces, files, geoscience
/// objects, live watches, and an embedded emulator to try everything with no account.
#[derive(Debug, Parser)]
#[command(name = "evo", version, after_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes; each is also an `EVO_*` environment variable.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The profile of the configuration file to use [default: the file's default_profile, else "default"].
    #[arg(long, global = true, env = "EVO_PROFILE")]
    pub profile: Option<String>,
    /// The organization, by name or id [default: the profile's, else the only one].
    #[arg(long, global = true, env = "EVO_ORG")]
    pub org: Option<String>,
    /// The hub, by code or name [default: the profile's, else the organization's first].
    #[arg(long, global = true, env = "EVO_HUB")]
    pub hub: Option<String>,
    /// The workspace, by name or id [default: the profile's].
    #[arg(long, short = 'w', global = true, env = "EVO_WORKSPACE")]
    pub workspace: Option<String>,
    /// Print JSON for scripts instead of tables (errors too, on stderr).
    #[arg(long, global = true, env = "EVO_JSON")]
    pub json: bool,
    /// Log what the SDK does (requests, retries, token renewals) to stderr.
    #[arg(long, short = 'v', global = true, env = "EVO_VERBOSE")]
    pub verbose: bool,
    /// Run the command against a fresh in-process Evo emulator (no account needed).
    #[arg(long, global = true, env = "EVO_EMULATOR")]
    pub emulator: bool,
    /// The discovery URL [default: the profile's, else Evo's].
    #[arg(long, global = true, env = "EVO_DISCOVERY_URL")]
    pub discovery_url: Option<String>,
    /// The OAuth issuer [default: the profile's, else Bentley IMS].
    #[arg(long, global = true, env = "EVO_IMS_URL")]
    pub ims_url: Option<String>,
    /// The OAuth client id [default: the profile's].
    #[arg(long, global = true, env = "EVO_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The client secret of a service client (client-credentials sign-in).
    #[arg(long, global = true, env = "EVO_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// An extra root certificate (PEM) to trust, e.g. the emulator's with --tls.
    #[arg(long = "trust-cert", global = true, env = "EVO_TRUST_CERT")]
    pub ca_cert: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in (browser with PKCE, or client credentials) and remember it in the profile.
    Login(LoginArgs),
    /// Sign out: revoke the session at the issuer and forget the token.
    Logout,
    /// Show the profile, the sign-in and the remembered choices.
    Status,
    /// Read and change the configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// List the organizations and their hubs (`evo orgs use NAME` remembers one).
    Orgs {
        /// `use`: remember an organization.
        #[command(subcommand)]
        command: Option<OrgsCommand>,
    },
    /// Workspaces of the organization.
    #[command(subcommand, alias = "ws")]
    Workspaces(WorkspacesCommand),
    /// Files of the workspace (`evo:` marks a workspace path in `cp`).
    #[command(subcommand)]
    Files(FilesCommand),
    /// Geoscience objects of the workspace: list, show, versions, delete, restore, and their
    /// data tables to and from Parquet or CSV.
    #[command(subcommand, alias = "obj")]
    Objects(ObjectsCommand),
    /// Block models of the workspace: list them, and query their columns to Parquet or CSV.
    #[command(subcommand, name = "blockmodels", alias = "bm")]
    BlockModels(BlockModelsCommand),
    /// Print changes as they happen (live replicas).
    #[command(subcommand)]
    Watch(WatchCommand),
    /// Run the Evo emulator (the options of `evo-emulator`) until Ctrl-C.
    Emulator(evo_emulator::cli::EmulatorArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `evo login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Print the sign-in URL instead of opening a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// The redirect URL registered for the client [default: the profile's, else http://localhost:3000/signin-callback].
    #[arg(long, env = "EVO_REDIRECT_URL")]
    pub redirect_url: Option<String>,
    /// Seconds to wait for the browser.
    #[arg(long, default_value_t = 180)]
    pub timeout: u64,
}

/// `evo config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show the profile in use (the client secret is not shown).
    Show,
    /// Set a setting of the profile in use.
    Set {
        /// discovery_url, ims_url, client_id, client_secret, redirect_url, ca_cert, org, hub or workspace.
        key: String,
        /// The value.
        value: String,
    },
    /// Remove a setting of the profile in use.
    Unset {
        /// The setting.
        key: String,
    },
    /// List the profiles.
    Profiles,
    /// Make the profile in use the default one.
    UseProfile,
    /// Print the configuration folder.
    Path,
}

/// `evo orgs ...`.
#[derive(Debug, Subcommand)]
pub enum OrgsCommand {
    /// List the organizations (the default).
    Ls,
    /// Remember an organization (and optionally --hub) as the profile's default.
    Use {
        /// Name or id.
        org: String,
    },
}

/// `evo workspaces ...`.
#[derive(Debug, Subcommand)]
pub enum WorkspacesCommand {
    /// List the workspaces.
    Ls {
        /// Include deleted workspaces.
        #[arg(long)]
        deleted: bool,
    },
    /// Show one workspace [default: --workspace].
    Show {
        /// Name or id.
        workspace: Option<String>,
    },
    /// Create a workspace.
    Create {
        /// Its name (1 to 60 characters, unique in the organization).
        name: String,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
        /// A label (may be repeated).
        #[arg(long = "label")]
        labels: Vec<String>,
        /// Also remember it as the profile's workspace.
        #[arg(long = "use")]
        use_it: bool,
    },
    /// Rename a workspace.
    Rename {
        /// Name or id.
        workspace: String,
        /// The new name.
        new_name: String,
    },
    /// Delete a workspace (it can be restored).
    Rm {
        /// Name or id.
        workspace: String,
    },
    /// Restore a deleted workspace.
    Restore {
        /// Name or id.
        workspace: String,
    },
    /// List the members of a workspace and their roles [default: --workspace].
    Members {
        /// Name or id.
        workspace: Option<String>,
    },
    /// Remember a workspace as the profile's default.
    Use {
        /// Name or id.
        workspace: String,
    },
}

/// `evo files ...`.
#[derive(Debug, Subcommand)]
pub enum FilesCommand {
    /// List files, optionally under a folder.
    Ls {
        /// A folder (`surveys/2026`) [default: every file].
        folder: Option<String>,
        /// List deleted files instead.
        #[arg(long)]
        deleted: bool,
    },
    /// Copy files or folders: local → `evo:path` (upload) or `evo:path` → local (download).
    Cp(CpArgs),
    /// Delete files (they can be restored).
    Rm {
        /// Paths in the workspace.
        #[arg(required = true)]
        paths: Vec<String>,
        /// Delete every file under the folders given.
        #[arg(long, short = 'r')]
        recursive: bool,
    },
    /// List the versions of a file.
    Versions {
        /// The path in the workspace.
        path: String,
    },
    /// Restore a deleted file (by path or file id).
    Restore {
        /// The path it had, or its file id.
        path: String,
    },
}

/// `evo files cp`.
#[derive(Debug, Args)]
pub struct CpArgs {
    /// What to copy: a local path, or `evo:PATH` in the workspace.
    pub source: String,
    /// Where to: `evo:PATH` (a folder when it ends with `/`), or a local path.
    pub destination: String,
    /// Copy a folder and everything under it.
    #[arg(long, short = 'r')]
    pub recursive: bool,
    /// Replace local files that exist.
    #[arg(long)]
    pub force: bool,
    /// Download this version instead of the latest (one file only; `evo files versions`).
    #[arg(long = "file-version", value_name = "VERSION_ID")]
    pub file_version: Option<String>,
    /// Files copied at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// Blocks of one file moved at the same time.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub block_parallel: u16,
    /// Block size in bytes (files up to this size go in one request).
    #[arg(long, value_parser = clap::value_parser!(u64).range(65_536..=4_000_000_000))]
    pub block_size: Option<u64>,
}

/// `evo objects ...`. An OBJECT is its path in the workspace (`evo:` optional), its id, or an
/// object reference URL (`https://.../geoscience-object/orgs/.../objects/...?version=...`).
#[derive(Debug, Subcommand)]
pub enum ObjectsCommand {
    /// List objects, optionally under a folder.
    Ls {
        /// A folder (`surveys/2026`) [default: every object].
        folder: Option<String>,
        /// List deleted objects instead.
        #[arg(long)]
        deleted: bool,
        /// Only objects of this schema (`pointset`, or a full schema id).
        #[arg(long)]
        schema: Option<String>,
    },
    /// Show an object: its metadata and data tables (`--json`: the whole answer, with the
    /// object JSON).
    Get {
        /// Path, id or reference URL.
        object: String,
        /// This version instead of the latest (`evo objects versions`).
        #[arg(long = "object-version", value_name = "VERSION_ID")]
        object_version: Option<String>,
        /// Print only the geoscience object's JSON (as stored: schema, name, tables, ...).
        #[arg(long)]
        raw: bool,
    },
    /// List the versions of an object.
    Versions {
        /// Path, id or reference URL.
        object: String,
    },
    /// Delete objects (they can be restored).
    Rm {
        /// Paths, ids or reference URLs.
        #[arg(required = true)]
        objects: Vec<String>,
    },
    /// Restore a deleted object (by the path it had, or its id).
    Restore {
        /// The path it had, or its id.
        object: String,
    },
    /// Save one data table of an object as a Parquet file (the stored file, its SHA-256
    /// checked) or as CSV.
    Export(ExportArgs),
    /// Create a point set from a CSV or Parquet table: x, y, z columns and one attribute per
    /// other column.
    Import(ImportArgs),
}

/// The file formats of tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFileFormat {
    /// Apache Parquet.
    Parquet,
    /// Comma-separated values with a header row.
    Csv,
}

/// `evo objects export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Path, id or reference URL of the object.
    pub object: String,
    /// The file to write (`.parquet` or `.csv`).
    pub output: PathBuf,
    /// Which table: `positions` (the default), an attribute's name, a data id (SHA-256) or the
    /// table's JSON pointer in the object (`/locations/coordinates`); `evo objects get` lists them.
    #[arg(long, default_value = "positions")]
    pub table: String,
    /// The file format [default: from the output's extension].
    #[arg(long, value_enum)]
    pub format: Option<TableFileFormat>,
    /// This version instead of the latest.
    #[arg(long = "object-version", value_name = "VERSION_ID")]
    pub object_version: Option<String>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `evo objects import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The table: a CSV file with a header row, or a Parquet file.
    pub input: PathBuf,
    /// The object's path in the workspace (`evo:surveys/points.json`).
    pub destination: String,
    /// The file format [default: from the input's extension].
    #[arg(long, value_enum)]
    pub format: Option<TableFileFormat>,
    /// The column of x coordinates.
    #[arg(long, default_value = "x")]
    pub x: String,
    /// The column of y coordinates.
    #[arg(long, default_value = "y")]
    pub y: String,
    /// The column of z coordinates.
    #[arg(long, default_value = "z")]
    pub z: String,
    /// The object's name [default: the file name of the destination without `.json`].
    #[arg(long)]
    pub name: Option<String>,
    /// The EPSG code of the coordinates [default: unspecified].
    #[arg(long)]
    pub epsg: Option<u32>,
    /// A description.
    #[arg(long)]
    pub description: Option<String>,
    /// Save a new version of the object at the destination if there is one.
    #[arg(long)]
    pub replace: bool,
}

/// `evo blockmodels ...`. A MODEL is its name in the workspace or its id.
#[derive(Debug, Subcommand)]
pub enum BlockModelsCommand {
    /// List the block models of the workspace.
    Ls {
        /// List deleted block models instead.
        #[arg(long)]
        deleted: bool,
    },
    /// Save columns of a block model's blocks (within a box, of a version) as a Parquet file
    /// (the service's result file itself) or as CSV.
    Query(BlockQueryArgs),
}

/// `evo blockmodels query`.
#[derive(Debug, Args)]
pub struct BlockQueryArgs {
    /// The block model: its name or id.
    pub model: String,
    /// The columns, by title, separated by commas [default: every column].
    #[arg(long, short = 'c', value_delimiter = ',', value_name = "COLUMN,...")]
    pub columns: Vec<String>,
    /// The file to write (`.parquet` or `.csv`).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    /// The file format [default: from the output's extension].
    #[arg(long, value_enum)]
    pub format: Option<TableFileFormat>,
    /// Only blocks whose centroid is in this box of coordinates.
    #[arg(
        long,
        value_name = "XMIN,XMAX,YMIN,YMAX,ZMIN,ZMAX",
        allow_hyphen_values = true,
        conflicts_with = "ijk"
    )]
    pub bbox: Option<String>,
    /// Only blocks in this box of indices (of parent blocks for sub-blocked models; both
    /// ends included).
    #[arg(
        long,
        value_name = "IMIN,IMAX,JMIN,JMAX,KMIN,KMAX",
        allow_hyphen_values = true
    )]
    pub ijk: Option<String>,
    /// This version instead of the latest: its uuid, or its number (`1` is the version made
    /// on creation).
    #[arg(long = "model-version", value_name = "VERSION")]
    pub model_version: Option<String>,
    /// Give each block's centroid (x, y, z) instead of its indices (i, j, k).
    #[arg(long)]
    pub coordinates: bool,
    /// Keep blocks whose queried columns are all empty (left out by default).
    #[arg(long)]
    pub include_empty: bool,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `evo watch ...`.
#[derive(Debug, Subcommand)]
pub enum WatchCommand {
    /// Workspaces of the organization.
    Workspaces(WatchArgs),
    /// Files of the workspace.
    Files(WatchArgs),
    /// Geoscience objects of the workspace.
    Objects(WatchArgs),
}

/// Options of `evo watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Stop after this many seconds [default: until Ctrl-C].
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Milliseconds between polls (Evo has no push API).
    #[arg(long, default_value_t = 2000)]
    pub interval_ms: u64,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
