//! The gate: the controller's limit enforced on one transfer's blocks in flight, with a
//! semaphore whose permits are added when the limit rises and forgotten when it falls.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use futures_util::{Stream, stream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{ConcurrencyReport, Controller, Sample};
use crate::error::{Error, ErrorKind, Step};
use crate::progress::Meter;

/// The limit of one transfer's blocks in flight, adapted as blocks complete.
///
/// A scheduler takes a [`Slot`] ([`enter`](Self::enter)) before it starts a block, in the
/// order the blocks are to start, and keeps it as long as the block holds memory (an upload's
/// buffer until it is staged; a download's range until it is written). The stream combinator
/// that runs the blocks (`buffered`, `buffer_unordered`) is given the [ceiling](Self::ceiling),
/// which the slots never exceed: the slots, not the combinator, bound what is in flight.
pub(crate) struct Gate {
    permits: Arc<Semaphore>,
    shared: Arc<Mutex<Shared>>,
    started: Instant,
    /// Transient failures of the transfer before the gate (its probe, its block list): not
    /// the blocks' doing.
    troubles_before: u64,
    ceiling: usize,
}

struct Shared {
    controller: Controller,
    /// Permits to forget as slots are given back: the limit fell below the permits in use.
    debt: usize,
    in_flight: usize,
    peak_in_flight: usize,
}

/// One block's place in flight; given back (or forgotten, when the limit fell) on drop.
pub(crate) struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    shared: Arc<Mutex<Shared>>,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

impl Gate {
    /// A gate at the controller's starting level for the transfer `meter` counts; its clock
    /// starts now.
    pub(crate) fn new(controller: Controller, meter: &Meter<'_>) -> Self {
        let (limit, ceiling) = (controller.limit(), controller.ceiling());
        Gate {
            permits: Arc::new(Semaphore::new(limit)),
            shared: Arc::new(Mutex::new(Shared {
                controller,
                debt: 0,
                in_flight: 0,
                peak_in_flight: 0,
            })),
            started: Instant::now(),
            troubles_before: meter.troubles(),
            ceiling,
        }
    }

    /// The most blocks ever in flight at once.
    pub(crate) fn ceiling(&self) -> usize {
        self.ceiling
    }

    /// Waits for a place in flight (an error only if the permits were closed, which this
    /// crate never does).
    pub(crate) async fn enter(&self, step: Step) -> Result<Slot, Error> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::new(ErrorKind::Local, step, "the block permits were closed"))?;
        let mut shared = lock(&self.shared);
        shared.in_flight += 1;
        shared.peak_in_flight = shared.peak_in_flight.max(shared.in_flight);
        Ok(Slot {
            permit: Some(permit),
            shared: self.shared.clone(),
        })
    }

    /// `items` in order, each with its place in flight (taken when the stream is polled for
    /// it, so a `buffered` or `buffer_unordered` after this starts an item only once it has
    /// one).
    pub(crate) fn admit<'g, T: Send + 'g>(
        &'g self,
        items: impl Iterator<Item = T> + Send + 'g,
        step: Step,
    ) -> impl Stream<Item = (T, Result<Slot, Error>)> + Send + 'g {
        stream::unfold(items, move |mut items| async move {
            let item = items.next()?;
            let slot = self.enter(step).await;
            Some(((item, slot), items))
        })
    }

    /// A block (or range) completed on the wire: the controller sees the transfer's bytes
    /// moved and transient failures so far.
    pub(crate) fn completed(&self, meter: &Meter<'_>) {
        self.observe(Sample {
            at: self.started.elapsed(),
            moved: meter.wire_bytes(),
            troubles: meter.troubles().saturating_sub(self.troubles_before),
        });
    }

    fn observe(&self, sample: Sample) {
        let mut shared = lock(&self.shared);
        let before = shared.controller.limit();
        if let Some(after) = shared.controller.observe(sample) {
            shared.resize(&self.permits, before, after);
        }
    }

    /// How the concurrency went so far.
    pub(crate) fn report(&self) -> ConcurrencyReport {
        let shared = lock(&self.shared);
        let c = &shared.controller;
        ConcurrencyReport {
            adaptive: c.adaptive(),
            start: c.start(),
            ceiling: c.ceiling(),
            limit: c.limit(),
            peak_limit: c.peak(),
            peak_in_flight: shared.peak_in_flight,
            changes: c.changes(),
            best_rate: c.best_rate().map(|r| r as u64),
        }
    }
}

impl Shared {
    /// Moves the permits from limit `from` to `to`: new ones are added (first paying back
    /// any debt); fewer forget the free ones now and the rest as slots are given back.
    fn resize(&mut self, permits: &Semaphore, from: usize, to: usize) {
        if to > from {
            let up = to - from;
            let paid = up.min(self.debt);
            self.debt -= paid;
            permits.add_permits(up - paid);
        } else {
            let down = from - to;
            let forgotten = permits.forget_permits(down);
            self.debt += down - forgotten;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut shared = lock(&self.shared);
        shared.in_flight -= 1;
        if let Some(permit) = self.permit.take() {
            if shared.debt > 0 {
                shared.debt -= 1;
                permit.forget();
            } else {
                drop(permit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::FutureExt as _;

    use super::*;

    /// Samples that close windows: one block of 1 MiB per 100 ms per `limit`, with `troubles`.
    fn feed(gate: &Gate, clock: &mut Duration, moved: &mut u64, blocks: usize, troubles: u64) {
        for _ in 0..blocks {
            let limit = lock(&gate.shared).controller.limit() as u64;
            *clock += Duration::from_millis(100);
            *moved += limit << 20;
            gate.observe(Sample {
                at: *clock,
                moved: *moved,
                troubles,
            });
        }
    }

    fn limit(gate: &Gate) -> usize {
        lock(&gate.shared).controller.limit()
    }

    #[tokio::test]
    async fn slots_follow_the_limit_up_and_down() {
        let gate = Gate::new(Controller::new(2, 8, true), &Meter::new(None));
        let first = gate.enter(Step::GetRange).await.unwrap();
        let second = gate.enter(Step::GetRange).await.unwrap();
        assert!(
            gate.enter(Step::GetRange).now_or_never().is_none(),
            "full at 2"
        );

        // A measured window doubles the limit: two more places at once.
        let (mut clock, mut moved) = (Duration::ZERO, 0);
        feed(&gate, &mut clock, &mut moved, 3, 0);
        assert_eq!(limit(&gate), 4);
        let third = gate.enter(Step::GetRange).now_or_never().unwrap().unwrap();
        let fourth = gate.enter(Step::GetRange).now_or_never().unwrap().unwrap();
        assert!(
            gate.enter(Step::GetRange).now_or_never().is_none(),
            "full at 4"
        );

        // A transient failure sends it back to 2 with four in flight: the first two slots
        // given back are forgotten, the third frees a place.
        feed(&gate, &mut clock, &mut moved, 1, 1);
        assert_eq!(limit(&gate), 2);
        drop(first);
        assert!(gate.enter(Step::GetRange).now_or_never().is_none());
        drop(second);
        assert!(gate.enter(Step::GetRange).now_or_never().is_none());
        drop(third);
        let again = gate.enter(Step::GetRange).now_or_never().unwrap().unwrap();
        assert!(
            gate.enter(Step::GetRange).now_or_never().is_none(),
            "full at 2"
        );

        let report = gate.report();
        assert_eq!(
            (
                report.start,
                report.ceiling,
                report.limit,
                report.peak_limit
            ),
            (2, 8, 2, 4)
        );
        assert_eq!((report.peak_in_flight, report.changes), (4, 2));
        drop((fourth, again));
        assert_eq!(lock(&gate.shared).in_flight, 0);
        assert_eq!(gate.permits.available_permits(), 2);
    }

    #[tokio::test]
    async fn a_rise_pays_back_debt_before_adding_permits() {
        let gate = Gate::new(Controller::new(2, 8, true), &Meter::new(None));
        let mut shared = lock(&gate.shared);
        let held = [
            gate.permits.clone().try_acquire_owned().unwrap(),
            gate.permits.clone().try_acquire_owned().unwrap(),
        ];
        shared.resize(&gate.permits, 4, 2);
        assert_eq!(shared.debt, 2);
        shared.resize(&gate.permits, 2, 3);
        assert_eq!((shared.debt, gate.permits.available_permits()), (1, 0));
        shared.resize(&gate.permits, 3, 6);
        assert_eq!((shared.debt, gate.permits.available_permits()), (0, 2));
        drop(held);
    }
}
