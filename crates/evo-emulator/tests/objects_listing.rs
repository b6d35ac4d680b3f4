//! The Geoscience Object API's listings and stages: filters, order, paging, and the stage of
//! each version.

use crate::common;

use crate::objects_fixture::*;
use common::{client, create_workspace, json};
use serde_json::{Value, json};

#[tokio::test]
async fn listing_filters_orders_and_pages() {
    let f = Fixture::new().await;
    let data = f.upload(b"l").await;
    for (path, name) in [
        ("A/gold.json", "g"),
        ("A/goldcolumns.json", "c"),
        ("B/silver.json", "s"),
    ] {
        let (status, body) = f
            .post(
                &format!("/objects/path/{path}"),
                &pointset(name, &data, None),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        f.emu.advance_clock(std::time::Duration::from_secs(60));
    }
    let (_, all) = f.get("/objects").await;
    assert_eq!(all["total"], 3);
    assert_has_fixture_keys(&all, &fixture("list_objects_0.json"));
    assert_has_fixture_keys(
        &all["objects"][0],
        &fixture("list_objects_0.json")["objects"][0],
    );
    assert_eq!(all["objects"][0]["path"], "/A/");
    assert_eq!(all["objects"][0]["name"], "gold.json");

    let names = |v: &Value| -> Vec<String> {
        v["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(&f.get("/objects?object_name=gold").await.1),
        ["gold.json", "goldcolumns.json"]
    );
    assert_eq!(
        names(&f.get("/objects?object_name=eq:/B/silver.json").await.1),
        ["silver.json"]
    );
    assert_eq!(
        names(&f.get("/objects?object_name=like:*COLUMNS*").await.1),
        ["goldcolumns.json"]
    );
    assert_eq!(
        f.get("/objects?schema_id=like:*pointset*").await.1["total"],
        3
    );
    assert_eq!(
        f.get(&format!("/objects?schema_id={POINTSET}")).await.1["total"],
        3
    );
    assert_eq!(f.get("/objects?schema_id=like:*grid*").await.1["total"], 0);
    let me = f.emu.test_user_id();
    assert_eq!(
        f.get(&format!("/objects?created_by={me}")).await.1["total"],
        3
    );
    let stranger = uuid::Uuid::new_v4();
    assert_eq!(
        f.get(&format!("/objects?created_by={stranger}")).await.1["total"],
        0
    );
    let cut = all["objects"][1]["created_at"].as_str().unwrap().to_owned();
    let (status, after) = f
        .send(
            client()
                .get(format!("{}/objects", f.base()))
                .query(&[("created_at", format!("gte:{cut}"))]),
        )
        .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(names(&after), ["goldcolumns.json", "silver.json"]);
    assert_eq!(
        f.get("/objects?geojson_bounding_box=geointersects:(170.5,-43.5),(180,-43.5),(180,-40),(170.5,-40),(170.5,-43.5)")
            .await
            .1["total"],
        3
    );
    assert_eq!(
        f.get("/objects?geojson_bounding_box=geowithin:(170.5,-43.5),(180,-43.5),(180,-40),(170.5,-40),(170.5,-43.5)")
            .await
            .1["total"],
        0
    );
    assert_eq!(
        names(&f.get("/objects?order_by=desc:object_name").await.1),
        ["silver.json", "goldcolumns.json", "gold.json"]
    );
    assert_eq!(
        names(&f.get("/objects?order_by=asc:object.name").await.1),
        ["goldcolumns.json", "gold.json", "silver.json"]
    );

    // Paging: the fixture's shape, links that lead on and back.
    let (_, page) = f.get("/objects?limit=2").await;
    assert_eq!(
        (page["count"].clone(), page["total"].clone()),
        (json!(2), json!(3))
    );
    assert!(page["links"]["prev"].is_null());
    let next = page["links"]["next"].as_str().unwrap().to_owned();
    let (_, page2) = json(
        client()
            .get(&next)
            .bearer_auth(&f.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page2["offset"], 2);
    assert_eq!(names(&page2), ["silver.json"]);
    assert!(page2["links"]["next"].is_null());
    assert!(page2["links"]["prev"].as_str().unwrap().contains("limit=2"));

    // Bad parameters.
    for bad in [
        "limit=0",
        "limit=5001",
        "order_by=sideways:name",
        "order_by=colour",
        "created_by=nobody",
        "created_at=yesterday",
        "geojson_bounding_box=(1,2)",
    ] {
        let (status, body) = f.get(&format!("/objects?{bad}")).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }

    // Across the organization: workspace name and access.
    let other = create_workspace(&f.emu, &f.token, "second").await;
    let url = format!(
        "{}geoscience-object/orgs/{}/workspaces/{other}/objects/path/x.json",
        f.emu.hub_url(),
        f.emu.org_id()
    );
    let (status, _) = f
        .send(client().post(url).json(&pointset("x", &data, None)))
        .await;
    assert_eq!(
        status, 400,
        "data is per workspace: not uploaded to the second one"
    );
    let org_url = format!(
        "{}geoscience-object/orgs/{}/objects",
        f.emu.hub_url(),
        f.emu.org_id()
    );
    let (status, org) = f.send(client().get(&org_url)).await;
    assert_eq!(status, 200, "{org}");
    assert_eq!(org["total"], 3);
    assert_has_fixture_keys(
        &org["objects"][0],
        &fixture("list_objects_for_instance_1.json")["objects"][0],
    );
    assert_eq!(org["objects"][0]["workspace_name"], "objects");
    assert_eq!(org["objects"][0]["workspace_access"], "owner");
    let outsider = f.emu.add_user("Out", "out@example.test");
    let token = f.emu.issue_token_for(outsider, SCOPES);
    let (_, seen) = json(
        client()
            .get(&org_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(seen["total"], 3);
    assert!(seen["objects"][0]["workspace_access"].is_null());
    let (_, permitted) = json(
        client()
            .get(format!("{org_url}?permitted_workspaces_only=true"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(permitted["total"], 0);
}

#[tokio::test]
async fn stages_are_listed_and_set_per_version() {
    let f = Fixture::new().await;
    let url = format!(
        "{}geoscience-object/orgs/{}/stages",
        f.emu.hub_url(),
        f.emu.org_id()
    );
    let (status, stages) = f.send(client().get(&url)).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = stages["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let expected = fixture("list_stages.json");
    let expected: Vec<&str> = expected["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, expected);
    let approved = stages["stages"][0]["stage_id"].clone();

    let data = f.upload(b"s").await;
    let (_, o) = f
        .post("/objects/path/s.json", &pointset("s", &data, None))
        .await;
    let id = o["object_id"].as_str().unwrap();
    assert!(o["stage"].is_null());
    let (status, _) = f
        .send(
            client()
                .patch(format!("{}/objects/{id}/metadata", f.base()))
                .json(&json!({"stage_id": approved})),
        )
        .await;
    assert_eq!(status, 204);
    let (_, got) = f.get(&format!("/objects/{id}")).await;
    assert_eq!(
        got["stage"],
        json!({"name": "Approved", "stage_id": approved})
    );
    let (_, listed) = f.get("/objects").await;
    assert_eq!(listed["objects"][0]["stage"]["name"], "Approved");
    let (status, _) = f
        .send(
            client()
                .patch(format!("{}/objects/{id}/metadata", f.base()))
                .json(&json!({"stage_id": uuid::Uuid::new_v4()})),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = f
        .send(
            client()
                .patch(format!("{}/objects/{id}/metadata?version_id=1", f.base()))
                .json(&json!({"stage_id": null})),
        )
        .await;
    assert_eq!(status, 404);
}
