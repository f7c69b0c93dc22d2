//! The P1 phone line's rules: who may get through, to whom a call is put through and in
//! what order, and what a caller ID or a PIN must look like. Pure — the roster, the contract
//! and the instant are parameters.
//!
//! - **Who gets through.** The line is the customer page by phone, so the tier's customer
//!   page rule decides: where it lets the customer page for the most severe severity at once
//!   and whether or not the ticket is acknowledged (Enterprise in the default contract), a
//!   call opens a new ticket of that severity and is put through at once. Otherwise (Pro) a
//!   call gets through only for the org's open ticket of that severity once the rule lets the
//!   customer page for it (30 minutes unacknowledged); before then the caller hears when the
//!   line opens.
//! - **To whom.** The people the escalation would page for that severity, in the order it
//!   would page them — the on-call engineer first, then each later step's role — and then
//!   the TAM; each person once. Each is rung for a set time before the next.

use crate::contract::{Contract, EscalationPolicy, Uncovered};
use crate::ids::{Role, Severity, Tier};
use crate::routing::Roster;
use jiff::Timestamp;

/// The longest PIN a caller may key in.
pub const PIN_MAX_DIGITS: usize = 10;
/// The shortest PIN an org may have.
pub const PIN_MIN_DIGITS: usize = 6;

/// When a tier's customers get through on the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// At any time: a call opens a ticket of `severity` and is put through.
    Open {
        /// The line's severity (the contract's most severe).
        severity: Severity,
    },
    /// For the org's open ticket of `severity`, once the customer page rule lets the
    /// customer page for it.
    AfterTicket {
        /// The line's severity (the contract's most severe).
        severity: Severity,
    },
    /// Never: the tier's customers may not page for that severity.
    Closed,
}

/// The line as `tier`'s customers have it under `contract`; [`Uncovered`] when the contract
/// in force has no such tier.
pub fn line(contract: &Contract, tier: &Tier) -> Result<Line, Uncovered> {
    let rule = &contract.escalation(tier)?.customer_page;
    let Some(severity) = contract.severities.keys().next().cloned() else { return Ok(Line::Closed) };
    Ok(if !rule.severities.contains(&severity) {
        Line::Closed
    } else if rule.opens_after.seconds == 0 && !rule.while_unacknowledged {
        Line::Open { severity }
    } else {
        Line::AfterTicket { severity }
    })
}

/// The people a call for a ticket of `severity` is put through to, in order: those the
/// escalation pages (the steps that apply to `severity`, in the order of their delays), and
/// then the TAM; each once.
pub fn dial_order(roster: &Roster, policy: &EscalationPolicy, severity: &Severity, at: Timestamp) -> Vec<String> {
    let mut steps: Vec<_> =
        policy.steps.iter().filter(|s| s.severities.as_ref().is_none_or(|only| only.contains(severity))).collect();
    steps.sort_by_key(|s| s.after.seconds);
    let roles = steps.iter().map(|s| s.notify).chain(std::iter::once(Role::Tam));
    let mut order: Vec<String> = Vec::new();
    for role in roles {
        for person in roster.route(role, at) {
            if !order.contains(&person) {
                order.push(person);
            }
        }
    }
    order
}

/// A phone number in E.164 form (`+` and 8 to 15 digits), read from how people write them:
/// spaces, dots, dashes and brackets are dropped; `00` is read as `+`. `None` for anything
/// else (Twilio's `anonymous` or `client:…` callers included).
pub fn e164(number: &str) -> Option<String> {
    let kept: String = number.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')')).collect();
    let digits = kept.strip_prefix('+').or_else(|| kept.strip_prefix("00"))?;
    let ok = (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    ok.then(|| format!("+{digits}"))
}

/// Whether keyed-in digits can be a PIN at all (before anything is looked up).
pub fn pin_shaped(digits: &str) -> bool {
    (PIN_MIN_DIGITS..=PIN_MAX_DIGITS).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// What follows a ring that ended with Twilio's `DialCallStatus`: the call is over when the
/// person answered (`completed`, `answered`); else the next person is rung, and after the
/// last a message is recorded.
pub fn after_ring(status: &str, step: usize, people: usize) -> AfterRing {
    match status {
        "completed" | "answered" => AfterRing::Done,
        _ if step + 1 < people => AfterRing::Ring(step + 1),
        _ => AfterRing::Record,
    }
}

/// See [`after_ring`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterRing {
    /// The person answered; the call is over when they hang up.
    Done,
    /// Ring the person at this place in the order.
    Ring(usize),
    /// Nobody answered: record a message.
    Record,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Contract;
    use crate::ids::{Deployment, OrgSlug, UserRole};
    use crate::routing::StaffMember;

    fn staff(id: &str, role: UserRole) -> StaffMember {
        StaffMember { id: id.into(), role, federal_cleared: false }
    }

    fn roster(tam: Option<&str>, named: &[&str]) -> Roster {
        Roster {
            org: OrgSlug::from("acme"),
            deployment: Deployment::Shared,
            tam: tam.map(str::to_string),
            named_engineers: named.iter().map(|s| s.to_string()).collect(),
            schedules: vec![],
            staff: vec![
                staff("eve", UserRole::Engineer),
                staff("ned", UserRole::Engineer),
                staff("tina", UserRole::Tam),
                staff("vic", UserRole::VpEngineering),
                staff("sam", UserRole::SupportLead),
            ],
        }
    }

    #[test]
    fn the_line_follows_the_customer_page_rule() {
        let c = Contract::default_contract();
        let p1 = Severity::from("P1");
        assert_eq!(line(&c, &Tier::from("enterprise")), Ok(Line::Open { severity: p1.clone() }));
        assert_eq!(line(&c, &Tier::from("pro")), Ok(Line::AfterTicket { severity: p1 }));
        assert_eq!(line(&c, &Tier::from("gold")), Err(Uncovered::Tier(Tier::from("gold"))));
    }

    #[test]
    fn calls_go_to_the_escalation_then_the_tam_each_once() {
        let c = Contract::default_contract();
        let at = Timestamp::from_second(1_790_000_000).unwrap();
        let p1 = Severity::from("P1");
        // Enterprise: the named engineer is on call; the TAM, then the VP of Engineering.
        let order =
            dial_order(&roster(Some("tina"), &["ned"]), c.escalation(&Tier::from("enterprise")).unwrap(), &p1, at);
        assert_eq!(order.first().map(String::as_str), Some("ned"));
        assert!(order.contains(&"tina".to_string()));
        let mut unique = order.clone();
        unique.dedup();
        assert_eq!(unique.len(), order.len(), "{order:?}");
        // Without a TAM, the order is only the escalation's.
        let order = dial_order(&roster(None, &["ned"]), c.escalation(&Tier::from("enterprise")).unwrap(), &p1, at);
        assert!(!order.contains(&"tina".to_string()), "{order:?}");
    }

    #[test]
    fn numbers_are_read_as_people_write_them() {
        let table = [
            ("+1 (555) 010-0001", Some("+15550100001")),
            ("+44 20 7946 0958", Some("+442079460958")),
            ("0044.20.7946.0958", Some("+442079460958")),
            ("+15550100001", Some("+15550100001")),
            ("5550100001", None),
            ("anonymous", None),
            ("client:alice", None),
            ("+1234567", None),
            ("+1234567890123456", None),
            ("+05550100001", None),
            ("", None),
        ];
        for (given, want) in table {
            assert_eq!(e164(given).as_deref(), want, "{given}");
        }
    }

    #[test]
    fn pins_are_six_to_ten_digits() {
        for (pin, ok) in
            [("123456", true), ("1234567890", true), ("12345", false), ("12345678901", false), ("12a456", false)]
        {
            assert_eq!(pin_shaped(pin), ok, "{pin}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_reads_as_e164_or_nothing(text in ".{0,40}") {
            if let Some(number) = e164(&text) {
                let digits = number.strip_prefix('+').unwrap();
                proptest::prop_assert!((8..=15).contains(&digits.len()));
                proptest::prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
                proptest::prop_assert_eq!(e164(&number), Some(number.clone()));
            }
        }
    }

    #[test]
    fn a_ring_ends_the_call_or_moves_on() {
        assert_eq!(after_ring("completed", 0, 3), AfterRing::Done);
        assert_eq!(after_ring("answered", 2, 3), AfterRing::Done);
        assert_eq!(after_ring("no-answer", 0, 3), AfterRing::Ring(1));
        assert_eq!(after_ring("busy", 1, 3), AfterRing::Ring(2));
        assert_eq!(after_ring("failed", 2, 3), AfterRing::Record);
        assert_eq!(after_ring("no-answer", 0, 0), AfterRing::Record);
    }
}
