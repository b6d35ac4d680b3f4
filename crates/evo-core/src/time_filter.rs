//! Filters on the time fields of a listing, in the form every Evo API takes them.

use std::fmt;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How a [`TimeFilter`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeOp {
    /// Exactly at (only one such filter per field).
    Equal,
    /// Strictly before (`lt`).
    Before,
    /// At or before (`lte`).
    AtOrBefore,
    /// Strictly after (`gt`).
    After,
    /// At or after (`gte`).
    AtOrAfter,
}

/// A filter on a time field of a listing (`created_at`, `modified_at`, `deleted_at`, …):
/// `[op:]<RFC 3339 time>` on the wire, as every Evo listing takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeFilter {
    /// The comparison.
    pub op: TimeOp,
    /// The time compared with.
    pub at: OffsetDateTime,
}

impl TimeFilter {
    /// A filter.
    pub fn new(op: TimeOp, at: OffsetDateTime) -> Self {
        TimeFilter { op, at }
    }
    /// Strictly before `at`.
    pub fn before(at: OffsetDateTime) -> Self {
        TimeFilter::new(TimeOp::Before, at)
    }
    /// At or after `at`.
    pub fn since(at: OffsetDateTime) -> Self {
        TimeFilter::new(TimeOp::AtOrAfter, at)
    }
}

impl fmt::Display for TimeFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.op {
            TimeOp::Equal => "",
            TimeOp::Before => "lt:",
            TimeOp::AtOrBefore => "lte:",
            TimeOp::After => "gt:",
            TimeOp::AtOrAfter => "gte:",
        };
        let at = self.at.to_offset(time::UtcOffset::UTC);
        write!(
            f,
            "{prefix}{}",
            at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_print_as_the_apis_take_them() {
        let at = time::macros::datetime!(2026-12-03 09:30:00 +02:00);
        assert_eq!(
            TimeFilter::since(at).to_string(),
            "gte:2026-12-03T07:30:00Z"
        );
        assert_eq!(
            TimeFilter::before(at).to_string(),
            "lt:2026-12-03T07:30:00Z"
        );
        assert_eq!(
            TimeFilter::new(TimeOp::Equal, at).to_string(),
            "2026-12-03T07:30:00Z"
        );
    }
}
