//! Every `ColormapsClient` call against the in-process emulator: colormaps of each kind stored
//! and read back, the checks made before sending and the ones the service makes, associations
//! one at a time and in batches larger than one request, and the error paths (404, 403).

use std::sync::Arc;

use evo_colormaps::{
    Association, CategoryColormap, Colormap, ColormapsClient, ContinuousColormap, DiscreteColormap,
    Error,
};
use evo_core::{ApiConnector, Environment, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;
use serde_json::json;
use uuid::Uuid;

struct Setup {
    emu: Emulator,
    client: ColormapsClient,
    environment: Environment,
}

fn client(emu: &Emulator, environment: &Environment, token: String) -> ColormapsClient {
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(Arc::new(HyperTransport::new()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
        .build()
        .unwrap();
    ColormapsClient::new(environment.clone(), connector).unwrap()
}

async fn start() -> Setup {
    let seed = Seed::from_json(
        r#"{"organizations": [{"display_name": "Colormaps Org", "workspaces": [{"name": "Colors"}]}]}"#,
    )
    .unwrap();
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    let environment = Environment::new(
        emu.hub_url(),
        emu.org_id(),
        emu.organizations()[0].workspaces[0].0,
    );
    let client = client(&emu, &environment, emu.issue_token(&["evo.object"]));
    Setup {
        emu,
        client,
        environment,
    }
}

fn heat() -> Colormap {
    ContinuousColormap {
        colors: vec![[0, 0, 255], [255, 255, 0], [255, 0, 0]],
        attribute_controls: vec![0.0, 5.0, 10.0],
        gradient_controls: vec![0.0, 0.25, 1.0],
    }
    .into()
}

#[tokio::test]
async fn colormaps_of_each_kind_round_trip() {
    let s = start().await;
    let buckets: Colormap = DiscreteColormap {
        colors: vec![[1, 2, 3], [4, 5, 6], [7, 8, 9]],
        end_inclusive: vec![true, false],
        end_points: vec![0.5, 1.5],
    }
    .into();
    let rocks: Colormap = CategoryColormap {
        colors: vec![[10, 20, 30], [40, 50, 60]],
        map: vec!["granite".into(), "basalt".into()],
    }
    .into();
    let mut ids = Vec::new();
    for (map, name) in [(&heat(), "heat"), (&buckets, "buckets"), (&rocks, "rocks")] {
        let stored = s.client.create_colormap(map, name).await.unwrap();
        assert_eq!(&stored.colormap, map);
        assert_eq!(stored.name, name);
        assert_eq!(stored.created_by, s.emu.test_user_id());
        assert!(stored.self_link.ends_with(&stored.id.to_string()));
        let read = s.client.get_colormap(stored.id).await.unwrap();
        assert_eq!(read, stored);
        ids.push(stored.id);
    }
    let listed = s.client.list_colormaps().await.unwrap();
    assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), ids);
    assert_eq!(
        listed.iter().map(|c| c.colormap.kind()).collect::<Vec<_>>(),
        ["continuous", "discrete", "category"]
    );
    // The most category colors are accepted.
    let many = CategoryColormap {
        colors: (0..16_384u32)
            .map(|i| [(i % 256) as u8, (i / 256) as u8, 0])
            .collect(),
        map: (0..16_384).map(|i| format!("c{i}")).collect(),
    };
    let stored = s
        .client
        .create_colormap(&many.clone().into(), "many")
        .await
        .unwrap();
    assert_eq!(stored.colormap, Colormap::Category(many));
}

#[tokio::test]
async fn invalid_colormaps_are_refused_before_sending_and_by_the_service() {
    let s = start().await;
    let one_color: Colormap = ContinuousColormap {
        colors: vec![[0, 0, 0]],
        attribute_controls: vec![0.0, 1.0],
        gradient_controls: vec![0.0, 1.0],
    }
    .into();
    let e = s.client.create_colormap(&one_color, "x").await.unwrap_err();
    assert!(e.is_invalid(), "{e}");
    let too_many: Colormap = CategoryColormap {
        colors: vec![[0, 0, 0]; 16_385],
        map: vec!["a".into(); 16_385],
    }
    .into();
    assert!(
        s.client
            .create_colormap(&too_many, "x")
            .await
            .unwrap_err()
            .is_invalid()
    );
    let unordered: Colormap = ContinuousColormap {
        colors: vec![[0, 0, 0], [1, 1, 1]],
        attribute_controls: vec![2.0, 1.0],
        gradient_controls: vec![0.0, 1.0],
    }
    .into();
    assert!(
        s.client
            .create_colormap(&unordered, "x")
            .await
            .unwrap_err()
            .is_invalid()
    );
    assert!(
        s.client
            .create_colormap(&heat(), " ")
            .await
            .unwrap_err()
            .is_invalid()
    );
    assert!(s.client.list_colormaps().await.unwrap().is_empty());

    // The service makes the same checks on what other clients send.
    let http = reqwest_like(&s).await;
    for body in [
        json!({"name": "x", "dtype": "continuous", "colors": [[0,0,0]], "attribute_controls": [0.0, 1.0], "gradient_controls": [0.0, 1.0]}),
        json!({"name": "x", "dtype": "discrete", "colors": [[0,0,0],[1,1,1]], "end_points": [], "end_inclusive": []}),
        json!({"name": "x", "dtype": "category", "colors": [[0,0,256]], "map": ["a"]}),
        json!({"name": "x", "dtype": "continuous", "colors": [[0,0,0],[1,1,1]], "attribute_controls": [1.0, 0.0], "gradient_controls": [0.0, 1.0]}),
        json!({"name": "", "dtype": "category", "colors": [[0,0,0]], "map": ["a"]}),
    ] {
        let status = http(body.clone()).await;
        assert_eq!(status, 422, "{body}");
    }
    assert!(s.client.list_colormaps().await.unwrap().is_empty());
}

/// Posts raw colormap JSON through the SDK's connector; returns the status.
async fn reqwest_like(
    s: &Setup,
) -> impl Fn(serde_json::Value) -> std::pin::Pin<Box<dyn std::future::Future<Output = u16>>> {
    let connector = ApiConnector::builder(s.emu.hub_url())
        .transport(Arc::new(HyperTransport::new()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(
            s.emu.issue_token(&["evo.object"]),
        )))
        .build()
        .unwrap();
    let env = s.environment.clone();
    move |body| {
        let request = connector
            .request(
                http::Method::POST,
                "colormap/orgs/{org}/workspaces/{ws}/colormaps",
            )
            .path_param("org", env.org_id)
            .path_param("ws", env.workspace_id)
            .json(&body);
        Box::pin(async move { request.send_unchecked().await.unwrap().status().as_u16() })
    }
}

#[tokio::test]
async fn associations_one_and_many() {
    let s = start().await;
    let object = Uuid::new_v4();
    let map = s.client.create_colormap(&heat(), "heat").await.unwrap();
    let one = s
        .client
        .create_association(object, &Association::new("grade", map.id))
        .await
        .unwrap();
    assert_eq!(one.attribute_id, "grade");
    assert_eq!(one.colormap_id, map.id);
    assert_eq!(one.workspace_id, s.environment.workspace_id);
    assert_eq!(one.colormap_uri, map.self_link);
    assert_eq!(s.client.get_association(object, one.id).await.unwrap(), one);

    // 300 associations: three batch requests, answers in order.
    let many: Vec<Association> = (0..300)
        .map(|i| Association::new(format!("attr-{i}"), map.id))
        .collect();
    let stored = s.client.create_associations(object, &many).await.unwrap();
    assert_eq!(stored.len(), 300);
    assert!(
        stored
            .iter()
            .zip(&many)
            .all(|(s, m)| s.attribute_id == m.attribute_id)
    );
    let listed = s.client.list_associations(object).await.unwrap();
    assert_eq!(listed.len(), 301);
    assert_eq!(listed[0], one);
    assert!(
        s.client
            .list_associations(Uuid::new_v4())
            .await
            .unwrap()
            .is_empty()
    );

    let meta = s.client.workspace_metadata().await.unwrap();
    assert_eq!(meta.workspace_id, s.environment.workspace_id);
    assert_eq!(
        meta.objects_metadata[&object.to_string()]["attribute_colormaps"]["grade"],
        json!(map.id)
    );

    assert!(
        s.client
            .create_associations(object, &[])
            .await
            .unwrap_err()
            .is_invalid()
    );
}

#[tokio::test]
async fn not_found_and_forbidden() {
    let s = start().await;
    let e = s.client.get_colormap(Uuid::new_v4()).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let e = s
        .client
        .create_association(Uuid::new_v4(), &Association::new("grade", Uuid::new_v4()))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "an unknown colormap: {e}");
    let e = s
        .client
        .get_association(Uuid::new_v4(), Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(matches!(e, Error::Service(_)));

    let stranger = s.emu.add_user("Stranger", "stranger@example.com");
    let outsider = client(
        &s.emu,
        &s.environment,
        s.emu.issue_token_for(stranger, &["evo.object"]),
    );
    let e = outsider.list_colormaps().await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(403), "{e}");
    let no_scope = client(&s.emu, &s.environment, s.emu.issue_token(&["evo.file"]));
    let e = no_scope.create_colormap(&heat(), "x").await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(403), "{e}");
}
