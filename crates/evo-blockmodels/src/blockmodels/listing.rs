//! Listing block models: one page or every page, of the workspace or of the whole
//! organization.

use evo_core::Page;
use futures_core::Stream;
use http::Method;

use super::{ListQuery, pages};
use crate::client::{BlockModelsClient, MODELS, ORG_MODELS};
use crate::error::Error;
use crate::models::BlockModel;

impl BlockModelsClient {
    /// One page of the workspace's block models.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.blocksync"]),
    /// #     )))
    /// #     .build()?;
    /// # let client = evo_blockmodels::BlockModelsClient::new(environment, connector)?;
    /// # let regular = |name: &str| evo_blockmodels::NewBlockModel::new(name, evo_blockmodels::SizeOptions::Regular {
    /// #     n_blocks: evo_blockmodels::Size3::new(2, 2, 1),
    /// #     block_size: evo_blockmodels::BlockSize::new(10.0, 10.0, 5.0),
    /// # });
    /// // `regular(name)`: a new model of 2 x 2 x 1 blocks of 10 x 10 x 5 m.
    /// use evo_blockmodels::ListQuery;
    ///
    /// client.create(&regular("North")).await?;
    /// client.create(&regular("South")).await?;
    /// let page = client.list_page(&ListQuery::new().limit(1)).await?;
    /// assert_eq!((page.items.len(), page.total), (1, Some(2)));
    /// # Ok(()) }
    /// ```
    pub async fn list_page(&self, query: &ListQuery) -> Result<Page<BlockModel>, Error> {
        let request = list_params(self.request(Method::GET, MODELS), query);
        self.send_page(request).await
    }

    /// Every block model of the workspace, page after page.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.blocksync"]),
    /// #     )))
    /// #     .build()?;
    /// # let client = evo_blockmodels::BlockModelsClient::new(environment, connector)?;
    /// # let regular = |name: &str| evo_blockmodels::NewBlockModel::new(name, evo_blockmodels::SizeOptions::Regular {
    /// #     n_blocks: evo_blockmodels::Size3::new(2, 2, 1),
    /// #     block_size: evo_blockmodels::BlockSize::new(10.0, 10.0, 5.0),
    /// # });
    /// // `regular(name)`: a new model of 2 x 2 x 1 blocks of 10 x 10 x 5 m.
    /// use evo_blockmodels::ListQuery;
    /// use futures_util::TryStreamExt as _;
    ///
    /// for name in ["A", "B", "C"] {
    ///     client.create(&regular(name)).await?;
    /// }
    /// let all: Vec<_> = client.list_all(ListQuery::new().limit(2)).try_collect().await?;
    /// assert_eq!(all.len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn list_all(
        &self,
        query: ListQuery,
    ) -> impl Stream<Item = Result<BlockModel, Error>> + Send + 'static {
        let client = self.clone();
        pages(query, move |q| {
            let client = client.clone();
            async move { client.list_page(&q).await }
        })
    }

    /// One page of the block models of every workspace of the organization.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let seed = evo_emulator::Seed::from_json(
    /// #     r#"{"organizations": [{"display_name": "Org", "workspaces": [{"name": "Demo"}]}]}"#,
    /// # )?;
    /// # let emulator = evo_emulator::Emulator::builder().seed(seed).start().await?;
    /// # let workspace_id = emulator.organizations()[0].workspaces[0].0;
    /// # let environment = evo_core::Environment::new(emulator.hub_url(), emulator.org_id(), workspace_id);
    /// # let connector = evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(std::sync::Arc::new(evo_hyper::HyperTransport::new()))
    /// #     .authorizer(std::sync::Arc::new(evo_core::StaticTokenAuthorizer::new(
    /// #         emulator.issue_token(&["evo.blocksync"]),
    /// #     )))
    /// #     .build()?;
    /// # let client = evo_blockmodels::BlockModelsClient::new(environment, connector)?;
    /// # let regular = |name: &str| evo_blockmodels::NewBlockModel::new(name, evo_blockmodels::SizeOptions::Regular {
    /// #     n_blocks: evo_blockmodels::Size3::new(2, 2, 1),
    /// #     block_size: evo_blockmodels::BlockSize::new(10.0, 10.0, 5.0),
    /// # });
    /// // `regular(name)`: a new model of 2 x 2 x 1 blocks of 10 x 10 x 5 m.
    /// use evo_blockmodels::ListQuery;
    /// use futures_util::TryStreamExt as _;
    ///
    /// let (model, _) = client.create(&regular("Org-wide")).await?;
    /// let page = client.list_org_page(&ListQuery::new()).await?;
    /// assert_eq!(page.items[0].bm_uuid, model.bm_uuid);
    /// let all: Vec<_> = client.list_org_all(ListQuery::new()).try_collect().await?;
    /// assert_eq!(all.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn list_org_page(&self, query: &ListQuery) -> Result<Page<BlockModel>, Error> {
        let request = list_params(self.org_request(Method::GET, ORG_MODELS), query);
        self.send_page(request).await
    }

    /// Every block model of the organization, page after page.
    ///
    /// See the example on [`list_org_page`](Self::list_org_page).
    pub fn list_org_all(
        &self,
        query: ListQuery,
    ) -> impl Stream<Item = Result<BlockModel, Error>> + Send + 'static {
        let client = self.clone();
        pages(query, move |q| {
            let client = client.clone();
            async move { client.list_org_page(&q).await }
        })
    }
}

fn list_params(request: evo_core::RequestBuilder, query: &ListQuery) -> evo_core::RequestBuilder {
    let request = request
        .query("offset", query.offset)
        .query("limit", query.limit);
    if query.deleted {
        request.query("deleted", true)
    } else {
        request
    }
}
