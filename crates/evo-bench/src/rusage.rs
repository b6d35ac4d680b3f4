//! CPU time by `getrusage`: of this process (a measured child timing itself around an
//! operation) and of the waited-for children (the orchestrator measuring a whole child).

use nix::sys::resource::{UsageWho, getrusage};

/// User plus system CPU seconds of `who`.
fn cpu_seconds(who: UsageWho) -> f64 {
    getrusage(who).map_or(f64::NAN, |u| {
        let (user, system) = (u.user_time(), u.system_time());
        user.tv_sec() as f64
            + user.tv_usec() as f64 / 1e6
            + system.tv_sec() as f64
            + system.tv_usec() as f64 / 1e6
    })
}

/// CPU seconds this process has used so far (all its threads).
pub(crate) fn own_cpu_seconds() -> f64 {
    cpu_seconds(UsageWho::RUSAGE_SELF)
}

/// CPU seconds of every child this process has waited for so far.
pub(crate) fn children_cpu_seconds() -> f64 {
    cpu_seconds(UsageWho::RUSAGE_CHILDREN)
}
