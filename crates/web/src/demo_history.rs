//! The demo desk's past, so that a newcomer sees a desk that has been working: the previous
//! quarter and the current one so far, with tickets opened, acknowledged (mostly in time,
//! some late) and resolved, through the same application call as every other change. The
//! quarterly review and the console's closed tickets then have figures to show.

use crate::AppState;
use crate::ids::new_id;
use jiff::{SignedDuration, Timestamp};
use stringer_app::{Extras, StoreError, TicketDetails};
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{Intake, OrgSlug, Severity, TicketId, UserId};
use stringer_core::review::Quarter;

/// Tickets per org and quarter.
const PER_QUARTER: u64 = 24;

const SUBJECTS: [&str; 16] = [
    "Checkout API answers 502 for some EU customers",
    "Webhook deliveries arrive out of order",
    "Dashboard export drops the last row",
    "SSO login loops back to the sign-in page",
    "Search results miss documents added today",
    "Nightly sync job stalls at 80 %",
    "Rate limit headers missing on bulk endpoint",
    "How do we rotate our API keys?",
    "Invoices PDF shows the wrong time zone",
    "Mobile SDK crashes on Android 15 at launch",
    "Audit log export times out for a year of data",
    "Latency spikes on the EU read replicas",
    "Request to raise the attachment size limit",
    "Password reset mails land in spam",
    "Scheduled reports not sent on Mondays",
    "GraphQL schema change broke our client",
];

/// A small deterministic generator (xorshift64*), so the demo is the same on every machine.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A whole number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Seeds the previous quarter and the current one up to two days ago for `orgs`, as
/// (org, requester) pairs, worked by `engineers`.
pub async fn seed(state: &AppState, orgs: &[(&str, UserId)], engineers: &[UserId]) -> Result<usize, StoreError> {
    let now = state.now();
    let current = Quarter::of(now);
    let mut dice = Dice(0x5EED_DE11_0000_0001);
    let mut made = 0;
    for quarter in [current.previous(), current] {
        let start = quarter.start().as_second();
        let end = quarter.end().min(now - SignedDuration::from_hours(48)).as_second();
        if end <= start {
            continue;
        }
        for (org, requester) in orgs {
            for _ in 0..PER_QUARTER {
                let opened = Timestamp::from_second(start + dice.below((end - start) as u64) as i64)
                    .map_err(|e| StoreError::Backend(e.to_string()))?;
                let severity = match dice.below(20) {
                    0 => "P1",
                    1..=4 => "P2",
                    5..=13 => "P3",
                    _ => "P4",
                };
                // Most acknowledgements come well within the hour; one in eight takes most of a day.
                let ack_minutes = if dice.below(8) == 0 { 60 * (4 + dice.below(20)) } else { 3 + dice.below(50) };
                let resolve_minutes = ack_minutes + 30 + dice.below(60 * 48);
                let engineer = engineers[dice.below(engineers.len() as u64) as usize].clone();
                let intake = [Intake::Portal, Intake::Email, Intake::Slack, Intake::Phone][dice.below(4) as usize];
                let subject = SUBJECTS[dice.below(SUBJECTS.len() as u64) as usize];
                let id = TicketId(new_id("tkt"));
                let at = |minutes: u64| opened + SignedDuration::from_mins(minutes as i64);
                let events = vec![
                    Event::new(
                        opened,
                        id.clone(),
                        EventKind::Opened {
                            org: OrgSlug::from(*org),
                            severity: Severity::from(severity),
                            intake: Some(intake),
                            security: false,
                        },
                    ),
                    Event::new(at(ack_minutes), id.clone(), EventKind::Acknowledged { by: engineer.to_string() }),
                    Event::new(at(resolve_minutes).min(now), id.clone(), EventKind::Resolved),
                ];
                let extras = Extras {
                    actor: Some(engineer),
                    details: Some(TicketDetails {
                        subject: subject.into(),
                        description: format!("{subject}. (demo history)"),
                        requester: Some(requester.clone()),
                    }),
                    comment: None,
                };
                state.record(events, extras).await.map_err(|e| StoreError::Backend(e.to_string()))?;
                made += 1;
            }
        }
    }
    Ok(made)
}
