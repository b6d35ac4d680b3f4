//! The network profiles the benchmarks against the Python SDK run under: loopback (`lan`) and
//! the emulator's WAN profile (`wan`: added latency per request, a bandwidth cap per
//! connection), chosen with `EVO_BENCH_PROFILES` and shaped with `EVO_BENCH_WAN_LATENCY_MS` and
//! `EVO_BENCH_WAN_MBIT`.

use std::time::Duration;

use evo_emulator::WanProfile;

use crate::io::env_number;

/// Every profile, in the order they run.
pub(crate) const PROFILES: [&str; 2] = ["lan", "wan"];

/// The profiles to measure and what `wan` means.
#[derive(Debug, Clone)]
pub(crate) struct NetworkProfiles {
    /// The profiles to measure (`EVO_BENCH_PROFILES`, comma-separated; default both).
    pub(crate) names: Vec<&'static str>,
    wan: WanProfile,
}

impl NetworkProfiles {
    /// The profiles from the environment: `EVO_BENCH_PROFILES` (default `lan,wan`),
    /// `EVO_BENCH_WAN_LATENCY_MS` (default 40) and `EVO_BENCH_WAN_MBIT` (per connection, each
    /// way; default 100).
    pub(crate) fn from_env() -> Result<Self, String> {
        let names = match std::env::var("EVO_BENCH_PROFILES") {
            Ok(v) => v
                .split(',')
                .map(|s| {
                    PROFILES
                        .into_iter()
                        .find(|p| *p == s.trim())
                        .ok_or_else(|| format!("EVO_BENCH_PROFILES={v:?}: known are lan and wan"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Err(_) => PROFILES.to_vec(),
        };
        let latency_ms = env_number("EVO_BENCH_WAN_LATENCY_MS", 40.0, "a number")?;
        let mbit = env_number("EVO_BENCH_WAN_MBIT", 100.0, "a number")?;
        Ok(NetworkProfiles {
            names,
            wan: WanProfile::new()
                .latency(Duration::from_secs_f64(f64::max(latency_ms, 0.0) / 1e3))
                .bandwidth_per_connection(Some((f64::max(mbit, 0.0) * 1e6 / 8.0) as u64)),
        })
    }

    /// What the emulator plays under the profile `name`.
    pub(crate) fn emulator_profile(&self, name: &str) -> WanProfile {
        if name == "wan" {
            self.wan
        } else {
            WanProfile::new()
        }
    }

    /// Whether every profile is measured.
    pub(crate) fn all(&self) -> bool {
        PROFILES.iter().all(|p| self.names.contains(p))
    }

    /// `lan (loopback) and wan (40ms per request, 100 Mbit/s per connection each way)`.
    pub(crate) fn describe(&self) -> String {
        let wan = format!(
            "wan ({:?} per request, {} Mbit/s per connection each way)",
            self.wan.added_latency(),
            self.wan.bandwidth_cap().map_or(0, |b| b * 8 / 1_000_000)
        );
        self.names
            .iter()
            .map(|name| match *name {
                "wan" => wan.clone(),
                _ => "lan (loopback)".to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" and ")
    }
}
