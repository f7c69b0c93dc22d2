//! The welcome packet: everything an org must know to get support, generated from the org
//! and the contract in force — change the contract and the packet changes. Written as
//! Markdown ([`markdown`]) and as a print-friendly HTML document ([`html`]); the same
//! [`Packet`] serves the command line, the portal and the mail to the org's admins.

use crate::ledger::LedgerBook;
use crate::ports::Accounts;
use crate::records::{OrgRecord, UserRecord};
use crate::store::StoreError;
use stringer_core::contract::{Contract, Measure};
use stringer_core::ids::{Deployment, OrgSlug, Role, Via};
use stringer_core::mail::MailAddresses;

/// Where an org reaches the vendor, as this server is set up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    /// The support portal's address.
    pub portal: String,
    /// The org-tagged support mail address (`support+acme@…`), when the server takes mail.
    pub support_mail: Option<String>,
    /// The security mailbox, when the server takes mail.
    pub security_mail: Option<String>,
    /// The P1 phone line, when the server has one.
    pub phone_line: Option<String>,
    /// The org's status page: its own (dedicated, federal) or the public one.
    pub status_page: String,
    /// Where the ledger's key is published (`/.well-known/stringer-ledger/key`).
    pub ledger_key: String,
}

/// A person who serves the org, and how to reach them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// Their name.
    pub name: String,
    /// Their mail address.
    pub email: String,
}

impl From<&UserRecord> for Contact {
    fn from(u: &UserRecord) -> Contact {
        Contact { name: u.name.clone(), email: u.email.clone() }
    }
}

/// One target row: its name, what it measures, and its time per severity for the tier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetRow {
    /// The contract's name of the target.
    pub name: String,
    /// What it measures, in words.
    pub measures: &'static str,
    /// Per severity (in the contract's order): the time, e.g. "1 hour" or "8 business hours".
    pub cells: Vec<String>,
}

/// The ledger's public key as the packet hands it out, for the org to pin (docs/ledger.md
/// §6.1): the same key `/.well-known/stringer-ledger/key` publishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerKey {
    /// The key that signs the log's heads now, `ed25519:<base64>`.
    pub public_key: String,
    /// Its key id (SHA-256 of the key), in hex.
    pub key_id: String,
    /// Its fingerprint, what people compare.
    pub fingerprint: String,
}

/// The packet's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The org's name.
    pub org: String,
    /// Its slug.
    pub slug: String,
    /// The tier's name.
    pub tier: String,
    /// How its platform is deployed, in words.
    pub deployment: &'static str,
    /// Where to reach us.
    pub reach: Reach,
    /// The org's shared channel.
    pub channel: Option<String>,
    /// The TAM.
    pub tam: Option<Contact>,
    /// The named engineers.
    pub engineers: Vec<Contact>,
    /// (code, name, definition), most severe first.
    pub severities: Vec<(String, String, String)>,
    /// This tier's targets.
    pub targets: Vec<TargetRow>,
    /// The tier's coverage, in words.
    pub coverage: String,
    /// Severities covered at any hour.
    pub always_covered: Vec<String>,
    /// The escalation path, step by step, in words.
    pub escalation: Vec<String>,
    /// When and how the org may page on-call itself.
    pub customer_page: String,
    /// Whether the org pages on-call at any time (the P1 line answers at once: Enterprise
    /// in the seed); otherwise the line is only its customer page, told in `customer_page`.
    pub line_at_once: bool,
    /// Security incidents: how to report and what happens.
    pub security: Vec<String>,
    /// The ledger's key to pin; `None` while the log has none (no server has started on it).
    pub ledger_key: Option<LedgerKey>,
}

fn role_words(r: Role) -> &'static str {
    match r {
        Role::Oncall => "the on-call engineer",
        Role::Tam => "your TAM",
        Role::VpEngineering => "the VP of Engineering",
        Role::SupportLead => "the support lead",
    }
}

/// Severities as a sentence says them: "P1", "P1 or P2", "P1, P2 or P3".
fn either(severities: &[stringer_core::ids::Severity]) -> String {
    let names: Vec<&str> = severities.iter().map(|s| s.as_str()).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// How the server is reached, from which each org's [`Reach`] follows.
#[derive(Clone, Debug, Default)]
pub struct Reachable {
    /// The server's public address.
    pub public_url: String,
    /// The support domains, when the server takes mail.
    pub addresses: Option<MailAddresses>,
    /// The P1 phone line, when the server has one.
    pub phone_line: Option<String>,
}

impl Reachable {
    /// Where `org`'s people reach support.
    pub fn of(&self, org: &OrgRecord) -> Reach {
        let base = self.public_url.trim_end_matches('/');
        let addresses = self.addresses.as_ref();
        Reach {
            portal: format!("{base}/portal"),
            support_mail: addresses.and_then(|a| a.org_address(&OrgSlug::from(org.email_tag.as_str()))),
            security_mail: addresses.and_then(|a| a.domains.first().map(|d| format!("{}@{d}", a.security))),
            phone_line: self.phone_line.clone(),
            status_page: match org.deployment {
                Deployment::Shared => format!("{base}/status"),
                _ => format!("{base}/status/{}", org.slug),
            },
            ledger_key: format!("{base}/.well-known/stringer-ledger/key"),
        }
    }
}

/// The packet of `org` as the server reached through `reachable` hands it out, with its TAM
/// and named engineers read from the accounts and the ledger's current key from its book (no
/// permission is asked here: the pages ask the policy first; the command line is the
/// operator's; the key is published to anyone).
pub async fn of(
    accounts: &dyn Accounts,
    ledger: &dyn LedgerBook,
    contract: &Contract,
    org: &OrgRecord,
    reachable: &Reachable,
) -> Result<Packet, StoreError> {
    let tam = match &org.tam {
        Some(id) => accounts.user(id).await?,
        None => None,
    };
    let mut engineers = Vec::new();
    for id in &org.named_engineers {
        if let Some(user) = accounts.user(id).await? {
            engineers.push(user);
        }
    }
    let ledger_key = ledger.log_keys().await?.last().map(|k| LedgerKey {
        public_key: k.public_key.to_string(),
        key_id: hex::encode(k.public_key.key_id()),
        fingerprint: k.public_key.fingerprint(),
    });
    Ok(Packet { ledger_key, ..packet(contract, org, tam.as_ref(), &engineers, reachable.of(org)) })
}

/// The packet as a mail: its subject and its Markdown as the text.
pub fn letter(p: &Packet) -> (String, String) {
    (format!("Welcome to {} support, {}: your welcome packet", p.tier, p.org), markdown(p))
}

/// The packet of `org` under `contract`.
pub fn packet(
    contract: &Contract,
    org: &OrgRecord,
    tam: Option<&UserRecord>,
    engineers: &[UserRecord],
    reach: Reach,
) -> Packet {
    let tier = contract.tiers.get(&org.tier);
    let tier_name = tier.map_or_else(|| org.tier.to_string(), |t| t.name.clone());
    let severities: Vec<(String, String, String)> =
        contract.severities.iter().map(|(code, d)| (code.to_string(), d.name.clone(), d.definition.clone())).collect();
    let targets = contract
        .targets
        .iter()
        .filter_map(|(name, def)| {
            let cells = def.tiers.get(&org.tier)?;
            Some(TargetRow {
                name: name.clone(),
                measures: match def.measures {
                    Measure::FirstResponse => "first response",
                    Measure::NextReply => "next reply",
                    Measure::Resolution => "resolution",
                },
                cells: contract
                    .severities
                    .keys()
                    .map(|s| cells.get(s).map(|t| t.within.to_string()).unwrap_or_default())
                    .collect(),
            })
        })
        .collect();
    let coverage = tier
        .map(|t| {
            t.summary.clone().unwrap_or_else(|| {
                contract.calendars.get(&t.coverage).and_then(|c| c.spec.description.clone()).unwrap_or_default()
            })
        })
        .unwrap_or_default();
    let always_covered = tier.map(|t| t.always_covered.iter().map(|s| s.to_string()).collect()).unwrap_or_default();
    let policy = contract.escalation.get(&org.tier);
    let mut escalation = Vec::new();
    let mut customer_page = String::new();
    let mut line_at_once = false;
    if let Some(p) = policy {
        let slack = |s: &stringer_core::contract::EscalationStep| {
            if s.via.contains(&Via::OrgChannel) { ", and in your Slack channel" } else { "" }
        };
        let first = p.steps.first().filter(|s| s.after.seconds == 0);
        if !p.page_on_open.is_empty() {
            let whom = first.map_or("the on-call engineer", |s| role_words(s.notify));
            let also = first.map_or("", slack);
            escalation.push(format!("A {} ticket pages {whom} as soon as it opens{also}.", either(&p.page_on_open)));
        }
        for s in p.steps.iter().filter(|s| s.after.seconds > 0) {
            let only = s.severities.as_ref().map(|v| format!(" (for {})", either(v))).unwrap_or_default();
            escalation.push(format!(
                "If nobody acknowledges it within {}, {} is paged{only}{}.",
                s.after,
                role_words(s.notify),
                slack(s)
            ));
        }
        let cp = &p.customer_page;
        line_at_once = !cp.severities.is_empty() && cp.opens_after.seconds == 0;
        customer_page = if cp.severities.is_empty() {
            "Your tier does not page the on-call engineer directly; open a ticket instead.".to_string()
        } else {
            let when = if cp.opens_after.seconds == 0 {
                "at any time".to_string()
            } else {
                let unack = if cp.while_unacknowledged { " if nobody has acknowledged it" } else { "" };
                format!("{} after opening it{unack}", cp.opens_after)
            };
            let phone = match &reach.phone_line {
                Some(line) => format!(", or call {line}"),
                None => String::new(),
            };
            format!(
                "You may page the on-call engineer for a {} ticket {when}: press \"Page on-call\" on the ticket in the portal{phone}.",
                either(&cp.severities)
            )
        };
    }
    let mut security = Vec::new();
    if let Some(mail) = &reach.security_mail {
        security.push(format!(
            "Report a security incident to {mail}, or with \"Report a security incident\" in the portal."
        ));
    } else {
        security.push("Report a security incident with \"Report a security incident\" in the portal.".to_string());
    }
    security.push(format!("It is opened as {}.", contract.security_severity(&org.tier)));
    if let Some(s) = contract.security.tiers.get(&org.tier).and_then(|rule| rule.page_as.as_ref()) {
        security.push(format!("The on-call engineer is paged at once, as for {s}."));
    }
    let bridge = &contract.security.bridge;
    let severity = contract
        .security
        .tiers
        .get(&org.tier)
        .and_then(|r| r.severity.clone())
        .or_else(|| contract.severities.keys().next().cloned());
    let within = contract
        .targets
        .get(&bridge.within_target)
        .and_then(|t| t.tiers.get(&org.tier))
        .and_then(|cells| cells.get(severity.as_ref()?))
        .map(|t| format!(" within {}", t.within))
        .unwrap_or_default();
    security.push(format!("A {} joins your incident bridge{within}.", bridge.role.replace('_', " ")));
    Packet {
        org: org.name.clone(),
        slug: org.slug.to_string(),
        tier: tier_name,
        deployment: match org.deployment {
            Deployment::Shared => "the shared platform",
            Deployment::Dedicated => "a dedicated deployment",
            Deployment::Federal => "a federal deployment",
        },
        channel: org.channel.clone(),
        tam: tam.map(Contact::from),
        engineers: engineers.iter().map(Contact::from).collect(),
        severities,
        targets,
        coverage,
        always_covered,
        escalation,
        customer_page,
        line_at_once,
        security,
        ledger_key: None,
        reach,
    }
}

/// The packet as Markdown.
pub fn markdown(p: &Packet) -> String {
    let mut out = format!("# Welcome to {} support, {}\n\n", p.tier, p.org);
    out.push_str(&format!("You are on the **{}** tier, on {}.\n\n", p.tier, p.deployment));
    out.push_str("## How to reach us\n\n");
    for (what, how) in reach_lines(p) {
        out.push_str(&format!("- **{what}**: {how}\n"));
    }
    out.push_str("\n## Your people\n\n");
    for (what, how) in people_lines(p) {
        out.push_str(&format!("- **{what}**: {how}\n"));
    }
    out.push_str("\n## Severities\n\n| Severity | Name | Definition |\n|---|---|---|\n");
    for (code, name, definition) in &p.severities {
        out.push_str(&format!("| {code} | {name} | {} |\n", definition.replace('|', "\\|")));
    }
    out.push_str(&format!("\n## Your targets ({})\n\n", p.tier));
    let codes: Vec<&str> = p.severities.iter().map(|s| s.0.as_str()).collect();
    out.push_str(&format!("| Target | {} |\n|---|{}\n", codes.join(" | "), "---|".repeat(codes.len())));
    for row in &p.targets {
        out.push_str(&format!("| {} ({}) | {} |\n", row.name, row.measures, row.cells.join(" | ")));
    }
    out.push_str(&format!("\n**Coverage**: {}", p.coverage));
    if !p.always_covered.is_empty() {
        out.push_str(&format!(" ({} at any hour)", p.always_covered.join(", ")));
    }
    out.push_str("\n\n## Escalation\n\n");
    for line in &p.escalation {
        out.push_str(&format!("- {line}\n"));
    }
    out.push_str(&format!("\n{}\n\n## Security incidents\n\n", p.customer_page));
    for line in &p.security {
        out.push_str(&format!("- {line}\n"));
    }
    out.push_str(&format!("\n## {LEDGER_TITLE}\n\n{}\n\n", ledger_intro(p)));
    for (what, how) in ledger_lines(p) {
        out.push_str(&format!("- **{what}**: {how}\n"));
    }
    if let Some(pin) = pin_line(p) {
        out.push_str(&format!("\n{pin}\n"));
    }
    out
}

/// The title of the packet's section on the ledger.
const LEDGER_TITLE: &str = "Checking your tickets' timelines";

fn ledger_intro(p: &Packet) -> String {
    match &p.ledger_key {
        Some(_) => "Every event on your tickets' timelines is an entry of a tamper-evident log whose heads \
                    are signed with this key. Keep it: it is how you check, offline, that what you \
                    are shown was not changed afterwards."
            .to_string(),
        None => format!(
            "Every event on your tickets' timelines is an entry of a tamper-evident log. Its signing key \
             is not made yet; it will be published at {}.",
            p.reach.ledger_key
        ),
    }
}

fn ledger_lines(p: &Packet) -> Vec<(&'static str, String)> {
    let Some(k) = &p.ledger_key else { return Vec::new() };
    vec![
        ("Public key", k.public_key.clone()),
        ("Key id", k.key_id.clone()),
        ("Fingerprint", k.fingerprint.clone()),
        ("Published at", p.reach.ledger_key.clone()),
    ]
}

fn pin_line(p: &Packet) -> Option<String> {
    let k = p.ledger_key.as_ref()?;
    Some(format!(
        "Pin it when you verify a ticket's bundle (\"Verify this timeline\" in the portal): `stringer verify \
         BUNDLE --key {}`. A later key is trusted only when this one endorsed it.",
        k.public_key
    ))
}

fn reach_lines(p: &Packet) -> Vec<(&'static str, String)> {
    let mut lines = vec![("Support portal", p.reach.portal.clone())];
    if let Some(mail) = &p.reach.support_mail {
        lines.push(("Email", mail.clone()));
    }
    if let Some(channel) = &p.channel {
        lines.push(("Slack", format!("{channel}, shared with your team")));
    }
    if let Some(line) = p.reach.phone_line.as_ref().filter(|_| p.line_at_once) {
        lines.push(("P1 phone line", format!("{line}, answered by the on-call engineer at any hour")));
    }
    lines.push(("Status page", p.reach.status_page.clone()));
    lines
}

fn people_lines(p: &Packet) -> Vec<(&'static str, String)> {
    let mut lines = Vec::new();
    match &p.tam {
        Some(t) => lines.push(("Technical account manager", format!("{} <{}>", t.name, t.email))),
        None => lines.push(("Technical account manager", "none assigned".to_string())),
    }
    for e in &p.engineers {
        lines.push(("Named engineer", format!("{} <{}>", e.name, e.email)));
    }
    lines
}

/// Text escaped for HTML.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The packet as a print-friendly HTML document.
pub fn html(p: &Packet) -> String {
    let mut out = String::from("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>Welcome packet · {}</title>\n", esc(&p.org)));
    out.push_str(
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}\
         table{border-collapse:collapse;width:100%}th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}\
         .scroll{overflow-x:auto}@media print{body{margin:0}a{color:inherit;text-decoration:none}}</style>\n</head>\n<body>\n<main>\n",
    );
    out.push_str(&html_body(p));
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// The packet's content as an HTML fragment (from its heading on), for a page that gives it
/// the site's frame. Wide tables scroll inside their own box.
pub fn html_body(p: &Packet) -> String {
    let mut out = String::new();
    out.push_str(&format!("<h1>Welcome to {} support, {}</h1>\n", esc(&p.tier), esc(&p.org)));
    out.push_str(&format!("<p>You are on the <strong>{}</strong> tier, on {}.</p>\n", esc(&p.tier), p.deployment));
    let list = |title: &str, lines: Vec<(&'static str, String)>| {
        let items: String = lines.iter().map(|(w, h)| format!("<li><strong>{w}</strong>: {}</li>\n", esc(h))).collect();
        format!("<h2>{title}</h2>\n<ul>\n{items}</ul>\n")
    };
    out.push_str(&list("How to reach us", reach_lines(p)));
    out.push_str(&list("Your people", people_lines(p)));
    out.push_str("<h2>Severities</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th scope=\"col\">Severity</th><th scope=\"col\">Name</th><th scope=\"col\">Definition</th></tr></thead>\n<tbody>\n");
    for (code, name, definition) in &p.severities {
        out.push_str(&format!("<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n", esc(code), esc(name), esc(definition)));
    }
    out.push_str("</tbody>\n</table></div>\n");
    out.push_str(&format!(
        "<h2>Your targets ({})</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th scope=\"col\">Target</th>",
        esc(&p.tier)
    ));
    for (code, _, _) in &p.severities {
        out.push_str(&format!("<th scope=\"col\">{}</th>", esc(code)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &p.targets {
        let cells: String = row.cells.iter().map(|c| format!("<td>{}</td>", esc(c))).collect();
        out.push_str(&format!("<tr><th scope=\"row\">{} ({})</th>{cells}</tr>\n", esc(&row.name), row.measures));
    }
    out.push_str("</tbody>\n</table></div>\n");
    let always = if p.always_covered.is_empty() {
        String::new()
    } else {
        format!(" ({} at any hour)", esc(&p.always_covered.join(", ")))
    };
    out.push_str(&format!("<p><strong>Coverage</strong>: {}{always}</p>\n", esc(&p.coverage)));
    let items = |lines: &[String]| lines.iter().map(|l| format!("<li>{}</li>\n", esc(l))).collect::<String>();
    out.push_str(&format!("<h2>Escalation</h2>\n<ul>\n{}</ul>\n", items(&p.escalation)));
    out.push_str(&format!("<p>{}</p>\n", esc(&p.customer_page)));
    out.push_str(&format!("<h2>Security incidents</h2>\n<ul>\n{}</ul>\n", items(&p.security)));
    out.push_str(&format!("<h2>{}</h2>\n<p>{}</p>\n", esc(LEDGER_TITLE), esc(&ledger_intro(p))));
    let lines = ledger_lines(p);
    if !lines.is_empty() {
        let items: String =
            lines.iter().map(|(w, h)| format!("<li><strong>{w}</strong>: <code>{}</code></li>\n", esc(h))).collect();
        out.push_str(&format!("<ul>\n{items}</ul>\n"));
    }
    if let Some(pin) = pin_line(p) {
        let code: String = esc(&pin)
            .split('`')
            .enumerate()
            .map(|(i, part)| if i % 2 == 1 { format!("<code>{part}</code>") } else { part.to_string() })
            .collect();
        out.push_str(&format!("<p>{code}</p>\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    //! The packet as the accounts and the server's reach make it, over in-memory ports: who
    //! it names and where it sends the org's people.

    use super::*;
    use crate::fakes::{MemoryLedger, World, org, user};
    use crate::ledger::LogKey;
    use std::sync::Arc;
    use stringer_core::ids::{UserId, UserRole};
    use stringer_ledger::head::{PublicKey, SigningKey};

    /// Who serves an org: its TAM and named engineers.
    type Serving<'a> = (Option<&'a str>, &'a [&'a str]);

    async fn world() -> Arc<World> {
        let world = World::new(Contract::default_contract(), "2026-03-02T10:00:00Z".parse().unwrap());
        world.add_user(user("tina", None, UserRole::Tam));
        world.add_user(user("eve", None, UserRole::Engineer));
        world.add_user(user("ed", None, UserRole::Engineer));
        world
    }

    fn names(p: &Packet) -> (Option<String>, Vec<String>) {
        (p.tam.as_ref().map(|c| c.name.clone()), p.engineers.iter().map(|c| c.name.clone()).collect())
    }

    #[tokio::test]
    async fn the_packet_names_the_people_on_file_who_serve_the_org() {
        let ids = |v: &[&str]| v.iter().map(|id| UserId::from(*id)).collect::<Vec<_>>();
        let cases: &[(&str, Serving, Serving)] = &[
            // (why, on the org: TAM and named engineers, in the packet)
            ("a TAM and two engineers", (Some("tina"), &["eve", "ed"]), (Some("tina"), &["eve", "ed"])),
            ("no TAM", (None, &["ed"]), (None, &["ed"])),
            ("people without an account are left out", (Some("ghost"), &["ghost", "eve"]), (None, &["eve"])),
        ];
        for (why, (tam, engineers), (named_tam, named_engineers)) in cases {
            let world = world().await;
            let o =
                OrgRecord { tam: tam.map(UserId::from), named_engineers: ids(engineers), ..org("acme", "enterprise") };
            let p =
                of(&*world, &MemoryLedger::default(), world.desk.contract(), &o, &Reachable::default()).await.unwrap();
            let expected = (named_tam.map(str::to_string), named_engineers.iter().map(|n| n.to_string()).collect());
            assert_eq!(names(&p), expected, "{why}");
        }
    }

    #[tokio::test]
    async fn the_packet_sends_each_org_where_it_is_served() {
        let mail = MailAddresses {
            domains: vec!["support.vendor.example".into()],
            support: "support".into(),
            security: "security".into(),
            inquiries: Vec::new(),
        };
        let cases = [
            // (why, tier, deployment, mail, phone line, support mail, status page, line at once)
            (
                "shared enterprise with mail",
                "enterprise",
                Deployment::Shared,
                true,
                true,
                Some("support+acme-tag@support.vendor.example"),
                "https://desk.example/status",
                true,
            ),
            (
                "a dedicated org has its own status page",
                "enterprise",
                Deployment::Dedicated,
                true,
                true,
                Some("support+acme-tag@support.vendor.example"),
                "https://desk.example/status/acme",
                true,
            ),
            (
                "no mail domain, no support address",
                "pro",
                Deployment::Shared,
                false,
                false,
                None,
                "https://desk.example/status",
                false,
            ),
        ];
        for (why, tier, deployment, with_mail, with_line, support, status, at_once) in cases {
            let world = world().await;
            let o = OrgRecord { deployment, email_tag: "acme-tag".into(), ..org("acme", tier) };
            let reachable = Reachable {
                public_url: "https://desk.example/".into(),
                addresses: with_mail.then(|| mail.clone()),
                phone_line: with_line.then(|| "+15559999999".into()),
            };
            let p = of(&*world, &MemoryLedger::default(), world.desk.contract(), &o, &reachable).await.unwrap();
            assert_eq!(p.reach.support_mail.as_deref(), support, "{why}");
            assert_eq!(p.reach.status_page, status, "{why}");
            assert_eq!(p.reach.portal, "https://desk.example/portal", "{why}");
            assert_eq!(p.reach.phone_line.is_some(), with_line, "{why}");
            assert_eq!(p.line_at_once, at_once, "{why}: the line opens at once only where the tier's page does");
        }
    }

    #[tokio::test]
    async fn the_packet_hands_out_the_key_that_signs_now_for_the_org_to_pin() {
        let world = world().await;
        let o = org("acme", "enterprise");
        let reachable = Reachable { public_url: "https://desk.example".into(), ..Reachable::default() };
        let ledger = MemoryLedger::default();
        let p = of(&*world, &ledger, world.desk.contract(), &o, &reachable).await.unwrap();
        assert_eq!(p.ledger_key, None, "no key yet");
        assert!(markdown(&p).contains("will be published at https://desk.example/.well-known/stringer-ledger/key"));
        let key = |seed: u8| PublicKey::of(&SigningKey::from_bytes(&[seed; 32]));
        for seed in [1, 2] {
            ledger.keys.lock().unwrap().push(LogKey { public_key: key(seed), added_at: 0, rotation: None });
        }
        let p = of(&*world, &ledger, world.desk.contract(), &o, &reachable).await.unwrap();
        let k = p.ledger_key.clone().expect("the log's key");
        assert_eq!(k.public_key, key(2).to_string(), "the current key, after a rotation");
        assert_eq!(k.fingerprint, key(2).fingerprint());
        let md = markdown(&p);
        assert!(md.contains(&format!("`stringer verify BUNDLE --key {}`", key(2))), "{md}");
        assert!(md.contains(&format!("- **Key id**: {}", hex::encode(key(2).key_id()))), "{md}");
        assert!(html_body(&p).contains(&format!("<code>stringer verify BUNDLE --key {}</code>", key(2))));
    }
}
