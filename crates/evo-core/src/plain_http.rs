//! Credentials and plain `http://`: bearer tokens, client secrets and refresh tokens travel
//! only over TLS, or to this machine (loopback), unless the user opts in.

use url::{Host, Url};

/// True when `url` names this machine: `localhost` (or a name under `.localhost`), an
/// address in 127.0.0.0/8, or `::1`.
pub fn is_loopback_url(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.');
            d.eq_ignore_ascii_case("localhost")
                || d.len() > ".localhost".len()
                    && d[d.len() - ".localhost".len()..].eq_ignore_ascii_case(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `Err(message)` when `what` (e.g. "a bearer token") would be sent to `url` over plain
/// `http://` to another machine and `allowed` (the user's opt-in) is false.
pub fn check_plain_http(url: &Url, what: &str, allowed: bool) -> Result<(), String> {
    if allowed || url.scheme() != "http" || is_loopback_url(url) {
        return Ok(());
    }
    Err(format!(
        "refusing to send {what} to {}://{} over plain http (unencrypted, to another machine); \
         use https, or opt in with allow_insecure_http(true)",
        url.scheme(),
        url.host_str().unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for yes in [
            "http://localhost:3000/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "http://127.0.0.1/",
            "http://127.8.9.10:1/",
            "http://[::1]:9/",
        ] {
            assert!(is_loopback_url(&yes.parse().unwrap()), "{yes}");
        }
        for no in [
            "http://example.com/",
            "http://localhost.example.com/",
            "http://notlocalhost/",
            "http://10.0.0.1/",
            "http://[::2]/",
            "http://128.0.0.1/",
        ] {
            assert!(!is_loopback_url(&no.parse().unwrap()), "{no}");
        }
    }

    #[test]
    fn plain_http_to_another_machine_needs_the_opt_in() {
        let remote: Url = "http://hub.example.com/x".parse().unwrap();
        let message = check_plain_http(&remote, "a bearer token", false).unwrap_err();
        assert!(message.contains("hub.example.com"), "{message}");
        assert!(message.contains("allow_insecure_http"), "{message}");
        assert!(check_plain_http(&remote, "a bearer token", true).is_ok());
        let tls: Url = "https://hub.example.com/x".parse().unwrap();
        assert!(check_plain_http(&tls, "a bearer token", false).is_ok());
        let local: Url = "http://127.0.0.1:8080/x".parse().unwrap();
        assert!(check_plain_http(&local, "a bearer token", false).is_ok());
    }
}
