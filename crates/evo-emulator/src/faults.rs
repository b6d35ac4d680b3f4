//! Fault injection: which requests fail, how, and how often.
//!
//! A [`FaultPlan`] is a list of rules. Each rule names a [`RouteClass`], a [`Fault`] and a trigger:
//! a probability, "the n-th matching request", "the first n matching requests", or "the first
//! matching request after each period of time", optionally capped at a maximum number of
//! injections. For each request the rules are tried in order and
//! the first one that fires is applied (one fault per request at most).
//!
//! Decisions are deterministic: a probabilistic rule hashes `(seed, rule index, how many requests
//! of its class it has seen)`, so the same seed and the same request sequence per class give the
//! same faults, whatever the interleaving with other classes.
//! (Requests of one class sent concurrently reach the emulator in an order the test does not
//! control; for exact reproduction, send the requests of a faulted class one at a time.)

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The families of routes a fault rule can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RouteClass {
    /// Every route.
    Any,
    /// `GET /evo/identity/v2/discovery` (and the hub-side copies under `/workspace/evo/identity`).
    Discovery,
    /// The IMS OAuth routes under `/connect/` (token, authorize, endsession, revocation).
    Token,
    /// The Workspaces API under `/workspace`.
    Workspaces,
    /// The File API under `/file`.
    Files,
    /// The Geoscience Object API under `/geoscience-object`.
    Objects,
    /// The Compute Tasks API under `/compute`.
    Compute,
    /// The Colormap API under `/colormap`.
    Colormaps,
    /// The Block Model API under `/blockmodel`.
    BlockModels,
    /// Every pre-signed blob request under `/blob` (reads and writes).
    Blob,
    /// Blob `GET` and `HEAD` requests only.
    BlobRead,
    /// Blob `PUT` requests only (Put Block, Put Block List, Put Blob).
    BlobWrite,
}

impl RouteClass {
    /// Whether a request of concrete class `concrete` (never `Any`, `BlobRead` or `BlobWrite`)
    /// with method `method` falls under this class.
    pub(crate) fn covers(self, concrete: RouteClass, method: &http::Method) -> bool {
        match self {
            RouteClass::Any => true,
            RouteClass::BlobRead => {
                concrete == RouteClass::Blob
                    && (method == http::Method::GET || method == http::Method::HEAD)
            }
            RouteClass::BlobWrite => concrete == RouteClass::Blob && method == http::Method::PUT,
            other => other == concrete,
        }
    }
}

/// What happens to a request chosen for a fault.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Wait this long, then serve the request normally.
    Latency(Duration),
    /// Answer with this status (typically 500 or 503) and an error body in the route's format
    /// (problem details JSON, Azure XML, or an OAuth error JSON).
    Status(u16),
    /// Answer 429 with a `Retry-After: <retry_after_secs>` header.
    TooManyRequests {
        /// The value of the `Retry-After` header, in seconds.
        retry_after_secs: u64,
    },
    /// Answer 503 with a `Retry-After: <retry_after_secs>` header (a service shedding load or
    /// in maintenance), with an error body in the route's format.
    Unavailable {
        /// The value of the `Retry-After` header, in seconds.
        retry_after_secs: u64,
    },
    /// Close the connection (TCP reset) without sending any response.
    ResetBeforeBody,
    /// Send the status line, the headers and about half of the body, then reset the connection.
    ResetMidBody,
    /// Send the status line, the headers (with the full `Content-Length`) and about half of the
    /// body, then close the connection cleanly: the client sees a short body.
    TruncatedBody,
    /// Read about half of the request body, then reset the connection: an upload cut off in
    /// the middle. The request is never handled (nothing is stored). A request without a body
    /// is reset before any answer.
    ResetMidRequest,
    /// Expire the pre-signed URL used by this blob request: this and every later use of the URL
    /// answers 403 `AuthenticationFailed`. On non-blob routes nothing else happens.
    ExpireUrl,
    /// Expire the bearer token sent with this request: this and every later use answers 401.
    /// On requests without a bearer token nothing else happens.
    ExpireToken,
    /// Serve the request, but flip (invert) one byte of the response body, in the middle of the
    /// first non-empty chunk: status, headers and length stay right, the content is wrong (for
    /// tests of content checks such as the SHA-256 of object data).
    FlipByte,
}

/// A [`Fault`] without its parameters, used to key [`FaultCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FaultKind {
    /// [`Fault::Latency`].
    Latency,
    /// [`Fault::Status`].
    Status,
    /// [`Fault::TooManyRequests`].
    TooManyRequests,
    /// [`Fault::Unavailable`].
    Unavailable,
    /// [`Fault::ResetBeforeBody`].
    ResetBeforeBody,
    /// [`Fault::ResetMidBody`].
    ResetMidBody,
    /// [`Fault::TruncatedBody`].
    TruncatedBody,
    /// [`Fault::ResetMidRequest`].
    ResetMidRequest,
    /// [`Fault::ExpireUrl`].
    ExpireUrl,
    /// [`Fault::ExpireToken`].
    ExpireToken,
    /// [`Fault::FlipByte`].
    FlipByte,
}

impl Fault {
    /// The kind of this fault, without parameters.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Latency(_) => FaultKind::Latency,
            Fault::Status(_) => FaultKind::Status,
            Fault::TooManyRequests { .. } => FaultKind::TooManyRequests,
            Fault::Unavailable { .. } => FaultKind::Unavailable,
            Fault::ResetBeforeBody => FaultKind::ResetBeforeBody,
            Fault::ResetMidBody => FaultKind::ResetMidBody,
            Fault::TruncatedBody => FaultKind::TruncatedBody,
            Fault::ResetMidRequest => FaultKind::ResetMidRequest,
            Fault::ExpireUrl => FaultKind::ExpireUrl,
            Fault::ExpireToken => FaultKind::ExpireToken,
            Fault::FlipByte => FaultKind::FlipByte,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Trigger {
    Probability(f64),
    Nth(u64),
    FirstN(u64),
    Every(Duration),
}

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    class: RouteClass,
    fault: Fault,
    trigger: Trigger,
    max_injections: Option<u64>,
}

/// A seeded set of fault rules. Build one with [`FaultPlan::seeded`] (or [`FaultPlan::none`])
/// and the `with*` methods, then give it to
/// [`EmulatorBuilder::faults`](crate::EmulatorBuilder::faults) or
/// [`Emulator::set_faults`](crate::Emulator::set_faults).
///
/// ```
/// use evo_emulator::{Fault, FaultPlan, RouteClass};
/// use std::time::Duration;
/// let plan = FaultPlan::seeded(42)
///     // 10 % of all blob requests answer 503
///     .with(RouteClass::Blob, Fault::Status(503), 0.1)
///     // the first 2 blob GET/HEAD requests are reset, later ones succeed
///     .with_first(RouteClass::BlobRead, Fault::ResetBeforeBody, 2)
///     // only the 3rd File API request is slow
///     .with_nth(RouteClass::Files, Fault::Latency(Duration::from_millis(200)), 3)
///     // 50 % of token requests get a 429, but at most 4 times
///     .with_limited(RouteClass::Token, Fault::TooManyRequests { retry_after_secs: 1 }, 0.5, 4);
/// # let _ = plan;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    seed: u64,
    rules: Vec<Rule>,
}

impl Default for FaultPlan {
    fn default() -> Self {
        Self::none()
    }
}

impl FaultPlan {
    /// A plan that injects nothing.
    pub fn none() -> Self {
        Self {
            seed: 0,
            rules: Vec::new(),
        }
    }

    /// An empty plan whose probabilistic rules draw from `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self {
            seed,
            rules: Vec::new(),
        }
    }

    /// The seed of this plan.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Adds a rule: each request of `class` gets `fault` with `probability` (0.0 to 1.0).
    pub fn with(mut self, class: RouteClass, fault: Fault, probability: f64) -> Self {
        self.rules.push(Rule {
            class,
            fault,
            trigger: Trigger::Probability(probability.clamp(0.0, 1.0)),
            max_injections: None,
        });
        self
    }

    /// Like [`with`](Self::with), but the rule stops after `max_injections` faults.
    pub fn with_limited(
        mut self,
        class: RouteClass,
        fault: Fault,
        probability: f64,
        max_injections: u64,
    ) -> Self {
        self.rules.push(Rule {
            class,
            fault,
            trigger: Trigger::Probability(probability.clamp(0.0, 1.0)),
            max_injections: Some(max_injections),
        });
        self
    }

    /// Adds a rule that faults only the `n`-th request (1-based) of `class` this rule sees.
    pub fn with_nth(mut self, class: RouteClass, fault: Fault, n: u64) -> Self {
        self.rules.push(Rule {
            class,
            fault,
            trigger: Trigger::Nth(n),
            max_injections: None,
        });
        self
    }

    /// Adds a rule that faults the first `n` requests of `class` this rule sees, then none.
    pub fn with_first(mut self, class: RouteClass, fault: Fault, n: u64) -> Self {
        self.rules.push(Rule {
            class,
            fault,
            trigger: Trigger::FirstN(n),
            max_injections: None,
        });
        self
    }

    /// Adds a rule that faults the first request of `class` after each `period`: the clock
    /// starts when the plan is installed, and restarts at each injection (for example, a URL
    /// expiry every 30 s, a token expiry every 20 s).
    pub fn with_every(mut self, class: RouteClass, fault: Fault, period: Duration) -> Self {
        self.rules.push(Rule {
            class,
            fault,
            trigger: Trigger::Every(period),
            max_injections: None,
        });
        self
    }

    /// Whether the plan has no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// How many faults were injected, per rule class and fault kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultCounters {
    counts: BTreeMap<(RouteClass, FaultKind), u64>,
}

impl FaultCounters {
    /// Faults of `kind` injected by rules naming `class` (a rule for [`RouteClass::Blob`] counts
    /// under `Blob`, not under `BlobRead`).
    pub fn get(&self, class: RouteClass, kind: FaultKind) -> u64 {
        self.counts.get(&(class, kind)).copied().unwrap_or(0)
    }

    /// All faults injected by rules naming `class`.
    pub fn for_class(&self, class: RouteClass) -> u64 {
        self.counts
            .iter()
            .filter(|((c, _), _)| *c == class)
            .map(|(_, n)| n)
            .sum()
    }

    /// All faults injected.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Every non-zero counter.
    pub fn iter(&self) -> impl Iterator<Item = (RouteClass, FaultKind, u64)> + '_ {
        self.counts.iter().map(|((c, k), n)| (*c, *k, *n))
    }
}

/// The running state of a plan: per-rule counters and the injection counters.
#[derive(Debug)]
pub(crate) struct FaultEngine {
    plan: FaultPlan,
    seen: Vec<u64>,
    injected: Vec<u64>,
    /// When each rule last fired (or the plan was installed): the clock of `Every` rules.
    since: Vec<Instant>,
    counters: FaultCounters,
}

impl Default for FaultEngine {
    fn default() -> Self {
        FaultEngine::new(FaultPlan::none())
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl FaultEngine {
    pub(crate) fn new(plan: FaultPlan) -> Self {
        let n = plan.rules.len();
        Self {
            plan,
            seen: vec![0; n],
            injected: vec![0; n],
            since: vec![Instant::now(); n],
            counters: FaultCounters::default(),
        }
    }

    /// Replaces the plan; counters of injected faults are kept, rule positions restart.
    pub(crate) fn set_plan(&mut self, plan: FaultPlan) {
        let n = plan.rules.len();
        self.plan = plan;
        self.seen = vec![0; n];
        self.injected = vec![0; n];
        self.since = vec![Instant::now(); n];
    }

    pub(crate) fn counters(&self) -> FaultCounters {
        self.counters.clone()
    }

    /// Decides the fault, if any, for one request of concrete class `concrete`.
    pub(crate) fn decide(&mut self, concrete: RouteClass, method: &http::Method) -> Option<Fault> {
        let mut chosen: Option<usize> = None;
        for (i, rule) in self.plan.rules.iter().enumerate() {
            if !rule.class.covers(concrete, method) {
                continue;
            }
            self.seen[i] += 1;
            let index = self.seen[i];
            if chosen.is_some() {
                continue;
            }
            if rule
                .max_injections
                .is_some_and(|max| self.injected[i] >= max)
            {
                continue;
            }
            let fires = match rule.trigger {
                Trigger::Probability(p) => {
                    let h = splitmix64(
                        self.plan.seed
                            ^ splitmix64((i as u64) << 32 ^ index.wrapping_mul(0x1000_0001)),
                    );
                    // 53 random bits as a fraction in [0, 1).
                    ((h >> 11) as f64 / (1u64 << 53) as f64) < p
                }
                Trigger::Nth(n) => index == n,
                Trigger::FirstN(n) => index <= n,
                Trigger::Every(period) => self.since[i].elapsed() >= period,
            };
            if fires {
                chosen = Some(i);
            }
        }
        let i = chosen?;
        self.injected[i] += 1;
        self.since[i] = Instant::now();
        let rule = &self.plan.rules[i];
        *self
            .counters
            .counts
            .entry((rule.class, rule.fault.kind()))
            .or_insert(0) += 1;
        Some(rule.fault.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(plan: FaultPlan, n: usize) -> Vec<bool> {
        let mut e = FaultEngine::new(plan);
        (0..n)
            .map(|_| e.decide(RouteClass::Blob, &http::Method::GET).is_some())
            .collect()
    }

    #[test]
    fn same_seed_same_decisions_other_seed_differs() {
        let a = run(
            FaultPlan::seeded(7).with(RouteClass::Blob, Fault::Status(503), 0.3),
            200,
        );
        let b = run(
            FaultPlan::seeded(7).with(RouteClass::Blob, Fault::Status(503), 0.3),
            200,
        );
        let c = run(
            FaultPlan::seeded(8).with(RouteClass::Blob, Fault::Status(503), 0.3),
            200,
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        let hits = a.iter().filter(|x| **x).count();
        assert!((30..=90).contains(&hits), "about 30 % of 200, got {hits}");
    }

    #[test]
    fn first_nth_and_limits() {
        let v = run(
            FaultPlan::none().with_first(RouteClass::BlobRead, Fault::Status(500), 2),
            5,
        );
        assert_eq!(v, [true, true, false, false, false]);
        let v = run(
            FaultPlan::none().with_nth(RouteClass::Any, Fault::Status(500), 3),
            5,
        );
        assert_eq!(v, [false, false, true, false, false]);
        let v = run(
            FaultPlan::seeded(1).with_limited(RouteClass::Blob, Fault::Status(500), 1.0, 3),
            6,
        );
        assert_eq!(v, [true, true, true, false, false, false]);
        let v = run(
            FaultPlan::none().with_first(RouteClass::BlobWrite, Fault::Status(500), 2),
            3,
        );
        assert_eq!(v, [false, false, false]);
    }

    #[test]
    fn every_period_fires_once_per_period() {
        let mut e = FaultEngine::new(FaultPlan::none().with_every(
            RouteClass::Blob,
            Fault::ExpireUrl,
            Duration::from_millis(200),
        ));
        let mut fired = 0;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(700) {
            if e.decide(RouteClass::Blob, &http::Method::GET).is_some() {
                fired += 1;
            }
            assert!(e.decide(RouteClass::Files, &http::Method::GET).is_none());
            std::thread::sleep(Duration::from_millis(5));
        }
        // At 200, 400 and 600 ms (later under load, never more often).
        assert!((2..=3).contains(&fired), "{fired}");
        assert_eq!(
            e.counters().get(RouteClass::Blob, FaultKind::ExpireUrl),
            fired
        );
    }

    #[test]
    fn counters_per_rule_class() {
        let mut e = FaultEngine::new(
            FaultPlan::none()
                .with_first(RouteClass::Files, Fault::Status(503), 1)
                .with_first(RouteClass::Blob, Fault::ResetMidBody, 2),
        );
        for _ in 0..3 {
            e.decide(RouteClass::Files, &http::Method::GET);
            e.decide(RouteClass::Blob, &http::Method::PUT);
        }
        let c = e.counters();
        assert_eq!(c.get(RouteClass::Files, FaultKind::Status), 1);
        assert_eq!(c.get(RouteClass::Blob, FaultKind::ResetMidBody), 2);
        assert_eq!(c.total(), 3);
    }
}
