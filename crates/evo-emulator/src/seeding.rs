//! The initial model built from a [`Seed`]: users, organizations with their workspaces and
//! Central instances, and the OAuth clients.

use uuid::Uuid;

use crate::EmulatorError;
use crate::seed::{ALL_SCOPES, Seed};
use crate::state::{Central, Client, InstanceRole, Model, Org, User, Workspace, random_token};

/// An organization the emulator was seeded with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededOrg {
    /// Organization (instance) id.
    pub id: Uuid,
    /// Display name.
    pub display_name: String,
    /// Code of the hub it lives on.
    pub hub_code: String,
    /// Seeded workspaces: id and name.
    pub workspaces: Vec<(Uuid, String)>,
}

/// A confidential OAuth client (client_credentials grant).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret` (never printed by `Debug`).
    pub client_secret: String,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

pub(crate) type Built = (Model, Uuid, ClientCredentials, String, Vec<SeededOrg>);

pub(crate) fn build_model(seed: &Seed, now: time::OffsetDateTime) -> Result<Built, EmulatorError> {
    let mut model = Model::default();
    for u in &seed.users {
        model.users.push(User {
            id: u.id.unwrap_or_else(Uuid::new_v4),
            name: u.name.clone(),
            email: u.email.clone(),
        });
    }
    if model.users.is_empty() {
        model.users.push(User {
            id: Uuid::new_v4(),
            name: "Emulator User".into(),
            email: "user@evo-emulator.test".into(),
        });
    }
    let test_user = model.users[0].id;
    let mut orgs_seed = seed.organizations.clone();
    if orgs_seed.is_empty() {
        orgs_seed.push(crate::seed::SeedOrganization {
            id: None,
            display_name: "Emulator Org".into(),
            hub_code: None,
            hub_display_name: None,
            workspaces: Vec::new(),
            central: None,
        });
    }
    let instance_roles = |_: usize| {
        vec![
            InstanceRole {
                id: Uuid::from_u128(1),
                name: "Evo User".into(),
                description: "evo user".into(),
            },
            InstanceRole {
                id: Uuid::from_u128(2),
                name: "Evo Admin".into(),
                description: "evo admin".into(),
            },
            InstanceRole {
                id: Uuid::from_u128(3),
                name: "Evo Owner".into(),
                description: "evo owner".into(),
            },
        ]
    };
    let mut seeded = Vec::new();
    for (i, o) in orgs_seed.iter().enumerate() {
        let id = o.id.unwrap_or_else(Uuid::new_v4);
        if model.orgs.iter().any(|x| x.id == id) {
            return Err(EmulatorError::Seed(format!(
                "organization id {id} appears twice"
            )));
        }
        let mut workspaces = Vec::new();
        for w in &o.workspaces {
            if w.name.trim().is_empty() || w.name.chars().count() > 60 {
                return Err(EmulatorError::Seed(format!(
                    "workspace name '{}' must be 1..60 characters",
                    w.name
                )));
            }
            if workspaces.iter().any(|x: &Workspace| x.name == w.name) {
                return Err(EmulatorError::Seed(format!(
                    "workspace name '{}' appears twice",
                    w.name
                )));
            }
            workspaces.push(Workspace::new(
                w.id.unwrap_or_else(Uuid::new_v4),
                w.name.clone(),
                w.description.clone(),
                w.labels.clone(),
                test_user,
                now,
            ));
        }
        let hub_code = o.hub_code.clone().unwrap_or_else(|| "local".into());
        let central = match &o.central {
            Some(c) => Some(seed_central(c, &o.display_name, &model.orgs)?),
            None => None,
        };
        seeded.push(SeededOrg {
            id,
            display_name: o.display_name.clone(),
            hub_code: hub_code.clone(),
            workspaces: workspaces.iter().map(|w| (w.id, w.name.clone())).collect(),
        });
        model.orgs.push(Org {
            id,
            display_name: o.display_name.clone(),
            hub_code,
            hub_display_name: o
                .hub_display_name
                .clone()
                .unwrap_or_else(|| "Local hub".into()),
            workspaces,
            members: model
                .users
                .iter()
                .map(|u| (u.id, vec![Uuid::from_u128(3)]))
                .collect(),
            invitations: Vec::new(),
            instance_roles: instance_roles(i),
            central,
        });
    }
    let all_scopes: Vec<String> = ALL_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    for c in &seed.clients {
        model.clients.push(Client {
            id: c.client_id.clone(),
            secret: c.client_secret.clone(),
            scopes: c.scopes.clone().unwrap_or_else(|| all_scopes.clone()),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        });
    }
    if !model.clients.iter().any(|c| c.secret.is_some()) {
        model.clients.push(Client {
            id: "evo-emulator-service".into(),
            secret: Some(random_token(24)),
            scopes: all_scopes.clone(),
            redirect_uris: None,
            post_logout_redirect_uris: None,
        });
    }
    if !model.clients.iter().any(|c| c.secret.is_none()) {
        model.clients.push(Client {
            id: "evo-emulator-public".into(),
            secret: None,
            scopes: all_scopes,
            redirect_uris: None,
            post_logout_redirect_uris: None,
        });
    }
    let service = model
        .clients
        .iter()
        .find_map(|c| {
            c.secret.as_ref().map(|s| ClientCredentials {
                client_id: c.id.clone(),
                client_secret: s.clone(),
            })
        })
        .ok_or_else(|| EmulatorError::Seed("no confidential client".into()))?;
    let public = model
        .clients
        .iter()
        .find(|c| c.secret.is_none())
        .map(|c| c.id.clone())
        .ok_or_else(|| EmulatorError::Seed("no public client".into()))?;
    Ok((model, test_user, service, public, seeded))
}

/// The model of a seeded Central instance; accounts are shared by id, or by name without an id.
fn seed_central(
    c: &crate::seed::SeedCentral,
    org_display_name: &str,
    earlier: &[Org],
) -> Result<Central, EmulatorError> {
    let known = earlier.iter().filter_map(|o| o.central.as_ref());
    let account_id = match c.account_id {
        Some(id) => {
            if let Some(other) = known.clone().find(|k| k.account_id == id) {
                if other.account_name != c.account_name {
                    return Err(EmulatorError::Seed(format!(
                        "account {id} is named both '{}' and '{}'",
                        other.account_name, c.account_name
                    )));
                }
            }
            id
        }
        None => known
            .clone()
            .find(|k| k.account_name == c.account_name)
            .map_or_else(Uuid::new_v4, |k| k.account_id),
    };
    Ok(Central {
        id: c.id.unwrap_or_else(Uuid::new_v4),
        name: c.name.clone(),
        display_name: c.display_name.clone(),
        host: c.host.clone(),
        organization_name: c
            .organization_name
            .clone()
            .unwrap_or_else(|| org_display_name.to_owned()),
        account_id,
        account_name: c.account_name.clone(),
    })
}
