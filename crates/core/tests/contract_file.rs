//! `Contract::from_toml`: the default loads, and every kind of mistake is reported with file,
//! line, column and key path — never a panic, whatever the input.

use proptest::prelude::*;
use stringer_core::contract::{Contract, DEFAULT_CONTRACT};

fn problems(text: &str) -> Vec<String> {
    Contract::from_toml(text, "c.toml")
        .expect_err("should be rejected")
        .diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect()
}

fn edit(from: &str, to: &str) -> String {
    assert!(DEFAULT_CONTRACT.contains(from), "fixture text {from:?} not in the default contract");
    DEFAULT_CONTRACT.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

#[test]
fn the_default_contract_holds_the_seed_numbers() {
    let c = Contract::default_contract();
    let cells: Vec<String> =
        c.targets["response"].tiers.values().flat_map(|row| row.values().map(|t| t.within.to_string())).collect();
    assert_eq!(
        cells,
        [
            "4 hours",
            "8 business hours",
            "1 business day",
            "2 business days",
            "1 hour",
            "4 hours",
            "8 business hours",
            "1 business day"
        ]
    );
    let steps: Vec<(String, i64)> =
        c.escalation["enterprise"].steps.iter().map(|s| (s.notify.as_str().to_string(), s.after.seconds)).collect();
    assert_eq!(steps, [("oncall".into(), 0), ("tam".into(), 900), ("vp_engineering".into(), 1800)]);
    assert_eq!(c.escalation["pro"].customer_page.opens_after.seconds, 1800);
    assert_eq!(c.post_incident.within.within.seconds, 5 * 86_400);
}

#[test]
fn mistakes_are_located_and_named() {
    // (the edit, expected fragments of the one diagnostic, the text whose line is reported)
    let cases: Vec<(String, Vec<&str>, &str)> = vec![
        (
            edit("pause_while_waiting = false", "pause_while_waiting = false\ncolour = \"red\""),
            vec!["unknown field `colour`", "targets.response"],
            "colour",
        ),
        (
            edit("P3 = { within = \"1 business day\", calendar = \"pro_coverage\" }\n", ""),
            vec!["targets.response.tiers.pro", "missing the P3 cell of tier pro"],
            "[targets.response.tiers.pro]",
        ),
        (
            edit(
                "from = \"00:00\", to = \"24:00\" }]\n\n[calendars.enterprise_coverage]",
                "from = \"00:00\", to = \"24:00\" }, { days = [\"fri\"], from = \"20:00\", to = \"22:00\" }]\n\n[calendars.enterprise_coverage]",
            ),
            vec!["calendars.pro_coverage.windows.1", "windows 0 and 1 overlap"],
            "{ days = [\"fri\"]",
        ),
        (
            edit("time_zone = \"UTC\"", "time_zone = \"Mars/Olympus\""),
            vec!["calendars.pro_coverage.time_zone", "unknown time zone \"Mars/Olympus\""],
            "Mars/Olympus",
        ),
        (
            edit(
                "P2 = { within = \"8 business hours\", calendar = \"pro_coverage\" }",
                "P2 = { within = \"0 business hours\", calendar = \"pro_coverage\" }",
            ),
            vec!["targets.response.tiers.pro.P2.within", "longer than zero"],
            "0 business hours",
        ),
        (
            edit(
                "P2 = { within = \"8 business hours\", calendar = \"pro_coverage\" }",
                "P2 = { within = \"-8 business hours\", calendar = \"pro_coverage\" }",
            ),
            vec!["targets.response.tiers.pro.P2.within", "negative"],
            "-8 business hours",
        ),
        (
            edit(
                "P2 = { within = \"8 business hours\", calendar = \"pro_coverage\" }",
                "P2 = { within = \"8 business hours\", calendar = \"pro_hours\" }",
            ),
            vec!["targets.response.tiers.pro.P2.calendar", "unknown calendar \"pro_hours\""],
            "pro_hours",
        ),
        (
            edit(
                "P2 = { within = \"8 business hours\", calendar = \"pro_coverage\" }",
                "P2 = { within = \"8 business hours\" }",
            ),
            vec!["targets.response.tiers.pro.P2.within", "business time needs a calendar"],
            "P2 = { within = \"8 business hours\" }",
        ),
        (
            edit("{ notify = \"tam\", after = \"15 minutes\"", "{ notify = \"tam\", after = \"15 business minutes\""),
            vec!["escalation.enterprise.steps.1.after", "clock time"],
            "15 business minutes",
        ),
        (
            edit("{ notify = \"tam\"", "{ notify = \"cfo\""),
            vec!["escalation.enterprise.steps", "unknown variant `cfo`"],
            "cfo",
        ),
        (
            edit("page_on_open = [\"P1\", \"P2\"]", "page_on_open = [\"P1\", \"P5\"]"),
            vec!["escalation.enterprise.page_on_open", "unknown severity \"P5\""],
            "page_on_open = [\"P1\", \"P5\"]",
        ),
        (
            edit(
                "windows = [{ days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"], from = \"00:00\", to = \"24:00\" }]",
                "windows = [{ days = [\"mon\"], from = \"18:00\", to = \"08:00\" }]",
            ),
            vec!["calendars.pro_coverage.windows.0.to", "overnight"],
            "to = \"08:00\"",
        ),
        (
            edit("within_target = \"response\"", "within_target = \"resolution\""),
            vec!["security.bridge.within_target", "unknown target \"resolution\""],
            "within_target",
        ),
        (
            edit("[escalation.pro]", "[escalation.gold]"),
            vec!["escalation.gold", "unknown tier \"gold\""],
            "[escalation.gold]",
        ),
        (
            edit("tiers = [\"enterprise\"]\nsend_to", "tiers = [\"platinum\"]\nsend_to"),
            vec!["reports.quarterly_review.tiers", "unknown tier \"platinum\""],
            "tiers = [\"platinum\"]",
        ),
        (
            edit("send_to = [\"tam\", \"org_admins\"]", "send_to = []"),
            vec!["reports.quarterly_review.send_to", "name who gets the review"],
            "send_to = []",
        ),
        (
            edit("send_to = [\"tam\", \"org_admins\"]", "send_to = [\"ceo\"]"),
            vec!["reports.quarterly_review.send_to", "unknown variant `ceo`"],
            "send_to = [\"ceo\"]",
        ),
        (
            edit("name = \"Stringer support\"", "name = \"Stringer support"),
            vec!["c.toml:"],
            "name = \"Stringer support",
        ),
    ];
    for (text, fragments, located) in cases {
        let got = problems(&text);
        let first = got.first().cloned().unwrap_or_default();
        for f in &fragments {
            assert!(got.iter().any(|g| g.contains(f)), "expected {f:?} in {got:#?}");
        }
        let line = line_of(&text, located);
        assert!(first.starts_with(&format!("c.toml:{line}:")), "expected line {line} for {fragments:?}, got {first}");
    }
}

#[test]
fn several_problems_are_all_reported_in_file_order() {
    let text = edit("P1 = { within = \"4 hours\" }", "P1 = { within = \"4 fortnights\" }").replacen(
        "to = \"24:00\" }]",
        "to = \"25:00\" }]",
        1,
    );
    let got = problems(&text);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(
        got[0].contains("calendars.pro_coverage.windows.0.to")
            && got[1].contains("targets.response.tiers.pro.P1.within"),
        "{got:#?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Any text: an answer, never a panic.
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = Contract::from_toml(&text, "fuzz.toml");
    }

    /// The default contract with a slice cut out or a byte replaced: an answer, never a panic,
    /// and any diagnostic points inside the file.
    #[test]
    fn mutated_default_never_panics(at in 0usize..DEFAULT_CONTRACT.len(), len in 0usize..40, byte in 32u8..127) {
        let mut bytes = DEFAULT_CONTRACT.as_bytes().to_vec();
        let end = (at + len).min(bytes.len());
        if len % 2 == 0 { bytes.drain(at..end); } else { bytes[at] = byte; }
        if let Ok(text) = String::from_utf8(bytes)
            && let Err(e) = Contract::from_toml(&text, "fuzz.toml")
        {
            let lines = text.lines().count() + 1;
            prop_assert!(!e.diagnostics.is_empty());
            prop_assert!(e.diagnostics.iter().all(|d| d.line >= 1 && d.line <= lines && d.column >= 1));
        }
    }
}
