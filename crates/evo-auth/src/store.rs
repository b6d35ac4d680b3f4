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
    /// Holds other processes off `key`'s token until the lock is dropped: the token cache
    /// takes it around "read the store again, refresh, save", so processes sharing a store
    /// with rotating refresh tokens do not spend each other's refresh token. The default is
    /// no lock (`None`), right for a store only this process uses;
    /// [`FileTokenStore`] takes an OS file lock.
    async fn lock(&self, key: &TokenKey) -> Result<Option<TokenStoreLock>, OAuthError> {
        let _ = key;
        Ok(None)
    }
}

/// A held [`TokenStore::lock`]; dropping it releases the lock.
#[must_use = "the lock is released when dropped"]
pub struct TokenStoreLock {
    _guard: Box<dyn Send + Sync>,
}

impl TokenStoreLock {
    /// A lock released when `guard` is dropped.
    pub fn new(guard: impl Send + Sync + 'static) -> Self {
        TokenStoreLock {
            _guard: Box::new(guard),
        }
    }
}

impl fmt::Debug for TokenStoreLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenStoreLock")
    }
}

/// How long [`FileTokenStore::lock`] waits for another process to finish its refresh before
/// going on without the lock (a refresh takes seconds; a stuck process must not block forever).
const FILE_LOCK_WAIT: Duration = Duration::from_secs(120);

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

    /// The lock file beside the token file (`<name>.lock`); the token file itself is
    /// replaced by renames, so it cannot carry the lock.
    fn lock_path(&self) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "token".into());
        name.push(".lock");
        self.path.with_file_name(name)
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
        // `SystemTime + Duration` panics past what the clock can hold: check the addition.
        let time = |what: &str, secs: u64| {
            UNIX_EPOCH
                .checked_add(Duration::from_secs(secs))
                .ok_or_else(|| self.corrupt(format!("{what} is out of range")))
        };
        let mut token =
            Token::new(file.access_token).with_issued_at(time("issued_at", file.issued_at)?);
        if let Some(at) = file.expires_at {
            token = token.with_expires_at(time("expires_at", at)?);
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

    /// An exclusive OS file lock (`flock`/`LockFileEx`) on `<file>.lock` beside the token
    /// file, waited for up to two minutes (then the refresh goes on without it, logged).
    async fn lock(&self, _key: &TokenKey) -> Result<Option<TokenStoreLock>, OAuthError> {
        let path = self.lock_path();
        let context = || format!("locking the token file {}", path.display());
        let file = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || open_lock_file(&path))
                .await
                .map_err(|e| OAuthError::io(context(), std::io::Error::other(e)))?
                .map_err(|e| OAuthError::io(context(), e))?
        };
        let started = std::time::Instant::now();
        loop {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => return Ok(Some(TokenStoreLock::new(file))),
                Err(fs4::TryLockError::WouldBlock) => {}
                Err(fs4::TryLockError::Error(e)) => return Err(OAuthError::io(context(), e)),
            }
            if started.elapsed() >= FILE_LOCK_WAIT {
                tracing::warn!(path = %path.display(), "another process holds the token file lock for too long; going on without it");
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
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

fn open_lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
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

    /// Fuzz-style properties of reading a token file someone (or something) else wrote.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;
        use serde_json::{Value, json};

        fn runtime() -> tokio::runtime::Runtime {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
        }

        /// Loads `content` written as the token file.
        fn load(content: &[u8]) -> Result<Option<Token>, OAuthError> {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("token.json");
            std::fs::write(&path, content).expect("write");
            runtime().block_on(FileTokenStore::new(&path).load(&key()))
        }

        fn assert_typed_without_tokens(result: &Result<Option<Token>, OAuthError>) {
            if let Err(e) = result {
                assert!(matches!(e, OAuthError::CorruptStore { .. }), "{e:?}");
                let shown = format!("{e} {e:?}");
                assert!(
                    !shown.contains("SECRET"),
                    "an error quotes a token: {shown}"
                );
            }
        }

        fn valid_file() -> Value {
            json!({
                "version": 1,
                "issuer": "https://ims.example",
                "client_id": "cid",
                "scopes": key().scopes,
                "access_token": "ATSECRET",
                "refresh_token": "RTSECRET",
                "issued_at": 1_700_000_000u64,
                "expires_at": 1_700_003_600u64,
                "granted_scopes": "evo.workspace",
            })
        }

        fn json_value() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                Just(Value::from(u64::MAX)),
                any::<f64>().prop_map(Value::from),
                ".{0,12}".prop_map(Value::from),
                "y{2000,5000}".prop_map(Value::from),
                Just(json!([1, "ATSECRET"])),
            ]
        }

        #[test]
        fn the_unmutated_file_loads() {
            let token = load(valid_file().to_string().as_bytes())
                .expect("load")
                .expect("the key matches");
            assert_eq!(token.access_token().expose(), "ATSECRET");
        }

        #[test]
        fn every_truncation_of_a_token_file_is_a_typed_error() {
            let text = serde_json::to_string(&valid_file()).expect("json");
            for cut in 0..text.len() {
                let result = load(&text.as_bytes()[..cut]);
                assert!(result.is_err(), "cut at {cut} loaded");
                assert_typed_without_tokens(&result);
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn arbitrary_file_content_gives_a_token_nothing_or_a_typed_error(
                content in prop::collection::vec(any::<u8>(), 0..256),
            ) {
                assert_typed_without_tokens(&load(&content));
            }

            #[test]
            fn mutated_token_files_load_the_right_token_or_fail_without_quoting_it(
                field in prop::sample::select(vec![
                    "version", "issuer", "client_id", "scopes", "access_token",
                    "refresh_token", "issued_at", "expires_at", "granted_scopes",
                ]),
                value in prop::option::of(json_value()),
                duplicate in any::<bool>(),
            ) {
                let mut file = valid_file();
                let object = file.as_object_mut().expect("object");
                let mut text = match &value {
                    Some(v) => {
                        object.insert(field.to_owned(), v.clone());
                        serde_json::to_string(&file).expect("json")
                    }
                    None => {
                        object.remove(field);
                        serde_json::to_string(&file).expect("json")
                    }
                };
                let duplicate = duplicate && value.is_some();
                if duplicate {
                    // The member twice: serde refuses duplicated fields.
                    text.insert_str(1, &format!("\"{field}\":1,"));
                }
                let result = load(text.as_bytes());
                assert_typed_without_tokens(&result);
                if duplicate {
                    prop_assert!(result.is_err(), "a duplicated {} was accepted", field);
                }
                if let Ok(Some(token)) = &result {
                    let object = file.as_object().expect("object");
                    prop_assert_eq!(
                        Some(token.access_token().expose()),
                        object.get("access_token").and_then(Value::as_str)
                    );
                    let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
                    prop_assert_eq!(
                        Some(secs(token.issued_at())),
                        object.get("issued_at").and_then(Value::as_u64)
                    );
                    prop_assert_eq!(
                        token.expires_at().map(secs),
                        object.get("expires_at").and_then(Value::as_u64)
                    );
                }
            }

            #[test]
            fn times_past_what_the_clock_can_hold_are_typed_errors(
                field in prop::sample::select(vec!["issued_at", "expires_at"]),
                secs in (i64::MAX as u64 + 1)..=u64::MAX,
            ) {
                let mut file = valid_file();
                file[field] = Value::from(secs);
                let result = load(file.to_string().as_bytes());
                assert_typed_without_tokens(&result);
                prop_assert!(result.is_err(), "{} = {} was accepted", field, secs);
            }

            #[test]
            fn saved_tokens_load_back_unchanged(
                access in "[!-~]{1,200}",
                refresh in prop::option::of("[ -~]{1,200}"),
                issued in 0u64..=4_000_000_000,
                lifetime in prop::option::of(0u64..=400_000_000),
                scopes in prop::option::of("[a-z.]{1,12}( [a-z.]{1,12}){0,3}"),
            ) {
                let mut token = Token::new(access.clone())
                    .with_issued_at(UNIX_EPOCH + Duration::from_secs(issued));
                if let Some(l) = lifetime {
                    token = token.with_expires_in(Duration::from_secs(l));
                }
                if let Some(r) = &refresh {
                    token = token.with_refresh_token(r.clone());
                }
                let scopes = scopes.map(|s| Scopes::parse([s]).expect("valid scopes"));
                if let Some(s) = &scopes {
                    token = token.with_scopes(s.clone());
                }
                let dir = tempfile::tempdir().expect("tempdir");
                let store = FileTokenStore::new(dir.path().join("token.json"));
                let loaded = runtime().block_on(async {
                    store.save(&key(), &token).await.expect("save");
                    store.load(&key()).await.expect("load").expect("a token")
                });
                prop_assert_eq!(loaded.access_token().expose(), access.as_str());
                prop_assert_eq!(loaded.refresh_token().map(|r| r.expose().to_owned()), refresh);
                prop_assert_eq!(loaded.issued_at(), token.issued_at());
                prop_assert_eq!(loaded.expires_at(), token.expires_at());
                prop_assert_eq!(loaded.scopes(), scopes.as_ref());
            }
        }
    }
}
