//! The controller against synthetic throughput curves.

use super::*;

const MIB: u64 = 1 << 20;
/// 100 Mbit/s: the benchmark's WAN cap per connection.
const PER_CONNECTION: f64 = 12_500_000.0;

/// What a simulated transfer did: the limit after every completed block.
struct Run {
    controller: Controller,
    limits: Vec<usize>,
}

impl Run {
    fn last(&self) -> usize {
        self.controller.limit()
    }

    /// The best level: the one held (the last one may be a probe above it).
    fn held(&self) -> usize {
        self.controller
            .best
            .map_or(self.controller.start(), |b| b.limit)
    }

    /// The limits in the order they were set (without repeats).
    fn steps(&self) -> Vec<usize> {
        let mut steps = vec![self.controller.start()];
        for &l in &self.limits {
            if steps.last() != Some(&l) {
                steps.push(l);
            }
        }
        steps
    }

    /// The share of blocks completed at a limit above `limit`.
    fn share_above(&self, limit: usize) -> f64 {
        let above = self.limits.iter().filter(|&&l| l > limit).count();
        above as f64 / self.limits.len() as f64
    }
}

/// A fluid model of a transfer of `blocks` blocks of `block` bytes: at limit `L` the blocks in
/// flight move `curve(i, L)` bytes per second together (for the `i`-th block), so one completes
/// every `block / curve` seconds; `trouble(i, L)` says whether it needed a retry.
fn simulate(
    mut controller: Controller,
    blocks: usize,
    block: u64,
    curve: impl Fn(usize, usize) -> f64,
    trouble: impl Fn(usize, usize) -> bool,
) -> Run {
    let (mut at, mut moved, mut troubles) = (0.0f64, 0u64, 0u64);
    let mut limits = Vec::with_capacity(blocks);
    for i in 0..blocks {
        let limit = controller.limit();
        at += block as f64 / curve(i, limit);
        moved += block;
        troubles += u64::from(trouble(i, limit));
        let sample = Sample {
            at: Duration::from_secs_f64(at),
            moved,
            troubles,
        };
        if let Some(new) = controller.observe(sample) {
            assert_eq!(new, controller.limit());
            assert_ne!(new, limit, "a change that changes nothing");
        }
        let now = controller.limit();
        assert!((controller.start()..=controller.ceiling()).contains(&now));
        limits.push(now);
    }
    Run { controller, limits }
}

fn never(_: usize, _: usize) -> bool {
    false
}

#[test]
fn a_cap_per_connection_doubles_up_to_the_ceiling_and_stays() {
    // Each connection moves 100 Mbit/s and the path has room for all: every doubling doubles.
    let run = simulate(
        Controller::new(8, 32, true),
        2000,
        3 * MIB,
        |_, l| l as f64 * PER_CONNECTION,
        never,
    );
    assert_eq!(run.steps(), vec![8, 16, 32]);
    assert_eq!((run.last(), run.controller.peak()), (32, 32));
    let best = run.controller.best_rate().unwrap();
    assert!(
        (best / (32.0 * PER_CONNECTION) - 1.0).abs() < 0.01,
        "{best}"
    );
    // It got there early: most blocks moved at the ceiling.
    assert!(run.share_above(16) > 0.9);
}

#[test]
fn a_cap_per_connection_then_a_full_path_settles_at_the_knee() {
    // Linear up to 12 connections, flat after (the path is full): 16 beats 8 by half, 32
    // brings nothing, so the limit goes back to 16 and holds, probing 32 ever more rarely.
    let run = simulate(
        Controller::new(8, 64, true),
        5000,
        3 * MIB,
        |_, l| l.min(12) as f64 * PER_CONNECTION,
        never,
    );
    assert_eq!(&run.steps()[..4], &[8, 16, 32, 16]);
    assert_eq!(run.held(), 16);
    assert_eq!(run.controller.peak(), 32);
    assert!(run.limits.iter().all(|&l| [8, 16, 32].contains(&l)));
    // Probes back off: few blocks are spent at 32.
    assert!(run.share_above(16) < 0.15, "{}", run.share_above(16));
}

#[test]
fn a_flat_curve_stays_at_the_start() {
    // A CPU-bound loopback: more connections move no more bytes.
    let run = simulate(
        Controller::new(8, 32, true),
        3000,
        3 * MIB,
        |_, _| 900.0 * MIB as f64,
        never,
    );
    assert_eq!(&run.steps()[..3], &[8, 16, 8]);
    assert_eq!(run.held(), 8);
    assert!(run.limits.iter().all(|&l| l <= 16));
    assert!(run.share_above(8) < 0.15, "{}", run.share_above(8));
}

#[test]
fn a_gain_under_ten_percent_is_not_worth_a_doubling() {
    let run = simulate(
        Controller::new(4, 32, true),
        1000,
        3 * MIB,
        |_, l| if l > 4 { 1.08e8 } else { 1e8 },
        never,
    );
    assert_eq!(&run.steps()[..3], &[4, 8, 4]);
    assert_eq!(run.held(), 4);
}

#[test]
fn falling_throughput_steps_back_to_the_best_level() {
    // Contention: past 8 connections the server slows everyone down.
    let run = simulate(
        Controller::new(8, 32, true),
        1000,
        3 * MIB,
        |_, l| 1e8 * 8.0 / l as f64,
        never,
    );
    assert_eq!(&run.steps()[..3], &[8, 16, 8]);
    assert_eq!(run.held(), 8);
}

#[test]
fn a_throttling_server_sends_the_limit_back_and_holds() {
    // Linear, but past 12 blocks in flight the server answers 503 now and then (one block in
    // four needs a retry): the limit returns to the best level at once, and the probes that
    // meet the throttling again become ever rarer.
    let run = simulate(
        Controller::new(8, 32, true),
        5000,
        3 * MIB,
        |_, l| l as f64 * PER_CONNECTION,
        |i, l| l > 12 && i % 4 == 0,
    );
    assert_eq!(&run.steps()[..3], &[8, 16, 8]);
    assert_eq!(run.held(), 8);
    assert_eq!(run.controller.peak(), 16);
    assert!(run.share_above(8) < 0.05, "{}", run.share_above(8));
}

#[test]
fn failures_before_any_window_hold_the_start() {
    // Retries from the very first blocks: no climb until a probe, much later.
    let run = simulate(
        Controller::new(8, 32, true),
        200,
        3 * MIB,
        |_, l| l as f64 * PER_CONNECTION,
        |i, _| i < 6,
    );
    assert_eq!(run.steps(), vec![8]);
}

#[test]
fn a_path_that_gets_faster_is_found_by_a_probe() {
    // Flat at first (someone else used the link), then a cap per connection only.
    let run = simulate(
        Controller::new(8, 32, true),
        6000,
        3 * MIB,
        |i, l| match i < 1000 {
            true => 8.0 * PER_CONNECTION,
            false => l as f64 * PER_CONNECTION,
        },
        never,
    );
    assert_eq!(&run.steps()[..3], &[8, 16, 8]);
    assert_eq!(run.last(), 32);
}

#[test]
fn without_adaptation_the_limit_never_moves_but_is_measured() {
    let run = simulate(
        Controller::new(8, 8, false),
        500,
        3 * MIB,
        |_, l| l as f64 * PER_CONNECTION,
        |i, _| i % 50 == 0,
    );
    assert_eq!(run.steps(), vec![8]);
    assert_eq!(run.controller.changes(), 0);
    let best = run.controller.best_rate().unwrap();
    assert!((best / (8.0 * PER_CONNECTION) - 1.0).abs() < 0.01, "{best}");
}

#[test]
fn blocks_completing_in_a_burst_do_not_close_a_window_early() {
    // A window needs MIN_WINDOW of time as well as a round of blocks: blocks of 64 KiB on
    // loopback complete in microseconds, and a window of a few microseconds measures nothing.
    let mut c = Controller::new(2, 8, true);
    let mut moved = 0;
    for i in 1..=100u64 {
        moved += 64 * 1024;
        let at = Duration::from_micros(i * 50);
        assert_eq!(
            c.observe(Sample {
                at,
                moved,
                troubles: 0
            }),
            None
        );
    }
    assert!(c.best_rate().is_none());
    // Past MIN_WINDOW from the window's start, the next block closes it.
    let at = MIN_WINDOW + Duration::from_millis(1);
    assert_eq!(
        c.observe(Sample {
            at,
            moved: moved + 1,
            troubles: 0
        }),
        Some(4)
    );
}

/// A controller between `start` and `ceiling` (adaptive).
fn bounds() -> impl proptest::strategy::Strategy<Value = (usize, usize)> {
    use proptest::strategy::Strategy as _;
    (1usize..40, 0usize..60).prop_map(|(start, extra)| (start, start + extra))
}

proptest::proptest! {
    /// Whatever the throughput and the failures, the limit stays within start and ceiling,
    /// every level is a doubling of the start (or the ceiling), and the peak is the highest
    /// limit set.
    #[test]
    fn the_limit_stays_within_its_bounds(
        (start, ceiling) in bounds(),
        rates in proptest::collection::vec(1.0e5f64..1.0e10, 1..80),
        troubles in proptest::collection::vec(proptest::bool::weighted(0.05), 1..50),
        block in 1u64..(16 * MIB),
        blocks in 0usize..600,
    ) {
        let run = simulate(
            Controller::new(start, ceiling, true),
            blocks,
            block,
            |i, l| rates[(i / 7 + l) % rates.len()],
            |i, _| troubles[i % troubles.len()],
        );
        let peak = run.limits.iter().copied().max().unwrap_or(start);
        proptest::prop_assert_eq!(run.controller.peak(), peak);
        proptest::prop_assert!(peak <= ceiling);
        for l in run.steps() {
            let doubling = (0..8).any(|k| start << k == l);
            proptest::prop_assert!(doubling || l == ceiling, "level {}", l);
        }
    }

    /// With a cap per connection and room on the path, the limit ends at the ceiling (or a
    /// doubling within 10% of it); with a flat curve it ends at the start, having tried one
    /// doubling at most.
    #[test]
    fn linear_curves_reach_the_ceiling_and_flat_ones_keep_the_start(
        (start, ceiling) in bounds(),
        flat in 1.0e6f64..1.0e10,
    ) {
        let block = 8 * MIB;
        let linear = simulate(
            Controller::new(start, ceiling, true),
            4000,
            block,
            |_, l| l as f64 * PER_CONNECTION,
            never,
        );
        // The last step to the ceiling may be less than a doubling, and so gain less than
        // MIN_GAIN: then the limit stays at the last doubling.
        let last = linear.last();
        proptest::prop_assert!(
            last == ceiling || (ceiling as f64) <= last as f64 * (1.0 + MIN_GAIN) * (1.0 + 1e-9),
            "ended at {} of {}", last, ceiling
        );
        let flat = simulate(Controller::new(start, ceiling, true), 4000, block, |_, _| flat, never);
        proptest::prop_assert_eq!(flat.held(), start);
        proptest::prop_assert!(flat.controller.peak() <= (2 * start).min(ceiling));
    }
}
