//! What the desk sends on its own, on the calendar: the **status clock** starts and completes
//! scheduled maintenances on time (each move an update derived from the maintenance and its
//! new status, so two instances write one), writes reminders an hour before one begins, and
//! sends subscribers their notices; the **report herald** announces published post-incident
//! reports (a post in the org's channel, a mail to each of its admins); the **postman** writes
//! the quarterly reviews owed once a quarter has ended and sends the letters waiting; the
//! **courier** sends account mail (password links, invitations) under its own policy.

use crate::SystemClock;
use crate::cycle::{Cycle, Step};
use crate::pacing::Pacing;
use crate::supervisor::Pulse;
use std::future::Future;
use std::time::{Duration, Instant};
use stringer_app::Clock;
use stringer_app::accounts::mailing::{ACCOUNT_MAIL, Courier};
use stringer_app::letters::Postman as Letters;
use stringer_app::postmortem::herald::Herald;
use stringer_app::status::subscribers::{NOTICE_BATCH, Notifier};

/// Every second while there is work, every two when there is none.
const CLOCK_PACE: Pacing = Pacing::new(Duration::from_secs(1), Duration::from_secs(2));
/// How often the postman looks for a quarter that has ended.
const REVIEW_PERIOD: Duration = Duration::from_secs(30);

/// Moves scheduled maintenances on, reminds their subscribers, sends due status notices.
pub(crate) struct StatusClock {
    pub(crate) status: Notifier,
}

impl Cycle for StatusClock {
    fn name(&self) -> &'static str {
        "status_clock"
    }

    fn pacing(&self) -> Pacing {
        CLOCK_PACE
    }

    async fn step(&mut self, _pulse: &Pulse) -> Step {
        let now = SystemClock.now_precise().as_second();
        let moved = match self.status.desk.run_due(now).await {
            Ok(n) if n > 0 => {
                tracing::info!(moved = n, "scheduled maintenances moved on by the clock");
                Step::of(n, i64::MAX)
            }
            Ok(_) => Step::empty(),
            Err(e) => {
                tracing::warn!(error = %e, "moving scheduled maintenances on failed; retrying");
                Step::failed()
            }
        };
        let reminded = match self.status.remind_due(now).await {
            Ok(n) => Step { round: crate::pacing::Round::Empty, ..Step::of(n, i64::MAX) },
            Err(e) => {
                tracing::warn!(error = %e, "writing maintenance reminders failed; retrying");
                Step::failed()
            }
        };
        let sent = match self.status.send_due(now).await {
            Ok(n) => Step::of(n, NOTICE_BATCH),
            Err(e) => {
                tracing::warn!(error = %e, "sending status notices failed; retrying");
                Step::failed()
            }
        };
        moved.and(reminded).and(sent)
    }
}

/// An outbox kind whose cycle only sends what is due (report announcements, account mail).
pub(crate) trait SendsDue: Send + Sync + 'static {
    /// Sends the sendings due at `now` (Unix seconds): how many it tried.
    fn send_due(&self, now: i64) -> impl Future<Output = Result<usize, String>> + Send;
}

impl SendsDue for Herald {
    async fn send_due(&self, now: i64) -> Result<usize, String> {
        Herald::send_due(self, now).await.map_err(|e| e.to_string())
    }
}

impl SendsDue for Courier {
    async fn send_due(&self, now: i64) -> Result<usize, String> {
        Courier::send_due(self, now).await.map_err(|e| e.to_string())
    }
}

/// Sends one outbox kind's due sendings: at its pacing ([`CLOCK_PACE`] but for the settler),
/// or at once while a full batch came.
pub(crate) struct Sending<T> {
    /// The cycle's name.
    pub(crate) name: &'static str,
    /// What it sends, in logs ("report announcements").
    pub(crate) what: &'static str,
    /// The kind's batch (a full one means more wait).
    pub(crate) batch: i64,
    /// How often it looks for due sendings.
    pub(crate) pacing: Pacing,
    /// The kind.
    pub(crate) sender: T,
}

impl<T: SendsDue> Cycle for Sending<T> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn pacing(&self) -> Pacing {
        self.pacing.clone()
    }

    async fn step(&mut self, _pulse: &Pulse) -> Step {
        match self.sender.send_due(SystemClock.now().as_second()).await {
            Ok(n) => Step::of(n, self.batch),
            Err(e) => {
                tracing::warn!(error = %e, "sending {} failed; retrying", self.what);
                Step::failed()
            }
        }
    }
}

/// The report herald: announcements of published post-incident reports.
pub(crate) fn report_herald(herald: Herald) -> Sending<Herald> {
    Sending {
        name: "report_herald",
        what: "report announcements",
        batch: NOTICE_BATCH,
        pacing: CLOCK_PACE,
        sender: herald,
    }
}

/// The courier: account mail (password links, invitations and their notices).
pub(crate) fn courier(mail: Courier) -> Sending<Courier> {
    Sending { name: "courier", what: "account mail", batch: ACCOUNT_MAIL.batch, pacing: CLOCK_PACE, sender: mail }
}

/// Writes the quarterly reviews owed (every [`REVIEW_PERIOD`]) and sends the letters waiting.
pub(crate) struct Postman {
    pub(crate) letters: Letters,
    /// When the reviews owed were last looked for.
    pub(crate) reviews_read: Option<Instant>,
}

impl Cycle for Postman {
    fn name(&self) -> &'static str {
        "postman"
    }

    fn pacing(&self) -> Pacing {
        CLOCK_PACE
    }

    async fn step(&mut self, _pulse: &Pulse) -> Step {
        let now = SystemClock.now_precise().as_second();
        let mut owed = Step::empty();
        if self.reviews_read.is_none_or(|at| at.elapsed() >= REVIEW_PERIOD) {
            match self.letters.owe_reviews(now).await {
                Ok(_) => self.reviews_read = Some(Instant::now()),
                Err(e) => {
                    tracing::warn!(error = %e, "writing the quarterly reviews owed failed; retrying");
                    owed = Step::failed();
                }
            }
        }
        let sent = match self.letters.send_due(now).await {
            Ok(n) => Step::of(n, NOTICE_BATCH),
            Err(e) => {
                tracing::warn!(error = %e, "sending letters failed; retrying");
                Step::failed()
            }
        };
        owed.and(sent)
    }
}
