//! The best of the rounds of a benchmark of two operations, evo-rs (`rust`) against the Python
//! SDK (`python`), under each network profile and at each workload size: each operation's
//! time, throughput (the blob bytes it moved, counted by the emulator) and client CPU per GiB,
//! and each side's peak resident memory. A side may not have run at some size (the
//! blockmodels benchmark leaves out Python where it would not fit in memory): its numbers are
//! then reported as not run, and no ratio is made with them.

use std::collections::HashMap;

use crate::io::{ChildResult, cpu_per_gib, mib_per_s};

/// One size of a benchmark's workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Workload {
    /// The bytes of raw data the workload is made of: of two workloads, the larger is the one
    /// with more.
    pub(crate) bytes: u64,
    /// How the report names it (`8 MiB`, `10000000 points`).
    pub(crate) label: String,
}

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

/// The best time of an operation, and separately its lowest CPU per GiB (from any round).
type Best = (Measured, Option<f64>);

/// The best of each of two operations of each side over the rounds of each profile and
/// workload, and each side's peak resident memory there.
#[derive(Debug)]
pub(crate) struct BestOf {
    ops: [&'static str; 2],
    /// By (profile, workload bytes, operation, side).
    best: HashMap<(&'static str, u64, &'static str, &'static str), Best>,
    /// By (profile, workload bytes, side).
    peaks: HashMap<(&'static str, u64, &'static str), u64>,
    /// In the order first measured, as the report lists them.
    profiles: Vec<&'static str>,
    workloads: Vec<Workload>,
}

impl BestOf {
    /// No rounds yet of the operations `ops`.
    pub(crate) fn new(ops: [&'static str; 2]) -> Self {
        BestOf {
            ops,
            best: HashMap::new(),
            peaks: HashMap::new(),
            profiles: Vec::new(),
            workloads: Vec::new(),
        }
    }

    /// Takes round `round` of `side` under `profile` at `workload` from its child's `result`
    /// (`{op}_seconds` above 0 and `{op}_cpu` of each operation, `peak_bytes`, and `rows`,
    /// which must be `rows`) and the blob bytes each operation moved, prints it followed by
    /// `note` of its seconds, and keeps the best.
    pub(crate) fn round(
        &mut self,
        (profile, workload): (&'static str, &Workload),
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
            "  {profile} {} round {} {side:6} {a} {}  {b} {}  peak {:5} MiB{}",
            workload.label,
            round + 1,
            first.describe(),
            second.describe(),
            peak_bytes >> 20,
            note([first.seconds, second.seconds])
        );
        if !self.profiles.contains(&profile) {
            self.profiles.push(profile);
        }
        if !self.workloads.iter().any(|w| w.bytes == workload.bytes) {
            self.workloads.push(workload.clone());
        }
        for (op, measured) in self.ops.into_iter().zip([first, second]) {
            let slot = self
                .best
                .entry((profile, workload.bytes, op, side))
                .or_insert((measured, measured.cpu_per_gib()));
            if measured.seconds < slot.0.seconds {
                slot.0 = measured;
            }
            slot.1 = match (slot.1, measured.cpu_per_gib()) {
                (Some(kept), Some(new)) => Some(kept.min(new)),
                (kept, new) => kept.or(new),
            };
        }
        let peak = self
            .peaks
            .entry((profile, workload.bytes, side))
            .or_default();
        *peak = (*peak).max(peak_bytes);
        Ok(())
    }

    /// The largest workload at which both sides ran both operations under `profile`: the only
    /// one a ratio of the summary may come from.
    fn summary_workload(&self, profile: &str) -> Option<&Workload> {
        self.workloads
            .iter()
            .filter(|w| {
                self.ops.iter().all(|op| {
                    ["rust", "python"]
                        .iter()
                        .all(|side| self.best.contains_key(&(profile, w.bytes, op, side)))
                })
            })
            .max_by_key(|w| w.bytes)
    }

    /// Prints [`BestOf::report_lines`].
    pub(crate) fn report(&self, bench: &str, rounds: usize) -> Result<(), String> {
        for line in self.report_lines(bench, rounds)? {
            println!("{line}");
        }
        Ok(())
    }

    /// Each profile's, workload's and operation's best times, throughputs, CPU per GiB and
    /// ratios (of `rounds` rounds) and each side's peak; then a note saying where the summary
    /// is from and the summary line `{bench}-bench: ...`, of the `lan` profile (or of the
    /// first one measured, when `lan` was not) at the largest workload both sides ran.
    fn report_lines(&self, bench: &str, rounds: usize) -> Result<Vec<String>, String> {
        let mut lines = Vec::new();
        let cpu = |c: Option<f64>| c.map_or_else(|| "-".to_owned(), |c| format!("{c:.2} s/GiB"));
        let rate = |m: &Measured| {
            m.rate()
                .map_or_else(|| "-".to_owned(), |r| format!("{r:.1} MiB/s"))
        };
        let time = |b: Option<&Best>| {
            b.map_or_else(
                || "not run".to_owned(),
                |(m, _)| format!("{:.2} s ({})", m.seconds, rate(m)),
            )
        };
        let mib = |peak: Option<&u64>| {
            peak.map_or_else(|| "not run".to_owned(), |p| format!("{} MiB", p >> 20))
        };
        for &profile in &self.profiles {
            for w in &self.workloads {
                for op in self.ops {
                    let r = self.best.get(&(profile, w.bytes, op, "rust"));
                    let p = self.best.get(&(profile, w.bytes, op, "python"));
                    if r.is_none() && p.is_none() {
                        continue;
                    }
                    let (ratio, cpu_ratio) = match (r, p) {
                        (Some((r, r_cpu)), Some((p, p_cpu))) => (
                            format!("{:.2}x", p.seconds / r.seconds),
                            match (r_cpu, p_cpu) {
                                (Some(r), Some(p)) if *p > 0.0 => format!("{:.2}x", r / p),
                                _ => "-".to_owned(),
                            },
                        ),
                        _ => ("n/a".to_owned(), "n/a".to_owned()),
                    };
                    let side_cpu =
                        |b: Option<&Best>| b.map_or_else(|| "not run".to_owned(), |b| cpu(b.1));
                    lines.push(format!(
                        "{profile} {} {op:8}: evo-rs {}, python {}, evo-rs/python {ratio}; client CPU per GiB evo-rs {} python {} ({cpu_ratio}) (best of {rounds})",
                        w.label,
                        time(r),
                        time(p),
                        side_cpu(r),
                        side_cpu(p),
                    ));
                }
                let (r, p) = (
                    self.peaks.get(&(profile, w.bytes, "rust")),
                    self.peaks.get(&(profile, w.bytes, "python")),
                );
                if r.is_some() || p.is_some() {
                    lines.push(format!(
                        "{profile} {} peak: evo-rs {}, python {}",
                        w.label,
                        mib(r),
                        mib(p)
                    ));
                }
            }
        }
        let summary = if self.profiles.contains(&"lan") {
            "lan"
        } else {
            let first = self.profiles.first().ok_or("no rounds were run")?;
            lines.push(format!(
                "{bench}-bench: no lan rounds; the summary is of {first}"
            ));
            first
        };
        let Some(at) = self.summary_workload(summary) else {
            lines.push(format!(
                "{bench}-bench: no summary line: there is no size at which both sides ran under {summary}"
            ));
            return Ok(lines);
        };
        let left_out: Vec<&str> = self
            .workloads
            .iter()
            .filter(|w| w.bytes > at.bytes)
            .map(|w| w.label.as_str())
            .collect();
        let which = if left_out.is_empty() {
            "the largest size".to_owned()
        } else {
            format!(
                "the largest size at which both sides ran (not at {})",
                left_out.join(", ")
            )
        };
        lines.push(format!(
            "{bench}-bench: the summary below is of {summary} at {}, {which}; peaks are each side's largest at that size over the profiles",
            at.label
        ));
        let best = |op: &str, side: &str| {
            self.best
                .get(&(summary, at.bytes, op, side))
                .copied()
                .ok_or_else(|| format!("no {side} {op} result under {summary} at {}", at.label))
        };
        let speedup = |op: &str| -> Result<f64, String> {
            Ok(best(op, "python")?.0.seconds / best(op, "rust")?.0.seconds)
        };
        let peak = |side: &str| {
            self.profiles
                .iter()
                .filter_map(|&p| self.peaks.get(&(p, at.bytes, side)))
                .max()
                .copied()
                .unwrap_or(0)
                >> 20
        };
        let [a, b] = self.ops;
        lines.push(format!(
            "{bench}-bench: {a} {:.2}x python, {b} {:.2}x python, peak rust {} MiB, python {} MiB",
            speedup(a)?,
            speedup(b)?,
            peak("rust"),
            peak("python")
        ));
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(mib: u64) -> Workload {
        Workload {
            bytes: mib << 20,
            label: format!("{mib} MiB"),
        }
    }

    /// A child's result line: both operations of `seconds` each, 1 s of CPU each.
    fn result(seconds: f64, peak_mib: u64) -> ChildResult {
        ChildResult {
            line: format!(
                "upload_seconds={seconds} download_seconds={seconds} upload_cpu=1 download_cpu=1 peak_bytes={} rows=10",
                peak_mib << 20
            ),
        }
    }

    /// Takes a round of `side` at `mib` MiB under `profile`, each operation moving `mib` MiB.
    fn round(best: &mut BestOf, profile: &'static str, mib: u64, side: &'static str, seconds: f64) {
        let moved = [mib << 20; 2];
        best.round(
            (profile, &workload(mib)),
            0,
            side,
            &result(seconds, 10 * mib),
            (10, moved),
            |_| String::new(),
        )
        .unwrap();
    }

    #[test]
    fn the_best_is_kept_per_profile_size_and_side() {
        let mut best = BestOf::new(["upload", "download"]);
        round(&mut best, "lan", 8, "rust", 2.0);
        round(&mut best, "lan", 8, "rust", 1.0);
        round(&mut best, "lan", 8, "rust", 3.0);
        round(&mut best, "lan", 16, "rust", 4.0);
        round(&mut best, "wan", 8, "rust", 5.0);
        round(&mut best, "lan", 8, "python", 6.0);
        let seconds =
            |profile, mib: u64, side| best.best[&(profile, mib << 20, "upload", side)].0.seconds;
        assert_eq!(seconds("lan", 8, "rust"), 1.0);
        assert_eq!(seconds("lan", 16, "rust"), 4.0);
        assert_eq!(seconds("wan", 8, "rust"), 5.0);
        assert_eq!(seconds("lan", 8, "python"), 6.0);
        assert_eq!(best.peaks[&("lan", 16 << 20, "rust")], 160 << 20);
    }

    #[test]
    fn the_summary_is_at_the_largest_size_both_sides_ran() {
        let mut best = BestOf::new(["upload", "download"]);
        // Sizes in any order: the largest counts, not the last.
        for mib in [16, 4, 8] {
            round(&mut best, "lan", mib, "rust", 1.0);
            if mib != 16 {
                round(&mut best, "lan", mib, "python", 2.0);
            }
        }
        assert_eq!(best.summary_workload("lan"), Some(&workload(8)));
        assert_eq!(best.summary_workload("wan"), None);
        round(&mut best, "lan", 16, "python", 2.0);
        assert_eq!(best.summary_workload("lan"), Some(&workload(16)));
    }

    #[test]
    fn no_ratio_comes_from_a_side_that_did_not_run() {
        let mut best = BestOf::new(["upload", "download"]);
        round(&mut best, "lan", 4, "rust", 1.0);
        round(&mut best, "lan", 4, "python", 3.0);
        round(&mut best, "lan", 8, "rust", 2.0);
        let lines = best.report_lines("objects", 1).unwrap();
        let at_8: Vec<&String> = lines
            .iter()
            .filter(|l| l.starts_with("lan 8 MiB"))
            .collect();
        assert_eq!(at_8.len(), 3, "{lines:#?}");
        for line in &at_8[..2] {
            assert!(line.contains("python not run, evo-rs/python n/a"), "{line}");
            assert!(line.contains("python not run (n/a)"), "{line}");
        }
        assert_eq!(at_8[2], "lan 8 MiB peak: evo-rs 80 MiB, python not run");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("lan 4 MiB upload  ") && l.contains("evo-rs/python 3.00x")),
            "{lines:#?}"
        );
        let n = lines.len();
        assert_eq!(
            lines[n - 2],
            "objects-bench: the summary below is of lan at 4 MiB, the largest size at which both sides ran (not at 8 MiB); peaks are each side's largest at that size over the profiles"
        );
        assert_eq!(
            lines[n - 1],
            "objects-bench: upload 3.00x python, download 3.00x python, peak rust 40 MiB, python 40 MiB"
        );
    }

    #[test]
    fn without_a_size_both_sides_ran_there_is_no_summary_line() {
        let mut best = BestOf::new(["update", "query"]);
        round_ops(&mut best, "wan", 8);
        let lines = best.report_lines("blockmodels", 1).unwrap();
        assert_eq!(
            lines[lines.len() - 2],
            "blockmodels-bench: no lan rounds; the summary is of wan"
        );
        assert_eq!(
            lines[lines.len() - 1],
            "blockmodels-bench: no summary line: there is no size at which both sides ran under wan"
        );
    }

    /// A rust round of the blockmodels operations.
    fn round_ops(best: &mut BestOf, profile: &'static str, mib: u64) {
        let line = "update_seconds=1 query_seconds=1 update_cpu=1 query_cpu=1 peak_bytes=1 rows=10";
        best.round(
            (profile, &workload(mib)),
            0,
            "rust",
            &ChildResult {
                line: line.to_owned(),
            },
            (10, [1, 1]),
            |_| String::new(),
        )
        .unwrap();
    }
}
