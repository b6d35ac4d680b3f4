//! `evo login`, `evo logout`, `evo status`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use evo_auth::{
    BrowserLauncher, ClientCredentialsAuthorizer, PrintUrl, Scopes, SystemBrowser, Token, TokenKey,
    TokenKind, browser_fn,
};
use serde_json::json;

use crate::cli::LoginArgs;
use crate::error::{CliResult, io_error};
use crate::output::print_json;
use crate::session::{Mode, Session, Target};

/// `evo login`: signs in and remembers where and as which client.
pub async fn login(session: &mut Session, args: LoginArgs) -> CliResult<()> {
    if let Some(url) = &args.redirect_url {
        session.profile.redirect_url = Some(url.clone());
    }
    let target = session.target()?;
    let token = match target.mode() {
        Mode::ClientCredentials => {
            // A fresh token proves the credentials; the store keeps it for later commands.
            let authorizer =
                ClientCredentialsAuthorizer::builder(session.oauth_connector(&target)?)
                    .store(session.token_store())
                    .build()?;
            authorizer.token().await?
        }
        Mode::User => {
            let browser: Arc<dyn BrowserLauncher> = if args.no_browser {
                Arc::new(PrintUrl)
            } else {
                Arc::new(SystemBrowser)
            };
            let timeout = Duration::from_secs(args.timeout);
            let authorizer =
                session.user_authorizer(&target, |b| b.browser(browser).login_timeout(timeout))?;
            if !session.json() && !args.no_browser {
                eprintln!(
                    "Opening the browser to sign in (use --no-browser to get the URL instead)..."
                );
            }
            authorizer.login().await?;
            authorizer.token().ok_or_else(|| {
                crate::error::CliError::failure("the sign-in finished without a token")
            })?
        }
    };
    remember_target(session);
    session.save_profile()?;
    // Discovery proves the token works and shows what it gives access to.
    let (_, organizations) = session.organizations().await?;
    if session.json() {
        let orgs: Vec<_> = organizations
            .iter()
            .map(|o| json!({"id": o.id, "name": o.display_name}))
            .collect();
        return print_json(&json!({
            "profile": session.profile_name,
            "mode": mode_name(&target),
            "client_id": target.client_id,
            "expires_at": token.expires_at().map(unix),
            "organizations": orgs,
        }));
    }
    println!(
        "Signed in ({}) as client {:?}, profile {:?}.",
        mode_name(&target),
        target.client_id,
        session.profile_name
    );
    match organizations.as_slice() {
        [] => println!("The sign-in gives access to no organization."),
        [only] => println!("Organization: {}", only.display_name),
        many => println!(
            "{} organizations; choose one with `evo orgs use NAME`.",
            many.len()
        ),
    }
    Ok(())
}

/// Keeps the connection settings given on the command line in the profile.
fn remember_target(session: &mut Session) {
    if session.is_ephemeral() {
        return;
    }
    let global = session.global.clone();
    let profile = &mut session.profile;
    for (flag, saved) in [
        (global.discovery_url, &mut profile.discovery_url),
        (global.ims_url, &mut profile.ims_url),
        (global.client_id, &mut profile.client_id),
        (global.client_secret, &mut profile.client_secret),
    ] {
        if flag.is_some() {
            *saved = flag;
        }
    }
    if global.ca_cert.is_some() {
        profile.ca_cert = global.ca_cert;
    }
}

fn mode_name(target: &Target) -> &'static str {
    match target.mode() {
        Mode::ClientCredentials => "client credentials",
        Mode::User => "browser",
    }
}

fn unix(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `evo logout`: revokes the session at the issuer and forgets the token (and a saved
/// client secret).
pub async fn logout(session: &mut Session) -> CliResult<()> {
    let target = session.target()?;
    let token_file = session.dir.token_file(&session.profile_name);
    let mut end_session = None;
    let mut revoke_error = None;
    match target.mode() {
        Mode::User => {
            // Nothing opens a browser here: the end-session URL is printed instead.
            let quiet: Arc<dyn BrowserLauncher> = Arc::new(browser_fn(|_| Ok(())));
            let authorizer = session.user_authorizer(&target, |b| b.browser(quiet))?;
            match authorizer.restore().await {
                Ok(_) => match authorizer.sign_out(None).await {
                    Ok(url) => end_session = Some(url),
                    Err(e) => revoke_error = Some(e.to_string()),
                },
                Err(e) => revoke_error = Some(e.to_string()),
            }
        }
        Mode::ClientCredentials => {
            let connector = session.oauth_connector(&target)?;
            let store = session.token_store();
            let key = TokenKey::new(
                connector.issuer().as_str(),
                connector.client_id(),
                &Scopes::all_evo(),
            );
            match store.load(&key).await {
                Ok(Some(token)) => {
                    if let Err(e) = connector
                        .revoke(token.access_token(), TokenKind::AccessToken)
                        .await
                    {
                        revoke_error = Some(e.to_string());
                    }
                }
                Ok(None) => {}
                Err(e) => revoke_error = Some(e.to_string()),
            }
            session.profile.client_secret = None;
        }
    }
    // Whatever the issuer said, nothing of the sign-in stays here.
    match std::fs::remove_file(&token_file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(format!("removing {}", token_file.display()), e)),
    }
    session.save_profile()?;
    if session.json() {
        return print_json(&json!({
            "profile": session.profile_name,
            "signed_out": true,
            "revocation_error": revoke_error,
            "end_session_url": end_session.as_ref().map(|u| u.to_string()),
        }));
    }
    println!("Signed out of profile {:?}.", session.profile_name);
    if let Some(e) = revoke_error {
        eprintln!(
            "warning: the issuer was not told ({e}); the old session stays valid there until it expires"
        );
    }
    if let Some(url) = end_session {
        println!("To also end the browser's session, open: {url}");
    }
    Ok(())
}

/// `evo status`: the profile, its settings and whether it is signed in.
pub async fn status(session: &mut Session) -> CliResult<()> {
    let target = session.target().ok();
    let token: Option<Token> = match &target {
        None => None,
        Some(t) if t.mode() == Mode::User => {
            let authorizer = session.user_authorizer(t, |b| b)?;
            authorizer
                .restore()
                .await
                .ok()
                .and_then(|_| authorizer.token())
        }
        Some(t) => {
            let connector = session.oauth_connector(t)?;
            let key = TokenKey::new(
                connector.issuer().as_str(),
                connector.client_id(),
                &Scopes::all_evo(),
            );
            session.token_store().load(&key).await.ok().flatten()
        }
    };
    let now = SystemTime::now();
    let signed_in = token.is_some();
    let expired = token.as_ref().is_some_and(|t| t.is_expired_at(now));
    let renewable = token.as_ref().is_some_and(|t| t.refresh_token().is_some())
        || target.as_ref().is_some_and(|t| t.client_secret.is_some());
    let profile = &session.profile;
    if session.json() {
        return print_json(&json!({
            "profile": session.profile_name,
            "config_dir": session.dir.root(),
            "discovery_url": target.as_ref().map(|t| t.discovery_url.to_string()),
            "ims_url": target.as_ref().map(|t| t.ims_url.clone()),
            "client_id": target.as_ref().map(|t| t.client_id.clone()),
            "mode": target.as_ref().map(mode_name),
            "signed_in": signed_in,
            "token_expired": expired,
            "renewable": renewable,
            "expires_at": token.as_ref().and_then(Token::expires_at).map(unix),
            "org": profile.org,
            "hub": profile.hub,
            "workspace": profile.workspace,
        }));
    }
    println!("profile:      {}", session.profile_name);
    println!("config:       {}", session.dir.root().display());
    match &target {
        Some(t) => {
            println!("discovery:    {}", t.discovery_url);
            println!("issuer:       {}", t.ims_url);
            println!("client:       {} ({})", t.client_id, mode_name(t));
        }
        None => println!("client:       none configured (`evo login --client-id ...`)"),
    }
    let state = match (&token, expired, renewable) {
        (None, _, _) => "not signed in (`evo login`)".to_owned(),
        (Some(_), true, true) => "signed in (the token is renewed on next use)".to_owned(),
        (Some(_), true, false) => "expired (`evo login`)".to_owned(),
        (Some(t), false, _) => match t.remaining_at(now) {
            Some(left) => format!("signed in (token valid for {} more s)", left.as_secs()),
            None => "signed in".to_owned(),
        },
    };
    println!("sign-in:      {state}");
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    println!("organization: {}", shown(&profile.org));
    println!("hub:          {}", shown(&profile.hub));
    println!("workspace:    {}", shown(&profile.workspace));
    Ok(())
}
