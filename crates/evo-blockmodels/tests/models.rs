//! Block models and versions against the in-process emulator: create (all four size options),
//! get, list (workspace, organization, every page), update metadata, delete, restore, units,
//! and their failure paths.

use crate::common;

use evo_blockmodels::{
    BlockModelsClient, BlockSize, Error, ListQuery, NewBlockModel, RotationAxis, Size3,
    SizeOptions, UpdateMetadata,
};
use futures_util::TryStreamExt as _;

#[tokio::test]
async fn create_get_update_delete_restore() {
    let s = common::start().await;
    let new = common::regular("Pit A", (20, 10, 4))
        .rotation(RotationAxis::Z, 30.0)
        .description("grade control")
        .comment("empty");
    let (model, version) = s.client.create(&new).await.unwrap();
    assert_eq!(model.name, "Pit A");
    assert_eq!(model.description.as_deref(), Some("grade control"));
    assert_eq!(model.size_unit_id.as_deref(), Some("m"));
    assert_eq!(
        model.coordinate_reference_system.as_deref(),
        Some("EPSG:32750")
    );
    assert_eq!(model.model_origin.x, 1000.0);
    assert_eq!(model.block_rotation.len(), 1);
    assert_eq!(model.size_options.regular_block_count(), Some(800));
    assert_eq!(model.workspace_id, s.environment.workspace_id);
    // Version 1: only the system columns, the creation comment.
    assert_eq!(version.version_id, 1);
    assert_eq!(version.bm_uuid, model.bm_uuid);
    assert_eq!(version.comment, "empty");
    let titles: Vec<&str> = version
        .mapping
        .columns
        .iter()
        .map(|c| c.title.as_str())
        .collect();
    assert_eq!(titles, ["i", "j", "k"]);
    // The rotated extent contains the unrotated corner and is wider than the model along x.
    assert!(model.bbox.x_minmax.max - model.bbox.x_minmax.min > 100.0);

    let got = s.client.get(model.bm_uuid).await.unwrap();
    assert_eq!(got, model);

    let renamed = s
        .client
        .update_metadata(
            model.bm_uuid,
            &UpdateMetadata::new().name("Pit A v2").size_unit_id("ft"),
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Pit A v2");
    assert_eq!(renamed.size_unit_id.as_deref(), Some("ft"));
    assert_eq!(renamed.description.as_deref(), Some("grade control"));
    assert!(renamed.last_updated_at >= model.last_updated_at);

    // An unknown unit is refused by the service, the name kept.
    let e = s
        .client
        .update_metadata(
            model.bm_uuid,
            &UpdateMetadata::new().size_unit_id("furlong"),
        )
        .await
        .unwrap_err();
    assert!(e.is_unprocessable(), "{e}");

    s.client.delete(model.bm_uuid).await.unwrap();
    let e = s.client.get(model.bm_uuid).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(
        e.problem_type(),
        Some("https://seequent.com/error-codes/block-model-service/block-model/not-found")
    );
    assert!(
        s.client
            .delete(model.bm_uuid)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(
        s.client.get_deleted(model.bm_uuid).await.unwrap().name,
        "Pit A v2"
    );
    let deleted = s
        .client
        .list_page(&ListQuery::new().deleted(true))
        .await
        .unwrap();
    assert_eq!(deleted.total, Some(1));

    let restored = s.client.restore(model.bm_uuid).await.unwrap();
    assert_eq!(restored.bm_uuid, model.bm_uuid);
    assert_eq!(s.client.get(model.bm_uuid).await.unwrap().name, "Pit A v2");
    assert!(
        s.client
            .restore(model.bm_uuid)
            .await
            .unwrap_err()
            .is_conflict()
    );
}

#[tokio::test]
async fn every_size_option_and_invalid_ones() {
    let s = common::start().await;
    let parent = BlockSize::new(20.0, 20.0, 10.0);
    let kinds = [
        SizeOptions::FullySubBlocked {
            n_parent_blocks: Size3::new(4, 4, 2),
            n_subblocks_per_parent: Size3::new(2, 2, 2),
            parent_block_size: parent,
        },
        SizeOptions::Flexible {
            n_parent_blocks: Size3::new(4, 4, 2),
            n_subblocks_per_parent: Size3::new(5, 5, 3),
            parent_block_size: parent,
        },
        SizeOptions::VariableOctree {
            n_parent_blocks: Size3::new(4, 4, 2),
            n_subblocks_per_parent: Size3::new(8, 8, 4),
            parent_block_size: parent,
        },
    ];
    for (n, kind) in kinds.into_iter().enumerate() {
        let (model, version) = s
            .client
            .create(&NewBlockModel::new(format!("sub {n}"), kind))
            .await
            .unwrap();
        assert_eq!(model.size_options, kind);
        let titles: Vec<&str> = version
            .mapping
            .columns
            .iter()
            .map(|c| c.title.as_str())
            .collect();
        assert_eq!(titles, ["i", "j", "k", "sidx"]);
    }
    // Checked before sending.
    let bad_octree = SizeOptions::VariableOctree {
        n_parent_blocks: Size3::new(4, 4, 2),
        n_subblocks_per_parent: Size3::new(3, 8, 4),
        parent_block_size: parent,
    };
    let e = s
        .client
        .create(&NewBlockModel::new("bad", bad_octree))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    let zero = SizeOptions::Regular {
        n_blocks: Size3::new(0, 1, 1),
        block_size: BlockSize::new(1.0, 1.0, 1.0),
    };
    assert!(matches!(
        s.client.create(&NewBlockModel::new("zero", zero)).await,
        Err(Error::InvalidRequest(_))
    ));
    assert!(matches!(
        s.client.create(&common::regular("a/b", (1, 1, 1))).await,
        Err(Error::InvalidRequest(_))
    ));
    // Refused by the service: a name in use, an unknown unit.
    s.client
        .create(&common::regular("taken", (1, 1, 1)))
        .await
        .unwrap();
    assert!(
        s.client
            .create(&common::regular("taken", (1, 1, 1)))
            .await
            .unwrap_err()
            .is_conflict()
    );
    let e = s
        .client
        .create(&common::regular("unit", (1, 1, 1)).size_unit("furlong"))
        .await
        .unwrap_err();
    assert!(e.is_unprocessable(), "{e}");
}

#[tokio::test]
async fn listings_page_through_workspace_and_organization() {
    let s = common::start().await;
    for n in 0..7 {
        s.client
            .create(&common::regular(&format!("m{n}"), (2, 2, 2)))
            .await
            .unwrap();
    }
    let other_ws = s.emu.organizations()[0].workspaces[1].0;
    let mut other_env = s.environment.clone();
    other_env.workspace_id = other_ws;
    let other = common::client_for(
        &other_env,
        std::sync::Arc::new(evo_hyper::HyperTransport::new()),
        s.token.clone(),
    );
    other
        .create(&common::regular("elsewhere", (2, 2, 2)))
        .await
        .unwrap();

    let page = s
        .client
        .list_page(&ListQuery::new().limit(3).offset(2))
        .await
        .unwrap();
    assert_eq!(
        (page.items.len(), page.total, page.offset, page.limit),
        (3, Some(7), 2, Some(3))
    );
    let names: Vec<String> = page.items.iter().map(|m| m.name.clone()).collect();
    assert_eq!(names, ["m2", "m3", "m4"]);
    let all: Vec<_> = s
        .client
        .list_all(ListQuery::new().limit(2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 7);
    let org: Vec<_> = s
        .client
        .list_org_all(ListQuery::new().limit(3))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(org.len(), 8);
    assert!(org.iter().any(|m| m.workspace_id == other_ws));
    assert_eq!(
        s.client
            .list_org_page(&ListQuery::new())
            .await
            .unwrap()
            .total,
        Some(8)
    );
}

#[tokio::test]
async fn units_and_access_errors() {
    let s = common::start().await;
    let units = s.client.units().await.unwrap();
    let metre = units.iter().find(|u| u.unit_id == "m").unwrap();
    assert_eq!(metre.unit_type, "LENGTH");
    assert!(units.iter().any(|u| u.unit_id == "g/t"));

    // A model of another workspace is not found through this workspace.
    let (model, _) = s
        .client
        .create(&common::regular("mine", (1, 1, 1)))
        .await
        .unwrap();
    let mut other_env = s.environment.clone();
    other_env.workspace_id = s.emu.organizations()[0].workspaces[1].0;
    let other: BlockModelsClient = common::client_for(
        &other_env,
        std::sync::Arc::new(evo_hyper::HyperTransport::new()),
        s.token.clone(),
    );
    assert!(other.get(model.bm_uuid).await.unwrap_err().is_not_found());

    // A token without the block model scope is refused.
    let token = s.emu.issue_token(&["evo.object"]);
    let no_scope = common::client_for(
        &s.environment,
        std::sync::Arc::new(evo_hyper::HyperTransport::new()),
        token,
    );
    assert!(
        no_scope
            .get(model.bm_uuid)
            .await
            .unwrap_err()
            .is_forbidden()
    );
}
