//! The application's ports as this front holds them: one `Arc<dyn …>` per port, over the
//! adapters the binary wires in. The front composes each desk from the few ports that desk
//! takes; the application itself has no such bundle, so no desk reaches a port it does not
//! name.

use std::sync::Arc;
use stringer_app::accounts::AccountPorts;
use stringer_app::alerts::{AlertPorts, Alerts};
use stringer_app::chat::{ChatPorts, ChatRoom};
use stringer_app::history::HistoryReads;
use stringer_app::inquiries::InquiryPorts;
use stringer_app::letters::{LetterBox, PostmanPorts};
use stringer_app::mail::Mailroom;
use stringer_app::mail::intake::MailPorts;
use stringer_app::mail::triage::TriagePorts;
use stringer_app::paging::PagingPorts;
use stringer_app::phone::{PhoneBook, PhonePorts};
use stringer_app::ports::{Accounts, Commands, Files, Inquiries, OnCall, Queries, Safeguards};
use stringer_app::postmortem::{ReportPorts, Reports};
use stringer_app::review::{ReportingReads, ReviewBook, ReviewPorts};
use stringer_app::schedules::SchedulePorts;
use stringer_app::status::StatusPages;
use stringer_app::status::manage::StatusPorts;

/// Every port the routes, pages and the binary's desks reach, shared.
#[derive(Clone)]
pub struct Ports {
    /// Changes tickets.
    pub commands: Arc<dyn Commands>,
    /// The read port.
    pub queries: Arc<dyn Queries>,
    /// Orgs, users, tokens.
    pub accounts: Arc<dyn Accounts>,
    /// Schedules, contact methods.
    pub oncall: Arc<dyn OnCall>,
    /// The general inquiries of "Contact us".
    pub inquiries: Arc<dyn Inquiries>,
    /// Files attached to tickets.
    pub files: Arc<dyn Files>,
    /// Rate limits, back-off, replay guard, idempotency keys, settings.
    pub safeguards: Arc<dyn Safeguards>,
    /// Received mail, its triage, bounced addresses and mail preferences.
    pub mailroom: Arc<dyn Mailroom>,
    /// Integration keys, alerts from monitoring and their signals.
    pub alerts: Arc<dyn Alerts>,
    /// Messages from the orgs' shared channels, the channels' orgs, the threads' tickets.
    pub chat: Arc<dyn ChatRoom>,
    /// Caller IDs, the orgs' phone PINs, the calls' tickets.
    pub phone: Arc<dyn PhoneBook>,
    /// Status pages, their components, incidents and maintenance.
    pub status: Arc<dyn StatusPages>,
    /// Post-incident reports, their versions, comments and announcements.
    pub reports: Arc<dyn Reports>,
    /// What a quarterly review reads of an org's tickets.
    pub reporting: Arc<dyn ReportingReads>,
    /// Quarterly reviews' recommendations.
    pub review_book: Arc<dyn ReviewBook>,
    /// Letters to an org's people (quarterly reviews, welcome packets) waiting to be sent.
    pub letters: Arc<dyn LetterBox>,
    /// Tickets with their history, and the contracts the server ran under (the what-if).
    pub history: Arc<dyn HistoryReads>,
    /// The ledger's state, leaves, keys and signed heads.
    pub ledger: Arc<dyn stringer_app::ledger::LedgerBook>,
    /// The ledger's audit: its stored finding (the admin pages' banner).
    pub ledger_audit: Arc<dyn stringer_app::ledger_audit::LedgerAudit>,
}

impl Ports {
    /// What the account desk takes.
    pub fn for_accounts(&self) -> AccountPorts {
        AccountPorts {
            commands: self.commands.clone(),
            accounts: self.accounts.clone(),
            safeguards: self.safeguards.clone(),
            oncall: self.oncall.clone(),
            phone: self.phone.clone(),
            chat: self.chat.clone(),
            status: self.status.clone(),
            letters: self.letters.clone(),
        }
    }

    /// What the alert desk takes.
    pub fn for_alerts(&self) -> AlertPorts {
        AlertPorts {
            commands: self.commands.clone(),
            queries: self.queries.clone(),
            alerts: self.alerts.clone(),
            status: self.status.clone(),
        }
    }

    /// What the chat desk takes.
    pub fn for_chat(&self) -> ChatPorts {
        ChatPorts {
            commands: self.commands.clone(),
            queries: self.queries.clone(),
            accounts: self.accounts.clone(),
            chat: self.chat.clone(),
        }
    }

    /// What the inquiry desk takes.
    pub fn for_inquiries(&self) -> InquiryPorts {
        InquiryPorts {
            commands: self.commands.clone(),
            inquiries: self.inquiries.clone(),
            safeguards: self.safeguards.clone(),
        }
    }

    /// What the mail intake takes.
    pub fn for_mail(&self) -> MailPorts {
        MailPorts {
            commands: self.commands.clone(),
            queries: self.queries.clone(),
            accounts: self.accounts.clone(),
            inquiries: self.inquiries.clone(),
            files: self.files.clone(),
            safeguards: self.safeguards.clone(),
            mailroom: self.mailroom.clone(),
        }
    }

    /// What mail triage takes.
    pub fn for_triage(&self) -> TriagePorts {
        TriagePorts { accounts: self.accounts.clone(), mailroom: self.mailroom.clone() }
    }

    /// What the paging desk takes.
    pub fn for_paging(&self) -> PagingPorts {
        PagingPorts { commands: self.commands.clone(), accounts: self.accounts.clone(), oncall: self.oncall.clone() }
    }

    /// What the schedule desk takes.
    pub fn for_schedules(&self) -> SchedulePorts {
        SchedulePorts { commands: self.commands.clone(), accounts: self.accounts.clone(), oncall: self.oncall.clone() }
    }

    /// What the phone line takes.
    pub fn for_phone(&self) -> PhonePorts {
        PhonePorts {
            commands: self.commands.clone(),
            queries: self.queries.clone(),
            accounts: self.accounts.clone(),
            oncall: self.oncall.clone(),
            files: self.files.clone(),
            safeguards: self.safeguards.clone(),
            phone: self.phone.clone(),
        }
    }

    /// What the report desk takes.
    pub fn for_reports(&self) -> ReportPorts {
        ReportPorts {
            commands: self.commands.clone(),
            queries: self.queries.clone(),
            accounts: self.accounts.clone(),
            reports: self.reports.clone(),
            status: self.status.clone(),
            ledger: self.ledger.clone(),
        }
    }

    /// What the what-if on history reads.
    pub fn for_whatif(&self) -> stringer_app::whatif::WhatIfPorts {
        stringer_app::whatif::WhatIfPorts { history: self.history.clone(), accounts: self.accounts.clone() }
    }

    /// What a quarterly review reads.
    pub fn for_review(&self) -> ReviewPorts {
        ReviewPorts {
            commands: self.commands.clone(),
            queries: self.queries.clone(),
            accounts: self.accounts.clone(),
            reporting: self.reporting.clone(),
            reports: self.reports.clone(),
            status: self.status.clone(),
            review_book: self.review_book.clone(),
            ledger: self.ledger.clone(),
        }
    }

    /// What the status manager takes.
    pub fn for_status(&self) -> StatusPorts {
        StatusPorts {
            commands: self.commands.clone(),
            queries: self.queries.clone(),
            accounts: self.accounts.clone(),
            alerts: self.alerts.clone(),
            status: self.status.clone(),
        }
    }

    /// What the postman takes.
    pub fn for_postman(&self) -> PostmanPorts {
        PostmanPorts {
            commands: self.commands.clone(),
            accounts: self.accounts.clone(),
            inquiries: self.inquiries.clone(),
            letters: self.letters.clone(),
            review: self.for_review(),
        }
    }
}
