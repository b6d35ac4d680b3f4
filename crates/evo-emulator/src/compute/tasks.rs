//! The tasks the emulator runs (`idw`, `knn`): their parameters checked at submission, then
//! run on the objects the Object API stores — the source attribute and positions read from
//! its data files, the estimate written back as an attribute of the target, a new version.

use std::sync::Arc;

use serde_json::{Value, json};
use uuid::Uuid;

use super::estimate::{Estimator, Neighbourhood, estimate};
use super::table::{FloatTable, write_float_column};
use crate::objects::internal::{self, StoredObject};
use crate::state::{Role, Shared};

/// Every geostatistics task the Python SDK knows.
pub(super) const KNOWN: &[&str] = &[
    "kriging",
    "consim",
    "conditional-turning-bands",
    "knn",
    "idw",
    "declustering",
    "normal-score",
    "break-ties",
    "location-wise",
    "continuous-distribution",
    "simulation-report",
    "loss-calculation",
    "profit-calculation",
];

/// The tasks the emulator runs.
pub(super) const RUN: &[&str] = &["idw", "knn"];

/// Why a job failed: its problem (status, type suffix, title, detail).
#[derive(Debug, Clone)]
pub(super) struct Failure {
    pub(super) status: u16,
    pub(super) kind: &'static str,
    pub(super) title: &'static str,
    pub(super) detail: String,
}

fn bad(detail: impl Into<String>) -> Failure {
    Failure {
        status: 400,
        kind: "invalid-input",
        title: "Invalid Task Input.",
        detail: detail.into(),
    }
}

/// An object reference: workspace, object and version.
#[derive(Debug, Clone)]
struct ObjectRef {
    ws: Uuid,
    id: Uuid,
    version: Option<String>,
}

/// Checked parameters of `idw` or `knn`.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    estimator: Estimator,
    neighbourhood: Neighbourhood,
    source: ObjectRef,
    source_attribute: String,
    target: ObjectRef,
    /// Create an attribute of this name, or update the one this expression finds.
    target_attribute: Result<String, String>,
}

fn parse_ref(org: Uuid, v: &Value, what: &str) -> Result<ObjectRef, String> {
    let text = v
        .as_str()
        .ok_or_else(|| format!("{what} must be an object reference URL"))?;
    let url = url::Url::parse(text).map_err(|e| format!("{what}: {e}"))?;
    let parts: Vec<&str> = url.path().trim_matches('/').split('/').collect();
    let [
        "geoscience-object",
        "orgs",
        o,
        "workspaces",
        ws,
        "objects",
        id,
    ] = parts.as_slice()
    else {
        return Err(format!(
            "{what} must be a reference by id (…/geoscience-object/orgs/{{org}}/workspaces/{{ws}}/objects/{{id}})"
        ));
    };
    if o.parse::<Uuid>().ok() != Some(org) {
        return Err(format!("{what} is an object of another organization"));
    }
    Ok(ObjectRef {
        ws: ws
            .parse()
            .map_err(|_| format!("{what}: invalid workspace id"))?,
        id: id
            .parse()
            .map_err(|_| format!("{what}: invalid object id"))?,
        version: url
            .query_pairs()
            .find(|(k, _)| k == "version")
            .map(|(_, v)| v.into_owned()),
    })
}

fn number(v: &Value, what: &str) -> Result<f64, String> {
    v.as_f64()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("{what} must be a number"))
}

/// Checks the parameters of `task` (one of [`RUN`]) without reading any object.
pub(super) fn plan(org: Uuid, task: &str, p: &Value) -> Result<Plan, String> {
    let estimator = match task {
        "idw" => {
            let power = number(&p["power"], "power")?;
            if power <= 0.0 {
                return Err("power must be positive".into());
            }
            Estimator::InverseDistance { power }
        }
        _ => Estimator::NearestNeighbours,
    };
    let n = &p["neighborhood"];
    let e = &n["ellipsoid"];
    let r = &e["ellipsoid_ranges"];
    let ranges = [
        number(&r["major"], "ellipsoid_ranges.major")?,
        number(&r["semi_major"], "ellipsoid_ranges.semi_major")?,
        number(&r["minor"], "ellipsoid_ranges.minor")?,
    ];
    if ranges.iter().any(|r| *r <= 0.0) {
        return Err("ellipsoid ranges must be positive".into());
    }
    let rot = &e["rotation"];
    let angle = |k: &str| {
        if rot[k].is_null() {
            Ok(0.0)
        } else {
            number(&rot[k], k)
        }
    };
    let rotation = [angle("dip_azimuth")?, angle("dip")?, angle("pitch")?];
    let max_samples = n["max_samples"]
        .as_u64()
        .filter(|m| *m >= 1)
        .ok_or("neighborhood.max_samples must be a positive integer")?
        as usize;
    let min_samples = match &n["min_samples"] {
        Value::Null => 1,
        v => v
            .as_u64()
            .ok_or("neighborhood.min_samples must be an integer")? as usize,
    };
    let source = parse_ref(org, &p["source"]["object"], "source.object")?;
    let source_attribute = p["source"]["attribute"]
        .as_str()
        .ok_or("source.attribute must be an attribute expression")?
        .to_owned();
    let target = parse_ref(org, &p["target"]["object"], "target.object")?;
    let a = &p["target"]["attribute"];
    let target_attribute = match a["operation"].as_str() {
        Some("create") => Ok(a["name"]
            .as_str()
            .filter(|n| !n.is_empty())
            .ok_or("target.attribute.name must be a name")?
            .to_owned()),
        Some("update") => Err(a["reference"]
            .as_str()
            .ok_or("target.attribute.reference must be an attribute expression")?
            .to_owned()),
        _ => return Err("target.attribute.operation must be create or update".into()),
    };
    if !p["source"]["filter"].is_null() || !p["target"]["filter"].is_null() {
        return Err("the emulator does not apply source or target filters".into());
    }
    Ok(Plan {
        estimator,
        neighbourhood: Neighbourhood {
            ranges,
            rotation,
            max_samples,
            min_samples,
        },
        source,
        source_attribute,
        target,
        target_attribute,
    })
}

/// `list[?name=='x']` or `list[?key=='x']`: the JSON pointer of the list, the field and value.
fn parse_expression(expr: &str) -> Option<(String, &'static str, String)> {
    let (list, rest) = expr.split_once("[?")?;
    let (field, rest) = if let Some(r) = rest.strip_prefix("name==") {
        ("name", r)
    } else {
        ("key", rest.strip_prefix("key==")?)
    };
    let inner = rest
        .strip_suffix(']')?
        .strip_prefix('\'')?
        .strip_suffix('\'')?;
    let value = inner.replace("\\'", "'").replace("\\\\", "\\");
    let pointer = format!("/{}", list.replace('.', "/"));
    Some((pointer, field, value))
}

fn load(shared: &Shared, r: &ObjectRef, what: &str) -> Result<StoredObject, Failure> {
    internal::object(shared, r.ws, r.id, r.version.as_deref()).ok_or_else(|| Failure {
        status: 404,
        kind: "object-not-found",
        title: "Object Not Found.",
        detail: format!("The {what} object {} was not found.", r.id),
    })
}

async fn read_floats(
    shared: &Shared,
    org: Uuid,
    ws: Uuid,
    info: &Value,
) -> Result<Vec<Vec<f64>>, Failure> {
    let table = FloatTable::from_json(info).map_err(bad)?;
    let bytes = internal::read_data(shared, org, ws, &table.data)
        .await
        .ok_or_else(|| bad(format!("the data file {} is missing", table.data)))?;
    table.read(bytes).map_err(bad)
}

/// Where the values of an object's attributes live, and the positions they belong to.
async fn positions(
    shared: &Shared,
    org: Uuid,
    ws: Uuid,
    object: &Value,
) -> Result<(&'static str, Vec<[f64; 3]>), Failure> {
    if let Some(coords) = object.pointer("/locations/coordinates") {
        let c = read_floats(shared, org, ws, coords).await?;
        if c.len() != 3 {
            return Err(bad("point coordinates must have 3 columns"));
        }
        let points = (0..c[0].len())
            .map(|i| [c[0][i], c[1][i], c[2][i]])
            .collect();
        return Ok(("/locations/attributes", points));
    }
    let grid = || -> Option<([f64; 3], [u64; 3], [f64; 3])> {
        let f = |k: &str| -> Option<Vec<f64>> {
            object[k].as_array()?.iter().map(Value::as_f64).collect()
        };
        let o = f("origin")?;
        let c = f("cell_size")?;
        let s: Vec<u64> = object["size"]
            .as_array()?
            .iter()
            .filter_map(Value::as_u64)
            .collect();
        (o.len() == 3 && c.len() == 3 && s.len() == 3)
            .then(|| ([o[0], o[1], o[2]], [s[0], s[1], s[2]], [c[0], c[1], c[2]]))
    };
    let Some((origin, size, cell)) = grid() else {
        return Err(bad(
            "the emulator estimates on point sets and regular 3D grids only",
        ));
    };
    let r = &object["rotation"];
    if ["dip_azimuth", "dip", "pitch"]
        .iter()
        .any(|k| r[*k].as_f64().is_some_and(|a| a != 0.0))
    {
        return Err(bad("the emulator estimates on unrotated grids only"));
    }
    let mut centres = Vec::new();
    for k in 0..size[2] {
        for j in 0..size[1] {
            for i in 0..size[0] {
                centres.push([
                    origin[0] + (i as f64 + 0.5) * cell[0],
                    origin[1] + (j as f64 + 0.5) * cell[1],
                    origin[2] + (k as f64 + 0.5) * cell[2],
                ]);
            }
        }
    }
    Ok(("/cell_attributes", centres))
}

fn find<'a>(object: &'a Value, expr: &str) -> Result<(&'a Value, String), Failure> {
    let (pointer, field, value) = parse_expression(expr)
        .ok_or_else(|| bad(format!("{expr:?} is not an attribute expression")))?;
    object
        .pointer(&pointer)
        .and_then(Value::as_array)
        .and_then(|list| list.iter().find(|a| a[field] == value.as_str()))
        .map(|a| (a, pointer))
        .ok_or_else(|| Failure {
            status: 404,
            kind: "attribute-not-found",
            title: "Attribute Not Found.",
            detail: format!("No attribute matches {expr:?}."),
        })
}

/// Runs the plan for `user` of organization `org`; the task's results.
pub(super) async fn run(
    shared: Arc<Shared>,
    org: Uuid,
    user: Uuid,
    plan: Plan,
) -> Result<Value, Failure> {
    let may_write = shared.model().org(org).is_some_and(|o| {
        o.workspaces.iter().any(|w| {
            w.id == plan.target.ws
                && !w.deleted
                && w.role_of(user).is_some_and(|r| r >= Role::Editor)
        })
    });
    if !may_write {
        return Err(Failure {
            status: 403,
            kind: "forbidden",
            title: "Forbidden.",
            detail: "The caller may not write to the target workspace.".into(),
        });
    }
    let source = load(&shared, &plan.source, "source")?;
    let (attribute, _) = find(&source.object, &plan.source_attribute)?;
    let values = read_floats(&shared, org, plan.source.ws, &attribute["values"]).await?;
    let values = values
        .into_iter()
        .next()
        .ok_or_else(|| bad("the source attribute has no values"))?;
    let (_, samples) = positions(&shared, org, plan.source.ws, &source.object).await?;
    if samples.len() != values.len() {
        return Err(bad("the source attribute and positions differ in length"));
    }
    let target = load(&shared, &plan.target, "target")?;
    let (list, centres) = positions(&shared, org, plan.target.ws, &target.object).await?;
    let estimates = estimate(
        &samples,
        &values,
        &centres,
        &plan.neighbourhood,
        plan.estimator,
    );

    let mut object = (*target.object).clone();
    let name = match &plan.target_attribute {
        Ok(name) => name.clone(),
        Err(expr) => find(&object, expr)?.0["name"]
            .as_str()
            .unwrap_or("estimate")
            .to_owned(),
    };
    let (bytes, mut info) = write_float_column(&name, estimates).map_err(bad)?;
    let data = internal::write_data(&shared, org, plan.target.ws, bytes)
        .await
        .map_err(bad)?;
    info["data"] = json!(data);
    let key = match &plan.target_attribute {
        Ok(_) => Uuid::new_v4().to_string(),
        Err(expr) => find(&object, expr)?.0["key"]
            .as_str()
            .unwrap_or(&name)
            .to_owned(),
    };
    let new = json!({
        "name": name, "key": key, "attribute_type": "scalar",
        "nan_description": {"values": []}, "values": info,
    });
    let items = object
        .pointer_mut(list)
        .filter(|v| v.is_array())
        .map(|v| v.as_array_mut().map(std::mem::take).unwrap_or_default())
        .unwrap_or_default();
    let mut items: Vec<Value> = items
        .into_iter()
        .filter(|a| a["name"] != name.as_str())
        .collect();
    items.push(new);
    match object.pointer_mut(list) {
        Some(slot) => *slot = Value::Array(items),
        None => {
            let field = list
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or("cell_attributes");
            object[field] = Value::Array(items);
        }
    }
    let version = internal::write_version(
        &shared,
        org,
        plan.target.ws,
        plan.target.id,
        user,
        object.clone(),
    )
    .map_err(|e| bad(format!("the estimate could not be written: {e}")))?;
    let reference = format!(
        "{}geoscience-object/orgs/{org}/workspaces/{}/objects/{}?version={version}",
        shared.hub(),
        plan.target.ws,
        plan.target.id
    );
    let list_expr = list.trim_start_matches('/').replace('/', ".");
    Ok(json!({
        "message": format!("Estimated {} of {} locations.", name, centres.len()),
        "target": {
            "reference": reference,
            "name": object["name"],
            "description": object.get("description").cloned().unwrap_or(Value::Null),
            "schema_id": object["schema"],
            "attribute": {
                "reference": format!("{list_expr}[?key=='{key}']"),
                "name": name,
            },
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        assert_eq!(
            parse_expression("locations.attributes[?name=='grade']"),
            Some(("/locations/attributes".into(), "name", "grade".into()))
        );
        assert_eq!(
            parse_expression("cell_attributes[?key=='it\\'s']"),
            Some(("/cell_attributes".into(), "key", "it's".into()))
        );
        assert_eq!(parse_expression("grade"), None);
    }
}
