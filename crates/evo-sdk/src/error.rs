//! The error of wiring an [`Evo`](crate::Evo) client.

/// Why an [`Evo`](crate::Evo) client could not be made: a configuration problem, a failed
/// login, or a failed discovery call. The service clients it hands out keep their own crates'
/// errors (`evo_core::Error`, `evo_files::Error`, ...).
///
/// Following the Rust convention, `Display` describes this step only and the cause is its
/// [`source()`](std::error::Error::source), so chains print once with `anyhow` or `eyre`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is incomplete or invalid (a missing credential, an unparsable URL or
    /// UUID, no transport without the `hyper` feature). The message names the setting or
    /// environment variable.
    #[error("invalid evo-sdk configuration: {message}")]
    Config {
        /// What is wrong, naming the setting.
        message: String,
    },
    /// Logging in failed (the token endpoint refused, the browser login timed out, the token
    /// store is unreadable).
    #[error("logging in to Evo at {issuer} failed")]
    Login {
        /// The issuer (IMS) asked, so that a wrong or unreachable default is visible.
        issuer: String,
        /// What the OAuth layer reported.
        #[source]
        source: evo_auth::OAuthError,
    },
    /// A call to the Evo APIs failed (discovery, building a hub connector).
    #[error("{context}")]
    Api {
        /// What was being done.
        context: String,
        /// The API or transport error, with status and body when the server answered.
        #[source]
        source: evo_core::Error,
    },
    /// Discovery answered, but not with the organization or hub asked for (or with none).
    #[error("{message}")]
    NotDiscovered {
        /// What was missing and what was discovered instead.
        message: String,
    },
}

impl Error {
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }

    pub(crate) fn api(context: impl Into<String>, source: evo_core::Error) -> Self {
        Error::Api {
            context: context.into(),
            source,
        }
    }

    /// The API error, when this is one (for `is_not_found()`, `status()`, the body, ...).
    pub fn as_api(&self) -> Option<&evo_core::Error> {
        match self {
            Error::Api { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The OAuth error, when logging in failed.
    pub fn as_login(&self) -> Option<&evo_auth::OAuthError> {
        match self {
            Error::Login { source, .. } => Some(source),
            _ => None,
        }
    }
}
