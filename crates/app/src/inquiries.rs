//! "Contact us": anyone (a prospect, a customer who lost access) writes to the vendor without
//! an account; the inquiry is due on the contract's general-inquiry target and waits in the
//! staff's inquiries queue, where it is answered once: the answer is recorded and mailed
//! through the letters' outbox. Each client address may send a few an hour. The API and the pages call the same [`InquiryDesk`].

use crate::act::Principal;
use crate::limits::{RateLimit, Spent, client_key};
use crate::ports::{Commands, Inquiries, Safeguards};
use crate::records::{InquiryRecord, Kind, Letter};
use crate::store::StoreError;
use std::sync::Arc;
use stringer_core::access::{self, Action, Decision, Object};

/// The longest inquiry (and answer), in bytes.
pub const MAX_INQUIRY: usize = 8 * 1024;

/// What a person writes.
#[derive(Clone, Debug)]
pub struct Message {
    /// Their name, on one line.
    pub name: String,
    /// The address to answer, on one line.
    pub email: String,
    /// Their company, if they said.
    pub company: Option<String>,
    /// The words.
    pub body: String,
}

/// Why an inquiry's use did nothing.
#[derive(Debug, thiserror::Error)]
pub enum InquiryError {
    /// The client address sent too many.
    #[error(transparent)]
    Spent(#[from] Spent),
    /// What was written cannot be taken.
    #[error("{0}")]
    Invalid(String),
    /// An inquiry id of the wrong shape.
    #[error("malformed inquiry id")]
    Malformed,
    /// No such inquiry — or the principal may not see inquiries, answered the same.
    #[error("no such inquiry")]
    NotFound,
    /// The policy refused, with its reason.
    #[error("{0}")]
    Forbidden(String),
    /// Someone answered it first.
    #[error("this inquiry was answered already")]
    Answered,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the inquiry desk reads and changes: the inquiries and the budget of each client
/// address.
#[derive(Clone)]
pub struct InquiryPorts {
    /// Changes tickets (and tells the time and the contract).
    pub commands: Arc<dyn Commands>,
    /// The general inquiries of "Contact us".
    pub inquiries: Arc<dyn Inquiries>,
    /// Rate limits, back-off, replay guard, idempotency keys, settings.
    pub safeguards: Arc<dyn Safeguards>,
}

/// The inquiries' use cases.
#[derive(Clone)]
pub struct InquiryDesk {
    ports: InquiryPorts,
    limit: RateLimit,
    new_id: crate::ids::NewId,
}

fn decided(decision: Decision) -> Result<(), InquiryError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::NotFound => Err(InquiryError::NotFound),
        Decision::Forbidden(why) => Err(InquiryError::Forbidden(why.to_string())),
    }
}

impl InquiryDesk {
    /// A desk over the ports; each client address may send `limit` inquiries; `new_id` makes
    /// an inquiry's id (the front makes them from the desk's clock).
    pub fn new(ports: InquiryPorts, limit: RateLimit, new_id: crate::ids::NewId) -> InquiryDesk {
        InquiryDesk { ports, limit, new_id }
    }

    /// Checks and stores an inquiry from client address `ip`, due on the contract's
    /// general-inquiry target from now.
    pub async fn receive(&self, ip: &str, m: Message) -> Result<InquiryRecord, InquiryError> {
        let now = self.ports.commands.now();
        let what = "too many messages from this address";
        if let Some(spent) = self
            .limit
            .check(self.ports.safeguards.as_ref(), &format!("contact:{}", client_key(ip)), now.as_second(), what)
            .await?
        {
            return Err(spent.into());
        }
        let one_line = |s: &str| !s.contains(['\r', '\n']);
        if m.name.trim().is_empty() || m.name.len() > 200 || !one_line(&m.name) {
            return Err(InquiryError::Invalid("name: 1 to 200 characters on one line".into()));
        }
        let at = m.email.find('@');
        if m.email.len() > 254 || !one_line(&m.email) || at.is_none_or(|i| i == 0 || i + 1 == m.email.len()) {
            return Err(InquiryError::Invalid("email: an address to answer".into()));
        }
        if m.company.as_ref().is_some_and(|co| co.len() > 200 || !one_line(co)) {
            return Err(InquiryError::Invalid("company: at most 200 characters on one line".into()));
        }
        if m.body.trim().is_empty() || m.body.len() > MAX_INQUIRY {
            return Err(InquiryError::Invalid(format!("body: 1 to {MAX_INQUIRY} bytes")));
        }
        let contract = self.ports.commands.contract();
        let company = m.company.map(|co| co.trim().to_string()).filter(|co| !co.is_empty());
        let who = (m.name.trim().to_string(), m.email.trim().to_string(), company);
        let inquiry = InquiryRecord::received((self.new_id)("inq"), who, m.body, contract, now);
        self.ports.inquiries.insert_inquiry(&inquiry).await?;
        Ok(inquiry)
    }

    /// The open inquiries (by due time, at most `limit`) or the answered ones (newest
    /// first), for staff who may read them.
    pub async fn list(&self, who: &Principal, answered: bool, limit: i64) -> Result<Vec<InquiryRecord>, InquiryError> {
        decided(access::decide(&who.actor(), Action::ReadInquiries, Some(Object::Staff)))?;
        Ok(self.ports.inquiries.inquiries(answered, limit).await?)
    }

    /// Records `who`'s answer to the open inquiry `id` and posts it to the inquirer as a
    /// letter (the postman sends it, with the question quoted), in one transaction; an
    /// inquiry is answered once.
    pub async fn answer(&self, who: &Principal, id: &str, answer: &str) -> Result<InquiryRecord, InquiryError> {
        decided(access::decide(&who.actor(), Action::HandleInquiries, Some(Object::Staff)))?;
        if answer.trim().is_empty() || answer.len() > MAX_INQUIRY {
            return Err(InquiryError::Invalid(format!("answer: 1 to {MAX_INQUIRY} bytes")));
        }
        if !crate::ids::is_id("inq", id) {
            return Err(InquiryError::Malformed);
        }
        let now = self.ports.commands.now().as_second();
        let inquiries = &self.ports.inquiries;
        let Some(open) = inquiries.inquiry(id).await? else { return Err(InquiryError::NotFound) };
        let letter = Letter {
            id: crate::ids::seeded_ulid("ltr", now * 1000, &format!("inquiry:{id}")),
            org: None,
            kind: Kind::InquiryAnswer { inquiry: id.to_string() },
            to: open.email,
            attempts: 0,
        };
        if !inquiries.answer_inquiry(id, &who.user().id, answer, now, &letter).await? {
            return match inquiries.inquiry(id).await? {
                Some(_) => Err(InquiryError::Answered),
                None => Err(InquiryError::NotFound),
            };
        }
        inquiries.inquiry(id).await?.ok_or(InquiryError::NotFound)
    }
}

/// The mail that carries an inquiry's answer, from `support` (the contract's name): its
/// subject and text, the question quoted below the answer; none while it is unanswered.
pub fn answer_letter(inquiry: &InquiryRecord, support: &str) -> Option<(String, String)> {
    let answer = inquiry.answer.as_deref()?;
    let quoted: Vec<String> = inquiry.body.lines().map(|l| format!("> {l}")).collect();
    let subject = format!("Re: your message to {support}");
    let body = format!("Hello {},\n\n{answer}\n\n{support}\n\nYou wrote:\n{}\n", inquiry.name, quoted.join("\n"));
    Some((subject, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use stringer_core::contract::Contract;

    #[test]
    fn an_answer_letter_quotes_the_question_under_the_answer() {
        let contract = Contract::default_contract();
        let who = ("Pia".to_string(), "pia@prospect.example".to_string(), None);
        let mut inquiry = InquiryRecord::received(
            "inq_1".into(),
            who,
            "Do you do SAML?\nAnd SCIM?".into(),
            &contract,
            jiff::Timestamp::UNIX_EPOCH,
        );
        assert_eq!(answer_letter(&inquiry, "Acme support"), None, "nothing to send before an answer");
        inquiry.answer = Some("Yes, both.".into());
        let (subject, body) = answer_letter(&inquiry, "Acme support").unwrap();
        assert_eq!(subject, "Re: your message to Acme support");
        assert_eq!(body, "Hello Pia,\n\nYes, both.\n\nAcme support\n\nYou wrote:\n> Do you do SAML?\n> And SCIM?\n");
    }
}

#[cfg(test)]
mod desk_tests {
    //! The inquiry desk's decisions over in-memory ports: what is taken from whom, who may
    //! answer, and that an answer is recorded once with its letter.

    use super::*;
    use crate::act::Proof;
    use crate::fakes::{World, user};
    use std::sync::Arc;
    use stringer_core::access::Scopes;
    use stringer_core::contract::Contract;
    use stringer_core::ids::UserRole;

    fn new_id(prefix: &str) -> String {
        crate::ids::seeded_ulid(prefix, 0, "the one inquiry")
    }

    fn desk(limit: i64) -> (InquiryDesk, Arc<World>) {
        let world = World::new(Contract::default_contract(), "2026-03-02T10:00:00Z".parse().unwrap());
        let ports = InquiryPorts { commands: world.clone(), inquiries: world.clone(), safeguards: world.clone() };
        (InquiryDesk::new(ports, RateLimit { limit, window: 3600 }, std::sync::Arc::new(new_id)), world)
    }

    fn message() -> Message {
        Message {
            name: "Pia".into(),
            email: "pia@prospect.example".into(),
            company: Some("  ".into()),
            body: "Do you do SAML?".into(),
        }
    }

    fn principal(role: UserRole, org: Option<&str>) -> Principal {
        Principal::new(user("someone", org, role), Scopes::READ_WRITE, Proof::Session).expect("an active user")
    }

    /// What a use came to, in a word the table can hold.
    fn verdict<T>(r: Result<T, InquiryError>) -> String {
        match r {
            Ok(_) => "taken".into(),
            Err(InquiryError::Invalid(why)) => format!("invalid {}", why.split(':').next().unwrap_or_default()),
            Err(e) => e.to_string(),
        }
    }

    #[tokio::test]
    async fn an_inquiry_is_taken_only_when_it_can_be_answered() {
        let long = "x".repeat(MAX_INQUIRY + 1);
        let cases: &[(&str, Message, &str)] = &[
            ("a plain message", message(), "taken"),
            ("no name", Message { name: " ".into(), ..message() }, "invalid name"),
            ("a name over two lines", Message { name: "Pia\nBcc: x".into(), ..message() }, "invalid name"),
            ("an address without a domain", Message { email: "pia@".into(), ..message() }, "invalid email"),
            (
                "an address without a local part",
                Message { email: "@prospect.example".into(), ..message() },
                "invalid email",
            ),
            ("a company over two lines", Message { company: Some("A\nB".into()), ..message() }, "invalid company"),
            ("nothing said", Message { body: "  ".into(), ..message() }, "invalid body"),
            ("too much said", Message { body: long, ..message() }, "invalid body"),
        ];
        for (why, m, expected) in cases {
            let (desk, world) = desk(5);
            assert_eq!(verdict(desk.receive("203.0.113.7", m.clone()).await), *expected, "{why}");
            let stored = world.inquiries.lock().unwrap().len();
            assert_eq!(stored, usize::from(*expected == "taken"), "{why}: stored only when taken");
        }
    }

    #[tokio::test]
    async fn an_inquiry_is_due_on_the_general_target_with_a_blank_company_dropped() {
        let (desk, _) = desk(5);
        let taken = desk.receive("203.0.113.7", message()).await.unwrap();
        assert_eq!(taken.company, None);
        assert!(taken.due_at > taken.received_at, "due on the contract's target, later than received");
    }

    #[tokio::test]
    async fn each_client_address_sends_within_its_budget() {
        let (desk, _) = desk(2);
        let sent =
            [("203.0.113.7", "taken"), ("203.0.113.7", "taken"), ("2001:db8::1", "taken"), ("203.0.113.7", "spent")];
        for (n, (ip, expected)) in sent.iter().enumerate() {
            let got = match desk.receive(ip, message()).await {
                Ok(_) => "taken",
                Err(InquiryError::Spent(_)) => "spent",
                Err(e) => panic!("message {n}: {e}"),
            };
            assert_eq!(got, *expected, "message {n} from {ip}");
        }
    }

    #[tokio::test]
    async fn only_staff_answer_and_an_inquiry_is_answered_once() {
        let cases: &[(&str, UserRole, Option<&str>, &str, &str)] = &[
            // (why, who, their org, the answer, what happens)
            ("an engineer answers", UserRole::Engineer, None, "Yes, both.", "taken"),
            ("a customer may not", UserRole::OrgAdmin, Some("acme"), "Yes, both.", "forbidden"),
            ("an empty answer is refused", UserRole::Engineer, None, "  ", "invalid answer"),
        ];
        for (why, role, org, answer, expected) in cases {
            let (desk, world) = desk(5);
            let id = desk.receive("203.0.113.7", message()).await.unwrap().id;
            let got = match desk.answer(&principal(*role, *org), &id, answer).await {
                Err(InquiryError::Forbidden(_)) => "forbidden".into(),
                other => verdict(other),
            };
            assert_eq!(got, *expected, "{why}");
            let letters = world.letters.lock().unwrap().clone();
            if *expected == "taken" {
                assert_eq!(letters.len(), 1, "{why}: the answer is mailed");
                assert_eq!(letters[0].to, "pia@prospect.example");
                assert_eq!(letters[0].kind, Kind::InquiryAnswer { inquiry: id.clone() });
            } else {
                assert!(letters.is_empty(), "{why}: nothing is mailed");
            }
        }
    }

    #[tokio::test]
    async fn a_second_answer_finds_the_inquiry_answered() {
        let (desk, world) = desk(5);
        let staff = principal(UserRole::Engineer, None);
        let id = desk.receive("203.0.113.7", message()).await.unwrap().id;
        desk.answer(&staff, &id, "Yes.").await.unwrap();
        let cases = [(id.as_str(), "this inquiry was answered already"), ("inq_nope", "malformed inquiry id")];
        for (asked, expected) in cases {
            assert_eq!(verdict(desk.answer(&staff, asked, "No.").await), expected, "{asked}");
        }
        let missing = crate::ids::seeded_ulid("inq", 0, "another");
        assert_eq!(verdict(desk.answer(&staff, &missing, "No.").await), "no such inquiry");
        assert_eq!(world.letters.lock().unwrap().len(), 1, "one letter, for the one answer");
        let stored = world.inquiries.lock().unwrap()[0].clone();
        assert_eq!(stored.answer.as_deref(), Some("Yes."), "the first answer stands");
    }
}
