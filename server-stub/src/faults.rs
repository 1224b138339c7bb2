//! Fault injection for the refresh and session endpoints (`/api/dev/faults`), so clients can be
//! watched surviving outages, slow answers and `Retry-After`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use serde::Deserialize;

use crate::error::ApiError;

/// Which endpoint a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultTarget {
    /// `POST /api/video/auth/refresh-token`.
    Refresh,
    /// `GET /api/video/sessions/{id}`.
    Sessions,
}

/// A fault request: answer the next `fail_next` calls with `status`, delaying every call by
/// `delay_ms` until the faults are cleared.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Endpoint.
    pub target: FaultTarget,
    /// How many of the next calls fail.
    #[serde(default)]
    pub fail_next: u32,
    /// Status of the failed calls (default 503).
    #[serde(default)]
    pub status: Option<u16>,
    /// Delay added to every call of the target (failed or not) until cleared.
    #[serde(default)]
    pub delay_ms: u64,
    /// `Retry-After` seconds on the failed answers.
    #[serde(default)]
    pub retry_after_secs: Option<u32>,
}

#[derive(Debug, Default, Clone, Copy)]
struct ActiveFault {
    remaining: u32,
    status: Option<StatusCode>,
    delay: Duration,
    retry_after_secs: Option<u32>,
}

/// The faults in force, per target.
#[derive(Debug, Default)]
pub struct Faults {
    refresh: Mutex<ActiveFault>,
    sessions: Mutex<ActiveFault>,
    /// Whether any fault was set since the last clear: calls skip both locks when not.
    armed: AtomicBool,
}

/// What a call must suffer.
#[derive(Debug)]
pub struct Verdict {
    /// Sleep this long first.
    pub delay: Duration,
    /// Then answer this error, if any.
    pub error: Option<ApiError>,
}

impl Faults {
    fn slot(&self, target: FaultTarget) -> &Mutex<ActiveFault> {
        match target {
            FaultTarget::Refresh => &self.refresh,
            FaultTarget::Sessions => &self.sessions,
        }
    }

    /// Installs a fault, replacing the previous one of its target.
    pub fn set(&self, spec: &FaultSpec) -> Result<(), ApiError> {
        let status = match spec.status {
            None => StatusCode::SERVICE_UNAVAILABLE,
            Some(code) => StatusCode::from_u16(code)
                .ok()
                .filter(|s| s.is_client_error() || s.is_server_error())
                .ok_or_else(|| {
                    ApiError::BadRequest(format!("status {code} is not an error status"))
                })?,
        };
        let fault = ActiveFault {
            remaining: spec.fail_next,
            status: Some(status),
            delay: Duration::from_millis(spec.delay_ms.min(120_000)),
            retry_after_secs: spec.retry_after_secs,
        };
        *self
            .slot(spec.target)
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = fault;
        self.armed.store(true, Ordering::Release);
        Ok(())
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.armed.store(false, Ordering::Release);
        for target in [FaultTarget::Refresh, FaultTarget::Sessions] {
            *self.slot(target).lock().unwrap_or_else(|p| p.into_inner()) = ActiveFault::default();
        }
    }

    /// Consumes one call's worth of the target's fault.
    pub fn on_call(&self, target: FaultTarget) -> Verdict {
        if !self.armed.load(Ordering::Acquire) {
            return Verdict {
                delay: Duration::ZERO,
                error: None,
            };
        }
        let mut fault = self.slot(target).lock().unwrap_or_else(|p| p.into_inner());
        let error = match fault.status {
            Some(status) if fault.remaining > 0 => {
                fault.remaining -= 1;
                Some(ApiError::Fault {
                    status,
                    retry_after_secs: fault.retry_after_secs,
                })
            }
            _ => None,
        };
        Verdict {
            delay: fault.delay,
            error,
        }
    }
}
