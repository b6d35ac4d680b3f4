//! The generic poller against an in-process fake of `PollApi` (a server with timestamps,
//! soft deletes, restores, equal timestamps, late commits and injected faults).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use evo_sync::poll::{Deleted, PollApi, PollOptions, Polled, Poller};
use evo_sync::{BackoffPolicy, EngineOptions, Error, Live, LiveOptions, replica};
use proptest::prelude::*;

const OVERLAP: u64 = 1_000;

#[derive(Default)]
struct FakeServer {
    clock: u64,
    /// key -> (version, value, deleted_at)
    items: BTreeMap<u8, (u64, u32, Option<u64>)>,
    fail_next: u32,
    calls: u64,
    /// Items returned by all calls, to check that only changes are fetched.
    returned: u64,
}

impl FakeServer {
    fn live(&self) -> BTreeMap<u8, u32> {
        self.items
            .iter()
            .filter(|(_, (_, _, d))| d.is_none())
            .map(|(k, (_, v, _))| (*k, *v))
            .collect()
    }

    fn check_fault(&mut self) -> Result<(), Error> {
        self.calls += 1;
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return Err(Error::Source {
                message: "injected fault".to_owned(),
            });
        }
        Ok(())
    }
}

#[derive(Clone, Default)]
struct FakeApi(Arc<Mutex<FakeServer>>);

#[async_trait]
impl PollApi<u8, u32> for FakeApi {
    async fn list_all(&self) -> Result<Vec<Polled<u8, u32>>, Error> {
        let mut s = self.0.lock().expect("lock");
        s.check_fault()?;
        let out: Vec<_> = s
            .items
            .iter()
            .filter(|(_, (_, _, d))| d.is_none())
            .map(|(k, (ver, v, _))| Polled {
                key: *k,
                version: *ver,
                value: *v,
            })
            .collect();
        s.returned += out.len() as u64;
        Ok(out)
    }

    async fn changed_since(&self, since: u64) -> Result<Vec<Polled<u8, u32>>, Error> {
        let mut s = self.0.lock().expect("lock");
        s.check_fault()?;
        let out: Vec<_> = s
            .items
            .iter()
            .filter(|(_, (ver, _, d))| d.is_none() && *ver >= since)
            .map(|(k, (ver, v, _))| Polled {
                key: *k,
                version: *ver,
                value: *v,
            })
            .collect();
        s.returned += out.len() as u64;
        Ok(out)
    }

    async fn deleted_since(&self, since: u64) -> Result<Vec<Deleted<u8>>, Error> {
        let mut s = self.0.lock().expect("lock");
        s.check_fault()?;
        let out: Vec<_> = s
            .items
            .iter()
            .filter_map(|(k, (_, _, d))| {
                d.filter(|d| *d >= since).map(|d| Deleted {
                    key: *k,
                    version: d,
                })
            })
            .collect();
        s.returned += out.len() as u64;
        Ok(out)
    }
}

#[derive(Clone, Debug)]
enum Step {
    /// Create or update `key` with `value` (restores a deleted key).
    Put(u8, u32),
    Delete(u8),
    /// Advance the server clock (0 gives equal timestamps).
    Tick(u64),
    /// An update that becomes visible late, stamped up to OVERLAP in the past.
    LatePut(u8, u32, u64),
    /// The next `n` API calls fail.
    Fault(u32),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..6, any::<u32>()).prop_map(|(k, v)| Step::Put(k, v)),
        2 => (0u8..6).prop_map(Step::Delete),
        2 => (0u64..3_000).prop_map(Step::Tick),
        1 => (0u8..6, any::<u32>(), 0..=OVERLAP).prop_map(|(k, v, b)| Step::LatePut(k, v, b)),
        1 => (1u32..4).prop_map(Step::Fault),
    ]
}

fn perform(server: &mut FakeServer, step: &Step) {
    match *step {
        Step::Put(key, value) => {
            let now = server.clock;
            let version = server
                .items
                .get(&key)
                .map_or(now, |(v, _, _)| now.max(v + 1));
            server.clock = server.clock.max(version);
            server.items.insert(key, (version, value, None));
        }
        Step::Delete(key) => {
            let now = server.clock;
            if let Some(item) = server.items.get_mut(&key) {
                if item.2.is_none() {
                    let version = now.max(item.0 + 1);
                    server.clock = server.clock.max(version);
                    item.0 = version;
                    item.2 = Some(version);
                }
            }
        }
        Step::Tick(n) => server.clock += n,
        Step::LatePut(key, value, back) => {
            let stamp = server.clock.saturating_sub(back);
            let version = server
                .items
                .get(&key)
                .map_or(stamp, |(v, _, _)| stamp.max(v + 1));
            server.clock = server.clock.max(version);
            server.items.insert(key, (version, value, None));
        }
        Step::Fault(n) => server.fail_next = n,
    }
}

fn options(reconcile_every: u32) -> PollOptions {
    PollOptions {
        interval: Duration::from_millis(10),
        overlap: OVERLAP,
        reconcile_every,
        stream: "fake".to_owned(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// After every step (and a successful poll), the replica equals the server's live items.
    #[test]
    fn replica_equals_server_after_every_step(steps in prop::collection::vec(step(), 1..40), reconcile_every in 0u32..4) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let api = FakeApi::default();
            let mut poller = Poller::new(api.clone(), options(reconcile_every)).expect("poller");
            let (mut sink, replica) = replica::<u8, u32>(EngineOptions::default());
            let mut last_cursor = 0;
            for step in &steps {
                perform(&mut api.0.lock().expect("lock"), step);
                // Faults make polls fail; the poller must recover on a later poll.
                let mut attempts = 0;
                while poller.poll_once(&mut sink).await.is_err() {
                    attempts += 1;
                    prop_assert!(attempts < 10, "never recovered");
                }
                let expected = api.0.lock().expect("lock").live();
                let got: BTreeMap<u8, u32> = replica.snapshot().iter().map(|(k, v)| (*k, *v)).collect();
                prop_assert_eq!(got, expected, "after {:?}", step);
                let cursor = replica.cursors().get("fake").unwrap_or(0);
                prop_assert!(cursor >= last_cursor);
                last_cursor = cursor;
            }
            prop_assert_eq!(replica.snapshot().resets(), 1, "only the initial load resets");
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn incremental_polls_fetch_only_changed_items() {
    let api = FakeApi::default();
    {
        let mut s = api.0.lock().expect("lock");
        for key in 0..50u8 {
            s.clock += 10_000;
            perform(&mut s, &Step::Put(key, u32::from(key)));
        }
    }
    let mut poller = Poller::new(api.clone(), options(0)).expect("poller");
    let (mut sink, replica) = replica::<u8, u32>(EngineOptions::default());
    poller.poll_once(&mut sink).await.expect("initial");
    assert_eq!(replica.snapshot().len(), 50);
    let after_initial = api.0.lock().expect("lock").returned;
    assert_eq!(after_initial, 50);
    {
        let mut s = api.0.lock().expect("lock");
        s.clock += 10_000;
        perform(&mut s, &Step::Put(7, 700));
    }
    poller.poll_once(&mut sink).await.expect("poll");
    let fetched = api.0.lock().expect("lock").returned - after_initial;
    // The changed item, plus the one at the old watermark that the overlap window re-reads.
    assert_eq!(fetched, 2, "only changed items are fetched");
    assert_eq!(replica.snapshot().get(&7), Some(&700));
}

#[tokio::test]
async fn a_running_poller_survives_faults_and_follows_changes() {
    let api = FakeApi::default();
    perform(&mut api.0.lock().expect("lock"), &Step::Put(1, 1));
    let poller = Poller::new(api.clone(), options(0)).expect("poller");
    let live: Live<u8, u32> = Live::start(
        poller,
        LiveOptions {
            backoff: BackoffPolicy {
                initial: Duration::from_millis(5),
                max: Duration::from_millis(20),
                reset_after: Duration::from_secs(1),
            },
            ..LiveOptions::default()
        },
    );
    live.wait_for(|s| s.get(&1) == Some(&1))
        .await
        .expect("initial");
    {
        let mut s = api.0.lock().expect("lock");
        s.fail_next = 5;
        s.clock += 10;
        perform(&mut s, &Step::Put(2, 2));
        perform(&mut s, &Step::Delete(1));
    }
    tokio::time::timeout(
        Duration::from_secs(10),
        live.wait_for(|s| s.get(&2) == Some(&2) && !s.contains(&1)),
    )
    .await
    .expect("converged after faults")
    .expect("writer alive");
    assert_eq!(
        api.0.lock().expect("lock").fail_next,
        0,
        "the faults were hit"
    );
    assert_eq!(
        live.snapshot().resets(),
        1,
        "a failed poll must not cause a reload"
    );
}

#[test]
fn a_zero_interval_is_rejected() {
    let mut o = options(0);
    o.interval = Duration::ZERO;
    assert!(Poller::new(FakeApi::default(), o).is_err());
}

#[tokio::test]
async fn tombstones_are_pruned_once_every_poll_is_past_them() {
    let api = FakeApi::default();
    let mut poller = Poller::new(api.clone(), options(0)).expect("poller");
    let (mut sink, replica) = replica::<u8, u32>(EngineOptions::default());
    poller.poll_once(&mut sink).await.expect("initial");
    for key in 0..100u8 {
        {
            let mut s = api.0.lock().expect("lock");
            s.clock += 10 * OVERLAP;
            perform(&mut s, &Step::Put(key, 1));
            s.clock += 1;
            perform(&mut s, &Step::Delete(key));
        }
        poller.poll_once(&mut sink).await.expect("poll");
    }
    let snapshot = replica.snapshot();
    assert!(snapshot.is_empty());
    // Only the deletions a coming poll can still overlap are remembered, not all 100.
    assert!(
        snapshot.tombstones() <= 1,
        "{} tombstones",
        snapshot.tombstones()
    );
}
