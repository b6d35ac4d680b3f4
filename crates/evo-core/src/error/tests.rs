//! Tests of what every error type quotes of a body: secrets never, the raw body kept.

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

use super::{ApiError, DecodeError, Error};

fn url() -> url::Url {
    "https://hub.example/file/v2/x?sig=SECRET&se=2026"
        .parse()
        .unwrap()
}

#[test]
fn problem_details_are_parsed_and_shown() {
    let body = br#"{"type":"https://seequent.com/error-codes/file-api/files/not-found","title":"File Not Found.","status":404,"detail":"nope","extra_member":1}"#;
    let e = ApiError::new(
        Method::GET,
        &url(),
        StatusCode::NOT_FOUND,
        HeaderMap::new(),
        Bytes::from_static(body),
    );
    let p = e.problem().unwrap();
    assert_eq!(p.title.as_deref(), Some("File Not Found."));
    assert_eq!(p.extra["extra_member"], 1);
    let shown = e.to_string();
    assert!(shown.contains("404"), "{shown}");
    assert!(shown.contains("File Not Found."), "{shown}");
    assert!(!shown.contains("SECRET"), "{shown}");
    assert!(!format!("{e:?}").contains("SECRET"));
    assert!(Error::from(e).is_not_found());
}

#[test]
fn quoted_bodies_hide_tokens() {
    let body = br#"{"access_token":"eyJhbGciOi.SECRET","expires_in":"soon"}"#;
    let e = DecodeError::new("Token", StatusCode::OK, "invalid type", body);
    assert!(!e.to_string().contains("SECRET"), "{e}");
    assert!(!format!("{e:?}").contains("SECRET"));
    let api = ApiError::new(
        Method::POST,
        &url(),
        StatusCode::BAD_REQUEST,
        HeaderMap::new(),
        Bytes::from_static(body),
    );
    assert!(!api.to_string().contains("SECRET"), "{api}");
    assert!(!format!("{api:?}").contains("SECRET"));
}

#[test]
fn signatures_in_quoted_bodies_are_redacted_and_the_raw_body_kept() {
    let body = b"<Error><Code>AuthenticationFailed</Code><Url>https://acct.blob.core.windows.net/c/b?sv=2023-11-03&skoid=OID-SECRET&sktid=TID-SECRET&skt=2026&ske=2027&sks=b&skv=2023&sig=SIG%2BSECRET</Url>\
        <Aws>https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA-SECRET&X-Amz-Security-Token=STS-SECRET&X-Amz-Signature=AWS-SECRET</Aws></Error>";
    let e = DecodeError::new("Thing", StatusCode::OK, "expected value", body);
    let shown = format!("{e} {e:?}");
    for secret in [
        "OID-SECRET",
        "TID-SECRET",
        "SIG%2BSECRET",
        "AKIA",
        "STS-SECRET",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("AuthenticationFailed"), "{shown}");
    assert_eq!(e.body().as_ref(), body, "the raw body is kept");
    let api = ApiError::new(
        Method::GET,
        &url(),
        StatusCode::FORBIDDEN,
        HeaderMap::new(),
        Bytes::from_static(body),
    );
    let shown = format!("{api} {api:?}");
    assert!(
        !shown.contains("SIG%2BSECRET") && !shown.contains("OID-SECRET"),
        "{shown}"
    );
}
