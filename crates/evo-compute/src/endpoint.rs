//! `Endpoint`: what a client and its jobs share — the connector, the organization, the
//! preview opt-in and the polling intervals. Its own module so that [`Job`](crate::Job)
//! sends through it without naming [`ComputeClient`](crate::ComputeClient), which makes jobs
//! (issue #17: no circle of imports between files).

use std::time::Duration;

use http::Method;
use uuid::Uuid;

use evo_core::polling::Poller;
use evo_core::{ApiConnector, RequestBuilder};

/// The header the Python SDK sends, with `opt-in`, for tasks still in preview.
pub const PREVIEW_HEADER: &str = "API-Preview";

/// Where and how the requests of one organization's compute jobs go. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) connector: ApiConnector,
    pub(crate) org_id: Uuid,
    pub(crate) preview: bool,
    pub(crate) initial_interval: Duration,
    pub(crate) max_interval: Duration,
}

impl Endpoint {
    /// The endpoint of organization `org_id` with the defaults: no preview, polls from
    /// 500 ms up to 10 s.
    pub(crate) fn new(org_id: Uuid, connector: ApiConnector) -> Self {
        Endpoint {
            connector,
            org_id,
            preview: false,
            initial_interval: Duration::from_millis(500),
            max_interval: Duration::from_secs(10),
        }
    }

    /// A poller with these intervals and `timeout` (none: wait as long as it takes).
    pub(crate) fn poller(&self, timeout: Option<Duration>) -> Poller {
        Poller::new()
            .with_intervals(self.initial_interval, self.max_interval)
            .with_optional_timeout(timeout)
    }

    /// A request to `compute/orgs/{org_id}` + `tail`, with the preview header when asked.
    pub(crate) fn request(&self, method: Method, tail: &str) -> RequestBuilder {
        let request = self
            .connector
            .request(method, &format!("compute/orgs/{{org_id}}{tail}"))
            .path_param("org_id", self.org_id);
        if self.preview {
            request.header(PREVIEW_HEADER, "opt-in")
        } else {
            request
        }
    }
}
