//! DAM: publishing and transforming assets, and downloading media into the asset folder.
//!
//! What lives where: this file holds the publish and transform calls and what they need of an
//! asset; `transform` holds [`Transform`] (the options of a transform) and `download`
//! downloads media into the asset folder.

mod download;
mod transform;

use http::Method;
use serde_json::Value;

use crate::client::{Snapshot, UnicatClient, encode_segment};
use crate::error::Error;
pub use transform::{Padding, Resize, Transform};

/// The fields of an asset the DAM needs.
struct AssetFile<'a> {
    gid: &'a str,
    version: String,
    ext: String,
    pathname: &'a str,
    updated_on: Option<f64>,
}

fn asset_file(asset: &Value) -> Result<AssetFile<'_>, Error> {
    if asset.get("is_file").and_then(Value::as_bool) != Some(true) {
        return Err(Error::InvalidInput(
            "the asset is not a file (is_file is not true)".to_owned(),
        ));
    }
    let text = |field: &str| {
        asset
            .get(field)
            .and_then(Value::as_str)
            .ok_or_else(|| Error::InvalidInput(format!("the asset has no {field:?}")))
    };
    let gid = text("gid")?;
    let version = match asset.get("version") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(Error::InvalidInput(
                "the asset has no \"version\"".to_owned(),
            ));
        }
    };
    let name = text("name")?;
    let ext = match name.rfind('.') {
        Some(dot) if dot > 0 => name[dot..].to_owned(),
        _ => String::new(),
    };
    Ok(AssetFile {
        gid,
        version,
        ext,
        pathname: text("pathname")?,
        updated_on: asset.get("updated_on").and_then(Value::as_f64),
    })
}

impl UnicatClient {
    /// Publishes an asset's file; returns the DAM result (with `public_url`).
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
    /// let logo = client.with_stores(|s| s.asset_by_pathname("/brand/logo.png").cloned()).unwrap();
    /// let published = client.publish(&logo).await?;
    /// assert!(published["public_url"].as_str().unwrap().ends_with("/logo.png"));
    /// # Ok(()) }
    /// ```
    pub async fn publish(&self, asset: &Value) -> Result<Value, Error> {
        let file = asset_file(asset)?;
        self.dam("publish", &file, &[]).await
    }

    /// Transforms an asset's image with validated options; returns the DAM result (with
    /// `public_url`).
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
    /// use unicat::Transform;
    ///
    /// let logo = client.with_stores(|s| s.asset_by_pathname("/brand/logo.png").cloned()).unwrap();
    /// let thumbnail = Transform::new().resize_named("fit").width(200.0).height(100.0).image_type("png");
    /// let result = client.transform(&logo, &thumbnail).await?;
    /// assert!(result["public_url"].is_string());
    /// # Ok(()) }
    /// ```
    pub async fn transform(&self, asset: &Value, transform: &Transform) -> Result<Value, Error> {
        let file = asset_file(asset)?;
        self.dam("transform", &file, &transform.options()).await
    }

    async fn dam(
        &self,
        endpoint: &str,
        file: &AssetFile<'_>,
        options: &[(String, String)],
    ) -> Result<Value, Error> {
        let mut path = format!(
            "dam/p/{}/{endpoint}/{}~{}{}",
            encode_segment(&self.inner.project),
            encode_segment(file.gid),
            encode_segment(&file.version),
            encode_segment(&file.ext),
        );
        for (k, v) in options {
            path.push_str(&format!("/{}={}", encode_segment(k), encode_segment(v)));
        }
        self.with_reauth(|| async {
            let response = self
                .inner
                .connector
                .request(Method::GET, &path)
                .send_unchecked()
                .await?;
            self.read_envelope(response, Snapshot::Merge).await
        })
        .await
    }
}
