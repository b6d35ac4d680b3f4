//! A whole-blob body, from a server that ignored `Range`: read chunk by chunk with its length
//! checked.

use bytes::Bytes;
use evo_core::Body;
use futures_util::StreamExt;
use http::Response;

use crate::error::{Error, ErrorKind, Step};
use crate::request::{Wire, body_error};

/// A whole-blob body (the server ignored `Range`), read chunk by chunk with its length checked.
pub(super) struct WholeBody {
    stream: evo_core::BodyStream,
    size: Option<u64>,
    pub(super) got: u64,
    /// Leading bytes already written from ranges, passed over.
    skip: u64,
}

impl WholeBody {
    pub(super) fn new(response: Response<Body>, size: Option<u64>) -> Self {
        WholeBody {
            stream: response.into_body().into_stream(),
            size,
            got: 0,
            skip: 0,
        }
    }

    pub(super) fn skipping(mut self, bytes: u64) -> Self {
        self.skip = bytes;
        self
    }

    /// The next chunk; `None` at the end, after checking the length.
    pub(super) async fn next(&mut self, wire: &Wire<'_>) -> Result<Option<Bytes>, Error> {
        let got = self.got;
        let chunk = match self.stream.next().await {
            None => {
                if let Some(s) = self.size
                    && got != s
                {
                    return Err(Error::from_core(
                        Step::GetRange,
                        evo_core::TransportError::new(
                            evo_core::TransportErrorKind::Connection,
                            format!("truncated body: {got} of {s} bytes arrived"),
                        )
                        .into(),
                    ));
                }
                return Ok(None);
            }
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                let expected = self.size.unwrap_or(got);
                return Err(Error::from_core(
                    Step::GetRange,
                    body_error(e, got, expected),
                ));
            }
        };
        self.got += chunk.len() as u64;
        if self.size.is_some_and(|s| self.got > s) {
            return Err(Error::new(
                ErrorKind::Protocol,
                Step::GetRange,
                "the body is longer than its Content-Length",
            ));
        }
        let start = self.got - chunk.len() as u64;
        let chunk = if start < self.skip {
            chunk.slice(((self.skip - start).min(chunk.len() as u64)) as usize..)
        } else {
            chunk
        };
        wire.meter.reach(self.got);
        Ok(Some(chunk))
    }
}
