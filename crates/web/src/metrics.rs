//! Prometheus metrics at `/metrics`: escalation lag (a timer's due instant → its notices
//! committed to the outbox for the adapters), timers run, and open tickets by SLA state
//! (read from the database at scrape time, so every instance reports the same truth).

use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use jiff::Timestamp;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use stringer_app::Fired;

/// Histogram: seconds from a timer's due instant to its notices being committed.
pub const ESCALATION_LAG: &str = "stringer_escalation_lag_seconds";
/// Counter: timers run, by kind.
pub const TIMERS_RUN: &str = "stringer_timers_run_total";
/// Counter: delivery attempts, by channel and outcome.
pub const DELIVERIES: &str = "stringer_deliveries_total";
/// Gauge: unresolved tickets by worst SLA clock state.
pub const OPEN_TICKETS: &str = "stringer_open_tickets";

/// Installs the process-wide recorder; call once at start-up.
pub fn install() -> Result<PrometheusHandle, String> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(ESCALATION_LAG.into()),
            &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0],
        )
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| e.to_string())
}

/// Records what a timer sweep did, measured at `now` (sub-second wall clock).
pub fn record_sweep(fired: &[Fired], now: Timestamp) {
    for f in fired {
        let kind = match &f.timer.kind {
            stringer_core::event::TimerKind::Breach { .. } => "breach",
            stringer_core::event::TimerKind::Escalation => "escalation",
            stringer_core::event::TimerKind::CustomerPageOpens => "customer_page_opens",
            stringer_core::event::TimerKind::BridgeDeadline => "bridge_deadline",
            stringer_core::event::TimerKind::ReportOverdue => "report_overdue",
            stringer_core::event::TimerKind::QueueNotify => "queue_notify",
        };
        metrics::counter!(TIMERS_RUN, "kind" => kind).increment(1);
        if !f.notices.is_empty() {
            let lag = now.duration_since(f.timer.at).as_secs_f64().max(0.0);
            metrics::histogram!(ESCALATION_LAG).record(lag);
        }
    }
}

/// Records delivery outcomes by channel.
pub fn record_deliveries(outcomes: &[(String, stringer_app::delivery::MethodKind, stringer_app::delivery::Outcome)]) {
    use stringer_app::delivery::Outcome;
    for (_, kind, o) in outcomes {
        let channel = kind.as_str();
        let outcome = match o {
            Outcome::Sent(_) => "sent",
            Outcome::Retry(..) => "retried",
            Outcome::Failed(_) => "failed",
            Outcome::Cancelled(_) => "cancelled",
        };
        metrics::counter!(DELIVERIES, "channel" => channel, "outcome" => outcome).increment(1);
    }
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>) -> impl IntoResponse {
    let Some(handle) = &state.metrics else {
        return (StatusCode::NOT_FOUND, "metrics are not enabled").into_response();
    };
    match state.store.open_tickets_by_sla_state().await {
        Ok(counts) => {
            for state in ["running", "paused", "breached", "met", "none"] {
                let n = counts.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
                metrics::gauge!(OPEN_TICKETS, "sla_state" => state).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not count open tickets for /metrics"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response()
}
