//! The paging desk's decisions over in-memory ports: who may set up whose contact methods
//! (staff their own, admins anyone's; customers are never paged), what each kind of address
//! must be, which notification rules hold, how often a test page goes, and who could be paged
//! but cannot be reached.

use super::*;
use crate::fakes::{Checks, World, account_desk, org, person, uid};
use crate::records::{OrgRecord, ScheduleRecord};
use stringer_core::access::Scopes;
use stringer_core::contract::Contract;
use stringer_core::ids::{OrgSlug, UserRole};
use stringer_core::oncall::{LayerSpec, Override, RotationSpec};

const NOW: &str = "2026-03-02T10:00:00Z";

/// The admin `adm`, the engineers `eng` and `fed`, Acme's member `ann`; Slack confirms that
/// `UENG1` is `eng`; webhooks may not reach `10.0.0.1`.
async fn desk() -> (PagingDesk, Arc<World>) {
    let world = World::new(Contract::default_contract(), NOW.parse().unwrap());
    world.add_org(org("acme", "enterprise")).await;
    world.add_user(person("adm", None, UserRole::Admin));
    world.add_user(person("eng", None, UserRole::Engineer));
    world.add_user(person("fed", None, UserRole::Engineer));
    world.add_user(person("ann", Some("acme"), UserRole::Member));
    let checks =
        Checks { private_hosts: vec!["10.0.0.1".into()], confirmed: vec![("UENG1".into(), "eng@example.com".into())] };
    let ports = PagingPorts { commands: world.clone(), accounts: world.clone(), oncall: world.clone() };
    let outside = PagingOutside {
        checks: Arc::new(checks),
        new_id: std::sync::Arc::new(|prefix| format!("{prefix}_1")),
        new_secret: || "secret".into(),
    };
    (PagingDesk::new(ports, account_desk(&world), outside), world)
}

/// A contact method of `user` with id `id`.
fn method(id: &str, user: &str, kind: MethodKind, address: &str) -> ContactMethodRecord {
    ContactMethodRecord {
        id: id.into(),
        user_id: UserId(uid(user)),
        kind,
        address: address.into(),
        secret: String::new(),
        created_at: 0,
    }
}

/// What a use came to, in words the table can hold.
fn verdict<T>(r: Result<T, PagingError>) -> String {
    match r {
        Ok(_) => "done".into(),
        Err(PagingError::Field { field, message }) => format!("{field}: {message}"),
        Err(PagingError::Account(AccountError::Forbidden(why))) => format!("forbidden: {why}"),
        Err(PagingError::Account(AccountError::NotFound(what))) => format!("no {what}"),
        Err(e) => format!("{e:?}"),
    }
}

#[tokio::test]
async fn a_contact_method_is_added_by_its_owner_or_an_admin_at_a_well_formed_address() {
    use MethodKind::*;
    let cases = [
        // (why, who, for whom, kind, address, what happens)
        ("staff add their own mail", "eng", "eng", Email, "eng@example.com", "done"),
        ("an admin adds anyone's phone", "adm", "eng", Sms, "+14155550100", "done"),
        ("staff may not add another's", "eng", "fed", Email, "fed@example.com", "no user"),
        ("a customer is never paged", "ann", "ann", Email, "ann@example.com", "forbidden: this is for staff"),
        ("not even by an admin", "adm", "ann", Email, "ann@example.com", "no user"),
        (
            "a mail address needs its @",
            "eng",
            "eng",
            Email,
            "eng.example.com",
            "address: an email address such as eve@example.com",
        ),
        (
            "a phone number is E.164",
            "eng",
            "eng",
            Voice,
            "415-555-0100",
            "address: an E.164 phone number such as +14155550100",
        ),
        (
            "a webhook is an http(s) URL",
            "eng",
            "eng",
            Webhook,
            "ftp://hooks.example.com",
            "address: an http(s) URL with a host",
        ),
        (
            "a webhook reaches no private address",
            "eng",
            "eng",
            Webhook,
            "http://10.0.0.1/hook",
            "address: 10.0.0.1 is a private address",
        ),
        ("a public webhook", "eng", "eng", Webhook, "https://hooks.example.com/page", "done"),
        ("a Slack member Slack confirms is the user", "eng", "eng", Slack, "UENG1", "done"),
        (
            "a Slack member Slack does not confirm",
            "eng",
            "eng",
            Slack,
            "UOTHER1",
            "address: Slack does not confirm that this member's email is the user's; an admin can link it",
        ),
        ("an admin links one Slack does not confirm", "adm", "eng", Slack, "UOTHER1", "done"),
        ("a Slack member ID has its shape", "eng", "eng", Slack, "eng", "address: a Slack member ID such as U024BE7LH"),
    ];
    for (why, by, whose, kind, address, expected) in cases {
        let (desk, world) = desk().await;
        assert_eq!(
            verdict(desk.add_method(&world.signed_in(by, Scopes::READ_WRITE), &uid(whose), kind, address).await),
            expected,
            "{why}"
        );
        let stored: Vec<String> =
            world.methods.lock().unwrap().iter().map(|m| format!("{}:{}", m.user_id, m.address)).collect();
        let added = if expected == "done" { vec![format!("{}:{address}", uid(whose))] } else { vec![] };
        assert_eq!(stored, added, "{why}");
    }
}

#[tokio::test]
async fn a_console_method_shows_on_the_persons_own_pages() {
    let (desk, world) = desk().await;
    let added = desk
        .add_method(&world.signed_in("eng", Scopes::READ_WRITE), &uid("eng"), MethodKind::Console, "anything")
        .await
        .unwrap();
    assert_eq!(added.address, CONSOLE_ADDRESS);
}

#[tokio::test]
async fn notification_rules_name_the_persons_own_methods_within_a_day() {
    let m = |id: &str, after: i64| (id.to_string(), after);
    let many: Vec<(String, i64)> = (0..=MAX_RULES as i64).map(|i| m("m1", i)).collect();
    let cases = [
        // (why, rules, what happens, the rules after: method at seconds)
        ("two methods, soonest first", vec![m("m2", 300), m("m1", 0)], "done", vec!["m1@0", "m2@300"]),
        ("a whole day is the latest", vec![m("m1", MAX_RULE_SECONDS)], "done", vec!["m1@86400"]),
        ("longer than a day", vec![m("m1", MAX_RULE_SECONDS + 1)], "after_seconds: 0 to 86400", vec!["m1@60"]),
        ("before the page", vec![m("m1", -1)], "after_seconds: 0 to 86400", vec!["m1@60"]),
        (
            "another person's method",
            vec![m("m3", 0)],
            "method_id: \"m3\" is not one of this user's contact methods",
            vec!["m1@60"],
        ),
        (
            "a method that does not exist",
            vec![m("m9", 0)],
            "method_id: \"m9\" is not one of this user's contact methods",
            vec!["m1@60"],
        ),
        ("more than twenty", many, "rules: at most 20", vec!["m1@60"]),
        ("none: every method at once", vec![], "done", vec![]),
    ];
    for (why, rules, expected, after) in cases {
        let (desk, world) = desk().await;
        world.methods.lock().unwrap().extend([
            method("m1", "eng", MethodKind::Email, "eng@example.com"),
            method("m2", "eng", MethodKind::Sms, "+14155550100"),
            method("m3", "fed", MethodKind::Email, "fed@example.com"),
        ]);
        let eng = world.signed_in("eng", Scopes::READ_WRITE);
        desk.set_rules(&eng, &uid("eng"), &[m("m1", 60)]).await.unwrap();
        assert_eq!(verdict(desk.set_rules(&eng, &uid("eng"), &rules).await), expected, "{why}");
        let stored: Vec<String> = desk
            .rules(&eng, &uid("eng"))
            .await
            .unwrap()
            .iter()
            .map(|r| format!("{}@{}", r.method_id, r.after_seconds))
            .collect();
        assert_eq!(stored, after, "{why}");
    }
}

#[tokio::test]
async fn a_rule_goes_with_its_method_and_an_unknown_one_is_not_found() {
    let (desk, world) = desk().await;
    world.methods.lock().unwrap().push(method("m1", "eng", MethodKind::Email, "eng@example.com"));
    let eng = world.signed_in("eng", Scopes::READ_WRITE);
    desk.add_rule(&eng, &uid("eng"), "m1", 0).await.unwrap();
    assert_eq!(verdict(desk.remove_rule(&eng, &uid("eng"), "nr_none").await), "no notification rule");
    assert_eq!(verdict(desk.remove_method(&eng, &uid("eng"), "m9").await), "no contact method");
    assert_eq!(
        verdict(desk.remove_method(&world.signed_in("fed", Scopes::READ_WRITE), &uid("eng"), "m1").await),
        "no user"
    );
    desk.remove_method(&eng, &uid("eng"), "m1").await.unwrap();
    assert!(desk.rules(&eng, &uid("eng")).await.unwrap().is_empty(), "the method's rules went with it");
}

#[tokio::test]
async fn a_test_page_goes_once_a_minute_per_method() {
    let (desk, world) = desk().await;
    world.methods.lock().unwrap().push(method("m1", "eng", MethodKind::Email, "eng@example.com"));
    let eng = world.signed_in("eng", Scopes::READ_WRITE);
    assert!(desk.send_test(&eng, &uid("eng"), "m1").await.unwrap(), "the first goes");
    assert!(!desk.send_test(&eng, &uid("eng"), "m1").await.unwrap(), "not a second in the same minute");
    world.desk.clock().set("2026-03-02T10:01:00Z".parse().unwrap());
    assert!(desk.send_test(&eng, &uid("eng"), "m1").await.unwrap(), "the next minute's goes");
    assert_eq!(verdict(desk.send_test(&eng, &uid("eng"), "m9").await), "no contact method");
    assert_eq!(
        verdict(desk.send_test(&world.signed_in("fed", Scopes::READ_WRITE), &uid("eng"), "m1").await),
        "no user"
    );
    let tests = world.tests.lock().unwrap().clone();
    assert_eq!(tests.len(), 2);
    assert!(tests.iter().all(|t| t.method_id == "m1" && t.user_id.as_str() == uid("eng")));
}

#[tokio::test]
async fn who_could_be_paged_but_cannot_be_reached_is_listed_for_who_may_see_their_methods() {
    let (desk, world) = desk().await;
    let at = |s: &str| -> jiff::Timestamp { s.parse().unwrap() };
    for (name, role) in [("sre", UserRole::Engineer), ("past", UserRole::Engineer), ("tam", UserRole::Tam)] {
        world.add_user(person(name, None, role));
    }
    world.add_user(UserRecord { deactivated_at: Some(1), ..person("dead", None, UserRole::Engineer) });
    world.orgs.lock().unwrap()[0] = OrgRecord { tam: Some(UserId(uid("tam"))), ..org("acme", "enterprise") };
    let rotation = RotationSpec {
        name: "primary".into(),
        time_zone: "UTC".into(),
        members: vec![uid("eng"), uid("fed"), uid("dead")],
        shift_days: 7,
        handoff: "09:00".into(),
        start: "2026-03-02".into(),
    };
    let ovr = |id: &str, user: &str, from: &str, to: &str| Override {
        id: id.into(),
        from: at(from),
        to: at(to),
        user: uid(user),
    };
    let spec = ScheduleSpec {
        name: "Platform".into(),
        layers: vec![LayerSpec { rotation, restriction: None }],
        overrides: vec![
            ovr("o1", "sre", "2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"),
            ovr("o2", "past", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"),
        ],
    };
    world.schedules.lock().unwrap().push(ScheduleRecord {
        id: "sch_1".into(),
        name: "Platform".into(),
        org: Some(OrgSlug::from("acme")),
        spec,
        ics_secret_hash: String::new(),
        version: 1,
        created_at: 0,
    });
    world.methods.lock().unwrap().extend([
        method("m-eng", "eng", MethodKind::Email, "eng@example.com"),
        method("m-fed", "fed", MethodKind::Sms, "+14155550101"),
        method("m-sre", "sre", MethodKind::Sms, "+14155550102"),
    ]);
    let outcome = |id: &str, sent: bool| MethodOutcome {
        method_id: id.into(),
        sent,
        at: 0,
        retrying: false,
        error: (!sent).then(|| "unknown number".into()),
    };
    world.outcomes.lock().unwrap().extend([outcome("m-fed", false), outcome("m-sre", true)]);
    let cases = [
        // (why, who asks, who is listed and why)
        (
            "an admin: everyone pageable and unreachable; not the deactivated, nor an override over",
            "adm",
            vec![
                "fed: every contact method failed last time (sms +14155550101: unknown number)",
                "tam: has no contact method",
            ],
        ),
        (
            "an engineer: only themself",
            "fed",
            vec!["fed: every contact method failed last time (sms +14155550101: unknown number)"],
        ),
        ("an engineer who can be reached: nobody", "eng", vec![]),
    ];
    for (why, id, expected) in cases {
        let listed: Vec<String> = desk
            .unreachable(&world.signed_in(id, Scopes::READ_WRITE))
            .await
            .unwrap()
            .into_iter()
            .map(|r| format!("{}: {}", r.user.name, r.why))
            .collect();
        assert_eq!(listed, expected, "{why}");
    }
}
