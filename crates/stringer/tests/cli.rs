//! Black-box tests of the `stringer` binary: `contract show|check`, `sla due`, `simulate`, `verify`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stringer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(args)
        .current_dir(repo())
        .env_remove("STRINGER_CONTRACT")
        .env_remove("STRINGER_CONFIG")
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = stringer(args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let out = stringer(args);
    assert!(!out.status.success(), "{args:?} should fail");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout on failure: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stringer-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn sla_due_answers_with_one_json_object() {
    // (tier, severity, opened, due, calendar, target)
    let cases = [
        ("pro", "P2", "2026-11-27T20:00:00Z", "2026-11-30T04:00:00Z", "pro_coverage", "8 business hours"),
        ("pro", "P2", "2026-11-27T16:00:00Z", "2026-11-30T00:00:00Z", "pro_coverage", "8 business hours"),
        ("pro", "P1", "2026-11-28T10:00:00Z", "2026-11-28T14:00:00Z", "clock", "4 hours"),
        ("pro", "P3", "2026-11-28T10:00:00Z", "2026-12-01T00:00:00Z", "pro_coverage", "1 business day"),
        (
            "enterprise",
            "P4",
            "2026-11-28T10:00:00+02:00",
            "2026-11-29T08:00:00Z",
            "enterprise_coverage",
            "1 business day",
        ),
        ("enterprise", "P1", "2026-11-27T20:00:00.750Z", "2026-11-27T21:00:00Z", "clock", "1 hour"),
    ];
    for (tier, severity, opened, due, calendar, target) in cases {
        let out = ok(&["sla", "due", "--tier", tier, "--severity", severity, "--opened", opened]);
        assert_eq!(out.lines().count(), 1, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["due"], due, "{tier} {severity} {opened}");
        assert_eq!(v["calendar"], calendar);
        assert_eq!(v["target"], target);
    }
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["sla", "due", "--general-inquiry", "--opened", "2026-11-27T15:00:00Z"])).unwrap();
    assert_eq!(v["due"], "2026-11-30T15:00:00Z");
}

#[test]
fn sla_due_explains_bad_input() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["sla", "due", "--tier", "gold", "--severity", "P2", "--opened", "2026-11-27T20:00:00Z"],
            "valid tiers: pro, enterprise",
        ),
        (
            &["sla", "due", "--tier", "pro", "--severity", "P9", "--opened", "2026-11-27T20:00:00Z"],
            "valid severities: P1, P2, P3, P4",
        ),
        (&["sla", "due", "--tier", "pro", "--severity", "P2", "--opened", "next tuesday"], "RFC 3339"),
        (&["sla", "due", "--tier", "pro", "--severity", "P2", "--opened", "2026-11-27T20:00:00"], "RFC 3339"),
        (&["sla", "due", "--tier", "pro", "--severity", "P2", "--opened", "2400-01-01T00:00:00Z"], "1900–2199"),
        (&["sla", "due", "--tier", "pro", "--opened", "2026-11-27T20:00:00Z"], "--severity"),
        (
            &[
                "sla",
                "due",
                "--tier",
                "pro",
                "--severity",
                "P2",
                "--opened",
                "2026-11-27T20:00:00Z",
                "--contract",
                "/nonexistent.toml",
            ],
            "cannot read /nonexistent.toml",
        ),
    ];
    for (args, fragment) in cases {
        let err = fails(args);
        assert!(err.contains(fragment), "{args:?}: {fragment:?} not in {err}");
    }
}

#[test]
fn contract_show_prints_the_support_page_table() {
    let text = ok(&["contract", "show"]);
    for row in [
        "P1 — Critical  Production outage or compliance-impacting issue  4 hours           1 hour",
        "P2 — High      Major feature impairment, no full outage         8 business hours  4 hours",
        "P3 — Normal    Minor feature impairment, workaround exists      1 business day    8 business hours",
        "P4 — Low       Question, feature request, documentation         2 business days   1 business day",
        "page the TAM after 15 minutes unacknowledged",
        "page the VP of Engineering after 30 minutes unacknowledged (for P1)",
        "the customer may page on-call for P1 tickets 30 minutes after opening, while unacknowledged",
        "Every security incident is opened as P1, whatever severity is asked for.",
    ] {
        assert!(text.contains(row), "missing {row:?} in\n{text}");
    }
    let json: serde_json::Value = serde_json::from_str(&ok(&["contract", "show", "--format", "json"])).unwrap();
    assert_eq!(json["targets"]["response"]["tiers"]["pro"]["P2"]["within"], "8 business hours");
    assert_eq!(json["targets"]["response"]["tiers"]["pro"]["P2"]["calendar"], "pro_coverage");
    assert_eq!(json["escalation"]["enterprise"]["steps"][1]["after"], "15 minutes");
    let toml = ok(&["contract", "show", "--format", "toml"]);
    assert_eq!(toml, stringer_core_default());
}

fn stringer_core_default() -> String {
    std::fs::read_to_string(repo().join("crates/core/src/contract/default.toml")).unwrap()
}

#[test]
fn another_contract_replaces_the_default_by_flag_env_or_config() {
    let berlin = "examples/contracts/berlin-vendor.toml";
    let args = ["sla", "due", "--tier", "basic", "--severity", "S1", "--opened", "2026-11-27T10:00:00Z"];
    let expected = "2026-11-30T08:00:00Z";
    let mut with_flag = args.to_vec();
    with_flag.extend(["--contract", berlin]);
    let v: serde_json::Value = serde_json::from_str(&ok(&with_flag)).unwrap();
    assert_eq!(v["due"], expected);
    let out = Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(args)
        .current_dir(repo())
        .env("STRINGER_CONTRACT", berlin)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["due"], expected);
    let config = temp_file("stringer.toml", &format!("contract = \"{}\"\n", repo().join(berlin).display()));
    let mut with_config = args.to_vec();
    with_config.extend(["--config", config.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&ok(&with_config)).unwrap();
    assert_eq!(v["due"], expected);
    assert!(fails(&args).contains("valid tiers: pro, enterprise"), "the default has no basic tier");
}

#[test]
fn contract_check_names_file_line_column_and_key_path() {
    assert!(ok(&["contract", "check", "examples/contracts/berlin-vendor.toml"]).contains("ok"));
    let broken = stringer_core_default().replace(
        "P2 = { within = \"8 business hours\", calendar = \"pro_coverage\" }",
        "P2 = { within = \"8 business hours\", calendar = \"nine_to_five\" }",
    );
    let path = temp_file("broken.toml", &broken);
    let err = fails(&["contract", "check", path.to_str().unwrap()]);
    let line = broken.lines().position(|l| l.contains("nine_to_five")).unwrap() + 1;
    assert!(err.contains(&format!("{}:{line}:", path.display())), "{err}");
    assert!(err.contains("targets.response.tiers.pro.P2.calendar: unknown calendar \"nine_to_five\""), "{err}");
    for garbage in ["\u{0}\u{1}binary", "[[[", "", "contract = 5"] {
        let path = temp_file("garbage.toml", garbage);
        let err = fails(&["contract", "check", path.to_str().unwrap()]);
        assert!(err.contains(&format!("{}:", path.display())), "{err}");
    }
    let err = fails(&["contract", "check", "crates"]);
    assert!(err.contains("not a file"), "{err}");
}

#[test]
fn examples_simulate_as_documented() {
    let mut names: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    names.sort();
    assert!(names.len() >= 7, "an example per escalation path");
    for path in names {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let out = ok(&["simulate", path.to_str().unwrap()]);
        insta::assert_snapshot!(name, out);
    }
}

#[test]
fn simulate_until_stops_the_clock() {
    let out = ok(&["simulate", "examples/enterprise-p1-unacknowledged.jsonl", "--until", "2026-11-27T20:20:00Z"]);
    let kinds: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["role"].as_str().unwrap_or("-").to_string())
        .collect();
    assert_eq!(kinds, ["oncall", "tam"]);
}

#[test]
fn simulate_refuses_bad_scenarios_and_simulates_nothing() {
    let org = "{\"kind\":\"org\",\"org\":\"acme\",\"tier\":\"enterprise\"}\n";
    let open = "{\"at\":\"2026-11-27T20:00:00Z\",\"kind\":\"ticket.opened\",\"ticket\":\"T1\",\"org\":\"acme\",\"severity\":\"P1\"}\n";
    let cases = [
        (format!("{org}{open}{{\"at\":\"2026-11-27T20:01:00Z\"\n"), ":3: not a JSON object"),
        (
            format!("{org}{open}{}", open.replace("T20:00", "T19:00").replace("\"T1\"", "\"T2\"")),
            ":3: event at 2026-11-27T19:00:00Z is earlier",
        ),
        (format!("{org}{}", open.replace("acme", "zeta")), ":2: unknown org zeta"),
        (
            format!("{org}{open}{{\"at\":\"2026-11-27T20:01:00Z\",\"kind\":\"ticket.resolved\",\"ticket\":\"T7\"}}\n"),
            ":3: unknown ticket T7",
        ),
        (
            format!(
                "{org}{open}{{\"at\":\"2026-11-27T20:01:00Z\",\"kind\":\"ticket.resolved\",\"ticket\":\"T1\"}}\n{{\"at\":\"2026-11-27T20:02:00Z\",\"kind\":\"ticket.resolved\",\"ticket\":\"T1\"}}\n"
            ),
            ":4: cannot resolve a resolved ticket",
        ),
    ];
    for (text, fragment) in cases {
        let path = temp_file("bad.jsonl", &text);
        let err = fails(&["simulate", path.to_str().unwrap()]);
        assert!(err.contains(fragment), "{fragment:?} not in {err}");
    }
    assert!(fails(&["simulate", "/nonexistent.jsonl"]).contains("cannot read"));
    assert!(fails(&["simulate", "examples/pro-queue-weekend.jsonl", "--until", "soon"]).contains("RFC 3339"));
}

#[test]
fn admin_init_uses_the_configured_data_dir_once() {
    let dir = std::env::temp_dir().join(format!("stringer-admin-{}", std::process::id()));
    // Process ids wrap: an earlier run's database under this name would make the first init fail.
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    let config = temp_file("admin.toml", &format!("data_dir = \"{}\"\nlisten = \"127.0.0.1:0\"\n", data.display()));
    let first = ok(&["admin", "init", "--config", config.to_str().unwrap(), "--email", "root@example.com"]);
    assert!(first.contains("created admin root@example.com") && first.contains("token (shown once): stg_"), "{first}");
    assert!(data.join("stringer.db").is_file(), "the database went to the configured data_dir");
    let again = fails(&["admin", "init", "--config", config.to_str().unwrap()]);
    assert!(again.contains("users exist already"), "{again}");
    // A flag overrides the config file: another directory, another database.
    let other = dir.join("other");
    ok(&["admin", "init", "--config", config.to_str().unwrap(), "--data-dir", other.to_str().unwrap()]);
    assert!(other.join("stringer.db").is_file());
    let bad = temp_file("bad-config.toml", "listen = 8080\ncolour = \"red\"\n");
    assert!(fails(&["admin", "init", "--config", bad.to_str().unwrap()]).contains("invalid config file"));
}

/// A reader that goes away ends a printing command quietly: no panic about a broken pipe,
/// killed by SIGPIPE (or done) as Unix tools are.
#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stringer"))
        .args(["contract", "show"])
        .env_remove("STRINGER_CONTRACT")
        .env_remove("STRINGER_CONFIG")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success() || out.status.signal() == Some(libc::SIGPIPE), "{:?}: {stderr}", out.status);
}

/// `stringer verify` gives every bundle of the ledger's published vectors (docs/ledger-vectors.json:
/// a customer's bundle, later bundles against earlier ones, an instant edited, an entry
/// deleted, two entries swapped, history rewritten under a new key, a float, a key not
/// pinned) the verdict the specification gives it: exit 0 with what was proved, or exit 1
/// naming the first failing event with the documented words. An input it cannot use exits 2.
#[test]
fn verify_gives_each_published_bundle_its_documented_verdict() {
    let text = std::fs::read_to_string(repo().join("docs/ledger-vectors.json")).unwrap();
    let vectors: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = vectors["bundles"].as_array().unwrap();
    assert!(cases.len() >= 8, "{} cases", cases.len());
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().unwrap();
        let bundle = temp_file(&format!("bundle-{i}.json"), &case["bundle"].to_string());
        let mut args = vec!["verify".to_string(), bundle.display().to_string()];
        if let Some(key) = case["key"].as_str() {
            args.extend(["--key".to_string(), key.to_string()]);
        }
        if !case["previous"].is_null() {
            let previous = temp_file(&format!("previous-{i}.json"), &case["previous"].to_string());
            args.extend(["--previous-head".to_string(), previous.display().to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = stringer(&args);
        let stdout = String::from_utf8(out.stdout).unwrap();
        match case["error"].as_str() {
            None => {
                assert_eq!(out.status.code(), Some(0), "{name}: {stdout}");
                assert!(stdout.starts_with("verified: "), "{name}: {stdout}");
                let pinned = case["key"].is_string();
                assert_eq!(stdout.contains("(pinned)"), pinned, "{name}: {stdout}");
            }
            Some(error) => {
                assert_eq!(out.status.code(), Some(1), "{name}: {stdout}");
                assert_eq!(stdout, format!("refused: {error}\n"), "{name}");
            }
        }
    }
    let good = temp_file("good.json", &cases[0]["bundle"].to_string());
    let good = good.to_str().unwrap();
    for (args, says) in [
        (vec!["verify", "/nonexistent.json"], "cannot read /nonexistent.json"),
        (vec!["verify", temp_file("junk.json", "{").to_str().unwrap()], "not a bundle"),
        (vec!["verify", good, "--key", "ed25519:short"], "--key"),
        (vec!["verify", good, "--previous-head", temp_file("p.json", "[]").to_str().unwrap()], "not a bundle"),
    ] {
        let out = stringer(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
