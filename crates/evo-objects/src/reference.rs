//! `ObjectReference`: the URL that names a geoscience object (and optionally one version).

use std::fmt;
use std::str::FromStr;

use evo_core::Environment;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use uuid::Uuid;

use crate::error::Error;
use crate::path::ObjectPath;

/// Characters escaped in the path of a reference: everything but unreserved characters and `/`.
const PATH_CHARS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// How an object is addressed: by its id or by its path in the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ObjectLocator {
    /// By id (stable across moves and renames).
    Id(Uuid),
    /// By path (`A/m.json`).
    Path(ObjectPath),
}

impl From<Uuid> for ObjectLocator {
    fn from(id: Uuid) -> Self {
        ObjectLocator::Id(id)
    }
}

impl From<ObjectPath> for ObjectLocator {
    fn from(path: ObjectPath) -> Self {
        ObjectLocator::Path(path)
    }
}

impl fmt::Display for ObjectLocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectLocator::Id(id) => write!(f, "object {id}"),
            ObjectLocator::Path(p) => write!(f, "object at {p}"),
        }
    }
}

/// A reference to a geoscience object, as the Evo APIs and the Python SDK write them:
/// `https://<hub>/geoscience-object/orgs/<org>/workspaces/<ws>/objects/<id>` or
/// `.../objects/path/<path>`, optionally with `?version=<version id>`.
///
/// Parsing checks the shape (ids are UUIDs, the path is a valid [`ObjectPath`], only `http` or
/// `https`, no user info); printing gives the canonical form (path segments percent-encoded),
/// which parses back to an equal reference. The hub may have a path prefix
/// (`https://host/prefix/geoscience-object/...`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectReference {
    hub_url: url::Url,
    org_id: Uuid,
    workspace_id: Uuid,
    locator: ObjectLocator,
    version_id: Option<String>,
}

impl ObjectReference {
    /// A reference to an object of the workspace of `environment`.
    pub fn new(
        environment: &Environment,
        locator: impl Into<ObjectLocator>,
        version_id: Option<&str>,
    ) -> Self {
        let environment = Environment::new(
            environment.hub_url.clone(),
            environment.org_id,
            environment.workspace_id,
        );
        let mut hub_url = environment.hub_url;
        hub_url.set_query(None);
        hub_url.set_fragment(None);
        ObjectReference {
            hub_url,
            org_id: environment.org_id,
            workspace_id: environment.workspace_id,
            locator: locator.into(),
            version_id: version_id.map(str::to_owned),
        }
    }

    /// The hub URL (ends with `/`).
    pub fn hub_url(&self) -> &url::Url {
        &self.hub_url
    }
    /// The organization id.
    pub fn org_id(&self) -> Uuid {
        self.org_id
    }
    /// The workspace id.
    pub fn workspace_id(&self) -> Uuid {
        self.workspace_id
    }
    /// How the object is addressed.
    pub fn locator(&self) -> &ObjectLocator {
        &self.locator
    }
    /// The object id, for a reference by id.
    pub fn object_id(&self) -> Option<Uuid> {
        match &self.locator {
            ObjectLocator::Id(id) => Some(*id),
            ObjectLocator::Path(_) => None,
        }
    }
    /// The object path, for a reference by path.
    pub fn object_path(&self) -> Option<&ObjectPath> {
        match &self.locator {
            ObjectLocator::Path(p) => Some(p),
            ObjectLocator::Id(_) => None,
        }
    }
    /// The version, when the reference names one.
    pub fn version_id(&self) -> Option<&str> {
        self.version_id.as_deref()
    }
    /// The same reference naming `version_id` (or, with `None`, the latest version).
    pub fn with_version(mut self, version_id: Option<&str>) -> Self {
        self.version_id = version_id.map(str::to_owned);
        self
    }
    /// The workspace the object lives in.
    pub fn environment(&self) -> Environment {
        Environment::new(self.hub_url.clone(), self.org_id, self.workspace_id)
    }

    /// The reference as a URL.
    pub fn to_url(&self) -> url::Url {
        // Display always writes a URL built from a valid base URL and escaped segments.
        url::Url::parse(&self.to_string()).unwrap_or_else(|_| self.hub_url.clone())
    }

    /// Parses a reference.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidReference {
            reference: clip(text),
            reason: reason.to_owned(),
        };
        let url = url::Url::parse(text.trim()).map_err(|e| invalid(&format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be https (or http)"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("user info is not allowed"));
        }
        if url.fragment().is_some() {
            return Err(invalid("a fragment is not allowed"));
        }
        let path = url.path();
        const MARK: &str = "/geoscience-object/orgs/";
        let start = path
            .find(MARK)
            .ok_or_else(|| invalid("the path has no /geoscience-object/orgs/"))?;
        let prefix = &path[..start + 1];
        let rest = &path[start + MARK.len()..];
        let mut parts = rest.splitn(4, '/');
        let org = parts.next().unwrap_or_default();
        let org_id = parse_uuid(org).ok_or_else(|| invalid("the organization id is not a UUID"))?;
        if parts.next() != Some("workspaces") {
            return Err(invalid("expected /workspaces/ after the organization id"));
        }
        let ws = parts.next().unwrap_or_default();
        let workspace_id =
            parse_uuid(ws).ok_or_else(|| invalid("the workspace id is not a UUID"))?;
        let tail = parts.next().unwrap_or_default();
        let locator = if let Some(object_path) = tail.strip_prefix("objects/path/") {
            let decoded = percent_decode_str(object_path)
                .decode_utf8()
                .map_err(|_| invalid("the object path is not UTF-8"))?;
            ObjectLocator::Path(
                ObjectPath::new(decoded.as_ref())
                    .map_err(|e| invalid(&format!("bad object path: {e}")))?,
            )
        } else if let Some(id) = tail.strip_prefix("objects/") {
            ObjectLocator::Id(parse_uuid(id).ok_or_else(|| invalid("the object id is not a UUID"))?)
        } else {
            return Err(invalid("expected /objects/<id> or /objects/path/<path>"));
        };
        let mut version_id = None;
        for (key, value) in url.query_pairs() {
            if key == "version" {
                if version_id.is_some() {
                    return Err(invalid("more than one version"));
                }
                if value.is_empty() {
                    return Err(invalid("the version is empty"));
                }
                version_id = Some(value.into_owned());
            }
        }
        let mut hub_url = url.clone();
        hub_url.set_path(prefix);
        hub_url.set_query(None);
        Ok(ObjectReference {
            hub_url,
            org_id,
            workspace_id,
            locator,
            version_id,
        })
    }
}

fn parse_uuid(text: &str) -> Option<Uuid> {
    // Only the hyphenated form, as the API writes it.
    if text.len() != 36 {
        return None;
    }
    Uuid::parse_str(text).ok()
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

impl fmt::Display for ObjectReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}geoscience-object/orgs/{}/workspaces/{}/objects/",
            self.hub_url, self.org_id, self.workspace_id
        )?;
        match &self.locator {
            ObjectLocator::Id(id) => write!(f, "{id}")?,
            ObjectLocator::Path(p) => {
                write!(f, "path/{}", utf8_percent_encode(p.as_str(), PATH_CHARS))?
            }
        }
        if let Some(v) = &self.version_id {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("version", v)
                .finish();
            write!(f, "?{query}")?;
        }
        Ok(())
    }
}

impl FromStr for ObjectReference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        ObjectReference::parse(s)
    }
}

impl TryFrom<&str> for ObjectReference {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self, Error> {
        ObjectReference::parse(s)
    }
}

impl serde::Serialize for ObjectReference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ObjectReference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ObjectReference::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "00000000-0000-0000-0000-0000000004d2";
    const WS: &str = "00000000-0000-0000-0000-00000000162e";

    #[test]
    fn parses_the_python_sdk_forms() {
        let by_path = format!(
            "https://unittest.localhost/path/geoscience-object/orgs/{ORG}/workspaces/{WS}/objects/path/A/m.json"
        );
        let r = ObjectReference::parse(&by_path).unwrap();
        assert_eq!(r.hub_url().as_str(), "https://unittest.localhost/path/");
        assert_eq!(r.object_path().unwrap().as_str(), "A/m.json");
        assert_eq!(r.version_id(), None);
        assert_eq!(r.to_string(), by_path);

        let by_id = format!(
            "https://hub.example/geoscience-object/orgs/{ORG}/workspaces/{WS}/objects/00000000-0000-0000-0000-000000000002?version=1746593470905878783"
        );
        let r = ObjectReference::parse(&by_id).unwrap();
        assert_eq!(
            r.object_id().unwrap().to_string(),
            "00000000-0000-0000-0000-000000000002"
        );
        assert_eq!(r.version_id(), Some("1746593470905878783"));
        assert_eq!(r.to_string(), by_id);
        assert_eq!(r.environment().workspace_id.to_string(), WS);
    }

    #[test]
    fn paths_are_escaped_and_decoded() {
        let env = Environment::new(
            "https://hub.example".parse().unwrap(),
            ORG.parse().unwrap(),
            WS.parse().unwrap(),
        );
        let path = ObjectPath::new("a b/ü%.json").unwrap();
        let r = ObjectReference::new(&env, path, Some("1 2"));
        let text = r.to_string();
        assert!(
            text.contains("/objects/path/a%20b/%C3%BC%25.json?version=1+2"),
            "{text}"
        );
        assert_eq!(ObjectReference::parse(&text).unwrap(), r);
    }

    #[test]
    fn refuses_what_is_not_a_reference() {
        for bad in [
            "not a url".to_owned(),
            format!("ftp://h/geoscience-object/orgs/{ORG}/workspaces/{WS}/objects/{ORG}"),
            format!("https://h/geoscience-object/orgs/x/workspaces/{WS}/objects/{ORG}"),
            format!("https://h/geoscience-object/orgs/{ORG}/workspaces/{WS}/objects/nope"),
            format!("https://h/geoscience-object/orgs/{ORG}/workspaces/{WS}/objects/path/"),
            format!("https://h/geoscience-object/orgs/{ORG}/workspaces/{WS}/objects/path/a//b"),
            format!("https://h/geoscience-object/orgs/{ORG}/workspaces/{WS}/files/{ORG}"),
            format!("https://u:p@h/geoscience-object/orgs/{ORG}/workspaces/{WS}/objects/{ORG}"),
            format!(
                "https://h/geoscience-object/orgs/{ORG}/workspaces/{WS}/objects/{ORG}?version="
            ),
        ] {
            assert!(ObjectReference::parse(&bad).is_err(), "{bad} accepted");
        }
    }
}
