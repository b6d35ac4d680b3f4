//! Property tests of the replica engine: after any delivery of a change log (shuffled,
//! duplicated, split into arbitrary batches, with a resync in the middle), the replica equals the
//! model (the last operation of every key), cursors never move backwards, and a subscriber that
//! mirrors the updates (with a tiny queue, so it lags) ends with the same state.

use std::collections::BTreeMap;
use std::sync::Arc;

use evo_sync::{Batch, Change, Cursors, EngineOptions, ResetReason, Snapshot, Update, replica};
use proptest::prelude::*;

const STREAM: &str = "log";

/// One server operation: key, and Some(value) for an upsert or None for a delete.
type Op = (u8, Option<u16>);

/// The server's state after `ops`: for each key, its last operation (versions are 1-based
/// positions in the log).
fn model(ops: &[Op]) -> BTreeMap<u8, (u64, u16)> {
    let mut state = BTreeMap::new();
    for (i, (key, value)) in ops.iter().enumerate() {
        match value {
            Some(v) => {
                state.insert(*key, (i as u64 + 1, *v));
            }
            None => {
                state.remove(key);
            }
        }
    }
    state
}

/// The state after applying only the log entries at `indices` (ascending).
fn model_of(ops: &[Op], indices: &[usize]) -> BTreeMap<u8, (u64, u16)> {
    let mut state = BTreeMap::new();
    for &i in indices {
        match ops[i].1 {
            Some(v) => {
                state.insert(ops[i].0, (i as u64 + 1, v));
            }
            None => {
                state.remove(&ops[i].0);
            }
        }
    }
    state
}

fn change(ops: &[Op], index: usize) -> Change<u8, u16> {
    let (key, value) = ops[index];
    let version = index as u64 + 1;
    match value {
        Some(v) => Change::upsert(key, version, v),
        None => Change::delete(key, version),
    }
}

fn contents(snapshot: &Snapshot<u8, u16>) -> BTreeMap<u8, (u64, u16)> {
    snapshot
        .keys()
        .map(|k| {
            let entry = snapshot.entry(k).expect("listed key");
            (*k, (entry.version, *entry.value))
        })
        .collect()
}

/// A subscriber that mirrors updates into its own map.
struct Mirror {
    items: BTreeMap<u8, (u64, u16)>,
    lagged: usize,
}

impl Mirror {
    fn absorb(&mut self, update: Update<u8, u16>) {
        match update {
            Update::Upserted {
                key,
                version,
                value,
            } => {
                self.items.insert(key, (version, *value));
            }
            Update::Removed { key, .. } => {
                self.items.remove(&key);
            }
            Update::Reset { snapshot, .. } => self.items = contents(&snapshot),
            Update::Lagged { snapshot } => {
                self.lagged += 1;
                self.items = contents(&snapshot);
            }
            _ => {}
        }
    }
}

/// A delivery plan: every log entry at least once plus random duplicates, in a random order
/// (sorted by random keys), cut into batches of random sizes.
#[derive(Clone, Debug)]
struct Plan {
    ops: Vec<Op>,
    order: Vec<usize>,
    cuts: Vec<usize>,
}

fn plan() -> impl Strategy<Value = Plan> {
    let op = (0u8..8, prop::option::weighted(0.7, any::<u16>()));
    prop::collection::vec(op, 1..60).prop_flat_map(|ops| {
        let n = ops.len();
        (
            Just(ops),
            prop::collection::vec(any::<u32>(), n),
            prop::collection::vec((any::<usize>(), any::<u32>()), 0..n + 1),
            prop::collection::vec(1usize..7, 1..30),
        )
            .prop_map(|(ops, keys, dups, cuts)| {
                let n = ops.len();
                let mut keyed: Vec<(u32, usize)> = keys.into_iter().zip(0..n).collect();
                keyed.extend(dups.into_iter().map(|(sel, k)| (k, sel % n)));
                keyed.sort();
                Plan {
                    ops,
                    order: keyed.into_iter().map(|(_, i)| i).collect(),
                    cuts,
                }
            })
    })
}

/// Splits `order` into batches whose sizes cycle through `cuts`.
fn batches<'a>(order: &'a [usize], cuts: &'a [usize]) -> Vec<&'a [usize]> {
    let mut out = Vec::new();
    let mut rest = order;
    let mut i = 0;
    while !rest.is_empty() {
        let size = cuts[i % cuts.len()].min(rest.len());
        out.push(&rest[..size]);
        rest = &rest[size..];
        i += 1;
    }
    out
}

fn batch_of(ops: &[Op], indices: &[usize]) -> Batch<u8, u16> {
    let mut batch = Batch::new();
    let mut cursors = Cursors::new();
    for &i in indices {
        batch.push(change(ops, i));
        cursors.advance(STREAM, i as u64 + 1);
    }
    batch.cursors = cursors;
    batch
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Replica == model after any shuffled, duplicated, batched delivery; cursors are monotonic;
    /// a lagging mirror subscriber converges to the same state.
    #[test]
    fn replica_converges_under_duplicates_and_reordering(plan in plan(), capacity in 1usize..8) {
        let (mut sink, replica) = replica::<u8, u16>(EngineOptions { subscriber_capacity: capacity });
        let mut subscription = replica.subscribe();
        let mut mirror = Mirror { items: BTreeMap::new(), lagged: 0 };
        let mut last_cursor = 0;
        for indices in batches(&plan.order, &plan.cuts) {
            sink.apply(batch_of(&plan.ops, indices));
            let cursor = replica.cursors().get(STREAM).unwrap_or(0);
            prop_assert!(cursor >= last_cursor, "cursor moved back from {} to {}", last_cursor, cursor);
            last_cursor = cursor;
            // Drain only sometimes, so the tiny queue overflows and the mirror lags.
            if indices.len() % 2 == 0 {
                while let Some(update) = subscription.try_recv() {
                    mirror.absorb(update);
                }
            }
        }
        while let Some(update) = subscription.try_recv() {
            mirror.absorb(update);
        }
        let expected = model(&plan.ops);
        let snapshot = replica.snapshot();
        prop_assert_eq!(contents(&snapshot), expected.clone());
        prop_assert_eq!(snapshot.cursors().get(STREAM), Some(plan.ops.len() as u64));
        prop_assert_eq!(mirror.items, expected);
    }

    /// Replaying the whole log again (at-least-once delivery) changes nothing and publishes
    /// nothing.
    #[test]
    fn replays_are_harmless(plan in plan()) {
        let (mut sink, replica) = replica::<u8, u16>(EngineOptions::default());
        for indices in batches(&plan.order, &plan.cuts) {
            sink.apply(batch_of(&plan.ops, indices));
        }
        let before = replica.snapshot();
        let mut subscription = replica.subscribe();
        let all: Vec<usize> = (0..plan.ops.len()).collect();
        let applied = sink.apply(batch_of(&plan.ops, &all));
        prop_assert_eq!(applied.changed, 0);
        prop_assert!(subscription.try_recv().is_none(), "a replay published an update");
        let after = replica.snapshot();
        prop_assert!(Arc::ptr_eq(&before, &after), "a pure replay replaced the snapshot");
    }

    /// A resync in the middle (with changes arriving while it is built, and the whole log,
    /// including entries older than the resync, replayed afterwards) still converges.
    #[test]
    fn resync_in_the_middle_converges(plan in plan(), split in any::<prop::sample::Index>(), during in 0usize..10) {
        let (mut sink, replica) = replica::<u8, u16>(EngineOptions::default());
        let all = batches(&plan.order, &plan.cuts);
        let half = all.len() / 2;
        for indices in &all[..half] {
            sink.apply(batch_of(&plan.ops, indices));
        }
        // The server lists its state as of log position `m`.
        let m = split.index(plan.ops.len() + 1);
        let listing = model(&plan.ops[..m]);
        let mut subscription = replica.subscribe();
        sink.begin_resync(ResetReason::CursorExpired);
        // Changes still arriving while the listing is loaded go to the buffer, not the replica.
        let live_before = replica.snapshot();
        for indices in all.iter().skip(half).take(during) {
            sink.apply(batch_of(&plan.ops, indices));
        }
        prop_assert!(Arc::ptr_eq(&live_before, &replica.snapshot()), "a resync leaked before the swap");
        sink.resync_items(listing.iter().map(|(k, (ver, val))| (*k, *ver, *val)));
        sink.finish_resync(Cursors::new().with(STREAM, m as u64), m as u64);
        let mut saw_reset = false;
        while let Some(update) = subscription.try_recv() {
            if let Update::Reset { reason, .. } = update {
                prop_assert_eq!(reason, ResetReason::CursorExpired);
                saw_reset = true;
            }
        }
        prop_assert!(saw_reset);
        // Replaying entries the listing already covers must change nothing, even for keys the
        // listing does not contain (deleted before it): the listing's floor makes them stale.
        let mut known: Vec<usize> = (0..m).collect();
        for indices in all.iter().skip(half).take(during) {
            known.extend(indices.iter().copied().filter(|&i| i >= m));
        }
        known.sort_unstable();
        known.dedup();
        let expected_now = model_of(&plan.ops, &known);
        prop_assert_eq!(contents(&replica.snapshot()), expected_now.clone());
        let old: Vec<usize> = plan.order.iter().copied().filter(|&i| i < m).collect();
        for indices in batches(&old, &plan.cuts) {
            sink.apply(batch_of(&plan.ops, indices));
            prop_assert_eq!(contents(&replica.snapshot()), expected_now.clone());
        }
        for indices in &all {
            sink.apply(batch_of(&plan.ops, indices));
        }
        prop_assert_eq!(contents(&replica.snapshot()), model(&plan.ops));
        prop_assert_eq!(replica.snapshot().resets(), 1);
    }
}

#[test]
fn a_stale_upsert_after_a_delete_does_not_resurrect_the_key() {
    let (mut sink, replica) = replica::<u8, u16>(EngineOptions::default());
    let mut batch = Batch::new();
    batch.push(Change::delete(1, 5));
    sink.apply(batch);
    let mut batch = Batch::new();
    batch.push(Change::upsert(1, 3, 42));
    let applied = sink.apply(batch);
    assert_eq!(applied.changed, 0);
    assert!(replica.snapshot().get(&1).is_none());
    let mut batch = Batch::new();
    batch.push(Change::upsert(1, 6, 43));
    sink.apply(batch);
    assert_eq!(replica.snapshot().get(&1), Some(&43));
}

#[test]
fn cursors_only_move_forward_per_stream() {
    let (mut sink, replica) = replica::<u8, u16>(EngineOptions::default());
    sink.apply(Batch::bookmark(Cursors::new().with("a", 10).with("b", 3)));
    sink.apply(Batch::bookmark(Cursors::new().with("a", 4).with("b", 7)));
    let cursors = replica.cursors();
    assert_eq!(cursors.get("a"), Some(10));
    assert_eq!(cursors.get("b"), Some(7));
}

#[tokio::test]
async fn readers_wait_for_cursors_and_readiness() {
    let (mut sink, replica) = replica::<u8, u16>(EngineOptions::default());
    let waiter = {
        let replica = replica.clone();
        tokio::spawn(async move { replica.wait_for_cursor("a", 5).await.map(|s| s.len()) })
    };
    let ready = {
        let replica = replica.clone();
        tokio::spawn(async move { replica.wait_until_ready().await.map(|s| s.is_ready()) })
    };
    let mut batch = Batch::new();
    batch.push(Change::upsert(1, 1, 1));
    batch.cursors = Cursors::new().with("a", 5);
    sink.apply(batch);
    assert_eq!(waiter.await.expect("task"), Some(1));
    sink.mark_ready();
    assert_eq!(ready.await.expect("task").ok(), Some(true));
}

#[tokio::test]
async fn subscribe_with_snapshot_delivers_exactly_what_follows() {
    let (mut sink, replica) = replica::<u8, u16>(EngineOptions::default());
    let mut batch = Batch::new();
    batch.push(Change::upsert(1, 1, 10));
    sink.apply(batch);
    let (snapshot, mut subscription) = replica.subscribe_with_snapshot();
    assert_eq!(snapshot.get(&1), Some(&10));
    let mut batch = Batch::new();
    batch.push(Change::upsert(2, 2, 20));
    sink.apply(batch);
    match subscription.recv().await {
        Some(Update::Upserted { key, value, .. }) => assert_eq!((key, *value), (2, 20)),
        other => panic!("unexpected {other:?}"),
    }
    assert!(subscription.try_recv().is_none());
}

#[test]
fn an_unfinished_resync_is_discarded_and_never_visible() {
    let (mut sink, replica) = replica::<u8, u16>(EngineOptions::default());
    let mut batch = Batch::new();
    batch.push(Change::upsert(1, 1, 10));
    sink.apply(batch);
    sink.begin_resync(ResetReason::Restored);
    sink.resync_items([(2, 5, 20)]);
    assert!(replica.snapshot().get(&2).is_none());
    sink.discard_resync();
    assert_eq!(replica.snapshot().get(&1), Some(&10));
    assert!(replica.snapshot().get(&2).is_none());
    assert_eq!(replica.snapshot().resets(), 0);
}

#[tokio::test]
async fn a_slow_subscriber_is_told_it_lagged_and_never_stalls_the_writer() {
    let (mut sink, replica) = replica::<u8, u16>(EngineOptions {
        subscriber_capacity: 4,
    });
    let mut slow = replica.subscribe();
    let mut fast = replica.subscribe();
    let mut fast_seen = 0;
    for i in 0..100u16 {
        let mut batch = Batch::new();
        batch.push(Change::upsert((i % 50) as u8, u64::from(i) + 1, i));
        // The writer never waits for subscribers: this returns at once even though `slow`
        // reads nothing.
        assert_eq!(sink.apply(batch).changed, 1);
        while let Some(update) = fast.try_recv() {
            assert!(matches!(update, Update::Upserted { .. }), "{update:?}");
            fast_seen += 1;
        }
    }
    assert_eq!(
        fast_seen, 100,
        "a subscriber that keeps up sees every update"
    );
    match slow.recv().await {
        Some(Update::Lagged { snapshot }) => {
            assert_eq!(snapshot.len(), 50);
            assert_eq!(snapshot.get(&49), Some(&99));
        }
        other => panic!("expected Lagged, got {other:?}"),
    }
    // Updates already contained in the lag snapshot are not delivered again.
    assert!(slow.try_recv().is_none());
    let mut batch = Batch::new();
    batch.push(Change::upsert(1, 1000, 7));
    sink.apply(batch);
    assert!(matches!(
        slow.recv().await,
        Some(Update::Upserted { key: 1, .. })
    ));
}
