//! Opening the login page: the system browser, printing the URL, or a caller's function.

use std::fmt;

/// Shows the authorize URL to the user. The login waits for the browser to come back to the
/// loopback listener; a test can implement this to drive the redirect itself.
pub trait BrowserLauncher: Send + Sync + fmt::Debug {
    /// Opens `authorize_url`. An error makes the login print the URL instead and keep waiting.
    fn open(&self, authorize_url: &str) -> std::io::Result<()>;
}

/// Opens the system's default browser (the `webbrowser` crate; feature `browser`), or prints
/// the URL to standard error when there is no browser.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemBrowser;

impl BrowserLauncher for SystemBrowser {
    fn open(&self, authorize_url: &str) -> std::io::Result<()> {
        #[cfg(feature = "browser")]
        {
            webbrowser::open(authorize_url)
        }
        #[cfg(not(feature = "browser"))]
        {
            PrintUrl.open(authorize_url)
        }
    }
}

/// Prints the URL to standard error for the user to open (headless machines, SSH sessions).
#[derive(Debug, Clone, Copy, Default)]
pub struct PrintUrl;

impl BrowserLauncher for PrintUrl {
    fn open(&self, authorize_url: &str) -> std::io::Result<()> {
        eprintln!("Open this URL in a browser to log in to Evo:\n\n    {authorize_url}\n");
        Ok(())
    }
}

/// A [`BrowserLauncher`] made from a function.
pub fn browser_fn<F>(f: F) -> BrowserFn<F>
where
    F: Fn(&str) -> std::io::Result<()> + Send + Sync,
{
    BrowserFn(f)
}

/// The launcher returned by [`browser_fn`].
pub struct BrowserFn<F>(F);

impl<F> fmt::Debug for BrowserFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BrowserFn")
    }
}

impl<F> BrowserLauncher for BrowserFn<F>
where
    F: Fn(&str) -> std::io::Result<()> + Send + Sync,
{
    fn open(&self, authorize_url: &str) -> std::io::Result<()> {
        (self.0)(authorize_url)
    }
}
