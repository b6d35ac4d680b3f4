//! A user login through the browser: authorization code with PKCE, a loopback redirect
//! listener, and the token kept in a file so that the next run needs no browser.
//!
//! ```text
//! cargo run --example login [-- --headless] [--store PATH]
//! ```
//!
//! Without `EVO_CLIENT_ID` it starts the embedded Evo emulator, whose login page approves its
//! test user at once. `--headless` completes that login without a browser: the example visits
//! the login page itself and follows its redirect to the loopback listener, as a browser would
//! (only against the emulator). With `EVO_CLIENT_ID` set (a public client registered with the
//! redirect URL `EVO_REDIRECT_URL`, default `http://localhost:3000/signin-callback`) it logs in
//! to a real Evo in the system browser.
//!
//! It connects twice with the same token store (`--store PATH`, default a temporary file): the
//! first connection opens the browser unless the store holds a usable token, the second reuses
//! the stored token.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use evo_sdk::auth::{BrowserLauncher, FileTokenStore, SystemBrowser, browser_fn};
use evo_sdk::core::Body;
use evo_sdk::core::http::{Request, header::LOCATION};
use evo_sdk::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let headless = args.iter().any(|a| a == "--headless");
    let scratch = tempfile::tempdir()?;
    let store = match args.iter().position(|a| a == "--store") {
        Some(i) => args.get(i + 1).ok_or("--store needs a path")?.into(),
        None => scratch.path().join("evo-token.json"),
    };
    let transport: SharedTransport = Arc::new(HyperTransport::new());

    // Where to log in: a real Evo from the environment, or the embedded emulator.
    let (emulator, builder) = match std::env::var("EVO_CLIENT_ID") {
        Ok(client_id) => (None, evo_sdk::from_env().browser_login(client_id)),
        Err(_) => {
            let emulator = Emulator::builder().start().await?;
            println!(
                "Started the embedded Evo emulator at {}",
                emulator.base_url()
            );
            let builder = Evo::builder()
                .discovery_url(emulator.discovery_url().as_str())
                .issuer(emulator.ims_url().as_str())
                .browser_login(emulator.public_client_id())
                // Any free loopback port: the emulator accepts loopback redirects.
                .redirect_url("http://127.0.0.1:0/signin-callback");
            (Some(emulator), builder)
        }
    };
    if headless && emulator.is_none() {
        return Err("--headless completes only the emulator's login page".into());
    }

    // The login page is shown by the system browser, or visited here with --headless.
    let opened = Arc::new(AtomicUsize::new(0));
    let count = opened.clone();
    let visitor = transport.clone();
    let runtime = tokio::runtime::Handle::current();
    let browser = browser_fn(move |url: &str| {
        count.fetch_add(1, Ordering::SeqCst);
        if !headless {
            return SystemBrowser.open(url);
        }
        let (visitor, url) = (visitor.clone(), url.to_owned());
        runtime.spawn(async move {
            if let Err(e) = visit_login_page(&visitor, &url).await {
                eprintln!("the headless login failed: {e}");
            }
        });
        Ok(())
    });
    let builder = builder
        .transport(transport)
        .browser(Arc::new(browser))
        .token_store(Arc::new(FileTokenStore::new(&store)));

    // First connection: the browser login (unless the store holds a usable token).
    let evo = builder.clone().connect().await?;
    let page = evo
        .workspaces()
        .list_workspaces(&ListWorkspacesQuery::default())
        .await?;
    println!(
        "Logged in to {} ({} workspace(s)); the token is kept in {}",
        evo.organization().display_name,
        page.items.len(),
        store.display()
    );

    // Second connection, as the next run of the program would: the stored token is used.
    let again = builder.connect().await?;
    again
        .workspaces()
        .list_workspaces(&ListWorkspacesQuery::default())
        .await?;
    let opened = opened.load(Ordering::SeqCst);
    println!("Connected again from the token store; the login page was opened {opened} time(s)");
    if emulator.is_some() && opened != 1 {
        return Err(format!("expected one login page, saw {opened}").into());
    }
    if let Some(emulator) = emulator {
        emulator.shutdown().await;
    }
    Ok(())
}

/// What a browser does on the emulator's login page: GET it, follow its redirect to the
/// loopback listener (which receives the authorization code).
async fn visit_login_page(transport: &SharedTransport, url: &str) -> Result<(), String> {
    let mut url = url.to_owned();
    for _ in 0..5 {
        let request = Request::get(&url)
            .body(Body::empty())
            .map_err(|e| e.to_string())?;
        let response = transport.send(request).await.map_err(|e| e.to_string())?;
        let Some(location) = response.headers().get(LOCATION) else {
            return if response.status().is_success() {
                Ok(())
            } else {
                Err(format!("{} from {}", response.status(), redact(&url)))
            };
        };
        url = location.to_str().map_err(|e| e.to_string())?.to_owned();
    }
    Err("too many redirects".into())
}

fn redact(url: &str) -> String {
    url.parse()
        .map(|u| evo_sdk::core::redact_uri(&u))
        .unwrap_or_default()
}
