//! The configuration file: named profiles (where to sign in, as which client, and the
//! remembered organization, hub and workspace), kept in `config.toml` under the user's
//! configuration folder.
//!
//! The folder is `$EVO_CONFIG_DIR`, else `$XDG_CONFIG_HOME/evo`, else the platform's
//! configuration folder (`~/.config/evo` on Linux). Tokens live beside it in `tokens/`, the
//! journal of unfinished uploads in `state/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{CliError, CliResult, io_error};

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";

/// The whole configuration file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConfigFile {
    /// The profile used when `--profile` / `EVO_PROFILE` name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile: Option<String>,
    /// The profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One profile. Every field is optional; flags and `EVO_*` variables override them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The discovery URL (default: Evo's global discovery host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery_url: Option<String>,
    /// The OAuth issuer (default: Bentley IMS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ims_url: Option<String>,
    /// The OAuth client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The client secret of a service client (this file is readable by its owner only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// The redirect URL registered for the client (browser sign-in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    /// An extra root certificate (PEM file) to trust, e.g. the emulator's with `--tls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
    /// The remembered organization (name or id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The remembered hub (code or name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<String>,
    /// The remembered workspace (name or id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
}

/// The keys `evo config set|unset` accept.
pub const KEYS: &[&str] = &[
    "discovery_url",
    "ims_url",
    "client_id",
    "client_secret",
    "redirect_url",
    "ca_cert",
    "org",
    "hub",
    "workspace",
];

impl Profile {
    /// The field named `key`.
    pub fn field_mut(&mut self, key: &str) -> CliResult<&mut Option<String>> {
        Ok(match key {
            "discovery_url" => &mut self.discovery_url,
            "ims_url" => &mut self.ims_url,
            "client_id" => &mut self.client_id,
            "client_secret" => &mut self.client_secret,
            "redirect_url" => &mut self.redirect_url,
            "org" => &mut self.org,
            "hub" => &mut self.hub,
            "workspace" => &mut self.workspace,
            other => {
                return Err(CliError::usage(format!("unknown setting {other:?}"))
                    .hint(format!("settings: {}", KEYS.join(", "))));
            }
        })
    }

    /// Sets `key` (`None` removes it).
    pub fn set(&mut self, key: &str, value: Option<String>) -> CliResult<()> {
        if key == "ca_cert" {
            self.ca_cert = value.map(PathBuf::from);
            return Ok(());
        }
        *self.field_mut(key)? = value;
        Ok(())
    }

    /// The profile as JSON, the client secret shown only as `"<set>"`.
    pub fn redacted_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(secret) = value.get_mut("client_secret") {
            *secret = serde_json::Value::from("<set>");
        }
        value
    }
}

/// Where the configuration, tokens and state are kept.
#[derive(Debug, Clone)]
pub struct ConfigDir {
    root: PathBuf,
}

impl ConfigDir {
    /// The folder from the environment (see the module documentation).
    pub fn from_env() -> CliResult<Self> {
        let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let root = if let Some(dir) = non_empty("EVO_CONFIG_DIR") {
            PathBuf::from(dir)
        } else if let Some(dir) = non_empty("XDG_CONFIG_HOME") {
            PathBuf::from(dir).join("evo")
        } else if let Some(dir) = dirs::config_dir() {
            dir.join("evo")
        } else {
            return Err(CliError::usage(
                "cannot tell where to keep the configuration: no home folder",
            )
            .hint("set EVO_CONFIG_DIR to a folder"));
        };
        Ok(ConfigDir { root })
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The configuration file.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// The token file of `profile`.
    pub fn token_file(&self, profile: &str) -> PathBuf {
        self.root.join("tokens").join(format!("{profile}.json"))
    }

    /// The journal of unfinished uploads.
    pub fn upload_journal(&self) -> PathBuf {
        self.root.join("state").join("uploads.json")
    }

    /// Reads the configuration file (empty when there is none).
    pub fn load(&self) -> CliResult<ConfigFile> {
        let path = self.config_file();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
            Err(e) => return Err(io_error(format!("reading {}", path.display()), e)),
        };
        toml::from_str(&text).map_err(|e| {
            CliError::usage(format!(
                "the configuration file {} is invalid: {e}",
                path.display()
            ))
            .hint("fix or remove it; `evo config set` rewrites it")
        })
    }

    /// Writes the configuration file atomically, readable by its owner only.
    pub fn save(&self, config: &ConfigFile) -> CliResult<()> {
        let text = toml::to_string_pretty(config)
            .map_err(|e| CliError::failure(format!("writing the configuration: {e}")))?;
        write_private(&self.config_file(), text.as_bytes())
    }
}

/// Checks a profile name (it names a token file).
pub fn check_profile_name(name: &str) -> CliResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CliError::usage(format!(
            "profile name {name:?} must be 1 to 64 letters, digits, '-' or '_'"
        )))
    }
}

/// Writes `content` to `path` through a temporary file and a rename, mode 0600 on Unix, so
/// readers never see half a file and other users never see secrets.
pub fn write_private(path: &Path, content: &[u8]) -> CliResult<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let context = || format!("writing {}", path.display());
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| io_error(context(), e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temp)?;
        file.write_all(content)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(|e| io_error(context(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_round_trip_and_the_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let config_dir = ConfigDir {
            root: dir.path().join("evo"),
        };
        assert!(config_dir.load().unwrap().profiles.is_empty());
        let mut config = ConfigFile::default();
        let mut profile = Profile::default();
        profile.set("workspace", Some("Survey".into())).unwrap();
        profile.set("client_secret", Some("s3cret".into())).unwrap();
        config.profiles.insert("p".into(), profile.clone());
        config_dir.save(&config).unwrap();
        let loaded = config_dir.load().unwrap();
        assert_eq!(loaded.profiles["p"], profile);
        assert!(
            !loaded.profiles["p"]
                .redacted_json()
                .to_string()
                .contains("s3cret")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(config_dir.config_file())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(profile.clone().set("nonsense", None).is_err());
    }

    #[test]
    fn profile_names_are_checked() {
        assert!(check_profile_name("work-1_x").is_ok());
        for bad in ["", "../x", "a b", "a/b"] {
            assert!(check_profile_name(bad).is_err(), "{bad:?}");
        }
    }
}
