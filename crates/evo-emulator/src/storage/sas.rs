//! Pre-signed ("SAS"-like) blob URLs: signing and checking.
//!
//! A URL looks like `{blob_base}blob/{container}/{blob}?sv=..&st=..&se=..&sr=b&sp=..&sn=..&sig=..`.
//! `sig` is HMAC-SHA256 (key owned by the emulator) over the decoded blob path, permissions,
//! start, expiry and serial; it is base64url so that re-encoding the query (as the Python SDK
//! does) cannot change it. `sn` is a serial number: [`crate::Emulator::expire_blob_urls`] makes
//! every serial issued so far invalid.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::http_util::Query;
use crate::state::Shared;

/// The `sv` value the emulator puts in URLs.
pub(crate) const SERVICE_VERSION: &str = "2021-08-06";

/// Permissions of a URL (`r`, `c`, `w`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Perms {
    pub(crate) read: bool,
    pub(crate) write: bool,
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SasError {
    /// Parameters missing or malformed.
    Malformed(String),
    /// The signature does not match.
    BadSignature,
    /// Outside the validity window (or expired by the test).
    Expired {
        start: String,
        expiry: String,
        now: String,
    },
}

/// RFC 3339 in UTC with milliseconds, so that short TTLs in tests are honoured exactly.
fn fmt_time(t: OffsetDateTime) -> String {
    let t = t.replace_millisecond(t.millisecond()).unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_default()
}

fn mac(key: &[u8; 32], path: &str, sp: &str, st: &str, se: &str, sn: &str) -> Vec<u8> {
    // An HMAC key may have any length, so `new_from_slice` cannot fail here.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for part in [path, sp, st, se, sn, SERVICE_VERSION] {
        m.update(part.as_bytes());
        m.update(b"\n");
    }
    m.finalize().into_bytes().to_vec()
}

/// Signs a URL for `/blob/{container}/{blob}` valid for the configured TTL.
pub(crate) fn presign(shared: &Shared, container: &str, blob: &str, perms: &str) -> String {
    use base64::Engine;
    // Not under the model lock: handlers presign while holding it.
    let serial = shared
        .url_serial
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        + 1;
    let now = OffsetDateTime::now_utc();
    let st = fmt_time(now - time::Duration::seconds(1));
    let ttl = time::Duration::try_from(shared.blob_url_ttl).unwrap_or(time::Duration::days(3650));
    let se = fmt_time(now + ttl);
    let path = format!("/{container}/{blob}");
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac(
        &shared.sas_key,
        &path,
        perms,
        &st,
        &se,
        &serial.to_string(),
    ));
    let mut url = shared.urls.blob_base.clone();
    {
        let mut segs = url
            .path_segments_mut()
            .unwrap_or_else(|_| unreachable!("http URLs have paths"));
        segs.pop_if_empty().push("blob").push(container);
        for s in blob.split('/') {
            segs.push(s);
        }
    }
    url.query_pairs_mut()
        .append_pair("sv", SERVICE_VERSION)
        .append_pair("st", &st)
        .append_pair("se", &se)
        .append_pair("sr", "b")
        .append_pair("sp", perms)
        .append_pair("sn", &serial.to_string())
        .append_pair("sig", &sig);
    url.to_string()
}

/// Checks the SAS parameters of a request for `/blob/{container}/{blob}`.
pub(crate) fn verify(
    shared: &Shared,
    container: &str,
    blob: &str,
    q: &Query,
) -> Result<Perms, SasError> {
    use base64::Engine;
    let get = |k: &str| {
        q.0.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let (Some(st), Some(se), Some(sp), Some(sn), Some(sig)) =
        (get("st"), get("se"), get("sp"), get("sn"), get("sig"))
    else {
        return Err(SasError::Malformed(
            "a required signature parameter is missing".into(),
        ));
    };
    let path = format!("/{container}/{blob}");
    let expected = mac(&shared.sas_key, &path, sp, st, se, sn);
    let given = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| SasError::BadSignature)?;
    if !constant_time_eq(&expected, &given) {
        return Err(SasError::BadSignature);
    }
    let now = OffsetDateTime::now_utc();
    let expired = || SasError::Expired {
        start: st.to_owned(),
        expiry: se.to_owned(),
        now: fmt_time(now),
    };
    let start =
        OffsetDateTime::parse(st, &Rfc3339).map_err(|_| SasError::Malformed("bad st".into()))?;
    let expiry =
        OffsetDateTime::parse(se, &Rfc3339).map_err(|_| SasError::Malformed("bad se".into()))?;
    let serial: u64 = sn
        .parse()
        .map_err(|_| SasError::Malformed("bad sn".into()))?;
    if now < start || now >= expiry {
        return Err(expired());
    }
    if serial
        <= shared
            .min_url_serial
            .load(std::sync::atomic::Ordering::SeqCst)
        || shared.model().revoked_signatures.contains(sig)
    {
        return Err(expired());
    }
    Ok(Perms {
        read: sp.contains('r'),
        write: sp.contains('w') || sp.contains('c'),
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
