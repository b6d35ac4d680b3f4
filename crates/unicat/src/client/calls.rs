//! Calls: the API paths, posting, and the envelope every answer comes in (its data merged
//! into the stores, its cursors and server version kept).

use bytes::Bytes;
use evo_core::Body;
use http::{Method, Response, StatusCode};
use serde_json::Value;

use super::{Snapshot, SyncCursors, UnicatClient, encode_segment};
use crate::error::Error;
use crate::stores::Stores;

/// The largest response body read (64 MiB).
const MAX_RESPONSE_BYTES: usize = 64 << 20;

impl UnicatClient {
    /// Calls an API endpoint: the project API (`/records/get` → `/api/p/<project>/records/get`)
    /// or the global API when it starts with `//` (`//users/get` → `/api/users/get`). Returns
    /// the envelope's `result`; its `data` is merged into the stores. An unsuccessful envelope
    /// is [`Error::Unicat`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = unicat_emulator::UnicatEmulator::start().await?;
    /// # let (base_url, project) = (server.base_url().parse()?, server.project());
    /// # let (api_key, record) = (unicat_emulator::DEMO_API_KEY, unicat_emulator::DEMO_RECORD);
    /// # let assets = tempfile::tempdir()?;
    /// # let client = unicat::UnicatClient::builder(base_url, project)
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .asset_folder(assets.path())
    /// #     .build()?;
    /// // `client`: a client of a local Unicat server's demo project; `api_key`, `record`: its
    /// // secret API key and a record's gid.
    /// # client.connect(api_key).await?;
    /// use unicat::Error;
    ///
    /// let result = client.call("/records/get", serde_json::json!({"record": record})).await?;
    /// assert_eq!(result["record"], record);
    /// assert_eq!(client.record(record).unwrap()["fields"]["en"]["name"], "First article");
    /// // An unsuccessful envelope is an error with Unicat's code.
    /// let missing = client.call("/records/get", serde_json::json!({"record": "no-such"})).await;
    /// assert!(matches!(missing, Err(Error::Unicat { .. })));
    /// # Ok(()) }
    /// ```
    pub async fn call(&self, endpoint: &str, params: Value) -> Result<Value, Error> {
        let path = self.api_path(endpoint)?;
        let read = is_read_endpoint(endpoint);
        self.post_envelope(path, &params, read, Snapshot::Merge)
            .await
    }

    /// The Sync API's REST call (`POST /sync/<endpoint>`).
    pub(crate) async fn call_sync_api(
        &self,
        endpoint: &str,
        params: Value,
    ) -> Result<Value, Error> {
        self.post_envelope(format!("sync/{endpoint}"), &params, true, Snapshot::Merge)
            .await
    }

    /// The path (relative to the base URL) of an API endpoint.
    pub(crate) fn api_path(&self, endpoint: &str) -> Result<String, Error> {
        let (global, rest) = match endpoint.strip_prefix("//") {
            Some(rest) => (true, rest),
            None => match endpoint.strip_prefix('/') {
                Some(rest) => (false, rest),
                None => {
                    return Err(Error::InvalidInput(format!(
                        "endpoint {endpoint:?} must start with '/' (project API) or '//' (global API)"
                    )));
                }
            },
        };
        check_endpoint(endpoint, rest)?;
        Ok(if global {
            format!("api/{rest}")
        } else {
            format!("api/p/{}/{rest}", encode_segment(&self.inner.project))
        })
    }

    /// Posts `params` to `path` and reads the envelope, authenticating again once after a 401.
    pub(crate) async fn post_envelope(
        &self,
        path: String,
        params: &Value,
        idempotent: bool,
        mode: Snapshot,
    ) -> Result<Value, Error> {
        self.with_reauth(|| self.post_envelope_once(path.clone(), params, idempotent, mode))
            .await
    }

    pub(super) async fn post_envelope_once(
        &self,
        path: String,
        params: &Value,
        idempotent: bool,
        mode: Snapshot,
    ) -> Result<Value, Error> {
        let response = self
            .inner
            .connector
            .request(Method::POST, &path)
            .json(params)
            .idempotent(idempotent)
            .send_unchecked()
            .await?;
        self.read_envelope(response, mode).await
    }

    pub(crate) async fn read_envelope(
        &self,
        response: Response<Body>,
        mode: Snapshot,
    ) -> Result<Value, Error> {
        let status = response.status();
        let bytes = response
            .into_body()
            .collect(MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| Error::InvalidResponse {
                status,
                reason: format!("reading the body failed: {e}"),
                snippet: String::new(),
            })?;
        let envelope = parse_envelope(status, &bytes)?;
        match envelope {
            Envelope::Success { result, data } => {
                self.absorb(&result, &data, mode);
                Ok(result)
            }
            Envelope::Failure {
                code,
                message,
                info,
            } => Err(Error::Unicat {
                code,
                message,
                info,
                status,
            }),
        }
    }

    /// Takes the cursors, the server version and the data of a successful answer.
    fn absorb(&self, result: &Value, data: &Value, mode: Snapshot) {
        let mut state = self.lock_state();
        let cc = result.get("cc.cursor").and_then(Value::as_u64);
        let project = result.get("cursor").and_then(Value::as_u64);
        if mode == Snapshot::Replace {
            state.stores = Stores::new();
            state.cursors = SyncCursors {
                cc: cc.unwrap_or(0),
                project: project.unwrap_or(0),
            };
        } else {
            state.cursors.cc = state.cursors.cc.max(cc.unwrap_or(0));
            state.cursors.project = state.cursors.project.max(project.unwrap_or(0));
        }
        if let Some(version) = result.get("cc.version").and_then(Value::as_str) {
            state.cc_version = Some(version.to_owned());
        }
        state.stores.merge(data);
    }
}

/// `…/get`, `…/root`, `…/children` and the like read data: resending them is harmless.
fn is_read_endpoint(endpoint: &str) -> bool {
    let last = endpoint.rsplit('/').next().unwrap_or_default();
    matches!(
        last,
        "get" | "root" | "children" | "list" | "search" | "init" | "cursors"
    )
}

fn check_endpoint(endpoint: &str, rest: &str) -> Result<(), Error> {
    let ok = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'.'))
        && rest
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "endpoint {endpoint:?} must be path segments of letters, digits, '_', '-' and '.'"
        )))
    }
}

pub(crate) enum Envelope {
    Success {
        result: Value,
        data: Value,
    },
    Failure {
        code: i64,
        message: String,
        info: Value,
    },
}

/// Parses `{success, result, data}`. Files listed in `data.files` move to `result["data/files"]`
/// as the official package does.
pub(crate) fn parse_envelope(status: StatusCode, bytes: &Bytes) -> Result<Envelope, Error> {
    let invalid = |reason: &str| Error::InvalidResponse {
        status,
        reason: reason.to_owned(),
        snippet: String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).into_owned(),
    };
    let mut value: Value =
        serde_json::from_slice(bytes).map_err(|_| invalid("the body is not JSON"))?;
    let Some(object) = value.as_object_mut() else {
        return Err(invalid("the body is not a JSON object"));
    };
    let Some(success) = object.get("success").and_then(Value::as_bool) else {
        return Err(invalid("the body has no boolean \"success\""));
    };
    let mut result = object.remove("result").unwrap_or(Value::Null);
    let mut data = object.remove("data").unwrap_or(Value::Null);
    if success {
        if let Some(files) = data.as_object_mut().and_then(|d| d.remove("files"))
            && let Some(r) = result.as_object_mut()
        {
            r.insert("data/files".to_owned(), files);
        }
        return Ok(Envelope::Success { result, data });
    }
    let code = match result.get("code") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .unwrap_or(i64::from(status.as_u16()));
    let message = match result.get("message") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let info = result
        .get_mut("info")
        .map(Value::take)
        .unwrap_or(Value::Null);
    Ok(Envelope::Failure {
        code,
        message,
        info,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn parse(body: &str) -> Result<Envelope, Error> {
        parse_envelope(StatusCode::OK, &Bytes::from(body.to_owned()))
    }

    #[test]
    fn envelopes_parse_or_fail_typed() {
        assert!(matches!(
            parse(r#"{"success":false,"result":{"code":1001,"message":"bad","info":{"field":"x"}},"data":{}}"#),
            Ok(Envelope::Failure { code: 1001, ref message, ref info }) if message == "bad" && info["field"] == "x"
        ));
        assert!(matches!(
            parse(r#"{"success":true,"result":{"a":1},"data":{"files":[1]}}"#),
            Ok(Envelope::Success { ref result, .. }) if result["data/files"][0] == 1
        ));
        for junk in ["<html>", "[]", r#"{"result":{}}"#, ""] {
            assert!(
                matches!(parse(junk), Err(Error::InvalidResponse { .. })),
                "{junk}"
            );
        }
    }

    #[test]
    fn endpoints_are_checked() {
        let client = UnicatClient::builder("http://127.0.0.1:1".parse().unwrap(), "p 1")
            .transport(Arc::new(evo_core::transport_fn(|_| async {
                Err(evo_core::TransportError::new(
                    evo_core::TransportErrorKind::Connection,
                    "unused",
                ))
            })))
            .build()
            .unwrap();
        assert_eq!(
            client.api_path("/records/get").unwrap(),
            "api/p/p%201/records/get"
        );
        assert_eq!(client.api_path("//users/get").unwrap(), "api/users/get");
        for bad in ["records/get", "/../x", "/a?b", "//", "/a//b", "/{x}"] {
            assert!(client.api_path(bad).is_err(), "{bad}");
        }
    }
}
