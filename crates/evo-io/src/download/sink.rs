//! Downloading in order into memory (up to its limit) or a writer.

use std::pin::Pin;

use futures_util::{FutureExt as _, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::fetch::{Fetched, Job};
use super::probe::Probe;
use super::report::DownloadReport;
use super::whole::WholeBody;
use crate::blocks::layout;
use crate::concurrency::ConcurrencyReport;
use crate::crc64::{self, Running};
use crate::digest::{Hasher, HashingThread, check};
use crate::error::{Error, ErrorKind, Step};
use crate::request::Wire;

pub(super) fn too_large(message: String) -> Error {
    Error::new(ErrorKind::TooLarge, Step::WriteDestination, message)
}

/// A destination written in order.
pub(super) enum Sink<'a> {
    /// Memory, up to `limit` bytes.
    Memory {
        data: Vec<u8>,
        limit: u64,
    },
    Writer(Pin<Box<dyn AsyncWrite + Send + 'a>>),
}

impl Sink<'_> {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), Error> {
        match self {
            Sink::Memory { data, limit } => {
                if (data.len() + chunk.len()) as u64 > *limit {
                    return Err(too_large(format!(
                        "more than the memory download limit of {limit} bytes arrived"
                    )));
                }
                data.extend_from_slice(chunk);
                Ok(())
            }
            Sink::Writer(w) => w
                .write_all(chunk)
                .await
                .map_err(|e| Error::local(Step::WriteDestination, "writing the destination", e)),
        }
    }
    async fn finish(&mut self) -> Result<(), Error> {
        match self {
            Sink::Memory { .. } => Ok(()),
            Sink::Writer(w) => w
                .flush()
                .await
                .map_err(|e| Error::local(Step::WriteDestination, "flushing the destination", e)),
        }
    }
}

impl Job {
    /// Downloads into memory or a writer, in order.
    pub(super) async fn to_sink(
        &self,
        wire: &Wire<'_>,
        probe: Probe,
        sink: &mut Sink<'_>,
    ) -> Result<DownloadReport, Error> {
        let mut hasher = self
            .expected
            .as_ref()
            .map(|d| HashingThread::start(Hasher::for_digest(d)));
        let mut crc = self.crc64.map(|_| Running::new());
        let etag = probe.etag.clone();
        let (size, ranged, concurrency) = match (probe.whole, probe.size) {
            (Some(response), size) => {
                let mut body = WholeBody::new(response, size);
                while let Some(chunk) = body.next(wire).await? {
                    if let Some(h) = hasher.as_mut() {
                        h.update(chunk.clone()).await;
                    }
                    if let Some(c) = crc.as_mut() {
                        c.update(&chunk);
                    }
                    sink.write(&chunk).await?;
                }
                (body.got, false, ConcurrencyReport::one_request())
            }
            (None, Some(size)) => {
                let block_size = self.tuning.block_size(size, self.block_size);
                let etag = etag.as_deref();
                let gate = &wire.gate(&self.tuning, block_size);
                let buffers = &wire.buffers;
                // Each range keeps its place in flight until it is written: ranges that arrived
                // before the ones ahead of them wait in memory, and count.
                let mut blocks = gate
                    .admit(layout(size, block_size), Step::GetRange)
                    .map(|(block, slot)| {
                        async move {
                            let slot = slot?;
                            let fetched = self.fetch(wire, block, size, etag, buffers).await?;
                            gate.completed(&wire.meter);
                            Ok::<_, Error>((fetched, slot))
                        }
                        .boxed()
                    })
                    .buffered(gate.ceiling())
                    .boxed();
                let mut written = 0u64;
                let mut whole = None;
                let mut ranged = true;
                while let Some(fetched) = blocks.next().await {
                    let (fetched, _slot) = fetched?;
                    let (data, range_crc) = match fetched {
                        Fetched::Range(data, range_crc) => (data, range_crc),
                        Fetched::Whole(response) => {
                            whole = Some(response);
                            break;
                        }
                    };
                    if let Some(h) = hasher.as_mut() {
                        h.update(data.clone()).await;
                    }
                    if let (Some(c), Some(range_crc)) = (crc.as_mut(), range_crc) {
                        c.append(range_crc, data.len() as u64);
                    }
                    // Counted in the progress as it arrived (`fetch`).
                    sink.write(&data).await?;
                    written += data.len() as u64;
                }
                // The server stopped honouring Range: the rest comes from this one body.
                drop(blocks);
                if let Some(response) = whole {
                    ranged = false;
                    let mut body = WholeBody::new(response, Some(size)).skipping(written);
                    while let Some(chunk) = body.next(wire).await? {
                        if let Some(h) = hasher.as_mut() {
                            h.update(chunk.clone()).await;
                        }
                        if let Some(c) = crc.as_mut() {
                            c.update(&chunk);
                        }
                        sink.write(&chunk).await?;
                    }
                }
                (size, ranged, gate.report())
            }
            (None, None) => unreachable!("a probe without a body always has a size"),
        };
        sink.finish().await?;
        self.check_size(size)?;
        if let (Some(expected), Some(h)) = (&self.expected, hasher) {
            check(expected, &h.finish().await?)?;
        }
        if let (Some(expected), Some(c)) = (self.crc64, crc) {
            crc64::check(expected, c.finish().0)?;
        }
        // The last report inside blocks came at a whole MiB, or none came (an empty blob).
        wire.meter.report();
        Ok(DownloadReport {
            size,
            etag,
            resumed_bytes: 0,
            retries: wire.meter.retries(),
            ranged,
            path: None,
            bytes: None,
            concurrency,
            direct_bytes: 0,
        })
    }
}
