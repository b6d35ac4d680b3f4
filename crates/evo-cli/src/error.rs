//! The one error type of the command: what went wrong, what to do about it, and the exit code.

use std::fmt;
use std::process::ExitCode;

use evo_auth::OAuthError;

/// What kind of failure a command ended with; each kind has its own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Anything else: the server failed, the network is down, a local file cannot be written.
    Failure,
    /// The command line does not say what to do: bad value, ambiguous or missing choice.
    Usage,
    /// Not signed in, the sign-in expired, or the account may not do this.
    Auth,
    /// The organization, hub, workspace, file or version does not exist.
    NotFound,
    /// The name is taken, or the target exists and `--force` was not given.
    Conflict,
    /// Ctrl-C: the command stopped; transfers continue where they stopped when run again.
    Interrupted,
}

impl Kind {
    /// The process exit code (documented in `evo --help`).
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Failure => 1,
            Kind::Usage => 2,
            Kind::Auth => 3,
            Kind::NotFound => 4,
            Kind::Conflict => 5,
            Kind::Interrupted => 130,
        }
    }

    /// The name used in `--json` error reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Failure => "failure",
            Kind::Usage => "usage",
            Kind::Auth => "auth",
            Kind::NotFound => "not_found",
            Kind::Conflict => "conflict",
            Kind::Interrupted => "interrupted",
        }
    }
}

/// The exit codes, for `evo --help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    failure (server, network or local error)
  2    usage (bad arguments, a missing or ambiguous choice)
  3    not signed in, sign-in expired, or not allowed
  4    not found (organization, hub, workspace, file, version)
  5    conflict (name taken, target exists without --force)
  130  interrupted (Ctrl-C); run the same copy again to resume it";

/// A failed command: a message, an optional hint saying what to do, and a [`Kind`].
#[derive(Debug)]
pub struct CliError {
    /// The kind (and so the exit code).
    pub kind: Kind,
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

/// The result of a command.
pub type CliResult<T> = Result<T, CliError>;

impl CliError {
    /// An error of `kind`.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        CliError {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }

    /// A not-found error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, message)
    }

    /// A general failure.
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(Kind::Failure, message)
    }

    /// Adds (replaces) the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind.exit_code())
    }

    /// The error as a JSON document (for `--json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "kind": self.kind.name(),
                "exit_code": self.kind.exit_code(),
                "message": self.message,
                "hint": self.hint,
            }
        })
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

const LOGIN_HINT: &str = "sign in with `evo login` (or pass --client-id and --client-secret)";

/// The hint and kind for an OAuth failure.
fn from_oauth(e: &OAuthError, message: String) -> CliError {
    if e.needs_login() {
        return CliError::new(Kind::Auth, message)
            .hint("your sign-in is missing or has expired: sign in again with `evo login`");
    }
    match e {
        OAuthError::TokenEndpoint { .. } | OAuthError::Authorization { .. } => {
            CliError::new(Kind::Auth, message)
                .hint("check the client id and secret (`evo config show`), then `evo login`")
        }
        OAuthError::Config { .. } => CliError::usage(message),
        OAuthError::CorruptStore { location, .. } => CliError::new(Kind::Auth, message).hint(
            format!("remove {location} (or run `evo logout`) and sign in again with `evo login`"),
        ),
        OAuthError::LoginTimeout { .. } => CliError::new(Kind::Auth, message)
            .hint("finish the sign-in in the browser sooner, or pass --timeout"),
        _ => CliError::failure(message),
    }
}

impl From<OAuthError> for CliError {
    fn from(e: OAuthError) -> Self {
        let message = e.to_string();
        from_oauth(&e, message)
    }
}

impl From<evo_core::Error> for CliError {
    fn from(e: evo_core::Error) -> Self {
        let message = e.to_string();
        if let Some(oauth) = OAuthError::find(&e) {
            return from_oauth(oauth, message);
        }
        match &e {
            evo_core::Error::Auth(_) => CliError::new(Kind::Auth, message).hint(LOGIN_HINT),
            evo_core::Error::InvalidRequest { .. } => CliError::usage(message),
            evo_core::Error::Transport(_) => CliError::failure(message).hint(
                "check the network and the discovery URL (`evo config show`); --verbose shows each request",
            ),
            _ => by_status(e.status().map(|s| s.as_u16()), message),
        }
    }
}

impl From<evo_files::Error> for CliError {
    fn from(e: evo_files::Error) -> Self {
        match e {
            evo_files::Error::Service(inner) => inner.into(),
            evo_files::Error::InvalidPath { .. } => CliError::usage(e.to_string()),
            evo_files::Error::Transfer { .. } => {
                let auth = e
                    .as_transfer()
                    .and_then(|t| t.core())
                    .and_then(OAuthError::find)
                    .map(|o| from_oauth(o, e.to_string()));
                auth.unwrap_or_else(|| {
                    CliError::failure(e.to_string())
                        .hint("run the same command again: the copy continues where it stopped")
                })
            }
            other => CliError::failure(other.to_string()),
        }
    }
}

impl From<evo_objects::Error> for CliError {
    fn from(e: evo_objects::Error) -> Self {
        let message = e.to_string();
        match e {
            evo_objects::Error::Service(inner) => inner.into(),
            evo_objects::Error::InvalidPath { .. }
            | evo_objects::Error::InvalidReference { .. }
            | evo_objects::Error::InvalidObject(_) => CliError::usage(message),
            evo_objects::Error::AlreadyExists { .. } => CliError::new(Kind::Conflict, message)
                .hint("pass --replace to save a new version of it, or choose another path"),
            evo_objects::Error::Modified { .. } => CliError::new(Kind::Conflict, message)
                .hint("the object changed meanwhile: run the command again"),
            evo_objects::Error::Transfer { ref source, .. } => {
                let auth = source
                    .core()
                    .and_then(OAuthError::find)
                    .map(|o| from_oauth(o, message.clone()));
                auth.unwrap_or_else(|| {
                    if e.is_integrity() {
                        CliError::failure(message)
                            .hint("the data did not match its SHA-256; nothing was kept: run the command again")
                    } else {
                        CliError::failure(message).hint("run the same command again")
                    }
                })
            }
            evo_objects::Error::Table(_) => CliError::failure(message),
            _ => by_status(e.status().map(|s| s.as_u16()), message),
        }
    }
}

impl From<evo_blockmodels::Error> for CliError {
    fn from(e: evo_blockmodels::Error) -> Self {
        let message = e.to_string();
        match e {
            evo_blockmodels::Error::Service(inner) => inner.into(),
            evo_blockmodels::Error::InvalidRequest(_) => CliError::usage(message),
            evo_blockmodels::Error::Transfer { ref source, .. } => {
                let auth = source
                    .core()
                    .and_then(OAuthError::find)
                    .map(|o| from_oauth(o, message.clone()));
                auth.unwrap_or_else(|| {
                    CliError::failure(message).hint("run the same command again")
                })
            }
            evo_blockmodels::Error::JobTimedOut { .. } => CliError::failure(message)
                .hint("the service is busy or the query is large: run the command again later"),
            _ => by_status(e.status().map(|s| s.as_u16()), message),
        }
    }
}

impl From<evo_sync::Error> for CliError {
    fn from(e: evo_sync::Error) -> Self {
        CliError::failure(e.to_string())
    }
}

fn by_status(status: Option<u16>, message: String) -> CliError {
    match status {
        Some(401) => CliError::new(Kind::Auth, message).hint(LOGIN_HINT),
        Some(403) => CliError::new(Kind::Auth, message)
            .hint("your account's role does not allow this; ask a workspace owner"),
        Some(404 | 410) => CliError::not_found(message),
        Some(409) => CliError::new(Kind::Conflict, message),
        Some(400 | 422) => CliError::usage(message),
        _ => CliError::failure(message),
    }
}

/// Local I/O failures with the path they concern.
pub fn io_error(context: impl fmt::Display, e: std::io::Error) -> CliError {
    CliError::failure(format!("{context}: {e}"))
}
