use super::*;
use crate::accounts::letter::signature;
use crate::fakes::Relay;
use crate::outbox::Room;
use std::sync::Mutex;

/// One stored letter and what its row says.
struct Row {
    letter: AccountLetter,
    next: Option<i64>,
    sent_at: Option<i64>,
}

/// The account letters in memory, as the SQL table behaves.
#[derive(Default)]
struct Memory(Mutex<Vec<Row>>);

impl Memory {
    fn row<T>(&self, read: impl Fn(&Row) -> T) -> T {
        read(&self.0.lock().unwrap()[0])
    }
}

#[async_trait]
impl Sendings<AccountLetter> for Memory {
    async fn claim(&self, now: i64, lease_until: i64, room: &Room) -> Result<Vec<AccountLetter>, StoreError> {
        let mut rows = self.0.lock().unwrap();
        Ok(rows
            .iter_mut()
            .filter(|r| r.next.is_some_and(|n| n <= now))
            .take(room.limit as usize)
            .map(|r| {
                r.next = Some(lease_until);
                r.letter.clone()
            })
            .collect())
    }
    async fn sent(&self, id: &str, at: i64, _receipt: Option<&str>) -> Result<(), StoreError> {
        self.end(id, |r| (r.next, r.sent_at) = (None, Some(at)));
        Ok(())
    }
    async fn later(&self, id: &str, _at: i64, next: i64, _why: &str) -> Result<(), StoreError> {
        self.end(id, |r| r.next = Some(next));
        Ok(())
    }
    async fn given_up(&self, id: &str, _at: i64, _why: &str) -> Result<(), StoreError> {
        self.end(id, |r| r.next = None);
        Ok(())
    }
}

impl Memory {
    fn end(&self, id: &str, change: impl Fn(&mut Row)) {
        let mut rows = self.0.lock().unwrap();
        let row = rows.iter_mut().find(|r| r.letter.id == id).unwrap();
        row.letter.attempts += 1;
        change(row);
    }
}

/// A book with one key, where the links in `dead` no longer work.
struct Book {
    dead: Vec<String>,
}

#[async_trait]
impl LinkBook for Book {
    async fn key(&self) -> Result<String, StoreError> {
        Ok("the-key".into())
    }
    async fn usable(&self, id: &str, _now: i64) -> Result<bool, StoreError> {
        Ok(!self.dead.iter().any(|d| d == id))
    }
    async fn org_name(&self, _org: &OrgSlug) -> Result<Option<String>, StoreError> {
        Ok(Some("Acme".into()))
    }
}

fn reset_letter() -> AccountLetter {
    let carries = Carries::PasswordLink { link: "pwl_1".into(), expires: 5000, purpose: Purpose::Reset };
    AccountLetter::new("ann@example.com", None, carries)
}

fn courier(letters: Arc<Memory>, relay: Arc<Relay>, dead: &[&str]) -> Courier {
    Courier {
        letters,
        book: Arc::new(Book { dead: dead.iter().map(|d| d.to_string()).collect() }),
        sender: relay,
        public_url: "https://desk.example/".into(),
    }
}

fn stored(letter: AccountLetter) -> Arc<Memory> {
    Arc::new(Memory(Mutex::new(vec![Row { letter, next: Some(0), sent_at: None }])))
}

#[test]
fn the_mail_carries_the_link_signed_from_its_id_and_expiry() {
    let letter = reset_letter();
    let Outgoing::Mail { to, subject, body, .. } = message(&letter, "https://desk.example/", "k", "") else {
        panic!("a mail")
    };
    let link = format!("https://desk.example/password/pwl_1.5000.{}", signature("k", "pwl_1", 5000));
    assert_eq!((to.as_str(), subject.as_str()), ("ann@example.com", "Reset your Stringer password"));
    assert!(body.contains(&format!("\n{link}\n")), "{body}");
    assert_eq!(signed_link("https://desk.example", "k", "pwl_1", 5000), link);
    let Outgoing::Mail { body: other, .. } = message(&letter, "https://desk.example", "another key", "") else {
        panic!("a mail")
    };
    assert!(!other.contains(&link), "the link is signed under the key at send time");
}

#[test]
fn a_letter_holds_the_links_id_and_expiry_only() {
    let letter = reset_letter();
    assert_eq!(letter.id, "aml_pwl_1", "derived from the link: written twice, it is one letter");
    let written = format!("{letter:?}");
    assert!(!written.contains(&signature("k", "pwl_1", 5000)) && !written.contains("/password/"), "{written}");
}

#[tokio::test]
async fn a_relay_that_is_down_is_tried_again_under_the_account_mail_policy() {
    let (letters, relay) = (stored(reset_letter()), Arc::new(Relay { down: Mutex::new(1), ..Relay::default() }));
    let courier = courier(letters.clone(), relay.clone(), &[]);
    assert_eq!(courier.send_due(100).await.unwrap(), 0);
    assert_eq!(letters.row(|r| (r.next, r.letter.attempts)), (Some(100 + ACCOUNT_MAIL.first_wait), 1));
    assert_eq!(courier.send_due(100 + ACCOUNT_MAIL.first_wait - 1).await.unwrap(), 0, "not before its wait");
    assert_eq!(courier.send_due(100 + ACCOUNT_MAIL.first_wait).await.unwrap(), 1);
    assert_eq!(letters.row(|r| r.sent_at), Some(110));
    let took = relay.took.lock().unwrap();
    let (_, Outgoing::Mail { body, .. }) = &took[0] else { panic!("a mail") };
    assert!(
        body.contains(&format!("https://desk.example/password/pwl_1.5000.{}", signature("the-key", "pwl_1", 5000)))
    );
}

#[tokio::test]
async fn a_link_used_or_expired_before_it_is_mailed_is_not_sent() {
    let (letters, relay) = (stored(reset_letter()), Arc::new(Relay::default()));
    assert_eq!(courier(letters.clone(), relay.clone(), &["pwl_1"]).send_due(100).await.unwrap(), 0);
    assert_eq!(letters.row(|r| (r.next, r.sent_at)), (None, None), "given up");
    assert!(relay.took.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_invitation_names_its_org_and_a_held_address_gets_no_link() {
    let invited = AccountLetter::new(
        "bo@example.com",
        Some(OrgSlug::from("acme")),
        Carries::Invitation { invitation: "inv_1".into(), expires: 9000 },
    );
    let held =
        AccountLetter::new("cy@example.com", Some(OrgSlug::from("acme")), Carries::Held { invitation: "inv_2".into() });
    for (letter, link) in [(invited, true), (held, false)] {
        let relay = Arc::new(Relay::default());
        assert_eq!(courier(stored(letter), relay.clone(), &["inv_2"]).send_due(100).await.unwrap(), 1);
        let (_, Outgoing::Mail { subject, body, .. }) = &relay.took.lock().unwrap()[0] else { panic!("a mail") };
        assert!(subject.contains("Acme") && body.contains("Acme"), "{subject}\n{body}");
        assert_eq!(body.contains("/password/inv_1.9000."), link, "{body}");
    }
}
