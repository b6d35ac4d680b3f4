//! The `User-Agent` a caller gives the connector is the one every request carries: the Files
//! API's and the blob transfers' that the default blob client sends.

use std::sync::{Arc, Mutex};

use evo_core::{ApiConnector, Environment, SharedTransport, StaticTokenAuthorizer, transport_fn};
use evo_emulator::Emulator;
use evo_files::FilesClient;
use evo_hyper::HyperTransport;

use crate::common::data;

/// `METHOD path` and the `User-Agent` of each request the transport sent.
type Sent = Arc<Mutex<Vec<(String, Option<String>)>>>;

fn recording_user_agents(sent: Sent) -> SharedTransport {
    let inner: SharedTransport = Arc::new(HyperTransport::new());
    Arc::new(transport_fn(
        move |request: http::Request<evo_core::Body>| {
            let (inner, sent) = (inner.clone(), sent.clone());
            async move {
                let agent = request
                    .headers()
                    .get(http::header::USER_AGENT)
                    .map(|v| v.to_str().unwrap_or("<not text>").to_owned());
                let line = format!("{} {}", request.method(), request.uri().path());
                sent.lock().unwrap().push((line, agent));
                inner.send(request).await
            }
        },
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_transfers_send_the_connectors_user_agent() {
    let seed = evo_emulator::Seed::from_json(
        r#"{"organizations": [{"display_name": "UA Org", "workspaces": [{"name": "UA"}]}]}"#,
    )
    .unwrap();
    let emu = Emulator::builder().seed(seed).start().await.unwrap();
    let sent: Sent = Arc::default();
    let connector = ApiConnector::builder(emu.hub_url())
        .transport(recording_user_agents(sent.clone()))
        .authorizer(Arc::new(StaticTokenAuthorizer::new(
            emu.issue_token(&["evo.file", "evo.workspace"]),
        )))
        .user_agent("survey-app/2.1")
        .build()
        .unwrap();
    let workspace = emu.organizations()[0].workspaces[0].0;
    let environment = Environment::new(emu.hub_url(), emu.org_id(), workspace);
    // No blob client given: the default one is built from the connector.
    let files = FilesClient::builder(environment, connector)
        .build()
        .unwrap();

    let bytes = data(300_000, 7);
    let uploaded = files
        .upload_bytes("ua/probe.bin", bytes.clone())
        .await
        .unwrap();
    let back = files
        .download_to_memory(uploaded.file_id, None)
        .await
        .unwrap();
    assert!(back == bytes, "the round trip changed the bytes");

    let sent = sent.lock().unwrap().clone();
    let blob_requests: Vec<_> = sent.iter().filter(|(l, _)| l.contains(" /blob/")).collect();
    assert!(
        blob_requests.iter().any(|(l, _)| l.starts_with("PUT"))
            && blob_requests.iter().any(|(l, _)| l.starts_with("GET")),
        "an upload and a download went to blob storage: {sent:#?}"
    );
    for (line, agent) in &sent {
        assert_eq!(agent.as_deref(), Some("survey-app/2.1"), "{line}");
    }
}
