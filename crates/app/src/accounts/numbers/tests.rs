//! Callers' numbers and the orgs' phone PINs over in-memory ports: a number is in force at
//! once only when a staff admin sets it, else it waits for the code sent to it; a number
//! another active person holds is refused without saying whose; a code works once, within
//! its minutes and a few tries; a PIN is drawn by admins and kept as its keyed hash.

use super::*;
use crate::fakes::{MemoryPhoneBook, Pages, Sms, World, account_desk_with, org, person, uid};
use crate::phone::PhoneBook;
use crate::records::UserRecord;
use std::sync::Arc;
use stringer_core::access::Scopes;
use stringer_core::contract::Contract;
use stringer_core::ids::{OrgSlug, UserRole};

/// The admin `adm`, the engineers `eng`, `fed` (whose number is +14155550199) and `dead`
/// (deactivated, whose number was +14155550188), Acme's admin `ada` and member `ann`.
async fn desk() -> (AccountDesk, Arc<World>, Arc<MemoryPhoneBook>, Arc<Sms>) {
    let world = World::new(Contract::default_contract(), "2026-03-02T10:00:00Z".parse().unwrap());
    world.add_org(org("acme", "enterprise")).await;
    world.add_user(person("adm", None, UserRole::Admin));
    world.add_user(person("eng", None, UserRole::Engineer));
    world.add_user(person("fed", None, UserRole::Engineer));
    world.add_user(UserRecord { deactivated_at: Some(1), ..person("dead", None, UserRole::Engineer) });
    world.add_user(person("ada", Some("acme"), UserRole::OrgAdmin));
    world.add_user(person("ann", Some("acme"), UserRole::Member));
    let phone = Arc::new(MemoryPhoneBook::default());
    *phone.numbers.lock().unwrap() = vec![
        (UserId(uid("fed")), "+14155550199".into()),
        (UserId(uid("dead")), "+14155550188".into()),
        (UserId(uid("eng")), "+14155550177".into()),
    ];
    let sms = Arc::new(Sms::default());
    let desk = account_desk_with(&world, phone.clone(), Some(sms.clone()), Arc::new(Pages::default()));
    (desk, world, phone, sms)
}

/// What a change came to, in words the table can hold.
fn verdict(r: Result<NumberChange, AccountError>) -> String {
    match r {
        Ok(NumberChange::InForce(n)) => format!("in force: {}", n.unwrap_or_else(|| "none".into())),
        Ok(NumberChange::Waiting { waiting, .. }) => format!("waiting: {waiting}"),
        Err(AccountError::Forbidden(why)) => format!("forbidden: {why}"),
        Err(AccountError::Invalid(why)) => format!("invalid: {why}"),
        Err(AccountError::Conflict(why)) => format!("conflict: {why}"),
        Err(AccountError::NotFound(what)) => format!("no {what}"),
        Err(e) => format!("{e:?}"),
    }
}

const HELD: &str = "conflict: this number is another person's caller ID; if it is yours, ask a Stringer admin";

#[tokio::test]
async fn a_number_is_in_force_when_an_admin_sets_it_else_it_waits_for_its_code() {
    let cases = [
        // (why, who, whose, the number written, what it comes to, eng's number after, codes sent)
        (
            "an admin sets it at once, as written",
            "adm",
            "eng",
            Some("+1 (415) 555-0100"),
            "in force: +14155550100",
            Some("+14155550100"),
            0,
        ),
        (
            "staff set their own by the code sent to it",
            "eng",
            "eng",
            Some("+14155550100"),
            "waiting: +14155550100",
            Some("+14155550177"),
            1,
        ),
        (
            "the number in force already",
            "eng",
            "eng",
            Some("+14155550177"),
            "in force: +14155550177",
            Some("+14155550177"),
            0,
        ),
        ("blank clears it", "eng", "eng", Some("  "), "in force: none", None, 0),
        ("none clears it", "eng", "eng", None, "in force: none", None, 0),
        ("another active person's number", "eng", "eng", Some("+14155550199"), HELD, Some("+14155550177"), 0),
        ("not even an admin takes it", "adm", "eng", Some("+14155550199"), HELD, Some("+14155550177"), 0),
        (
            "a deactivated person's number is free",
            "eng",
            "eng",
            Some("+14155550188"),
            "waiting: +14155550188",
            Some("+14155550177"),
            1,
        ),
        (
            "a number in E.164",
            "eng",
            "eng",
            Some("0415 555 0100"),
            "invalid: a phone number is written in E.164: + and the country code, 8 to 15 digits",
            Some("+14155550177"),
            0,
        ),
        (
            "written in 32 characters at most",
            "eng",
            "eng",
            Some("+1 415 555 0100                   "),
            "invalid: a phone number is written in at most 32 characters",
            Some("+14155550177"),
            0,
        ),
        (
            "not another engineer's",
            "fed",
            "eng",
            Some("+14155550100"),
            "forbidden: only admins set another user's phone number",
            Some("+14155550177"),
            0,
        ),
    ];
    for (why, by, whose, number, expected, after, codes) in cases {
        let (desk, world, phone, sms) = desk().await;
        assert_eq!(
            verdict(desk.change_number(&world.signed_in(by, Scopes::ALL), &uid(whose), number).await),
            expected,
            "{why}"
        );
        assert_eq!(phone.number(&UserId(uid("eng"))).await.unwrap().as_deref(), after, "{why}");
        assert_eq!(sms.sent.lock().unwrap().len(), codes, "{why}");
    }
}

/// The code in the last text sent.
fn code(sms: &Sms) -> String {
    let sent = sms.sent.lock().unwrap();
    let (_, body) = sent.last().expect("a code was sent");
    body.trim_start_matches("Stringer: ").chars().take(6).collect()
}

#[tokio::test]
async fn a_code_confirms_its_number_once_within_its_minutes_and_tries() {
    let wrong = |code: &str| if code == "000000" { "000001".to_string() } else { "000000".to_string() };
    let cases = [
        // (why, wrong codes first, minutes waited, what the right code comes to, eng's number after)
        ("the right code", 0, 0, Ok("+14155550100"), "+14155550100"),
        ("after four wrong ones", CODE_ATTEMPTS - 1, 0, Ok("+14155550100"), "+14155550100"),
        ("after five wrong ones, no more", CODE_ATTEMPTS, 0, Err("no code is waiting"), "+14155550177"),
        ("once its minutes are over", 0, CODE_SECONDS / 60, Err("no code is waiting"), "+14155550177"),
    ];
    for (why, wrongs, minutes, expected, after) in cases {
        let (desk, world, phone, sms) = desk().await;
        let eng = world.signed_in("eng", Scopes::ALL);
        desk.change_number(&eng, &uid("eng"), Some("+14155550100")).await.unwrap();
        let right = code(&sms);
        for _ in 0..wrongs {
            let refused = desk.confirm_number(&eng, &uid("eng"), &wrong(&right)).await;
            assert!(
                matches!(refused, Err(AccountError::Invalid(ref w)) if w == "code: not the code sent to the number"),
                "{why}"
            );
        }
        let later = jiff::Timestamp::from_second(1_772_445_600 + minutes * 60).unwrap();
        world.desk.clock().set(later);
        let got = desk.confirm_number(&eng, &uid("eng"), &right).await.map_err(|e| e.to_string());
        match expected {
            Ok(n) => assert_eq!(got.as_deref(), Ok(n), "{why}"),
            Err(start) => assert!(got.as_ref().is_err_and(|e| e.starts_with(start)), "{why}: {got:?}"),
        }
        assert_eq!(phone.number(&UserId(uid("eng"))).await.unwrap().as_deref(), Some(after), "{why}");
        let again = desk.confirm_number(&eng, &uid("eng"), &right).await;
        assert!(again.is_err(), "{why}: a code works once");
    }
}

#[tokio::test]
async fn a_number_taken_while_its_code_waited_is_not_put_in_force() {
    let (desk, world, phone, sms) = desk().await;
    let eng = world.signed_in("eng", Scopes::ALL);
    desk.change_number(&eng, &uid("eng"), Some("+14155550100")).await.unwrap();
    phone.numbers.lock().unwrap().push((UserId(uid("adm")), "+14155550100".into()));
    let got = desk.confirm_number(&eng, &uid("eng"), &code(&sms)).await.map_err(|e| format!("conflict: {e}"));
    assert_eq!(got, Err(HELD.to_string()));
    assert_eq!(phone.number(&UserId(uid("eng"))).await.unwrap().as_deref(), Some("+14155550177"));
    assert!(phone.confirmation(&UserId(uid("eng"))).await.unwrap().is_none(), "the confirmation is over");
}

#[tokio::test]
async fn a_pin_is_drawn_by_an_admin_and_kept_as_its_keyed_hash() {
    let (desk, world, phone, _) = desk().await;
    let refused = desk.draw_pin(&world.signed_in("ada", Scopes::ALL), "acme").await.map_err(|e| e.to_string());
    assert_eq!(refused, Err("only admins manage orgs".to_string()));
    let pin = desk.draw_pin(&world.signed_in("adm", Scopes::ALL), "acme").await.unwrap();
    assert!(pin.len() == 8 && pin.bytes().all(|b| b.is_ascii_digit()), "{pin}");
    let key = world.settings.lock().unwrap().get(PIN_KEY_SETTING).cloned().expect("the PIN key is kept");
    assert_eq!(phone.org_by_pin(&pin_hash(&key, &pin)).await.unwrap(), Some(OrgSlug::from("acme")));
    assert!(!phone.pins.lock().unwrap().iter().any(|(_, h)| h == &pin), "the PIN itself is not stored");
    let next = desk.draw_pin(&world.signed_in("adm", Scopes::ALL), "acme").await.unwrap();
    assert_eq!(phone.org_by_pin(&pin_hash(&key, &pin)).await.unwrap(), None, "the old PIN stops working");
    assert_eq!(phone.org_by_pin(&pin_hash(&key, &next)).await.unwrap(), Some(OrgSlug::from("acme")));
}
