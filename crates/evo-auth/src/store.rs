//! Keeping tokens between runs: the [`TokenStore`] trait, an in-memory and a file store.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::OAuthError;
use crate::scope::Scopes;
use crate::token::Token;

/// What a stored token belongs to: the issuer, the client and the scopes asked for. A store
/// returns a token only for the key it was saved under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    /// The issuer base URL.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The scopes requested (space-separated, sorted).
    pub scopes: String,
}

impl TokenKey {
    /// A key.
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>, scopes: &Scopes) -> Self {
        TokenKey {
            issuer: issuer.into(),
            client_id: client_id.into(),
            scopes: scopes.to_string(),
        }
    }
}

/// Where the authorizers keep tokens between runs, so a CLI user does not log in every time.
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The token saved for `key`, if any.
    async fn load(&self, key: &TokenKey) -> Result<Option<Token>, OAuthError>;
    /// Saves (replaces) the token for `key`.
    async fn save(&self, key: &TokenKey, token: &Token) -> Result<(), OAuthError>;
    /// Forgets the token for `key`.
    async fn clear(&self, key: &TokenKey) -> Result<(), OAuthError>;
}

/// Keeps tokens in memory (for the life of the process).
#[derive(Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<HashMap<TokenKey, Token>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.tokens.lock().map(|t| t.len()).unwrap_or(0);
        f.debug_struct("MemoryTokenStore")
            .field("tokens", &count)
            .finish()
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<Token>, OAuthError> {
        Ok(self
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned())
    }
    async fn save(&self, key: &TokenKey, token: &Token) -> Result<(), OAuthError> {
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.clone(), token.clone());
        Ok(())
    }
    async fn clear(&self, key: &TokenKey) -> Result<(), OAuthError> {
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
        Ok(())
    }
}

/// Keeps one token in a JSON file, readable only by its owner (mode 0600 on Unix), replaced
/// atomically (written to a temporary file in the same folder, synced, then renamed) so a crash
/// never leaves a half-written file.
///
/// The file holds the refresh token in plain text, protected by its permissions only, like the
/// credential files of other CLIs.
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    path: PathBuf,
}

/// The format of the token file.
#[derive(Serialize, Deserialize)]
struct FileFormat {
    version: u32,
    issuer: String,
    client_id: String,
    scopes: String,
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    /// Unix seconds.
    issued_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    granted_scopes: Option<String>,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl FileTokenStore {
    /// A store at `path` (the folder is created when the first token is saved).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTokenStore { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn corrupt(&self, reason: impl Into<String>) -> OAuthError {
        OAuthError::CorruptStore {
            location: self.path.display().to_string(),
            reason: reason.into(),
        }
    }
}

#[async_trait]
impl TokenStore for FileTokenStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<Token>, OAuthError> {
        let bytes = match tokio::fs::read(&self.path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(OAuthError::io(
                    format!("reading the token file {}", self.path.display()),
                    e,
                ));
            }
        };
        #[cfg(unix)]
        if let Ok(meta) = tokio::fs::metadata(&self.path).await {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %self.path.display(), "the token file is readable by other users; it should have mode 0600");
            }
        }
        // The serde message may quote a value; report the position only.
        let file: FileFormat = serde_json::from_slice(&bytes).map_err(|e| {
            self.corrupt(format!(
                "not a token file ({:?} at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        if file.version != 1 {
            return Err(self.corrupt(format!("unknown version {}", file.version)));
        }
        if file.issuer != key.issuer || file.client_id != key.client_id || file.scopes != key.scopes
        {
            tracing::debug!(path = %self.path.display(), "the stored token belongs to another issuer, client or scope set");
            return Ok(None);
        }
        if file.access_token.is_empty() || evo_core::bearer_header(&file.access_token).is_err() {
            return Err(self.corrupt("the access token is empty or not a valid header value"));
        }
        let mut token = Token::new(file.access_token)
            .with_issued_at(UNIX_EPOCH + Duration::from_secs(file.issued_at));
        if let Some(at) = file.expires_at {
            token = token.with_expires_at(UNIX_EPOCH + Duration::from_secs(at));
        }
        if let Some(rt) = file.refresh_token.filter(|r| !r.is_empty()) {
            token = token.with_refresh_token(rt);
        }
        if let Some(s) = file.granted_scopes.and_then(|s| Scopes::parse([s]).ok()) {
            token = token.with_scopes(s);
        }
        Ok(Some(token))
    }

    async fn save(&self, key: &TokenKey, token: &Token) -> Result<(), OAuthError> {
        let file = FileFormat {
            version: 1,
            issuer: key.issuer.clone(),
            client_id: key.client_id.clone(),
            scopes: key.scopes.clone(),
            access_token: token.access_token().expose().to_owned(),
            refresh_token: token.refresh_token().map(|r| r.expose().to_owned()),
            issued_at: unix(token.issued_at()),
            expires_at: token.expires_at().map(unix),
            granted_scopes: token.scopes().map(|s| s.to_string()),
        };
        let json = serde_json::to_vec_pretty(&file)
            .map_err(|e| OAuthError::config(format!("serialising the token: {e}")))?;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&path, &json))
            .await
            .map_err(|e| OAuthError::io("writing the token file", std::io::Error::other(e)))?
    }

    async fn clear(&self, _key: &TokenKey) -> Result<(), OAuthError> {
        match tokio::fs::remove_file(&self.path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(OAuthError::io(
                format!("removing the token file {}", self.path.display()),
                e,
            )),
        }
    }
}

fn write_atomically(path: &Path, content: &[u8]) -> Result<(), OAuthError> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let context = |what: &str| format!("{what} for the token file {}", path.display());
    create_private_dir(&dir).map_err(|e| OAuthError::io(context("creating the folder"), e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "token".into());
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| {
        OAuthError::io(context("random name"), std::io::Error::other(e.to_string()))
    })?;
    let temp = dir.join(format!(".{name}.{}.tmp", hex_lower(&suffix)));
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
        drop(file);
        std::fs::rename(&temp, path)?;
        // Make the rename itself durable.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(|e| OAuthError::io(context("writing"), e))
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TokenKey {
        TokenKey::new("https://ims.example", "cid", &Scopes::default())
    }

    fn token() -> Token {
        Token::new("AT-secret")
            .with_refresh_token("RT-secret")
            .with_issued_at(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
            .with_expires_in(Duration::from_secs(3600))
            .with_scopes(Scopes::default())
    }

    #[tokio::test]
    async fn memory_store_round_trip() {
        let store = MemoryTokenStore::new();
        assert!(store.load(&key()).await.unwrap().is_none());
        store.save(&key(), &token()).await.unwrap();
        let t = store.load(&key()).await.unwrap().unwrap();
        assert_eq!(t.access_token().expose(), "AT-secret");
        assert!(!format!("{store:?}").contains("secret"));
        store.clear(&key()).await.unwrap();
        assert!(store.load(&key()).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn file_store_round_trip_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dir/token.json");
        let store = FileTokenStore::new(&path);
        assert!(store.load(&key()).await.unwrap().is_none());
        store.save(&key(), &token()).await.unwrap();
        store
            .save(&key(), &token().with_refresh_token("RT-2"))
            .await
            .unwrap();
        let t = store.load(&key()).await.unwrap().unwrap();
        assert_eq!(t.access_token().expose(), "AT-secret");
        assert_eq!(t.refresh_token().unwrap().expose(), "RT-2");
        assert_eq!(t.issued_at(), token().issued_at());
        assert_eq!(t.expires_at(), token().expires_at());
        assert_eq!(t.scopes(), Some(&Scopes::default()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("token.json")]);
        // Another client's key does not see it.
        let other = TokenKey::new("https://ims.example", "other", &Scopes::default());
        assert!(store.load(&other).await.unwrap().is_none());
        store.clear(&key()).await.unwrap();
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn corrupt_file_is_a_typed_error_that_does_not_quote_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.json");
        std::fs::write(
            &path,
            br#"{"version":1,"access_token":"AT-leak","issuer":5}"#,
        )
        .unwrap();
        let e = FileTokenStore::new(&path).load(&key()).await.unwrap_err();
        assert!(matches!(e, OAuthError::CorruptStore { .. }), "{e:?}");
        assert!(!format!("{e} {e:?}").contains("AT-leak"));
        std::fs::write(&path, b"garbage").unwrap();
        assert!(FileTokenStore::new(&path).load(&key()).await.is_err());
    }
}
