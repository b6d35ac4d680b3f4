//! Service health checks.

use crate::generated::models::{HealthStatus, ServiceHealth};

/// How thorough a health check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HealthCheckType {
    /// The service itself (`full=true`).
    #[default]
    Basic,
    /// The service and its dependencies (`full=true&check_dependencies=true`).
    Full,
    /// As `Full`, and the service answers 503 for anything but a pass (`strict=true`).
    Strict,
}

/// The answer of a health check.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HealthReport {
    /// The HTTP status: 200 (healthy or degraded) or 503 (unhealthy).
    pub status_code: u16,
    /// The report.
    pub health: ServiceHealth,
}

impl HealthReport {
    /// A report.
    pub fn new(status_code: u16, health: ServiceHealth) -> Self {
        HealthReport {
            status_code,
            health,
        }
    }

    /// True when the service answered 200 with status `pass`.
    pub fn is_healthy(&self) -> bool {
        self.status_code == 200 && self.health.status == HealthStatus::Pass
    }
}

impl std::fmt::Display for HealthReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.health.status, self.status_code)?;
        if let Some(version) = &self.health.version {
            write!(f, ", version {version}")?;
        }
        for (name, status) in self.health.dependencies.iter().flatten() {
            write!(f, "; {name}: {status}")?;
        }
        Ok(())
    }
}
