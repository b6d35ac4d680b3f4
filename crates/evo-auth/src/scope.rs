//! OAuth scopes: the Evo scope strings and sorted, de-duplicated scope sets.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::error::OAuthError;

/// A scope understood by Evo (Bentley IMS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EvoScope {
    /// `offline_access`: ask for a refresh token (authorization code grant only).
    OfflineAccess,
    /// `evo.discovery`: list the organizations and hubs the user can reach.
    Discovery,
    /// `evo.workspace`: the Workspaces API.
    Workspace,
    /// `evo.object`: the Geoscience Object API.
    Object,
    /// `evo.file`: the File API.
    File,
    /// `evo.blocksync`: the Block Model API.
    BlockSync,
    /// `evo.audit`: audit logs.
    Audit,
}

impl EvoScope {
    /// Every Evo scope.
    pub const ALL: [EvoScope; 7] = [
        EvoScope::OfflineAccess,
        EvoScope::Discovery,
        EvoScope::Workspace,
        EvoScope::Object,
        EvoScope::File,
        EvoScope::BlockSync,
        EvoScope::Audit,
    ];

    /// The scope string sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EvoScope::OfflineAccess => "offline_access",
            EvoScope::Discovery => "evo.discovery",
            EvoScope::Workspace => "evo.workspace",
            EvoScope::Object => "evo.object",
            EvoScope::File => "evo.file",
            EvoScope::BlockSync => "evo.blocksync",
            EvoScope::Audit => "evo.audit",
        }
    }
}

impl fmt::Display for EvoScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, kept sorted and free of duplicates; displayed space-separated as the
/// `scope` parameter expects (`evo.discovery evo.workspace`).
///
/// ```
/// use evo_auth::{EvoScope, Scopes};
/// let scopes = Scopes::all_evo().with(EvoScope::OfflineAccess).with(EvoScope::File);
/// assert_eq!(
///     scopes.to_string(),
///     "evo.blocksync evo.discovery evo.file evo.object evo.workspace offline_access"
/// );
/// assert_eq!(Scopes::default().to_string(), "evo.discovery evo.workspace");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scopes(BTreeSet<String>);

impl Default for Scopes {
    /// `evo.discovery evo.workspace`, as the Python SDK's `EvoScopes.default`.
    fn default() -> Self {
        Scopes::from_evo([EvoScope::Discovery, EvoScope::Workspace])
    }
}

impl Scopes {
    /// No scopes.
    pub fn empty() -> Self {
        Scopes(BTreeSet::new())
    }

    /// All Evo API scopes: `evo.blocksync evo.discovery evo.file evo.object evo.workspace`
    /// (no `evo.audit`, no `offline_access`, as the Python SDK's `EvoScopes.all_evo`).
    pub fn all_evo() -> Self {
        Scopes::from_evo([
            EvoScope::BlockSync,
            EvoScope::Discovery,
            EvoScope::File,
            EvoScope::Object,
            EvoScope::Workspace,
        ])
    }

    /// A set of Evo scopes.
    pub fn from_evo(scopes: impl IntoIterator<Item = EvoScope>) -> Self {
        Scopes(scopes.into_iter().map(|s| s.as_str().to_owned()).collect())
    }

    /// Parses scope strings; each may hold several scopes separated by spaces. Fails on a scope
    /// with characters RFC 6749 §3.3 does not allow.
    pub fn parse<I, S>(scopes: I) -> Result<Self, OAuthError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        for item in scopes {
            for scope in item.as_ref().split(' ').filter(|s| !s.is_empty()) {
                let valid = scope
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
                if !valid {
                    return Err(OAuthError::config(format!(
                        "scope {scope:?} contains a character RFC 6749 does not allow"
                    )));
                }
                set.insert(scope.to_owned());
            }
        }
        Ok(Scopes(set))
    }

    /// This set plus one Evo scope.
    pub fn with(mut self, scope: EvoScope) -> Self {
        self.0.insert(scope.as_str().to_owned());
        self
    }

    /// The union of two sets.
    pub fn union(mut self, other: &Scopes) -> Self {
        self.0.extend(other.0.iter().cloned());
        self
    }

    /// True when the set holds this scope string.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// True when the set holds this Evo scope.
    pub fn contains_evo(&self, scope: EvoScope) -> bool {
        self.0.contains(scope.as_str())
    }

    /// True when every scope of `other` is in this set.
    pub fn is_superset(&self, other: &Scopes) -> bool {
        self.0.is_superset(&other.0)
    }

    /// True when the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The scopes in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(scope)?;
        }
        Ok(())
    }
}

impl FromStr for Scopes {
    type Err = OAuthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scopes::parse([s])
    }
}

impl From<EvoScope> for Scopes {
    fn from(scope: EvoScope) -> Self {
        Scopes::from_evo([scope])
    }
}

impl FromIterator<EvoScope> for Scopes {
    fn from_iter<T: IntoIterator<Item = EvoScope>>(iter: T) -> Self {
        Scopes::from_evo(iter)
    }
}

impl std::ops::BitOr for Scopes {
    type Output = Scopes;
    fn bitor(self, rhs: Scopes) -> Scopes {
        self.union(&rhs)
    }
}

impl std::ops::BitOr<EvoScope> for Scopes {
    type Output = Scopes;
    fn bitor(self, rhs: EvoScope) -> Scopes {
        self.with(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_match_the_python_sdk() {
        assert_eq!(Scopes::default().to_string(), "evo.discovery evo.workspace");
        assert_eq!(
            Scopes::all_evo().to_string(),
            "evo.blocksync evo.discovery evo.file evo.object evo.workspace"
        );
        assert!(!Scopes::all_evo().contains_evo(EvoScope::OfflineAccess));
        assert!(!Scopes::all_evo().contains_evo(EvoScope::Audit));
    }

    #[test]
    fn sorted_and_deduplicated() {
        let s = Scopes::parse([
            "evo.workspace  evo.discovery",
            "evo.workspace",
            "offline_access",
        ])
        .unwrap();
        assert_eq!(s.to_string(), "evo.discovery evo.workspace offline_access");
        assert_eq!(s.len(), 3);
        let u = Scopes::default() | EvoScope::OfflineAccess | Scopes::default();
        assert_eq!(u.to_string(), "evo.discovery evo.workspace offline_access");
        assert!(u.is_superset(&Scopes::default()));
        assert_eq!("b a b".parse::<Scopes>().unwrap().to_string(), "a b");
    }

    #[test]
    fn invalid_characters_are_rejected() {
        assert!(Scopes::parse(["evo\"x"]).is_err());
        assert!(Scopes::parse(["evo\\x"]).is_err());
        assert!(Scopes::parse(["é"]).is_err());
        assert!(Scopes::parse(["tab\there"]).is_err());
    }

    #[test]
    fn every_evo_scope_has_its_wire_name() {
        let names: Vec<_> = EvoScope::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "offline_access",
                "evo.discovery",
                "evo.workspace",
                "evo.object",
                "evo.file",
                "evo.blocksync",
                "evo.audit"
            ]
        );
    }
}
