//! The seed's response-target table, cell by cell, at the boundaries docs/contract.md names:
//! Friday 24:00 UTC, the weekend, exactly-at-close, holidays and DST in a non-UTC calendar.
//! 2026-11-27 is a Friday.

use jiff::Timestamp;
use stringer_core::contract::Contract;
use stringer_core::ids::{Severity, Tier};

fn due(contract: &Contract, tier: &str, severity: &str, opened: &str) -> Timestamp {
    let cell = contract.target("response", &Tier::from(tier), &Severity::from(severity)).unwrap();
    contract.due(cell, opened.parse().unwrap())
}

#[test]
fn seed_table_every_cell() {
    let contract = Contract::default_contract();
    // (tier, severity, opened, due, the promise checked)
    let cases = [
        (
            "pro",
            "P1",
            "2026-11-27T22:00:00Z",
            "2026-11-28T02:00:00Z",
            "Pro P1: 4 hours of clock time, covered 24/7, runs into Saturday",
        ),
        (
            "pro",
            "P1",
            "2026-11-28T10:00:00Z",
            "2026-11-28T14:00:00Z",
            "Pro P1 opened on the weekend still gets 4 clock hours",
        ),
        ("pro", "P2", "2026-11-26T10:00:00Z", "2026-11-26T18:00:00Z", "Pro P2: 8 business hours inside the week"),
        (
            "pro",
            "P2",
            "2026-11-27T16:00:00Z",
            "2026-11-30T00:00:00Z",
            "used up exactly at Friday 24:00 → due Monday 00:00, not Saturday 00:00",
        ),
        ("pro", "P2", "2026-11-27T20:00:00Z", "2026-11-30T04:00:00Z", "4 hours before the weekend, 4 after"),
        (
            "pro",
            "P2",
            "2026-11-28T10:00:00Z",
            "2026-11-30T08:00:00Z",
            "opened while closed: counting starts Monday 00:00",
        ),
        ("pro", "P2", "2026-11-27T23:59:59Z", "2026-11-30T07:59:59Z", "one second before the close"),
        ("pro", "P2", "2026-11-28T00:00:00Z", "2026-11-30T08:00:00Z", "opened exactly at Friday 24:00"),
        (
            "pro",
            "P3",
            "2026-11-26T15:00:00Z",
            "2026-11-27T15:00:00Z",
            "Pro P3: 1 business day = 24 business hours, Thursday → Friday",
        ),
        ("pro", "P3", "2026-11-27T15:00:00Z", "2026-11-30T15:00:00Z", "Friday 15:00 → Monday 15:00"),
        ("pro", "P3", "2026-11-28T10:00:00Z", "2026-12-01T00:00:00Z", "Saturday 10:00 → Tuesday 00:00"),
        (
            "pro",
            "P3",
            "2026-11-27T00:00:00Z",
            "2026-11-30T00:00:00Z",
            "Friday 00:00 uses the whole Friday → due at Monday's opening",
        ),
        ("pro", "P4", "2026-11-26T15:00:00Z", "2026-11-30T15:00:00Z", "Pro P4: 2 business days, over the weekend"),
        ("pro", "P4", "2026-11-29T12:00:00Z", "2026-12-02T00:00:00Z", "Sunday → Wednesday 00:00"),
        (
            "pro",
            "P4",
            "2026-11-26T00:00:00Z",
            "2026-11-30T00:00:00Z",
            "Thursday 00:00 + 48 business hours ends at Friday 24:00 → Monday",
        ),
        (
            "enterprise",
            "P1",
            "2026-11-28T23:30:00Z",
            "2026-11-29T00:30:00Z",
            "Enterprise P1: 1 hour, weekends included",
        ),
        (
            "enterprise",
            "P2",
            "2026-11-27T22:00:00Z",
            "2026-11-28T02:00:00Z",
            "Enterprise P2: 4 hours across Friday 24:00",
        ),
        (
            "enterprise",
            "P3",
            "2026-11-27T20:00:00Z",
            "2026-11-28T04:00:00Z",
            "Enterprise P3: 8 business hours on 24/7 coverage are clock hours",
        ),
        (
            "enterprise",
            "P4",
            "2026-11-28T10:00:00Z",
            "2026-11-29T10:00:00Z",
            "Enterprise P4: 1 business day on 24/7 coverage is 24 hours",
        ),
    ];
    for (tier, severity, opened, expected, why) in cases {
        assert_eq!(
            due(&contract, tier, severity, opened),
            expected.parse::<Timestamp>().unwrap(),
            "{tier} {severity} opened {opened}: {why}"
        );
    }
    // Every cell of the table is covered above.
    for tier in ["pro", "enterprise"] {
        for severity in ["P1", "P2", "P3", "P4"] {
            assert!(cases.iter().any(|c| c.0 == tier && c.1 == severity), "no case for {tier} {severity}");
        }
    }
}

#[test]
fn general_inquiries_and_reports_use_the_business_week() {
    let contract = Contract::default_contract();
    let cases = [
        ("2026-11-26T15:00:00Z", "2026-11-27T15:00:00Z"),
        ("2026-11-27T15:00:00Z", "2026-11-30T15:00:00Z"),
        ("2026-11-28T10:00:00Z", "2026-12-01T00:00:00Z"),
    ];
    for (opened, expected) in cases {
        assert_eq!(
            contract.due(&contract.general_inquiry, opened.parse().unwrap()),
            expected.parse::<Timestamp>().unwrap(),
            "inquiry {opened}"
        );
    }
    let report = &contract.post_incident.within;
    let cases = [
        ("2026-11-27T16:00:00Z", "2026-12-04T16:00:00Z", "resolved Friday 16:00 → next Friday 16:00"),
        (
            "2026-11-28T09:00:00Z",
            "2026-12-07T00:00:00Z",
            "resolved Saturday: 5 days from Monday end at Friday 24:00 → next Monday 00:00",
        ),
        ("2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z", "resolved Monday 00:00 → used up at Friday 24:00 → Monday"),
    ];
    for (resolved, expected, why) in cases {
        assert_eq!(contract.due(report, resolved.parse().unwrap()), expected.parse::<Timestamp>().unwrap(), "{why}");
    }
}

#[test]
fn another_vendors_calendar_with_dst_holidays_and_a_closure() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/contracts/berlin-vendor.toml"))
            .unwrap();
    let contract = Contract::from_toml(&text, "berlin-vendor.toml").unwrap();
    // Berlin office: Mon–Thu 09:00–17:00, Fri 09:00–15:00 local time.
    let cases = [
        // Basic S1, 4 business hours.
        (
            "basic",
            "S1",
            "2026-03-27T13:00:00Z",
            "2026-03-30T10:00:00Z",
            "Friday 14:00 CET + 1 h to 15:00, then Monday 09:00 CEST + 3 h = 12:00 CEST (DST began Sunday 29 March)",
        ),
        (
            "basic",
            "S1",
            "2026-10-23T11:00:00Z",
            "2026-10-26T10:00:00Z",
            "Friday 13:00 CEST + 2 h, then Monday 09:00 CET + 2 h = 11:00 CET (DST ended Sunday 25 October)",
        ),
        (
            "basic",
            "S1",
            "2026-12-23T14:00:00Z",
            "2026-12-28T10:00:00Z",
            "Wednesday 15:00 + 2 h, 24–26 Dec closed, Monday 09:00 + 2 h = 11:00 CET",
        ),
        (
            "basic",
            "S1",
            "2026-11-30T09:00:00Z",
            "2026-11-30T15:00:00Z",
            "Monday 10:00 + 3 h to 13:00 all-hands closure, resumes 15:00 + 1 h = 16:00 CET",
        ),
        (
            "basic",
            "S1",
            "2026-11-27T10:00:00Z",
            "2026-11-30T08:00:00Z",
            "Friday 11:00 + 4 h used up exactly at the 15:00 close → due Monday 09:00 CET",
        ),
        // Premium S1 is clock time.
        (
            "premium",
            "S1",
            "2026-12-25T23:50:00Z",
            "2026-12-26T00:20:00Z",
            "Premium S1: 30 clock minutes, holidays do not matter",
        ),
    ];
    for (tier, severity, opened, expected, why) in cases {
        assert_eq!(
            due(&contract, tier, severity, opened),
            expected.parse::<Timestamp>().unwrap(),
            "{tier} {severity} opened {opened}: {why}"
        );
    }
}
