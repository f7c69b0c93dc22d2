//! The engine's Prometheus metrics: escalation lag (a timer's due instant → its notices
//! committed to the outbox), timers run, deliveries by channel and outcome, settled messages,
//! and open tickets by SLA state (set by the web front at scrape time, from the database, so
//! every instance reports the same truth), and each engine cycle's panics and last progress
//! (see [`crate::supervisor`]) and its steps, items, errors and lag (see [`crate::cycle`]). Every series exists, at zero, from the first
//! scrape, so dashboards and alert rules see them before the first page.

use crate::SystemClock;
use jiff::Timestamp;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use stringer_app::Clock;
use stringer_app::Fired;
use stringer_app::delivery::{MethodKind, Urgency};
use stringer_app::outbox::Decision;
use stringer_core::event::TimerKind;

/// Histogram: seconds from a timer's due instant to its notices being committed.
pub const ESCALATION_LAG: &str = "stringer_escalation_lag_seconds";
/// Histogram: seconds from a delivery's due instant to the start of its send, by urgency
/// (page, alert, letter): how long a message waited for its turn.
pub const DELIVERY_LAG: &str = "stringer_delivery_lag_seconds";
/// Counter: timers run, by kind.
pub const TIMERS_RUN: &str = "stringer_timers_run_total";
/// Counter: delivery attempts, by channel and outcome.
pub const DELIVERIES: &str = "stringer_deliveries_total";
/// Counter: sent messages settled once paging was over.
pub const MESSAGES_SETTLED: &str = "stringer_messages_settled_total";
/// Received mail processed, by the state it ended in.
pub const MAIL_PROCESSED: &str = "stringer_mail_processed_total";
/// Counter: monitoring signals processed.
pub const SIGNALS_PROCESSED: &str = "stringer_alert_signals_processed_total";
/// Gauge: unresolved tickets by worst SLA clock state.
pub const OPEN_TICKETS: &str = "stringer_open_tickets";
/// Gauge: timers due and not yet run (the sweep's backlog).
pub const TIMERS_DUE: &str = "stringer_timers_due";
/// Gauge: outbox records not yet handed on (the dispatcher's, settle worker's and letters'
/// backlog); zero when nothing is owed.
pub const OUTBOX_PENDING: &str = "stringer_outbox_pending";
/// Gauge: 1 once the ledger's audit found a stored event that no longer matches its leaf (or
/// a tree that no longer matches its leaves), else 0.
pub const LEDGER_AUDIT_MISMATCH: &str = "stringer_ledger_audit_mismatch";
/// Counter: panics of an engine cycle, by cycle (each one restarted by the supervisor).
pub const CYCLE_PANICS: &str = "stringer_cycle_panics_total";
/// Gauge: when an engine cycle last made progress (Unix seconds), by cycle.
pub const CYCLE_LAST_PROGRESS: &str = "stringer_cycle_last_progress_seconds";

/// Counter: steps run by an engine cycle, by cycle.
pub const CYCLE_STEPS: &str = "stringer_cycle_steps_total";
/// Counter: pieces of work an engine cycle handled (timers, messages, rows), by cycle.
pub const CYCLE_ITEMS: &str = "stringer_cycle_items_total";
/// Counter: failed parts of an engine cycle's steps (each logged), by cycle.
pub const CYCLE_ERRORS: &str = "stringer_cycle_errors_total";
/// Gauge: how late an engine cycle's last step picked up its oldest piece of work, by cycle
/// (the cycles that know when their work fell due: the sweep and the deliverer).
pub const CYCLE_LAG: &str = "stringer_cycle_lag_seconds";
/// Histogram: how long an engine cycle's steps take, by cycle.
pub const CYCLE_STEP_SECONDS: &str = "stringer_cycle_step_seconds";

/// The label values of every series, so each can start at zero.
const TIMER_KINDS: [&str; 6] =
    ["breach", "escalation", "customer_page_opens", "bridge_deadline", "report_overdue", "queue_notify"];
const CHANNELS: [MethodKind; 6] = [
    MethodKind::Webhook,
    MethodKind::Slack,
    MethodKind::Email,
    MethodKind::Sms,
    MethodKind::Voice,
    MethodKind::Console,
];
const OUTCOMES: [&str; 4] = ["sent", "retried", "failed", "cancelled"];
const URGENCIES: [Urgency; 3] = [Urgency::Page, Urgency::Alert, Urgency::Letter];
/// The SLA states open tickets are counted by.
pub const SLA_STATES: [&str; 5] = ["running", "paused", "breached", "met", "none"];

/// Installs the process-wide recorder and registers every series at zero; call once at
/// start-up.
pub fn install() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(ESCALATION_LAG.into()),
            &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0],
        )
        .map_err(|e| e.to_string())?
        .set_buckets_for_metric(
            Matcher::Full(DELIVERY_LAG.into()),
            &[0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0],
        )
        .map_err(|e| e.to_string())?
        .set_buckets_for_metric(
            Matcher::Full(CYCLE_STEP_SECONDS.into()),
            &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0],
        )
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| e.to_string())?;
    register();
    Ok(handle)
}

fn register() {
    metrics::describe_histogram!(ESCALATION_LAG, metrics::Unit::Seconds, "Timer due → its notices committed");
    metrics::describe_histogram!(
        DELIVERY_LAG,
        metrics::Unit::Seconds,
        "Delivery due → its send started, by urgency (page, alert, letter)"
    );
    metrics::describe_counter!(TIMERS_RUN, "Timers run, by kind");
    metrics::describe_counter!(DELIVERIES, "Delivery attempts, by channel and outcome");
    metrics::describe_counter!(MESSAGES_SETTLED, "Sent page messages settled once paging was over");
    metrics::describe_counter!(
        MAIL_PROCESSED,
        "Received mail processed, by the state it ended in (done, held, ignored)"
    );
    metrics::describe_counter!(SIGNALS_PROCESSED, "Monitoring signals (Events API, Alertmanager) processed");
    metrics::describe_gauge!(OPEN_TICKETS, "Unresolved tickets by worst SLA clock state");
    metrics::describe_gauge!(TIMERS_DUE, "Timers due and not yet run");
    metrics::describe_gauge!(OUTBOX_PENDING, "Outbox records not yet handed on");
    metrics::describe_gauge!(
        LEDGER_AUDIT_MISMATCH,
        "1 once the ledger's audit found an event or subtree that no longer matches, else 0"
    );
    metrics::describe_counter!(CYCLE_PANICS, "Panics of an engine cycle, each restarted after a back-off, by cycle");
    metrics::describe_gauge!(
        CYCLE_LAST_PROGRESS,
        metrics::Unit::Seconds,
        "When an engine cycle last made progress (Unix seconds), by cycle"
    );
    metrics::describe_counter!(CYCLE_STEPS, "Steps run by an engine cycle, by cycle");
    metrics::describe_counter!(CYCLE_ITEMS, "Pieces of work an engine cycle handled, by cycle");
    metrics::describe_counter!(CYCLE_ERRORS, "Failed parts of an engine cycle's steps, by cycle");
    metrics::describe_gauge!(
        CYCLE_LAG,
        metrics::Unit::Seconds,
        "How late an engine cycle's last step picked up its oldest work, by cycle"
    );
    metrics::describe_histogram!(CYCLE_STEP_SECONDS, metrics::Unit::Seconds, "Engine cycle step duration, by cycle");
    let _ = metrics::histogram!(ESCALATION_LAG);
    for urgency in URGENCIES {
        let _ = metrics::histogram!(DELIVERY_LAG, "urgency" => urgency_name(urgency));
    }
    for kind in TIMER_KINDS {
        metrics::counter!(TIMERS_RUN, "kind" => kind).absolute(0);
    }
    for channel in CHANNELS {
        for outcome in OUTCOMES {
            metrics::counter!(DELIVERIES, "channel" => channel.as_str(), "outcome" => outcome).absolute(0);
        }
    }
    metrics::counter!(MESSAGES_SETTLED).absolute(0);
    for state in ["done", "held", "ignored"] {
        metrics::counter!(MAIL_PROCESSED, "state" => state).absolute(0);
    }
    metrics::counter!(SIGNALS_PROCESSED).absolute(0);
    for state in SLA_STATES {
        metrics::gauge!(OPEN_TICKETS, "sla_state" => state).set(0.0);
    }
    metrics::gauge!(TIMERS_DUE).set(0.0);
    metrics::gauge!(OUTBOX_PENDING).set(0.0);
    metrics::gauge!(LEDGER_AUDIT_MISMATCH).set(0.0);
}

fn urgency_name(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Page => "page",
        Urgency::Alert => "alert",
        Urgency::Letter => "letter",
    }
}

/// Records how long a delivery waited from its due instant until its send started at `now`.
pub fn record_delivery_start(urgency: Urgency, due: Timestamp, now: Timestamp) {
    let lag = now.duration_since(due).as_secs_f64().max(0.0);
    metrics::histogram!(DELIVERY_LAG, "urgency" => urgency_name(urgency)).record(lag);
}

fn timer_kind(kind: &TimerKind) -> &'static str {
    match kind {
        TimerKind::Breach { .. } => TIMER_KINDS[0],
        TimerKind::Escalation => TIMER_KINDS[1],
        TimerKind::CustomerPageOpens => TIMER_KINDS[2],
        TimerKind::BridgeDeadline => TIMER_KINDS[3],
        TimerKind::ReportOverdue => TIMER_KINDS[4],
        TimerKind::QueueNotify => TIMER_KINDS[5],
    }
}

/// Records what a timer sweep did, measured at `now` (sub-second wall clock).
pub fn record_sweep(fired: &[Fired], now: Timestamp) {
    for f in fired {
        metrics::counter!(TIMERS_RUN, "kind" => timer_kind(&f.timer.kind)).increment(1);
        if !f.notices.is_empty() {
            let lag = now.duration_since(f.timer.at).as_secs_f64().max(0.0);
            metrics::histogram!(ESCALATION_LAG).record(lag);
        }
    }
}

/// Records a delivery's outcome by channel.
pub fn record_delivery(kind: MethodKind, outcome: &Decision) {
    let outcome = match outcome {
        Decision::Sent(_) => OUTCOMES[0],
        Decision::Later { .. } => OUTCOMES[1],
        Decision::GivenUp(_) => OUTCOMES[2],
        Decision::Cancelled(_) => OUTCOMES[3],
    };
    metrics::counter!(DELIVERIES, "channel" => kind.as_str(), "outcome" => outcome).increment(1);
}

/// Records messages settled.
pub fn record_settled(count: usize) {
    metrics::counter!(MESSAGES_SETTLED).increment(count as u64);
}

/// Records one received message processed.
pub fn record_mail(state: &'static str) {
    metrics::counter!(MAIL_PROCESSED, "state" => state).increment(1);
}

/// Records monitoring signals processed.
pub fn record_signals(count: usize) {
    metrics::counter!(SIGNALS_PROCESSED).increment(count as u64);
}

/// Starts a supervised cycle's series: no panics yet, progress as of now.
pub(crate) fn register_cycle(cycle: &'static str) {
    metrics::counter!(CYCLE_PANICS, "cycle" => cycle).absolute(0);
    for counter in [CYCLE_STEPS, CYCLE_ITEMS, CYCLE_ERRORS] {
        metrics::counter!(counter, "cycle" => cycle).absolute(0);
    }
    metrics::gauge!(CYCLE_LAG, "cycle" => cycle).set(0.0);
    record_progress(cycle);
}

/// Records one step of a cycle that took `took` (`items` handled, `errors` failed, the oldest item picked up `lag` late when known).
pub(crate) fn record_step(
    cycle: &'static str,
    items: usize,
    errors: usize,
    lag: Option<std::time::Duration>,
    took: std::time::Duration,
) {
    metrics::counter!(CYCLE_STEPS, "cycle" => cycle).increment(1);
    metrics::counter!(CYCLE_ITEMS, "cycle" => cycle).increment(items as u64);
    metrics::counter!(CYCLE_ERRORS, "cycle" => cycle).increment(errors as u64);
    metrics::histogram!(CYCLE_STEP_SECONDS, "cycle" => cycle).record(took.as_secs_f64());
    if let Some(lag) = lag {
        metrics::gauge!(CYCLE_LAG, "cycle" => cycle).set(lag.as_secs_f64());
    }
}

/// Records a cycle's panic.
pub(crate) fn record_panic(cycle: &'static str) {
    metrics::counter!(CYCLE_PANICS, "cycle" => cycle).increment(1);
}

/// Records that a cycle made progress now.
pub(crate) fn record_progress(cycle: &'static str) {
    metrics::gauge!(CYCLE_LAST_PROGRESS, "cycle" => cycle)
        .set(SystemClock.now_precise().as_millisecond() as f64 / 1000.0);
}

/// Sets the ledger audit's mismatch gauge.
pub fn set_ledger_audit_mismatch(found: bool) {
    metrics::gauge!(LEDGER_AUDIT_MISMATCH).set(if found { 1.0 } else { 0.0 });
}

/// Sets the backlog gauges.
pub fn set_backlog(backlog: stringer_app::ports::Backlog) {
    metrics::gauge!(TIMERS_DUE).set(backlog.timers_due as f64);
    metrics::gauge!(OUTBOX_PENDING).set(backlog.outbox_pending as f64);
}

/// Sets the open-ticket gauge from a count by SLA state (states not counted are zero).
pub fn set_open_tickets(counts: &[(String, i64)]) {
    for state in SLA_STATES {
        let n = counts.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
        metrics::gauge!(OPEN_TICKETS, "sla_state" => state).set(n as f64);
    }
}
