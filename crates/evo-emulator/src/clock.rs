//! Timestamps that strictly increase, so "modified after X" filters never miss a change, on a
//! clock tests can move forward (to reach week-long deadlines without sleeping).

use std::sync::Mutex;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Hands out UTC timestamps, each at least one microsecond after the previous one.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    last: Mutex<Option<OffsetDateTime>>,
    /// How far tests moved this clock ahead of the real one.
    offset: Mutex<time::Duration>,
}

impl Clock {
    /// Moves this clock forward by `by`; later [`now`](Self::now) calls are that much later.
    pub(crate) fn advance(&self, by: std::time::Duration) {
        let by = time::Duration::try_from(by).unwrap_or(time::Duration::MAX);
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *offset = offset.saturating_add(by);
    }

    /// The current time, later than any time this clock returned before.
    pub(crate) fn now(&self) -> OffsetDateTime {
        let offset = *self.offset.lock().unwrap_or_else(|e| e.into_inner());
        let real = OffsetDateTime::now_utc();
        let now = real.checked_add(offset).unwrap_or(real);
        let now = now
            .replace_nanosecond(now.microsecond() * 1000)
            .unwrap_or(now);
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let next = match *last {
            Some(prev) if now <= prev => prev + time::Duration::microseconds(1),
            _ => now,
        };
        *last = Some(next);
        next
    }
}

/// `2020-01-01T00:00:00.000000+00:00`, the format of the Workspaces API fixtures.
pub(crate) fn format_workspace_time(t: OffsetDateTime) -> String {
    format_utc(t, "+00:00")
}

/// `2020-01-01T00:00:00.000000Z`, the format pydantic gives File API datetimes.
pub(crate) fn format_file_time(t: OffsetDateTime) -> String {
    format_utc(t, "Z")
}

/// `2020-01-01T00:00:00.000000`: naive UTC, as the Colormap API sends its timestamps.
pub(crate) fn format_naive_time(t: OffsetDateTime) -> String {
    format_utc(t, "")
}

/// `t` in UTC to the microsecond, followed by `zone` (how the service writes UTC).
fn format_utc(t: OffsetDateTime, zone: &str) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}{zone}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Parses an ISO 8601 date-time as the Evo filters accept it: RFC 3339, a space instead of `T`,
/// or no offset at all (then UTC), or a bare date (midnight UTC).
pub(crate) fn parse_filter_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let normalized = if s.len() > 10 && s.as_bytes()[10] == b' ' {
        format!("{}T{}", &s[..10], &s[11..])
    } else {
        s.to_owned()
    };
    if let Ok(t) = OffsetDateTime::parse(&normalized, &Rfc3339) {
        return Some(t);
    }
    // No offset: assume UTC.
    if normalized.len() >= 19 {
        if let Ok(t) = OffsetDateTime::parse(&format!("{normalized}Z"), &Rfc3339) {
            return Some(t);
        }
    }
    if normalized.len() == 10 {
        if let Ok(t) = OffsetDateTime::parse(&format!("{normalized}T00:00:00Z"), &Rfc3339) {
            return Some(t);
        }
    }
    None
}

/// A comparison in a date filter such as `gte:2023-03-10T22:56:53Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeOp {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// One parsed date filter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeFilter {
    pub(crate) op: TimeOp,
    pub(crate) at: OffsetDateTime,
}

impl TimeFilter {
    /// Parses `[op:]datetime`; `None` when malformed.
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        let (op, rest) = match raw.split_once(':') {
            Some((p, rest)) if ["eq", "lt", "lte", "gt", "gte"].contains(&p) => {
                let op = match p {
                    "eq" => TimeOp::Eq,
                    "lt" => TimeOp::Lt,
                    "lte" => TimeOp::Lte,
                    "gt" => TimeOp::Gt,
                    _ => TimeOp::Gte,
                };
                (op, rest)
            }
            _ => (TimeOp::Eq, raw),
        };
        Some(Self {
            op,
            at: parse_filter_time(rest)?,
        })
    }

    /// Whether `t` passes this filter.
    pub(crate) fn matches(&self, t: OffsetDateTime) -> bool {
        match self.op {
            TimeOp::Eq => t == self.at,
            TimeOp::Lt => t < self.at,
            TimeOp::Lte => t <= self.at,
            TimeOp::Gt => t > self.at,
            TimeOp::Gte => t >= self.at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_strictly_increases() {
        let c = Clock::default();
        let a = c.now();
        let b = c.now();
        assert!(b > a);
    }

    #[test]
    fn advancing_moves_now_forward() {
        let c = Clock::default();
        let a = c.now();
        c.advance(std::time::Duration::from_secs(7 * 24 * 3600));
        let b = c.now();
        assert!(b - a >= time::Duration::days(7), "{a} -> {b}");
        assert!(b - a < time::Duration::days(7) + time::Duration::minutes(5));
    }

    #[test]
    fn filter_parsing_accepts_space_and_missing_offset() {
        let f = TimeFilter::parse("gte:2023-03-10 22:56:53").expect("parses");
        assert_eq!(f.op, TimeOp::Gte);
        assert_eq!(f.at.unix_timestamp(), 1678489013);
        assert!(TimeFilter::parse("2023-03-10T22:56:53+01:00").is_some());
        assert!(TimeFilter::parse("gte:yesterday").is_none());
        let t = time::macros::datetime!(2020-01-01 0:00 UTC);
        assert_eq!(format_workspace_time(t), "2020-01-01T00:00:00.000000+00:00");
        assert_eq!(format_file_time(t), "2020-01-01T00:00:00.000000Z");
    }
}
