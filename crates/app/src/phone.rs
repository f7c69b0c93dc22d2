//! The P1 phone line: a call to the line is answered by [`PhoneDesk`], one step per request
//! of the telephony provider (the Twilio module of the integrations reads the requests and
//! writes each [`Step`] as TwiML).
//!
//! A caller is known by caller ID among the orgs' users (the [`PhoneBook`] port), or by
//! their org's phone PIN. The core's rules decide whether they get through
//! ([`stringer_core::phone::line`]) and to whom, in order
//! ([`stringer_core::phone::dial_order`]): an Enterprise call opens a P1 (channel `phone`,
//! which pages on-call at once, as any P1) and is put through to the on-call engineer, then
//! the next person the escalation would page, then the TAM, each rung for a set time. A
//! Pro call gets through only for the org's open P1 once the customer page rule lets them
//! page (the call is that page); else the caller hears when the line opens for them. The
//! person who answers acknowledges the ticket; every ring, the answer and its length go on
//! the ticket's timeline as internal notes. When nobody answers, the caller's message is
//! recorded and attached to the ticket with its transcription.

use crate::act::{ActError, Command, Found, PageOutcome, Principal, Proof, TicketDesk, in_flight_words};
use crate::delivery::SendError;
use crate::desk::AppError;
use crate::ids::seeded_ulid;
use crate::ports::{Accounts, Commands, Files, OnCall, Queries, Safeguards};
use crate::records::{AttachmentRecord, OrgRecord, TicketFilter, TicketRecord, UserRecord};
use crate::store::{Extras, NewComment, StoreError, TicketDetails};
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use stringer_core::access::{self, Action, Actor, Decision, Object, Scopes};
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{Intake, OrgSlug, TicketId, UserId, UserRole};
use stringer_core::phone::{self as rules, AfterRing, Line};

/// The setting that holds the server's key PINs are hashed under ([`pin_hash`]).
pub const PIN_KEY_SETTING: &str = "phone_pin_key";
/// The setting holding the key a phone number's confirmation code is hashed under.
pub const CODE_KEY_SETTING: &str = "phone_code_key";
/// How long a confirmation code works.
pub const CODE_SECONDS: i64 = 600;
/// How many wrong codes end a confirmation.
pub const CODE_ATTEMPTS: i64 = 5;

/// A phone number waiting for its user to confirm it with the code sent to it by SMS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirmation {
    /// The number (E.164).
    pub number: String,
    /// The code's keyed hash.
    pub code_hash: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; the code works until then.
    pub expires_at: i64,
    /// Wrong codes tried so far.
    pub attempts: i64,
}

/// How many PINs a caller may key in during one call.
pub const PIN_ATTEMPTS: u32 = 3;
/// How many wrong PINs one caller ID may key in per hour, over all calls.
pub const PIN_FAILURES_PER_HOUR: i64 = 10;

/// Caller IDs, the orgs' phone PINs and which call opened which ticket.
#[async_trait]
pub trait PhoneBook: Send + Sync {
    /// The users whose phone number is `number` (E.164).
    async fn callers(&self, number: &str) -> Result<Vec<UserId>, StoreError>;
    /// A user's phone number.
    async fn number(&self, user: &UserId) -> Result<Option<String>, StoreError>;
    /// Sets (or with `None` clears) a user's phone number (E.164).
    async fn set_number(&self, user: &UserId, number: Option<&str>, at: i64) -> Result<(), StoreError>;
    /// Stores the number waiting for `user` to confirm it, with its code's keyed hash
    /// ([`pin_hash`] under [`CODE_KEY_SETTING`]), replacing one waiting already.
    async fn set_confirmation(&self, user: &UserId, waiting: &Confirmation) -> Result<(), StoreError>;
    /// The number waiting for `user` to confirm it.
    async fn confirmation(&self, user: &UserId) -> Result<Option<Confirmation>, StoreError>;
    /// Counts a wrong code against the number waiting for `user`.
    async fn confirmation_failed(&self, user: &UserId) -> Result<(), StoreError>;
    /// Puts the number waiting for `user` in force at `at` (their caller ID) and forgets the
    /// confirmation, atomically; `None` clears the waiting number only.
    async fn confirmed(&self, user: &UserId, number: Option<&str>, at: i64) -> Result<(), StoreError>;
    /// The org whose PIN has this keyed hash ([`pin_hash`]).
    async fn org_by_pin(&self, pin_hash: &str) -> Result<Option<OrgSlug>, StoreError>;
    /// Replaces an org's PIN (its keyed hash); `false` when another org has that PIN.
    async fn set_pin(&self, org: &OrgSlug, pin_hash: &str, at: i64) -> Result<bool, StoreError>;
    /// The ticket a call opened or paged for.
    async fn call_ticket(&self, call: &str) -> Result<Option<TicketId>, StoreError>;
    /// Remembers the ticket a call opened or paged for (the first one stays).
    async fn set_call_ticket(&self, call: &str, ticket: &TicketId, caller: &str, at: i64) -> Result<(), StoreError>;
}

/// Fetches a call's recorded message from the telephony provider (the Twilio module
/// implements it).
#[async_trait]
pub trait Recordings: Send + Sync {
    /// The recording at the provider's `url`, as MP3 bytes.
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, SendError>;
}

/// The keyed hash (HMAC-SHA256 under the server's PIN key, hex) an org's PIN is stored and
/// looked up by: a PIN has few digits, so a plain hash of it would give it away to whoever
/// reads the database.
pub fn pin_hash(key: &str, pin: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(pin.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// One call as the provider's request names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The provider's call id (`CallSid`; for the called person's leg, its parent's).
    pub sid: String,
    /// Who calls (caller ID).
    pub from: String,
    /// The number called (the line).
    pub to: String,
}

/// What the line does next, as the provider's next instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Ask for the org's phone PIN (this is the `attempt`th time).
    AskPin {
        /// What the caller hears.
        say: String,
        /// 1 for the first time.
        attempt: u32,
    },
    /// Ring the person at `place` in the order, and put the caller through if they answer.
    Ring {
        /// What the caller hears first.
        say: String,
        /// The call's ticket.
        ticket: TicketId,
        /// The place in the order.
        place: usize,
        /// The person rung (named in the callbacks, so that a shift changing during the call
        /// does not change who answered).
        whom: UserId,
        /// The number rung (E.164).
        number: String,
        /// The number the person sees calling (the line's).
        caller_id: String,
        /// How long it rings, in seconds.
        seconds: u32,
    },
    /// Record a message for the ticket (with a transcription).
    Record {
        /// What the caller hears first.
        say: String,
        /// The call's ticket.
        ticket: TicketId,
    },
    /// Say something (or nothing) and hang up.
    Goodbye {
        /// What the caller hears.
        say: String,
    },
    /// Said to the person who answered before the caller is put through.
    Whisper {
        /// What they hear.
        say: String,
    },
}

/// Who is calling, once known.
enum Caller {
    /// One of the org's users, by caller ID.
    User(UserRecord),
    /// Someone with the org's PIN.
    Pin { org: OrgSlug, number: String },
}

impl Caller {
    fn actor(&self) -> Actor<'_> {
        match self {
            Caller::User(u) => u.as_sender(),
            // The PIN stands for a member of the org: it may open and page, never administer.
            Caller::Pin { org, number } => Actor {
                user: number,
                role: UserRole::Member,
                org: Some(org.as_str()),
                federal_cleared: false,
                scopes: Scopes::READ_WRITE,
            },
        }
    }

    /// The caller as a principal of the one application call: a known person (none when
    /// deactivated), or the org's PIN caller.
    fn principal(&self, now: i64) -> Option<Principal> {
        match self {
            Caller::User(u) => Principal::new(u.clone(), Scopes::READ_WRITE, Proof::Phone),
            Caller::Pin { org, number } => Some(Principal::pin_caller(org.clone(), number, now)),
        }
    }

    fn id(&self) -> UserId {
        match self {
            Caller::User(u) => u.id.clone(),
            Caller::Pin { number, .. } => UserId(format!("phone:{number}")),
        }
    }

    fn describe(&self, call: &Call) -> String {
        match self {
            Caller::User(u) => format!("{} <{}> from {}", u.name, u.email, call.from),
            Caller::Pin { .. } => format!("{} (known by the org's phone PIN)", call.from),
        }
    }
}

/// What the phone line reads and changes: callers, PINs and the calls' tickets, who is on
/// call, and the recordings it attaches.
#[derive(Clone)]
pub struct PhonePorts {
    /// Changes tickets (and tells the time and the contract).
    pub commands: Arc<dyn Commands>,
    /// The read port: tickets, comments, timelines.
    pub queries: Arc<dyn Queries>,
    /// Orgs, users, tokens.
    pub accounts: Arc<dyn Accounts>,
    /// Schedules, contact methods, notification rules.
    pub oncall: Arc<dyn OnCall>,
    /// Files attached to tickets.
    pub files: Arc<dyn Files>,
    /// Rate limits, back-off, replay guard, idempotency keys, settings.
    pub safeguards: Arc<dyn Safeguards>,
    /// Caller IDs, the orgs' phone PINs, the calls' tickets.
    pub phone: Arc<dyn PhoneBook>,
}

/// Answers the P1 line, one provider request at a time.
pub struct PhoneDesk {
    /// The application's ports.
    pub ports: PhonePorts,
    /// Acts on tickets as the person who answered.
    pub tickets: TicketDesk,
    /// The key PINs are hashed under ([`pin_hash`]).
    pub pin_key: String,
    /// How long each person is rung before the next, in seconds.
    pub ring_seconds: u32,
    /// What a caller the line cannot help hears: where else to go (the portal, the support
    /// address).
    pub help: String,
    /// Fetches recorded messages.
    pub recordings: std::sync::Arc<dyn Recordings>,
}

impl PhoneDesk {
    /// A new call to the line: the caller known by caller ID (users of one org) is let
    /// through or told why not; anyone else is asked for their org's PIN.
    pub async fn incoming(&self, call: &Call) -> Result<Step, AppError> {
        if let Some(ticket) = self.ports.phone.call_ticket(&call.sid).await? {
            return self.ring(call, &ticket, 0, "Putting you through.".into()).await;
        }
        let mut known = Vec::new();
        if let Some(number) = rules::e164(&call.from) {
            for id in self.ports.phone.callers(&number).await? {
                if let Some(user) = self.ports.accounts.user(&id).await?
                    && user.org.is_some()
                    && user.deactivated_at.is_none()
                {
                    known.push(user);
                }
            }
        }
        let orgs: std::collections::BTreeSet<_> = known.iter().filter_map(|u| u.org.clone()).collect();
        if orgs.len() == 1 {
            let user = known.swap_remove(0);
            let org = self.org(user.org.as_ref().expect("filtered to org users")).await?;
            return self.admit(call, &org, Caller::User(user)).await;
        }
        Ok(Step::AskPin {
            say: "This is the priority support line. Key in your organisation's phone PIN, then press the pound key."
                .into(),
            attempt: 1,
        })
    }

    /// The digits a caller keyed in for the `attempt`th PIN question.
    pub async fn pin(&self, call: &Call, digits: &str, attempt: u32) -> Result<Step, AppError> {
        let now = self.ports.commands.now().as_second();
        let number = rules::e164(&call.from).unwrap_or_else(|| "unknown".into());
        let limit_key = format!("phone-pin:{number}");
        let org = if rules::pin_shaped(digits) {
            self.ports.phone.org_by_pin(&pin_hash(&self.pin_key, digits)).await?
        } else {
            None
        };
        let Some(org) = org else {
            let (_, failures) = self.ports.safeguards.count_attempt(&limit_key, now, 3600).await?;
            if attempt >= PIN_ATTEMPTS || failures > PIN_FAILURES_PER_HOUR {
                return Ok(Step::Goodbye { say: format!("That PIN is not known. {}", self.help) });
            }
            return Ok(Step::AskPin {
                say: "That PIN is not known. Key in your organisation's phone PIN, then press the pound key.".into(),
                attempt: attempt + 1,
            });
        };
        let org = self.org(&org).await?;
        // A user of that org with this caller ID is the requester; else the PIN stands for them.
        let mut caller = Caller::Pin { org: org.slug.clone(), number: number.clone() };
        for id in self.ports.phone.callers(&number).await? {
            if let Some(user) = self.ports.accounts.user(&id).await?
                && user.org.as_ref() == Some(&org.slug)
                && user.deactivated_at.is_none()
            {
                caller = Caller::User(user);
                break;
            }
        }
        self.admit(call, &org, caller).await
    }

    async fn org(&self, slug: &OrgSlug) -> Result<OrgRecord, AppError> {
        self.ports.accounts.org(slug).await?.ok_or_else(|| AppError::UnknownOrg(slug.to_string()))
    }

    /// Lets a known caller through as the contract allows.
    async fn admit(&self, call: &Call, org: &OrgRecord, caller: Caller) -> Result<Step, AppError> {
        let contract = self.ports.commands.contract();
        let line = match rules::line(contract, &org.tier) {
            Ok(line) => line,
            Err(uncovered) => {
                tracing::error!(org = %org.slug, "a call refused: {uncovered}");
                return Ok(Step::Goodbye {
                    say: format!("This line cannot take calls for {} just now. {}", org.name, self.help),
                });
            }
        };
        match line {
            Line::Closed => Ok(Step::Goodbye {
                say: format!("This line is not part of {}'s support plan. {}", org.name, self.help),
            }),
            Line::Open { severity } => {
                let actor = caller.actor();
                if access::decide(&actor, Action::OpenTicket, Some(Object::Org(org.as_ref()))) != Decision::Allow {
                    return Ok(Step::Goodbye {
                        say: format!("You may not open tickets for {}. {}", org.name, self.help),
                    });
                }
                let ticket = self.open(call, org, &caller, severity).await?;
                let key = spoken_key(&ticket);
                self.ring(
                    call,
                    &ticket.id,
                    0,
                    format!("This is ticket {key}. Putting you through to the on-call engineer."),
                )
                .await
            }
            Line::AfterTicket { severity } => {
                let filter = TicketFilter {
                    org: Some(org.slug.clone()),
                    severity: Some(severity.clone()),
                    unresolved: true,
                    limit: 1,
                    ..Default::default()
                };
                let Some(ticket) = self.ports.queries.tickets(&filter).await?.into_iter().next() else {
                    let rule = &contract.escalation(&org.tier)?.customer_page;
                    return Ok(Step::Goodbye {
                        say: format!(
                            "{} has no open {severity} ticket. Open one in the support portal: it pages the on-call \
                             engineer at once, and if it is still unacknowledged {} after it was opened, this line \
                             puts you through. {}",
                            org.name, rule.opens_after, self.help
                        ),
                    });
                };
                self.page(call, org, &caller, &ticket).await
            }
        }
    }

    /// Opens the call's ticket (its id derived from the call, so a repeated request finds it).
    async fn open(
        &self,
        call: &Call,
        org: &OrgRecord,
        caller: &Caller,
        severity: stringer_core::ids::Severity,
    ) -> Result<TicketRecord, AppError> {
        let now = self.ports.commands.now();
        let id = TicketId(seeded_ulid("tkt", now.as_millisecond(), &format!("tkt|{}", call.sid)));
        let kind = EventKind::Opened { org: org.slug.clone(), severity, intake: Some(Intake::Phone), security: false };
        let details = TicketDetails {
            subject: format!("Call to the P1 line from {}", call.from),
            description: format!("Opened by a call to the P1 line ({}) from {}.", call.to, caller.describe(call)),
            requester: match caller {
                Caller::User(u) => Some(u.id.clone()),
                Caller::Pin { .. } => None,
            },
        };
        let extras = Extras { actor: Some(caller.id()), details: Some(details), comment: None, applies: None };
        self.ports.commands.record(vec![Event::new(now, id.clone(), kind)], extras).await?;
        self.ports.phone.set_call_ticket(&call.sid, &id, &call.from, now.as_second()).await?;
        let (ticket, _) =
            self.ports.queries.ticket(&id).await?.ok_or_else(|| AppError::UnknownTicket(id.to_string()))?;
        Ok(ticket)
    }

    /// The call as a customer page for the org's open ticket: put through when the rule lets
    /// the customer page, else told when it will.
    async fn page(
        &self,
        call: &Call,
        org: &OrgRecord,
        caller: &Caller,
        ticket: &TicketRecord,
    ) -> Result<Step, AppError> {
        let key = spoken_key(ticket);
        let may_not = || Step::Goodbye { say: format!("You may not page on-call for {}. {}", org.name, self.help) };
        let now = self.ports.commands.now();
        let Some(who) = caller.principal(now.as_second()) else { return Ok(may_not()) };
        let found = Found { ticket: ticket.clone(), deployment: org.deployment };
        let acted = match self.tickets.act_on(&who, found, vec![Command::PageOnCall]).await {
            Ok(acted) => acted,
            Err(ActError::NotFound | ActError::Forbidden(_)) => return Ok(may_not()),
            Err(ActError::App(AppError::Rejected(why)) | ActError::Invalid(why)) => {
                return Ok(Step::Goodbye { say: format!("Ticket {key} cannot be paged: {why}. {}", self.help) });
            }
            Err(ActError::TooSoon(seconds)) => {
                return Ok(Step::Goodbye {
                    say: format!("Ticket {key} was paged a moment ago; call again in {seconds} seconds. {}", self.help),
                });
            }
            Err(ActError::Refused { reason, opens_at }) => return Ok(self.page_refused(&key, &reason, opens_at)),
            Err(ActError::App(e)) => return Err(e),
        };
        match acted.paged() {
            Err(ActError::Refused { reason, opens_at }) => return Ok(self.page_refused(&key, &reason, opens_at)),
            Ok(PageOutcome::InFlight(f)) => {
                let words = in_flight_words(&f, |t| t.strftime("%H:%M UTC").to_string());
                return Ok(Step::Goodbye {
                    say: format!("Ticket {key}: {words} Add to the ticket in the support portal. {}", self.help),
                });
            }
            _ => {}
        }
        self.ports.phone.set_call_ticket(&call.sid, &ticket.id, &call.from, now.as_second()).await?;
        self.ring(call, &ticket.id, 0, format!("Ticket {key} is still unacknowledged. Putting you through to on-call."))
            .await
    }

    /// What a caller hears when the contract does not let them page yet.
    fn page_refused(&self, key: &str, reason: &str, opens_at: Option<jiff::Timestamp>) -> Step {
        let when = opens_at
            .map_or(String::new(), |t| format!(" This line opens for it at {} UTC.", t.strftime("%H:%M on %A %B %-d")));
        Step::Goodbye {
            say: format!(
                "Ticket {key} is with the on-call engineer, who has been paged: {reason}.{when} Until then, add to the \
                 ticket in the support portal. {}",
                self.help
            ),
        }
    }

    /// The people the call is put through to, in order, each with the number to ring.
    async fn order(&self, ticket: &TicketRecord) -> Result<Vec<(UserRecord, String)>, AppError> {
        let org = self.org(&ticket.org).await?;
        let now = self.ports.commands.now();
        let people = self.ports.commands.dial_order(&org.slug, &org.tier, &ticket.state.severity, now).await?;
        let mut order = Vec::new();
        for id in people {
            let Some(user) = self.ports.accounts.user(&id).await? else { continue };
            if user.deactivated_at.is_some() {
                continue;
            }
            let methods = self.ports.oncall.contact_methods(&id).await?;
            let voice = methods.iter().find(|m| m.kind == crate::delivery::MethodKind::Voice);
            let sms = methods.iter().find(|m| m.kind == crate::delivery::MethodKind::Sms);
            if let Some(number) = voice.or(sms).and_then(|m| rules::e164(&m.address)) {
                order.push((user, number));
            }
        }
        Ok(order)
    }

    async fn ticket(&self, id: &TicketId) -> Result<TicketRecord, AppError> {
        Ok(self.found(id).await?.ticket)
    }

    /// The ticket with its org's deployment, read once.
    async fn found(&self, id: &TicketId) -> Result<Found, AppError> {
        let (ticket, deployment) =
            self.ports.queries.ticket(id).await?.ok_or_else(|| AppError::UnknownTicket(id.to_string()))?;
        Ok(Found { ticket, deployment })
    }

    /// Rings the person at `place`, or records a message when nobody is left.
    async fn ring(&self, call: &Call, ticket: &TicketId, place: usize, say: String) -> Result<Step, AppError> {
        let t = self.ticket(ticket).await?;
        let order = self.order(&t).await?;
        match order.get(place) {
            Some((person, number)) => Ok(Step::Ring {
                say,
                ticket: ticket.clone(),
                place,
                whom: person.id.clone(),
                number: number.clone(),
                caller_id: call.to.clone(),
                seconds: self.ring_seconds,
            }),
            None => Ok(self.record_step(&t)),
        }
    }

    fn record_step(&self, t: &TicketRecord) -> Step {
        Step::Record {
            say: format!(
                "Nobody could take your call right now; the on-call engineer is being paged. Leave a message after \
                 the tone and it goes on ticket {}. Press the pound key when you are done.",
                spoken_key(t)
            ),
            ticket: t.id.clone(),
        }
    }

    /// The person rung, `whom`, answered (before the caller is put through): they
    /// acknowledge the ticket, the timeline says so, and they hear what the call is about.
    /// The acknowledgement and the note are one change, made on the ticket read once for
    /// this request. A deactivated account is no principal: it acknowledges nothing and
    /// nothing is noted in its name.
    pub async fn answered(&self, call: &Call, ticket: &TicketId, whom: &UserId) -> Result<Step, AppError> {
        let found = self.bound_found(call, ticket).await?;
        let t = found.ticket.clone();
        let person = self.ports.accounts.user(whom).await?.filter(|u| u.org.is_none());
        let Some(who) = person.and_then(|p| Principal::new(p, Scopes::READ_WRITE, Proof::Phone)) else {
            return Ok(Step::Whisper { say: format!("A call about ticket {}.", spoken_key(&t)) });
        };
        let now = self.ports.commands.now();
        let body = format!("{} answered the call to the P1 line at {now} and was put through.", who.user().name);
        if let Some(id) = self.new_note_id(call, &t.id, &format!("answered|{whom}")).await? {
            let note = Command::Comment { id: id.clone(), public: false, body: body.clone() };
            let commands = if t.state.acknowledged.is_none() { vec![Command::Acknowledge, note] } else { vec![note] };
            match self.tickets.act_on(&who, found, commands).await {
                Ok(_) => {}
                // The acknowledgement is refused (a resolved ticket, a person who may no
                // longer act on it): the answer is noted all the same.
                Err(ActError::NotFound | ActError::Forbidden(_)) | Err(ActError::App(AppError::Rejected(_))) => {
                    self.write_note(&t.id, id, who.user().id.clone(), body).await?;
                }
                Err(ActError::App(e)) => return Err(e),
                Err(e) => return Err(AppError::Rejected(e.to_string())),
            }
        }
        Ok(Step::Whisper {
            say: format!("Priority support call about ticket {}: {}. Connecting you now.", spoken_key(&t), t.subject),
        })
    }

    /// The ring of `whom` at `place` ended with the provider's `DialCallStatus` (and the
    /// talk's length when answered): noted on the timeline; then the call ends, or the next
    /// person is rung, or a message is recorded.
    pub async fn rang(
        &self,
        call: &Call,
        ticket: &TicketId,
        (place, whom): (usize, &UserId),
        status: &str,
        seconds: Option<i64>,
    ) -> Result<Step, AppError> {
        let t = self.bound(call, ticket).await?;
        let order = self.order(&t).await?;
        let name = self.ports.accounts.user(whom).await?.map_or_else(|| whom.to_string(), |u| u.name);
        let after = rules::after_ring(status, place, order.len());
        let body = match after {
            AfterRing::Done => format!("The call with {name} ended after {} s.", seconds.unwrap_or(0)),
            _ => format!("{name} did not answer the call to the P1 line ({status})."),
        };
        self.note(call, &t, &format!("rang|{place}"), whom.clone(), body).await?;
        match after {
            AfterRing::Done => Ok(Step::Goodbye { say: String::new() }),
            AfterRing::Ring(next) => self.ring(call, &t.id, next, "Still trying. Please hold.".into()).await,
            AfterRing::Record => Ok(self.record_step(&t)),
        }
    }

    /// The caller's message was recorded: attached to the ticket as a note with its address.
    pub async fn recorded(&self, call: &Call, ticket: &TicketId, url: &str, seconds: i64) -> Result<Step, AppError> {
        let t = self.bound(call, ticket).await?;
        let body = format!("The caller ({}) left a message of {seconds} s: {url}", call.from);
        self.note(call, &t, "recorded", UserId(format!("phone:{}", call.from)), body).await?;
        Ok(Step::Goodbye { say: format!("Thank you. Your message is on ticket {}. Goodbye.", spoken_key(&t)) })
    }

    /// Attaches the caller's recorded message to the ticket (an internal file,
    /// `message-<call>.mp3`), fetched from the provider; when that fails, the timeline says so
    /// (the note with the recording's address stays). Once per call.
    pub async fn attach_recording(&self, call: &Call, ticket: &TicketId, url: &str) -> Result<(), AppError> {
        let t = self.bound(call, ticket).await?;
        let id = seeded_ulid("att", t.state.opened_at.as_millisecond(), &format!("att|{}", call.sid));
        if self.ports.files.attachments(&t.id).await?.iter().any(|a| a.id == id) {
            return Ok(());
        }
        let caller = UserId(format!("phone:{}", call.from));
        let filename =
            format!("message-{}.mp3", call.sid.chars().filter(char::is_ascii_alphanumeric).collect::<String>());
        let checked = match self.recordings.fetch(url).await {
            Ok(bytes) => crate::files::check(&filename, &bytes).map(|kind| (bytes, kind)).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let (bytes, kind) = match checked {
            Ok(found) => found,
            Err(why) => {
                let body = format!("The caller's message could not be attached ({why}); it stays at {url}");
                return self.note(call, &t, "recording-failed", caller, body).await;
            }
        };
        let record = AttachmentRecord {
            id,
            ticket: t.id.clone(),
            filename,
            content_type: kind.to_string(),
            size: bytes.len() as i64,
            sha256: hex::encode(Sha256::digest(&bytes)),
            public: false,
            uploaded_by: caller,
            created_at: self.ports.commands.now().as_second(),
        };
        self.ports.files.insert_attachment(&record, &bytes).await?;
        Ok(())
    }

    /// The transcription of the caller's message, when the provider has it.
    pub async fn transcribed(&self, call: &Call, ticket: &TicketId, status: &str, text: &str) -> Result<(), AppError> {
        let t = self.bound(call, ticket).await?;
        let body = if status == "completed" {
            format!("Transcription of the caller's message: {}", text.chars().take(8_000).collect::<String>())
        } else {
            format!("The caller's message could not be transcribed ({status}).")
        };
        self.note(call, &t, "transcribed", UserId(format!("phone:{}", call.from)), body).await
    }

    /// The ticket a request names, when the call is the one that opened or paged it.
    async fn bound(&self, call: &Call, ticket: &TicketId) -> Result<TicketRecord, AppError> {
        Ok(self.bound_found(call, ticket).await?.ticket)
    }

    /// [`PhoneDesk::bound`], with the org's deployment the access policy asks about.
    async fn bound_found(&self, call: &Call, ticket: &TicketId) -> Result<Found, AppError> {
        match self.ports.phone.call_ticket(&call.sid).await? {
            Some(bound) if &bound == ticket => self.found(ticket).await,
            _ => Err(AppError::UnknownTicket(ticket.to_string())),
        }
    }

    /// An internal note on the ticket's timeline, once per call and `what`.
    async fn note(
        &self,
        call: &Call,
        t: &TicketRecord,
        what: &str,
        author: UserId,
        body: String,
    ) -> Result<(), AppError> {
        match self.new_note_id(call, &t.id, what).await? {
            Some(id) => self.write_note(&t.id, id, author, body).await,
            None => Ok(()),
        }
    }

    /// The id of the call's note `what`, or `None` when the ticket already has it (the
    /// provider repeated a request).
    async fn new_note_id(&self, call: &Call, ticket: &TicketId, what: &str) -> Result<Option<String>, AppError> {
        let now = self.ports.commands.now();
        let id = seeded_ulid("cmt", now.as_millisecond(), &format!("cmt|{}|{what}", call.sid));
        let suffix = &id[id.len() - 16..];
        let noted = self.ports.queries.comments(ticket).await?.iter().any(|c| c.id.ends_with(suffix));
        Ok((!noted).then_some(id))
    }

    /// Records the internal note `id` by `author`.
    async fn write_note(&self, ticket: &TicketId, id: String, author: UserId, body: String) -> Result<(), AppError> {
        let now = self.ports.commands.now();
        let comment = NewComment { id, author: author.clone(), public: false, body, in_thread: false };
        let kind = EventKind::Replied { by: author.to_string(), public: false };
        let extras = Extras { actor: Some(author), details: None, comment: Some(comment), applies: None };
        match self.ports.commands.record(vec![Event::new(now, ticket.clone(), kind)], extras).await {
            Ok(_) | Err(AppError::Rejected(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// A ticket's key as a voice reads it: letters and digits one by one ("A C M E 4 2").
fn spoken_key(t: &TicketRecord) -> String {
    let key = t.key().to_string();
    key.chars().filter(|c| c.is_ascii_alphanumeric()).map(String::from).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    //! The line's decisions over in-memory ports: who gets through, who is asked for a PIN,
    //! who is dialled and in what order.
    #![allow(unused_variables)]

    use super::*;
    use crate::act::PageLimit;
    use crate::delivery::MethodKind;
    use crate::fakes::{MemoryPhoneBook, World, org, user};
    use crate::records::ContactMethodRecord;
    use std::sync::Mutex;
    use stringer_core::contract::Contract;
    use stringer_core::ids::UserRole;

    /// Caller IDs on file: (number, user).
    type CallerIds<'a> = &'a [(&'a str, &'a str)];

    const KEY: &str = "pin-key";
    const PIN: &str = "482913";

    struct NoRecordings;

    #[async_trait]
    impl Recordings for NoRecordings {
        async fn fetch(&self, url: &str) -> Result<Vec<u8>, SendError> {
            Err(SendError::Permanent("no recordings in this test".into()))
        }
    }

    /// Acme (enterprise: the line opens a P1 at once), Globex (pro: only for an open P1 the
    /// customer may page), Initech (a tier the contract no longer has); their people, the
    /// on-call engineer `eng` (voice and SMS), the TAM `tam` (SMS only), a deactivated
    /// engineer `gone` and an engineer `mute` with no phone.
    async fn line(book: MemoryPhoneBook) -> (PhoneDesk, Arc<World>) {
        let world = World::new(Contract::default_contract(), "2026-03-02T10:00:00Z".parse().unwrap());
        world.add_org(org("acme", "enterprise")).await;
        world.add_org(org("globex", "pro")).await;
        // The contract no longer has Initech's tier: only the accounts know the org.
        world.orgs.lock().unwrap().push(org("initech", "legacy"));
        for slug in ["acme", "globex", "initech"] {
            let people = vec!["gone".to_string(), "mute".to_string(), "eng".to_string()];
            world.desk.store().set_org_people(&OrgSlug::from(slug), Some("tam".into()), people);
        }
        world.add_user(user("ann", Some("acme"), UserRole::Member));
        world.add_user(user("bob", Some("globex"), UserRole::Member));
        world.add_user(user("ivy", Some("initech"), UserRole::Member));
        world.add_user(UserRecord { deactivated_at: Some(1), ..user("dee", Some("acme"), UserRole::Member) });
        for (id, role) in [("eng", UserRole::Engineer), ("tam", UserRole::Tam), ("mute", UserRole::Engineer)] {
            world.add_user(user(id, None, role));
        }
        world.add_user(UserRecord { deactivated_at: Some(1), ..user("gone", None, UserRole::Engineer) });
        let method = |id: &str, who: &str, kind, address: &str| ContactMethodRecord {
            id: id.into(),
            user_id: UserId::from(who),
            kind,
            address: address.into(),
            secret: String::new(),
            created_at: 0,
        };
        *world.methods.lock().unwrap() = vec![
            method("m1", "eng", MethodKind::Sms, "+15550000001"),
            method("m2", "eng", MethodKind::Voice, "+15550000002"),
            method("m3", "tam", MethodKind::Sms, "+15550000003"),
            method("m4", "gone", MethodKind::Voice, "+15550000004"),
            method("m5", "mute", MethodKind::Email, "mute@example.com"),
        ];
        let ports = PhonePorts {
            commands: world.clone(),
            queries: world.clone(),
            accounts: world.clone(),
            oncall: world.clone(),
            files: world.clone(),
            safeguards: world.clone(),
            phone: Arc::new(book),
        };
        let tickets = TicketDesk::new(
            world.clone(),
            world.clone(),
            world.clone(),
            world.clone(),
            PageLimit { limit: 10, window: 60 },
        );
        let desk = PhoneDesk {
            ports,
            tickets,
            pin_key: KEY.into(),
            ring_seconds: 20,
            help: "Write to support.".into(),
            recordings: Arc::new(NoRecordings),
        };
        (desk, world)
    }

    fn call(from: &str) -> Call {
        Call { sid: "CA1".into(), from: from.into(), to: "+15559999999".into() }
    }

    /// What a step comes to, in a word the table can hold: whom it rings, or what it does.
    fn outcome(step: &Step) -> String {
        match step {
            Step::AskPin { attempt, .. } => format!("ask pin #{attempt}"),
            Step::Ring { whom, number, place, .. } => format!("ring {whom} at {number} (#{place})"),
            Step::Record { .. } => "record".into(),
            Step::Goodbye { say } => format!("goodbye: {}", say.split('.').next().unwrap_or_default()),
            Step::Whisper { .. } => "whisper".into(),
        }
    }

    fn book(callers: &[(&str, &str)]) -> MemoryPhoneBook {
        MemoryPhoneBook {
            numbers: Mutex::new(callers.iter().map(|(n, u)| (UserId::from(*u), n.to_string())).collect()),
            pins: Mutex::new(vec![(OrgSlug::from("acme"), pin_hash(KEY, PIN))]),
            ..MemoryPhoneBook::default()
        }
    }

    #[tokio::test]
    async fn a_caller_is_let_through_by_caller_id_or_asked_for_the_pin() {
        let cases: &[(&str, CallerIds, &str)] = &[
            // (why, caller IDs on file, what the line does)
            (
                "an enterprise member opens a P1 and rings on-call",
                &[("+15551110000", "ann")],
                "ring eng at +15550000002 (#0)",
            ),
            ("an unknown number is asked for the PIN", &[], "ask pin #1"),
            (
                "a number of two orgs' people is asked for the PIN",
                &[("+15551110000", "ann"), ("+15551110000", "bob")],
                "ask pin #1",
            ),
            ("a deactivated user's number is asked for the PIN", &[("+15551110000", "dee")], "ask pin #1"),
            ("staff are no org's callers", &[("+15551110000", "eng")], "ask pin #1"),
            (
                "a pro org without an open P1 is told how the line opens",
                &[("+15551110000", "bob")],
                "goodbye: GLOBEX has no open P1 ticket",
            ),
            (
                "a tier the contract lost is refused",
                &[("+15551110000", "ivy")],
                "goodbye: This line cannot take calls for INITECH just now",
            ),
        ];
        for (why, callers, expected) in cases {
            let (desk, _) = line(book(callers)).await;
            let step = desk.incoming(&call("+1 555 111 0000")).await.unwrap();
            assert_eq!(&outcome(&step), expected, "{why}");
        }
    }

    #[tokio::test]
    async fn a_pin_lets_the_caller_through_a_few_tries_at_most() {
        let cases: &[(&str, &str, u32, i64, &str)] = &[
            // (why, digits keyed, attempt, wrong PINs this hour before, what the line does)
            ("the org's PIN opens its P1", PIN, 1, 0, "ring eng at +15550000002 (#0)"),
            ("a wrong PIN is asked again", "111111", 1, 0, "ask pin #2"),
            ("digits too short for a PIN are asked again", "12", 1, 0, "ask pin #2"),
            ("the third wrong PIN ends the call", "111111", PIN_ATTEMPTS, 0, "goodbye: That PIN is not known"),
            (
                "a number past its wrong PINs this hour is cut off",
                "111111",
                1,
                PIN_FAILURES_PER_HOUR,
                "goodbye: That PIN is not known",
            ),
        ];
        for (why, digits, attempt, before, expected) in cases {
            let (desk, world) = line(book(&[])).await;
            world.attempts.lock().unwrap().insert("phone-pin:+15551110000".into(), *before);
            let step = desk.pin(&call("+15551110000"), digits, *attempt).await.unwrap();
            assert_eq!(&outcome(&step), expected, "{why}");
        }
    }

    #[tokio::test]
    async fn a_wrong_pin_counts_against_the_number_and_a_right_one_does_not() {
        let (desk, world) = line(book(&[])).await;
        desk.pin(&call("+15551110000"), "111111", 1).await.unwrap();
        desk.pin(&call("+15551110000"), PIN, 2).await.unwrap();
        assert_eq!(world.attempts("phone-pin:+15551110000"), 1);
    }

    #[tokio::test]
    async fn a_pin_caller_who_is_on_file_for_the_org_is_its_requester() {
        let (desk, world) = line(book(&[("+15551110000", "ann")])).await;
        let Step::Ring { ticket, .. } = desk.pin(&call("+15551110000"), PIN, 1).await.unwrap() else {
            panic!("the PIN opens a P1")
        };
        let (record, _) = world.ticket(&ticket).await.unwrap().expect("the call opened a ticket");
        assert_eq!(record.state.severity.as_str(), "P1");
        assert_eq!(record.requester, Some(UserId::from("ann")), "the caller on file asked, not the PIN");
    }

    #[tokio::test]
    async fn the_call_is_put_through_down_the_order_then_a_message_is_recorded() {
        // Dialled: those the escalation pages with a phone (voice before SMS), then the TAM;
        // the deactivated and the unreachable are passed over.
        let (desk, _) = line(book(&[("+15551110000", "ann")])).await;
        let c = call("+15551110000");
        let Step::Ring { ticket, .. } = desk.incoming(&c).await.unwrap() else { panic!("ann gets through") };
        let cases = [(0, "ring eng at +15550000002 (#0)"), (1, "ring tam at +15550000003 (#1)"), (2, "record")];
        for (place, expected) in cases {
            let step = desk.ring(&c, &ticket, place, String::new()).await.unwrap();
            assert_eq!(outcome(&step), expected, "place {place}");
        }
    }

    #[tokio::test]
    async fn a_repeated_call_finds_its_ticket_and_opens_no_other() {
        let (desk, world) = line(book(&[("+15551110000", "ann")])).await;
        let first = desk.incoming(&call("+15551110000")).await.unwrap();
        let again = desk.incoming(&call("+15551110000")).await.unwrap();
        assert_eq!(outcome(&again), outcome(&first));
        assert_eq!(world.opened.lock().unwrap().len(), 1);
    }
}
