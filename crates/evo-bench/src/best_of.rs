//! The best of the rounds of a benchmark of two operations, evo-rs (`rust`) against the Python
//! SDK (`python`), under each network profile: each operation's time, throughput (the blob
//! bytes it moved, counted by the emulator) and client CPU per GiB, and each side's peak
//! resident memory.

use std::collections::HashMap;

use crate::io::{ChildResult, cpu_per_gib, mib_per_s};

/// One operation of one round, or the best of several.
#[derive(Debug, Clone, Copy)]
struct Measured {
    seconds: f64,
    /// Client CPU seconds (user + system of the child process) inside the operation's clock.
    cpu: f64,
    /// Blob bytes the operation moved.
    bytes: u64,
}

impl Measured {
    /// Throughput in MiB/s, `None` when it moved no bytes.
    fn rate(&self) -> Option<f64> {
        (self.bytes > 0).then(|| mib_per_s(self.bytes, self.seconds))
    }

    /// Client CPU seconds per GiB moved, `None` when it moved no bytes.
    fn cpu_per_gib(&self) -> Option<f64> {
        (self.bytes > 0).then(|| cpu_per_gib(self.bytes, self.cpu))
    }

    fn describe(&self) -> String {
        format!(
            "{:7.2} s {:>12} {:>15}",
            self.seconds,
            self.rate()
                .map_or_else(|| "-".to_owned(), |r| format!("{r:7.1} MiB/s")),
            self.cpu_per_gib()
                .map_or_else(|| "-".to_owned(), |c| format!("cpu {c:5.2} s/GiB"))
        )
    }
}

/// The best of each of two operations of each side over the rounds of each profile, and each
/// side's peak resident memory.
#[derive(Debug)]
pub(crate) struct BestOf {
    ops: [&'static str; 2],
    /// Best time and, separately, lowest CPU per GiB, by (profile, operation, side).
    best: HashMap<(&'static str, &'static str, &'static str), (Measured, Option<f64>)>,
    peaks: HashMap<&'static str, u64>,
    profiles: Vec<&'static str>,
}

impl BestOf {
    /// No rounds yet of the operations `ops`.
    pub(crate) fn new(ops: [&'static str; 2]) -> Self {
        BestOf {
            ops,
            best: HashMap::new(),
            peaks: HashMap::new(),
            profiles: Vec::new(),
        }
    }

    /// Takes round `round` of `side` under `profile` from its child's `result`
    /// (`{op}_seconds` above 0 and `{op}_cpu` of each operation, `peak_bytes`, and `rows`,
    /// which must be `rows`) and the blob bytes each operation moved, prints it followed by
    /// `note` of its seconds, and keeps the best.
    pub(crate) fn round(
        &mut self,
        profile: &'static str,
        round: usize,
        side: &'static str,
        result: &ChildResult,
        (rows, moved): (usize, [u64; 2]),
        note: impl FnOnce([f64; 2]) -> String,
    ) -> Result<(), String> {
        let malformed = || format!("malformed {side} child result {:?}", result.line);
        let measure = |op: &str, bytes: u64| -> Option<Measured> {
            let seconds = result.number::<f64>(&format!("{op}_seconds"))?;
            let cpu = result.number::<f64>(&format!("{op}_cpu"))?;
            (seconds > 0.0 && cpu >= 0.0).then_some(Measured {
                seconds,
                cpu,
                bytes,
            })
        };
        let [a, b] = self.ops;
        let (Some(first), Some(second), Some(peak_bytes), Some(true)) = (
            measure(a, moved[0]),
            measure(b, moved[1]),
            result.number::<u64>("peak_bytes"),
            result.number::<usize>("rows").map(|r| r == rows),
        ) else {
            return Err(malformed());
        };
        println!(
            "  {profile} round {} {side:6} {a} {}  {b} {}  peak {:5} MiB{}",
            round + 1,
            first.describe(),
            second.describe(),
            peak_bytes >> 20,
            note([first.seconds, second.seconds])
        );
        if !self.profiles.contains(&profile) {
            self.profiles.push(profile);
        }
        for (op, measured) in self.ops.into_iter().zip([first, second]) {
            let slot = self
                .best
                .entry((profile, op, side))
                .or_insert((measured, measured.cpu_per_gib()));
            if measured.seconds < slot.0.seconds {
                slot.0 = measured;
            }
            slot.1 = match (slot.1, measured.cpu_per_gib()) {
                (Some(kept), Some(new)) => Some(kept.min(new)),
                (kept, new) => kept.or(new),
            };
        }
        let peak = self.peaks.entry(side).or_default();
        *peak = (*peak).max(peak_bytes);
        Ok(())
    }

    /// Prints each profile's and operation's best times, throughputs, CPU per GiB and ratios
    /// (of `rounds` rounds), then the summary line `{bench}-bench: ...` of the `lan` profile
    /// (or of the first one measured, when `lan` was not).
    pub(crate) fn report(&self, bench: &str, rounds: usize) -> Result<(), String> {
        let best = |profile: &str, op: &str, side: &str| {
            self.best
                .get(&(profile, op, side))
                .copied()
                .ok_or_else(|| format!("no {side} {op} result under {profile}"))
        };
        let cpu = |c: Option<f64>| c.map_or_else(|| "-".to_owned(), |c| format!("{c:.2} s/GiB"));
        let rate = |m: &Measured| {
            m.rate()
                .map_or_else(|| "-".to_owned(), |r| format!("{r:.1} MiB/s"))
        };
        for &profile in &self.profiles {
            for op in self.ops {
                let ((r, r_cpu), (p, p_cpu)) =
                    (best(profile, op, "rust")?, best(profile, op, "python")?);
                let cpu_ratio = match (r_cpu, p_cpu) {
                    (Some(r), Some(p)) if p > 0.0 => format!("{:.2}x", r / p),
                    _ => "-".to_owned(),
                };
                println!(
                    "{profile} {op:8}: evo-rs {:.2} s ({}), python {:.2} s ({}), evo-rs/python {:.2}x; client CPU per GiB evo-rs {} python {} ({cpu_ratio}) (best of {rounds})",
                    r.seconds,
                    rate(&r),
                    p.seconds,
                    rate(&p),
                    p.seconds / r.seconds,
                    cpu(r_cpu),
                    cpu(p_cpu),
                );
            }
        }
        let summary = if self.profiles.contains(&"lan") {
            "lan"
        } else {
            let first = self.profiles.first().ok_or("no rounds were run")?;
            println!("{bench}-bench: no lan rounds; the summary is of {first}");
            first
        };
        let speedup = |op: &str| -> Result<f64, String> {
            Ok(best(summary, op, "python")?.0.seconds / best(summary, op, "rust")?.0.seconds)
        };
        let peak = |side: &str| self.peaks.get(side).copied().unwrap_or(0) >> 20;
        let [a, b] = self.ops;
        println!(
            "{bench}-bench: {a} {:.2}x python, {b} {:.2}x python, peak rust {} MiB, python {} MiB",
            speedup(a)?,
            speedup(b)?,
            peak("rust"),
            peak("python")
        );
        Ok(())
    }
}
