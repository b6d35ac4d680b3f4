//! What every transfer of a [`BlobClient`](crate::BlobClient) shares with it: the transport
//! and the settings. Its own module so that uploads, downloads and requests take it without
//! naming the client, which makes them (issue #17: no circle of imports between files).

use std::sync::Arc;
use std::time::Duration;

use evo_core::{RetryPolicy, SharedTransport};
use http::HeaderValue;

use crate::blocks::DEFAULT_BLOCK_SIZE;
use crate::buffers::BufferPool;
use crate::concurrency::{DEFAULT_MAX_CONCURRENCY, DEFAULT_MEMORY_BUDGET, Tuning};
use crate::integrity::Integrity;

/// The largest blob a [`Destination::memory`](crate::Destination::memory) download accepts by
/// default: 1 GiB.
pub const DEFAULT_MAX_MEMORY_DOWNLOAD: u64 = 1 << 30;

/// What a [`BlobClient`](crate::BlobClient) holds (behind an `Arc`) and lends its transfers.
pub(crate) struct ClientInner {
    pub(crate) transport: SharedTransport,
    pub(crate) config: Config,
    /// The block buffers its transfers reuse, one after another.
    pub(crate) buffers: Arc<BufferPool>,
}

/// The settings of a [`BlobClient`](crate::BlobClient).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) block_size: u64,
    pub(crate) single_put_max: u64,
    pub(crate) concurrency: usize,
    /// Whether `concurrency` is the caller's choice (a near server does not lower it).
    pub(crate) concurrency_chosen: bool,
    pub(crate) max_concurrency: usize,
    pub(crate) adaptive: bool,
    pub(crate) memory_budget: Option<u64>,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_renewals: u32,
    pub(crate) renew_debounce: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) max_memory_download: u64,
    pub(crate) integrity: Integrity,
    pub(crate) direct_writes: bool,
    pub(crate) direct_reads: bool,
    pub(crate) user_agent: HeaderValue,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            block_size: DEFAULT_BLOCK_SIZE,
            single_put_max: DEFAULT_BLOCK_SIZE,
            concurrency: crate::DEFAULT_CONCURRENCY,
            concurrency_chosen: false,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            adaptive: true,
            memory_budget: None,
            retry: RetryPolicy::default()
                .with_max_attempts(8)
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(10))
                .with_max_elapsed(Some(Duration::from_secs(600))),
            max_renewals: 3,
            renew_debounce: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            max_memory_download: DEFAULT_MAX_MEMORY_DOWNLOAD,
            integrity: Integrity::Crc64,
            direct_writes: true,
            direct_reads: true,
            user_agent: HeaderValue::from_static(evo_core::DEFAULT_USER_AGENT),
        }
    }
}

impl Config {
    /// The memory budget of one transfer's block buffers.
    pub(crate) fn memory_budget(&self) -> u64 {
        self.memory_budget.unwrap_or(DEFAULT_MEMORY_BUDGET)
    }

    /// How a transfer may set its concurrency.
    pub(crate) fn tuning(&self) -> Tuning {
        Tuning {
            concurrency: self.concurrency,
            max_concurrency: self.max_concurrency,
            adaptive: self.adaptive,
            memory_budget: self.memory_budget,
            default_start: !self.concurrency_chosen,
        }
    }
}
