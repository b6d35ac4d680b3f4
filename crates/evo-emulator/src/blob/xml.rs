//! The XML documents of the blob protocol: block lists in and out, errors out.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use quick_xml::Reader;
use quick_xml::events::Event;

use crate::storage::sas;
use crate::storage::store::{BlockListView, ListKind};

/// An Azure-style XML error answer.
pub(crate) fn error_response(
    status: u16,
    code: &str,
    message: &str,
    auth_detail: Option<&str>,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = error_xml(code, message, auth_detail, &request_id);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    if let Ok(v) = HeaderValue::from_str(code) {
        h.insert("x-ms-error-code", v);
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-ms-request-id", v);
    }
    h.insert(
        "x-ms-version",
        HeaderValue::from_static(sas::SERVICE_VERSION),
    );
    resp
}

/// Parses a Put Block List body into (kind, id as sent) pairs.
pub(crate) fn parse_block_list(body: &[u8]) -> Result<Vec<(ListKind, String)>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the block list is not UTF-8".to_owned())?;
    let mut reader = Reader::from_str(text);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut saw_root = false;
    let mut current: Option<(ListKind, String)> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.name();
                let name = std::str::from_utf8(name.as_ref()).unwrap_or("").to_owned();
                depth += 1;
                match (depth, name.as_str()) {
                    (1, "BlockList") => saw_root = true,
                    (1, other) => return Err(format!("unexpected root element <{other}>")),
                    (2, "Committed") => current = Some((ListKind::Committed, String::new())),
                    (2, "Uncommitted") => current = Some((ListKind::Uncommitted, String::new())),
                    (2, "Latest") => current = Some((ListKind::Latest, String::new())),
                    (_, other) => return Err(format!("unexpected element <{other}>")),
                }
            }
            Ok(Event::Empty(e)) => {
                let name = e.name();
                let name = std::str::from_utf8(name.as_ref()).unwrap_or("").to_owned();
                if depth == 0 && name == "BlockList" {
                    saw_root = true;
                } else {
                    return Err(format!("unexpected empty element <{name}/>"));
                }
            }
            Ok(Event::Text(t)) => {
                let s = std::str::from_utf8(t.as_ref()).map_err(|_| "bad text".to_owned())?;
                match &mut current {
                    Some((_, id)) => id.push_str(s),
                    None if s.trim().is_empty() => {}
                    None => return Err("text outside a block id element".to_owned()),
                }
            }
            Ok(Event::End(_)) => {
                if depth == 2 {
                    if let Some((kind, id)) = current.take() {
                        out.push((kind, id.trim().to_owned()));
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Ok(Event::Eof) => break,
            Ok(Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_)) => {}
            Ok(other) => return Err(format!("unexpected XML content {other:?}")),
            Err(e) => return Err(format!("malformed XML: {e}")),
        }
    }
    if !saw_root {
        return Err("missing <BlockList> root".to_owned());
    }
    if depth != 0 {
        return Err("unclosed element".to_owned());
    }
    Ok(out)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The Get Block List answer.
pub(crate) fn block_list_xml(view: &BlockListView, committed: bool, uncommitted: bool) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    let section = |s: &mut String, tag: &str, blocks: &[(String, u64)]| {
        s.push_str(&format!("<{tag}>"));
        for (name, size) in blocks {
            s.push_str(&format!(
                "<Block><Name>{}</Name><Size>{size}</Size></Block>",
                escape(name)
            ));
        }
        s.push_str(&format!("</{tag}>"));
    };
    if committed {
        section(&mut s, "CommittedBlocks", &view.committed);
    }
    if uncommitted {
        section(&mut s, "UncommittedBlocks", &view.uncommitted);
    }
    s.push_str("</BlockList>");
    s
}

/// An Azure error document.
pub(crate) fn error_xml(
    code: &str,
    message: &str,
    auth_detail: Option<&str>,
    request_id: &str,
) -> String {
    let time = httpdate::fmt_http_date(std::time::SystemTime::now());
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{}</Code><Message>{}\nRequestId:{request_id}\nTime:{time}</Message>",
        escape(code),
        escape(message)
    );
    if let Some(d) = auth_detail {
        s.push_str(&format!(
            "<AuthenticationErrorDetail>{}</AuthenticationErrorDetail>",
            escape(d)
        ));
    }
    s.push_str("</Error>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sdk_and_compact_lists() {
        let sdk = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<BlockList>\n  <Latest>QQ==</Latest>\n  <Committed>Qg==</Committed>\n  <Uncommitted>Qw==</Uncommitted>\n</BlockList>";
        let v = parse_block_list(sdk.as_bytes()).expect("parses");
        assert_eq!(
            v,
            vec![
                (ListKind::Latest, "QQ==".into()),
                (ListKind::Committed, "Qg==".into()),
                (ListKind::Uncommitted, "Qw==".into())
            ]
        );
        let empty = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<BlockList>\n</BlockList>";
        assert!(
            parse_block_list(empty.as_bytes())
                .expect("parses")
                .is_empty()
        );
        assert!(
            parse_block_list(b"<BlockList/>")
                .expect("parses")
                .is_empty()
        );
        assert!(parse_block_list(b"<Nope><Latest>x</Latest></Nope>").is_err());
        assert!(parse_block_list(b"<BlockList><Latest>x</Latest>").is_err());
        assert!(parse_block_list(b"not xml at all").is_err());
    }
}
