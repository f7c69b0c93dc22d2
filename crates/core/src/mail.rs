//! The email channel's rules: which mailbox a recipient address names, what a subject says
//! (a severity marker, a ticket key), and when a message is machine-made so that nothing may
//! answer it. Pure functions over text; the mail adapters parse the bytes, the application
//! applies these rules.

use crate::ids::{OrgSlug, Severity, TicketKey};

/// The vendor's addresses: the support domains and the local parts that mean something.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailAddresses {
    /// Domains mail is accepted for, lower case (`support.vendor.example`).
    pub domains: Vec<String>,
    /// The support mailbox's local part (`support`); `support+<tag>` addresses an org.
    pub support: String,
    /// The security mailbox (`security`): every mail opens a security incident.
    pub security: String,
    /// Mailboxes for general inquiries (`sales`, `contact`).
    pub inquiries: Vec<String>,
}

impl Default for MailAddresses {
    fn default() -> MailAddresses {
        MailAddresses {
            domains: Vec::new(),
            support: "support".into(),
            security: "security".into(),
            inquiries: vec!["sales".into(), "contact".into()],
        }
    }
}

/// What a recipient address asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mailbox {
    /// `support@` (no tag) or `support+<tag>@`: a request, for the tagged org if any.
    Support {
        /// The org tag, lower case.
        tag: Option<String>,
    },
    /// `support+<org>.<number>.<mac>@`: the signed reply address of a ticket.
    Reply {
        /// The ticket the address was made for.
        key: TicketKey,
        /// The signature to check (hex), made by the application.
        mac: String,
    },
    /// `security@` (and `security+<tag>@`): a security incident.
    Security {
        /// The org tag, lower case.
        tag: Option<String>,
    },
    /// `sales@`, `contact@`: a general inquiry.
    Inquiry,
}

impl MailAddresses {
    /// Whether the domain of `address` is one of ours (the SMTP listener accepts only these,
    /// so it is never an open relay).
    pub fn is_ours(&self, address: &str) -> bool {
        split(address).is_some_and(|(_, domain)| self.domains.iter().any(|d| d == &domain))
    }

    /// The mailbox an address names, if it is one of ours.
    pub fn mailbox(&self, address: &str) -> Option<Mailbox> {
        let (local, domain) = split(address)?;
        if !self.domains.iter().any(|d| d == &domain) {
            return None;
        }
        let (base, tag) = match local.split_once('+') {
            Some((base, tag)) if !tag.is_empty() => (base, Some(tag.to_string())),
            Some((base, _)) => (base, None),
            None => (local.as_str(), None),
        };
        if base == self.support {
            if let Some(reply) = tag.as_deref().and_then(reply_tag) {
                return Some(reply);
            }
            return Some(Mailbox::Support { tag });
        }
        if base == self.security {
            return Some(Mailbox::Security { tag });
        }
        self.inquiries.iter().any(|i| i == base).then_some(Mailbox::Inquiry)
    }

    /// The support address of an org (`support+acme@…`), on the first domain.
    pub fn org_address(&self, org: &OrgSlug) -> Option<String> {
        self.domains.first().map(|d| format!("{}+{}@{d}", self.support, org.as_str()))
    }

    /// A ticket's reply address, given the application's signature of the key.
    pub fn reply_address(&self, key: &TicketKey, mac: &str) -> Option<String> {
        self.domains.first().map(|d| format!("{}+{}.{}.{mac}@{d}", self.support, key.org.as_str(), key.number))
    }
}

/// `local@domain` in lower case, without angle brackets; `None` unless it has both parts.
fn split(address: &str) -> Option<(String, String)> {
    let a = address.trim().trim_start_matches('<').trim_end_matches('>').to_ascii_lowercase();
    let (local, domain) = a.rsplit_once('@')?;
    (!local.is_empty() && !domain.is_empty()).then(|| (local.to_string(), domain.to_string()))
}

/// `acme.42.<mac>` as a reply address tag.
fn reply_tag(tag: &str) -> Option<Mailbox> {
    let mut parts = tag.split('.');
    let (org, number, mac) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || mac.len() < 16 || !mac.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let key = TicketKey::parse(&format!("{}-{number}", org.to_ascii_uppercase()))?;
    Some(Mailbox::Reply { key, mac: mac.to_string() })
}

/// A `[P1]`-style marker in a subject naming one of `severities` (case-insensitive).
pub fn severity_marker<'a>(subject: &str, severities: impl IntoIterator<Item = &'a Severity>) -> Option<Severity> {
    let brackets = bracketed(subject);
    severities.into_iter().find(|s| brackets.iter().any(|b| b.eq_ignore_ascii_case(s.as_str()))).cloned()
}

/// The first `[ACME-42]` ticket key in a subject.
pub fn ticket_key(subject: &str) -> Option<TicketKey> {
    bracketed(subject).into_iter().find_map(|b| TicketKey::parse(&b.to_ascii_uppercase()))
}

fn bracketed(subject: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = subject;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        out.push(after[..close].trim());
        rest = &after[close + 1..];
    }
    out
}

/// The header facts that tell a machine-made message from a person's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// `Auto-Submitted` (RFC 3834), if present.
    pub auto_submitted: Option<String>,
    /// `Precedence`, if present.
    pub precedence: Option<String>,
    /// Whether a `List-Id` or `List-Unsubscribe` header is present.
    pub list: bool,
    /// Whether an `X-Autoreply`, `X-Autorespond` or `X-Auto-Response-Suppress: All|OOF|AutoReply` header is present.
    pub autoreply_header: bool,
    /// The sender address, lower case.
    pub from: String,
    /// Whether the message is a delivery status report (`multipart/report`).
    pub report: bool,
    /// Whether the message carries our own instance's marker (a message we sent).
    pub ours: bool,
}

/// Why nothing may answer a message automatically (RFC 3834 and the conventions mail
/// systems follow), or `None` for a person's message.
pub fn machine_made(p: &Provenance) -> Option<&'static str> {
    if p.ours {
        return Some("a message this server sent");
    }
    if p.report {
        return Some("a delivery status report");
    }
    let local = p.from.split('@').next().unwrap_or_default();
    if ["mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"].contains(&local)
        || local.starts_with("owner-")
        || local.ends_with("-request")
    {
        return Some("sent by a mail system or a no-reply address");
    }
    if p.auto_submitted.as_deref().is_some_and(|v| !v.trim().eq_ignore_ascii_case("no")) {
        return Some("Auto-Submitted (an automatic reply or notification)");
    }
    if p.precedence
        .as_deref()
        .is_some_and(|v| ["bulk", "junk", "list", "auto_reply"].contains(&v.trim().to_ascii_lowercase().as_str()))
    {
        return Some("Precedence: bulk, junk or list");
    }
    if p.list {
        return Some("a mailing-list message");
    }
    if p.autoreply_header {
        return Some("marked as an automatic reply");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> MailAddresses {
        MailAddresses { domains: vec!["support.example".into()], ..MailAddresses::default() }
    }

    #[test]
    fn addresses_name_their_mailboxes() {
        let cases: &[(&str, Option<Mailbox>)] = &[
            ("support+acme@support.example", Some(Mailbox::Support { tag: Some("acme".into()) })),
            ("Support+ACME@Support.Example", Some(Mailbox::Support { tag: Some("acme".into()) })),
            ("<support@support.example>", Some(Mailbox::Support { tag: None })),
            ("support+@support.example", Some(Mailbox::Support { tag: None })),
            ("security@support.example", Some(Mailbox::Security { tag: None })),
            ("security+bolt@support.example", Some(Mailbox::Security { tag: Some("bolt".into()) })),
            ("sales@support.example", Some(Mailbox::Inquiry)),
            ("contact@support.example", Some(Mailbox::Inquiry)),
            ("billing@support.example", None),
            ("support+acme@elsewhere.example", None),
            ("support", None),
            (
                "support+acme.42.0123456789abcdef@support.example",
                Some(Mailbox::Reply {
                    key: TicketKey { org: OrgSlug("acme".into()), number: 42 },
                    mac: "0123456789abcdef".into(),
                }),
            ),
            // Too short a signature, a leading zero, a fourth part: an ordinary tag.
            ("support+acme.42.abc@support.example", Some(Mailbox::Support { tag: Some("acme.42.abc".into()) })),
        ];
        for (address, want) in cases {
            assert_eq!(&ours().mailbox(address), want, "{address}");
        }
        assert!(ours().is_ours("x@SUPPORT.example"));
        assert!(!ours().is_ours("x@support.example.org"));
    }

    #[test]
    fn reply_addresses_read_back() {
        let key = TicketKey { org: OrgSlug("acme-eu".into()), number: 7 };
        let address = ours().reply_address(&key, "00112233445566778899").unwrap();
        assert_eq!(address, "support+acme-eu.7.00112233445566778899@support.example");
        assert_eq!(ours().mailbox(&address), Some(Mailbox::Reply { key, mac: "00112233445566778899".into() }));
    }

    #[test]
    fn subjects_carry_markers_and_keys() {
        let sev = [Severity("P1".into()), Severity("P2".into())];
        assert_eq!(severity_marker("[p1] Production down", &sev), Some(Severity("P1".into())));
        assert_eq!(severity_marker("Re: [ACME-4] [P2] slow", &sev), Some(Severity("P2".into())));
        assert_eq!(severity_marker("P1 down", &sev), None);
        assert_eq!(severity_marker("[P9] down", &sev), None);
        assert_eq!(ticket_key("Re: [ACME-42] Login fails").map(|k| k.to_string()), Some("ACME-42".into()));
        assert_eq!(ticket_key("RE: AW: [acme-42] x").map(|k| k.to_string()), Some("ACME-42".into()));
        assert_eq!(ticket_key("[P1] [no key here"), None);
    }

    #[test]
    fn machine_made_messages_are_recognised() {
        let person = Provenance { from: "ana@acme.example".into(), ..Provenance::default() };
        assert_eq!(machine_made(&person), None);
        let no = Provenance { auto_submitted: Some("No".into()), ..person.clone() };
        assert_eq!(machine_made(&no), None);
        let cases = [
            Provenance { auto_submitted: Some("auto-replied".into()), ..person.clone() },
            Provenance { precedence: Some("Bulk".into()), ..person.clone() },
            Provenance { list: true, ..person.clone() },
            Provenance { autoreply_header: true, ..person.clone() },
            Provenance { report: true, ..person.clone() },
            Provenance { ours: true, ..person.clone() },
            Provenance { from: "MAILER-DAEMON@mx.acme.example".to_ascii_lowercase(), ..person.clone() },
            Provenance { from: "dev-request@lists.acme.example".into(), ..person.clone() },
        ];
        for p in cases {
            assert!(machine_made(&p).is_some(), "{p:?}");
        }
    }
}
