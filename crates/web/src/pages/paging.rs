//! The "Paging" part of one's settings (staff): one's contact methods with their last
//! delivery and a test page each, one's notification rules, and one's on-call calendar feed —
//! all through the application's [`stringer_app::paging::PagingDesk`], as the API does. The
//! settings page shows this section; its forms are handled in [`super::paging_forms`].

use super::session::Session;
use super::text;
use super::ticket::at;
use crate::AppState;
use crate::error::ApiError;
use stringer_app::delivery::MethodKind;
use stringer_app::paging::MethodState;
use stringer_core::access::Action;

/// The kinds one may add, with their names on the page.
pub(super) const KINDS: [(MethodKind, &str); 6] = [
    (MethodKind::Email, "Email"),
    (MethodKind::Sms, "SMS"),
    (MethodKind::Voice, "Voice call"),
    (MethodKind::Slack, "Slack"),
    (MethodKind::Webhook, "Webhook"),
    (MethodKind::Console, "Console (My pages)"),
];

/// A kind's name on the page.
pub fn kind_name(kind: MethodKind) -> &'static str {
    KINDS.iter().find(|(k, _)| *k == kind).map_or(kind.as_str(), |(_, name)| name)
}

/// A method in words: "Email nico@pager.example", "Console (My pages)".
fn method_words(kind: MethodKind, address: &str) -> String {
    if kind == MethodKind::Console { kind_name(kind).to_string() } else { format!("{} {address}", kind_name(kind)) }
}

/// One contact method as listed.
pub struct MethodLine {
    /// Its id, for its forms.
    pub id: String,
    /// "Email".
    pub kind: &'static str,
    /// Where.
    pub address: String,
    /// "Email nico@pager.example", "Console (My pages)": what its buttons name.
    pub words: String,
    /// "Sent Mon 7 Dec 09:00 UTC", "Failed …: the reason", "Not used yet".
    pub last: String,
    /// Its last delivery failed.
    pub failing: bool,
}

/// One notification rule as listed.
pub struct RuleLine {
    /// Its id, for its form.
    pub id: String,
    /// "after 5 minutes".
    pub after: String,
    /// "Email nico@pager.example".
    pub method: String,
}

/// What the paging forms were sent with, and why they were refused.
#[derive(Default)]
pub struct PagingInput {
    /// The kind chosen in the add form.
    pub kind: String,
    /// The address typed.
    pub address: String,
    /// Why the address (or kind) was refused.
    pub address_error: Option<String>,
    /// The method chosen for a rule.
    pub rule_method: String,
    /// The minutes typed for a rule.
    pub rule_after: String,
    /// Why the rule's method was refused.
    pub rule_method_error: Option<String>,
    /// Why the rule's minutes were refused.
    pub rule_after_error: Option<String>,
    /// A new calendar feed link, shown this once.
    pub feed: Option<String>,
}

/// The paging part of the settings page.
pub struct PagingSection {
    /// The contact methods.
    pub methods: Vec<MethodLine>,
    /// The notification rules.
    pub rules: Vec<RuleLine>,
    /// (value, name, chosen) per kind.
    pub kinds: Vec<(&'static str, &'static str, bool)>,
    /// (method id, "Email a@b", chosen) per method, for a rule.
    pub choices: Vec<(String, String, bool)>,
    /// The forms' values and errors.
    pub input: PagingInput,
}

fn method_line(m: MethodState, tz: &jiff::tz::TimeZone) -> MethodLine {
    let last = match &m.last {
        None => "Not used yet".to_string(),
        Some(o) if o.sent => format!("Sent {}", at(o.at, tz)),
        Some(o) if o.retrying => {
            format!("Failed, retried {}: {}", at(o.at, tz), o.error.clone().unwrap_or_else(|| "no reason given".into()))
        }
        Some(o) => format!("Failed {}: {}", at(o.at, tz), o.error.clone().unwrap_or_else(|| "no reason given".into())),
    };
    MethodLine {
        failing: m.last.as_ref().is_some_and(|o| !o.sent),
        words: method_words(m.method.kind, &m.method.address),
        id: m.method.id,
        kind: kind_name(m.method.kind),
        address: m.method.address,
        last,
    }
}

/// The section for a staff member (`None` for customers, who are never paged).
pub async fn section(
    state: &AppState,
    session: &Session,
    input: PagingInput,
) -> Result<Option<PagingSection>, ApiError> {
    let caller = &session.caller;
    if caller.may_list(Action::ReadContactMethods).is_err() {
        return Ok(None);
    }
    let me = caller.user().id.to_string();
    let tz = text::zone(caller.user().time_zone.as_deref());
    let desk = state.paging();
    let states = desk.methods(caller.principal(), &me).await?;
    let rules = desk.rules(caller.principal(), &me).await?;
    let named = |id: &str| {
        states
            .iter()
            .find(|m| m.method.id == id)
            .map_or_else(|| id.to_string(), |m| method_words(m.method.kind, &m.method.address))
    };
    let rules = rules
        .into_iter()
        .map(|r| RuleLine { method: named(&r.method_id), after: after_words(r.after_seconds), id: r.id })
        .collect();
    let choices =
        states.iter().map(|m| (m.method.id.clone(), named(&m.method.id), m.method.id == input.rule_method)).collect();
    let chosen = if input.kind.is_empty() { "email" } else { input.kind.as_str() };
    let kinds = KINDS.iter().map(|(k, name)| (k.as_str(), *name, k.as_str() == chosen)).collect();
    let methods = states.into_iter().map(|m| method_line(m, &tz)).collect();
    Ok(Some(PagingSection { methods, rules, kinds, choices, input }))
}

fn after_words(seconds: i64) -> String {
    match seconds {
        0 => "at once".into(),
        60 => "after 1 minute".into(),
        s if s % 60 == 0 => format!("after {} minutes", s / 60),
        s => format!("after {}", text::duration(s)),
    }
}

/// What a redirect's `done` says happened.
pub fn done_words(done: &str) -> Option<&'static str> {
    Some(match done {
        "method-added" => "The contact method is added.",
        "method-removed" => "The contact method is removed, with the rules that named it.",
        "test-sent" => "A test page is on its way; its delivery shows beside the method in a moment.",
        "test-again" => "A test page was sent to this method this minute already.",
        "rule-added" => "The notification rule is added.",
        "rule-removed" => "The notification rule is removed.",
        _ => return None,
    })
}
