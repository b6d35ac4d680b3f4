//! End to end: browser sign-in (authorization code with PKCE on the loopback listener), silent
//! renewal, an expired sign-in, and sign-out. The test plays the browser.

use crate::support;

use std::time::Duration;

use support::{Env, Run, http_get};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Runs `evo login --no-browser` with the public client and follows the printed URL like a
/// browser would; returns how `evo` ended.
async fn browser_login(env: &Env, profile: &str) -> Run {
    let mut child = env
        .command(&[
            "--profile",
            profile,
            "--client-id",
            "cli-public",
            "--json",
            "login",
            "--no-browser",
            "--redirect-url",
            "http://127.0.0.1:0/callback",
            "--timeout",
            "30",
        ])
        .spawn()
        .expect("evo login");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = String::new();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("read") {
            seen.push_str(&line);
            seen.push('\n');
            if let Some(at) = line.find("http") {
                return line[at..].trim().to_owned();
            }
        }
        panic!("evo login printed no URL: {seen}")
    })
    .await
    .expect("the sign-in URL within 30 s");
    assert!(url.contains("code_challenge="), "PKCE: {url}");
    let (status, redirect) = tokio::task::spawn_blocking(move || http_get(&url))
        .await
        .unwrap();
    assert_eq!(status, 302, "the emulator approves and redirects");
    let redirect = redirect.expect("Location");
    assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
    let (status, _) = tokio::task::spawn_blocking(move || http_get(&redirect))
        .await
        .unwrap();
    assert_eq!(status, 200, "the loopback listener shows the success page");
    let output = child.wait_with_output().await.expect("evo login ends");
    output.into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sign_in_renewal_expiry_and_sign_out() {
    let env = Env::start().await;
    let login = browser_login(&env, "me").await.ok().json();
    assert_eq!(login["mode"], "browser");
    assert_eq!(login["organizations"][0]["name"], "Acme Mining");
    let token_file = env.token_file("me");
    let first = std::fs::read_to_string(&token_file).expect("the token is stored");
    assert!(first.contains("refresh_token"));

    // The profile remembers the client: later commands need no flags.
    let listed = env
        .run(&["--profile", "me", "--json", "workspaces", "ls"])
        .await
        .ok()
        .json();
    assert_eq!(listed[0]["name"], "Survey North");

    // The access token expires: the next command renews it silently with the refresh token.
    env.emu.expire_tokens();
    env.run(&["--profile", "me", "workspaces", "ls"]).await.ok();
    let renewed = std::fs::read_to_string(&token_file).expect("token");
    assert_ne!(renewed, first, "the renewed token was stored");

    // The sign-in ends elsewhere (its refresh token is revoked) while this machine keeps an
    // old copy: once the access token expires, commands say to sign in again.
    let copy = std::fs::read(&token_file).unwrap();
    let out = env.run(&["--profile", "me", "logout"]).await.ok();
    assert!(out.stdout.contains("Signed out"), "{out:?}");
    assert!(!token_file.exists());
    env.run(&["--profile", "me", "workspaces", "ls"])
        .await
        .code(3);
    std::fs::write(&token_file, copy).unwrap();
    env.emu.expire_tokens();
    let expired = env
        .run(&["--profile", "me", "workspaces", "ls"])
        .await
        .code(3);
    assert!(expired.stderr.contains("evo login"), "{expired:?}");
    assert!(!expired.stderr.contains("panicked"), "{expired:?}");

    // Signing in again works.
    browser_login(&env, "me").await.ok();
    env.run(&["--profile", "me", "workspaces", "ls"]).await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_browser_sign_in_is_an_auth_error() {
    let env = Env::start().await;
    env.emu.deny_consent(true);
    let mut child = env
        .command(&[
            "--client-id",
            "cli-public",
            "login",
            "--no-browser",
            "--redirect-url",
            "http://127.0.0.1:0/callback",
        ])
        .spawn()
        .expect("evo login");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next_line().await.unwrap().expect("a URL line");
        if let Some(at) = line.find("http") {
            break line[at..].trim().to_owned();
        }
    };
    let (_, redirect) = tokio::task::spawn_blocking(move || http_get(&url))
        .await
        .unwrap();
    let redirect = redirect.expect("Location");
    tokio::task::spawn_blocking(move || http_get(&redirect))
        .await
        .unwrap();
    let mut rest = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push_str(&line);
    }
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(3), "{rest}");
    assert!(rest.contains("access_denied"), "{rest}");
    assert!(!env.token_file("default").exists());
}
