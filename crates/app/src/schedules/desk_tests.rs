//! The schedule desk's decisions over in-memory ports: who may see and manage which
//! schedules (customers do not know schedules exist; a federal org's only for the cleared),
//! who may be put on call, what an override may not overlap, a change made meanwhile, and
//! — as a property — that the final timeline puts exactly one person on call at each covered
//! instant: an override where one runs, else the highest layer that applies.

use super::*;
use crate::fakes::{World, account_desk, org, user};
use crate::records::UserRecord;
use proptest::prelude::*;
use stringer_core::access::{Scope, Scopes};
use stringer_core::contract::Contract;
use stringer_core::ids::{Deployment, UserRole};
use stringer_core::oncall::{RotationSpec, Source};

/// The people a table puts on call.
type Members<'a> = &'a [&'a str];

/// A creation in a table: why, who, their scopes, the org, the name, the members, what happens.
type Creation<'a> = (&'a str, &'a str, Scopes, Option<&'a str>, &'a str, Members<'a>, &'a str);

/// A valid schedule id (`sch_` and 26 base-32 characters).
const ID: &str = "sch_01J0000000000000000000000A";

/// Acme (shared) and Fedco (federal); the support lead `lea`, the admin `adm` (cleared for
/// federal), the engineers `eng` and `fed` (cleared), Acme's member `ann` and admin `ada`.
async fn desk() -> (ScheduleDesk, Arc<World>) {
    let world = World::new(Contract::default_contract(), "2026-03-02T10:00:00Z".parse().unwrap());
    world.add_org(org("acme", "enterprise")).await;
    world.add_org(OrgRecord { deployment: Deployment::Federal, ..org("fedco", "enterprise") }).await;
    let cleared = |u: UserRecord| UserRecord { federal_cleared: true, ..u };
    world.add_user(user("lea", None, UserRole::SupportLead));
    world.add_user(cleared(user("adm", None, UserRole::Admin)));
    world.add_user(user("eng", None, UserRole::Engineer));
    world.add_user(cleared(user("fed", None, UserRole::Engineer)));
    world.add_user(user("ann", Some("acme"), UserRole::Member));
    world.add_user(user("ada", Some("acme"), UserRole::OrgAdmin));
    let ports = SchedulePorts { commands: world.clone(), accounts: world.clone(), oncall: world.clone() };
    let desk = ScheduleDesk::new(ports, account_desk(&world), std::sync::Arc::new(|_| ID.to_string()), || {
        "feed-secret".into()
    });
    (desk, world)
}

fn rotation(members: &[&str], shift_days: u32, handoff: &str) -> RotationSpec {
    RotationSpec {
        name: "primary".into(),
        time_zone: "UTC".into(),
        members: members.iter().map(|m| m.to_string()).collect(),
        shift_days,
        handoff: handoff.into(),
        start: "2026-03-02".into(),
    }
}

fn layer(members: &[&str]) -> LayerSpec {
    LayerSpec { rotation: rotation(members, 7, "09:00"), restriction: None }
}

/// What a use came to, in words the table can hold.
fn verdict<T>(r: Result<T, ScheduleError>) -> String {
    match r {
        Ok(_) => "done".into(),
        Err(ScheduleError::Spec(e)) => format!("spec: {e}"),
        Err(ScheduleError::Account(AccountError::Forbidden(why))) => format!("forbidden: {why}"),
        Err(ScheduleError::Account(AccountError::Invalid(why))) => format!("invalid: {why}"),
        Err(ScheduleError::Account(AccountError::NotFound(what))) => format!("no {what}"),
        Err(ScheduleError::Account(AccountError::Malformed(why))) => format!("malformed: {why}"),
        Err(ScheduleError::Account(AccountError::Conflict(why))) => format!("conflict: {why}"),
        Err(e) => format!("{e:?}"),
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[tokio::test]
async fn a_schedule_is_created_by_who_may_manage_its_org_with_staff_who_may_serve_it() {
    let rw = Scopes::READ_WRITE;
    let ro = Scopes::of(&[Scope::Read]);
    let cases: &[Creation] = &[
        // (why, who, scopes, org, name, members, what happens)
        ("a support lead, platform-wide", "lea", rw, None, "Platform", &["eng"], "done"),
        ("a support lead, for an org they see", "lea", rw, Some("acme"), "Acme", &["eng"], "done"),
        (
            "a read-only credential",
            "lea",
            ro,
            None,
            "Platform",
            &["eng"],
            "forbidden: this credential lacks the \"write\" scope",
        ),
        (
            "an engineer does not manage schedules",
            "eng",
            rw,
            None,
            "Platform",
            &["eng"],
            "forbidden: admins and support leads manage schedules",
        ),
        (
            "nor does a customer admin, even for their org",
            "ada",
            rw,
            Some("acme"),
            "Acme",
            &["eng"],
            "forbidden: admins and support leads manage schedules",
        ),
        (
            "a federal org is unknown to who is not cleared",
            "lea",
            rw,
            Some("fedco"),
            "Fedco",
            &["fed"],
            "invalid: unknown org \"fedco\"",
        ),
        ("a cleared admin, for a federal org", "adm", rw, Some("fedco"), "Fedco", &["fed"], "done"),
        (
            "only the cleared serve a federal org",
            "adm",
            rw,
            Some("fedco"),
            "Fedco",
            &["fed", "eng"],
            "invalid: eng (eng) cannot serve fedco: only staff cleared for federal serve a federal org",
        ),
        (
            "a customer is put on call by nobody",
            "lea",
            rw,
            None,
            "Platform",
            &["ann"],
            "invalid: \"ann\" is not a staff user",
        ),
        ("nor an unknown user", "lea", rw, None, "Platform", &["ghost"], "invalid: \"ghost\" is not a staff user"),
        ("an org that does not exist", "lea", rw, Some("nope"), "Nope", &["eng"], "invalid: unknown org \"nope\""),
        ("a name is needed", "lea", rw, None, " ", &["eng"], "invalid: name: 1 to 100 characters"),
        ("a rotation needs someone", "lea", rw, None, "Platform", &[], "spec: layers.0.rotation.members: "),
    ];
    for (why, id, scopes, org, name, members, expected) in cases {
        let (desk, world) = desk().await;
        let created = desk.create(&world.signed_in(id, *scopes), name, *org, vec![layer(members)]).await;
        let got = verdict(created);
        assert!(got.starts_with(expected), "{why}: {got}");
        assert_eq!(world.schedules.lock().unwrap().len(), usize::from(*expected == "done"), "{why}");
    }
}

#[tokio::test]
async fn a_schedule_is_seen_by_staff_who_see_its_org_and_by_no_customer() {
    let cases = [
        // (why, who, the schedules listed, what reading Fedco's comes to)
        ("a support lead sees all but the federal org's", "lea", vec!["Platform", "Acme"], "no schedule"),
        ("a cleared admin sees them all", "adm", vec!["Platform", "Acme", "Fedco"], "done"),
        ("an engineer reads schedules too", "eng", vec!["Platform", "Acme"], "no schedule"),
        ("a customer sees none, as if there were none", "ann", vec![], "no schedule"),
    ];
    for (why, id, listed, fedco) in cases {
        let (desk, world) = desk().await;
        for (i, (name, org)) in
            [("Platform", None), ("Acme", Some("acme")), ("Fedco", Some("fedco"))].into_iter().enumerate()
        {
            let record = ScheduleRecord {
                id: format!("sch_01J000000000000000000000{i:02}"),
                name: name.into(),
                org: org.map(OrgSlug::from),
                spec: ScheduleSpec { name: name.into(), layers: vec![layer(&["fed"])], overrides: vec![] },
                ics_secret_hash: String::new(),
                version: 1,
                created_at: 0,
            };
            world.schedules.lock().unwrap().push(record);
        }
        let caller = world.signed_in(id, Scopes::READ_WRITE);
        let names: Vec<String> = desk.list(&caller).await.unwrap().into_iter().map(|(s, _)| s.name).collect();
        assert_eq!(names, listed, "{why}");
        let read = desk.get(&caller, "sch_01J00000000000000000000002", Action::ReadSchedule).await;
        assert_eq!(verdict(read), fedco, "{why}");
    }
}

#[tokio::test]
async fn a_schedule_is_found_by_a_well_formed_id_only() {
    let (desk, world) = desk().await;
    let lea = world.signed_in("lea", Scopes::READ_WRITE);
    desk.create(&lea, "Platform", None, vec![layer(&["eng"])]).await.unwrap();
    let cases = [
        ("its id", ID, "done"),
        ("an id of no schedule", "sch_01J0000000000000000000000B", "no schedule"),
        ("an id of another kind", "tkt_01J0000000000000000000000A", "malformed: malformed schedule id"),
        ("no id at all", "platform", "malformed: malformed schedule id"),
    ];
    for (why, id, expected) in cases {
        assert_eq!(verdict(desk.get(&lea, id, Action::ReadSchedule).await), expected, "{why}");
    }
}

#[tokio::test]
async fn an_override_may_not_overlap_another_and_names_staff_who_may_serve() {
    let ovr = |id: &str, from: &str, to: &str, user: &str| Override {
        id: id.into(),
        from: ts(from),
        to: ts(to),
        user: user.into(),
    };
    let cases = [
        // (why, the override added after o1 (Mar 3, 09:00–17:00, fed), what happens, overrides after)
        ("one after it", ovr("o2", "2026-03-03T17:00:00Z", "2026-03-03T20:00:00Z", "fed"), "done", 2),
        ("one overlapping it", ovr("o2", "2026-03-03T16:00:00Z", "2026-03-03T20:00:00Z", "fed"), "conflict: ", 1),
        (
            "one of a customer",
            ovr("o2", "2026-03-04T09:00:00Z", "2026-03-04T10:00:00Z", "ann"),
            "invalid: \"ann\" is not a staff user",
            1,
        ),
        (
            "one ending before it starts",
            ovr("o2", "2026-03-04T10:00:00Z", "2026-03-04T09:00:00Z", "fed"),
            "conflict: ",
            1,
        ),
    ];
    for (why, o, expected, count) in cases {
        let (desk, world) = desk().await;
        let lea = world.signed_in("lea", Scopes::READ_WRITE);
        desk.create(&lea, "Platform", None, vec![layer(&["eng"])]).await.unwrap();
        desk.add_override(&lea, ID, ovr("o1", "2026-03-03T09:00:00Z", "2026-03-03T17:00:00Z", "fed")).await.unwrap();
        let got = verdict(desk.add_override(&lea, ID, o).await);
        assert!(got.starts_with(expected), "{why}: {got}");
        let stored = world.schedules.lock().unwrap()[0].clone();
        assert_eq!(stored.spec.overrides.len(), count, "{why}");
        assert_eq!(stored.version, 1 + count as i64, "{why}: each change counts once");
    }
}

#[tokio::test]
async fn overrides_are_replaced_and_removed_by_id() {
    let (desk, world) = desk().await;
    let lea = world.signed_in("lea", Scopes::READ_WRITE);
    desk.create(&lea, "Platform", None, vec![layer(&["eng"])]).await.unwrap();
    let o1 = Override {
        id: "o1".into(),
        from: ts("2026-03-03T09:00:00Z"),
        to: ts("2026-03-03T17:00:00Z"),
        user: "eng".into(),
    };
    desk.add_override(&lea, ID, o1).await.unwrap();
    assert_eq!(verdict(desk.replace_override(&lea, ID, "o9", "fed").await), "no override");
    assert_eq!(verdict(desk.replace_override(&lea, ID, "o1", "ann").await), "invalid: \"ann\" is not a staff user");
    let replaced = desk.replace_override(&lea, ID, "o1", "fed").await.unwrap();
    assert_eq!(replaced.spec.overrides[0].user, "fed");
    assert_eq!(verdict(desk.remove_override(&lea, ID, "o9").await), "no override");
    assert!(desk.remove_override(&lea, ID, "o1").await.unwrap().spec.overrides.is_empty());
    let eng = world.signed_in("eng", Scopes::READ_WRITE);
    assert_eq!(verdict(desk.delete(&eng, ID).await), "forbidden: admins and support leads manage schedules");
    assert_eq!(verdict(desk.delete(&lea, ID).await), "done");
    assert_eq!(verdict(desk.delete(&lea, ID).await), "no schedule");
}

#[tokio::test]
async fn a_change_made_meanwhile_is_not_overwritten() {
    let (desk, world) = desk().await;
    let lea = world.signed_in("lea", Scopes::READ_WRITE);
    desk.create(&lea, "Platform", None, vec![layer(&["eng"])]).await.unwrap();
    let changed = desk
        .edit(&lea, ID, |spec| {
            // Someone else saves while this change is being made.
            world.schedules.lock().unwrap()[0].version += 1;
            spec.layers.push(layer(&["fed"]));
            Ok(())
        })
        .await;
    assert_eq!(verdict(changed), "conflict: the schedule changed meanwhile; retry");
    assert_eq!(world.schedules.lock().unwrap()[0].spec.layers.len(), 1, "nothing written");
}

/// Layers (weekly or daily, some only on weekdays' office hours) and overrides that do not
/// overlap one another.
fn arb_spec() -> impl Strategy<Value = ScheduleSpec> {
    let members = prop::sample::subsequence(vec!["ann", "bob", "cy", "dan"], 1..4);
    let office = prop::bool::ANY.prop_map(|office| {
        office.then(|| {
            use stringer_core::calendar::Weekday::*;
            vec![stringer_core::calendar::Window {
                days: vec![Mon, Tue, Wed, Thu, Fri],
                from: "09:00".into(),
                to: "17:00".into(),
            }]
        })
    });
    let one_layer =
        (members, prop::sample::select(vec![1u32, 7]), 0i8..24, office).prop_map(|(m, days, h, restriction)| {
            LayerSpec { rotation: rotation(&m, days, &format!("{h:02}:00")), restriction }
        });
    let layers = prop::collection::vec(one_layer, 1..4);
    let overrides = prop::collection::vec((0i64..(14 * 24), 1i64..48), 0..5);
    (layers, overrides).prop_map(|(layers, overrides)| {
        let start = ts("2026-03-02T00:00:00Z");
        let mut s = Schedule::compile(&ScheduleSpec { name: "p".into(), layers, overrides: vec![] }).unwrap();
        for (i, (at, hours)) in overrides.into_iter().enumerate() {
            let from = start + jiff::SignedDuration::from_hours(at);
            let o = Override {
                id: format!("o{i}"),
                from,
                to: from + jiff::SignedDuration::from_hours(hours),
                user: "xi".into(),
            };
            let _ = s.add_override(o); // an overlapping one is refused; the rest stay
        }
        s.to_spec()
    })
}

/// Who covers `t` on a track: the user of the shift holding it.
fn at(track: &Track, t: Timestamp) -> Option<&str> {
    track.shifts.iter().find(|s| s.start <= t && t < s.end).map(|s| s.user.as_str())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_final_say_is_the_override_else_the_highest_layer_that_applies(spec in arb_spec(), probes in prop::collection::vec(0i64..(14 * 86_400), 1..40)) {
        let from = ts("2026-03-02T00:00:00Z");
        let to = ts("2026-03-16T00:00:00Z");
        let tracks = timeline(&spec, from, to).unwrap();
        let (last, layers) = tracks.split_last().unwrap();
        prop_assert_eq!(last.layer, None);
        prop_assert_eq!(layers.len(), spec.layers.len());
        // One person at a time: the final shifts are in order and never overlap.
        for pair in last.shifts.windows(2) {
            prop_assert!(pair[0].end <= pair[1].start, "{:?}", pair);
        }
        for s in &last.shifts {
            prop_assert!(s.start < s.end && from <= s.start && s.end <= to, "{:?}", s);
        }
        for offset in probes {
            let t = from + jiff::SignedDuration::from_secs(offset);
            let overriding = spec.overrides.iter().find(|o| o.from <= t && t < o.to).map(|o| o.user.as_str());
            let layered = layers.iter().rev().find_map(|track| at(track, t));
            prop_assert_eq!(at(last, t), overriding.or(layered), "at {}", t);
            let source = last.shifts.iter().find(|s| s.start <= t && t < s.end).map(|s| s.source.clone());
            if overriding.is_some() {
                prop_assert!(matches!(source, Some(Source::Override(_))), "at {}: {:?}", t, source);
            }
        }
    }
}
