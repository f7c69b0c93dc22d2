//! The console's on-call pages: who is on call now on each schedule and for each org, my
//! next shifts, the overrides to come; and the pages I received, with the acknowledgement
//! still to give.

use super::session::Signed;
use super::text;
use super::ticket::{at, names};
use super::{Nav, PageResult, render};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use jiff::SignedDuration;
use stringer_core::access::{Action, Object};
use stringer_core::oncall::Schedule;
use stringer_core::ticket::Status;

/// One schedule now.
pub struct ScheduleLine {
    name: String,
    covers: String,
    now: String,
    until: String,
}

/// One of my shifts.
pub struct ShiftLine {
    schedule: String,
    from: String,
    to: String,
}

/// An override to come.
pub struct OverrideLine {
    schedule: String,
    who: String,
    from: String,
    to: String,
}

/// Who an org's pages reach now.
pub struct OrgLine {
    name: String,
    tier: String,
    tam: String,
    named: String,
    on_call: String,
}

#[derive(Template)]
#[template(path = "console_oncall.html")]
struct OnCallPage {
    nav: Nav,
    schedules: Vec<ScheduleLine>,
    orgs: Vec<OrgLine>,
    mine: Vec<ShiftLine>,
    overrides: Vec<OverrideLine>,
}

/// How far ahead "my next shifts" and "overrides to come" look.
const AHEAD: SignedDuration = SignedDuration::from_hours(14 * 24);

/// Who is on call now, my next shifts, overrides to come, and who each org's pages reach.
pub async fn on_call(State(state): State<AppState>, Signed(session): Signed) -> PageResult {
    let caller = &session.caller;
    caller.may_list(Action::OpenConsole)?;
    caller.may_list(Action::ReadSchedule)?;
    let tz = text::zone(caller.user().time_zone.as_deref());
    let now = state.now();
    let orgs = state.ports.accounts.orgs().await?;
    let all = state.ports.oncall.schedules().await?;
    // Those this page can name: the schedules' members and overrides, the orgs' TAMs and
    // named engineers.
    let members = all.iter().flat_map(|s| {
        let layers = s.spec.layers.iter().flat_map(|l| l.rotation.members.iter().map(String::as_str));
        layers.chain(s.spec.overrides.iter().map(|o| o.user.as_str()))
    });
    let servers = orgs.iter().flat_map(|o| o.tam.iter().chain(&o.named_engineers).map(|u| u.as_str()));
    let named: Vec<&str> = members.chain(servers).collect();
    let names = names(&state, named).await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let mut schedules = Vec::new();
    let mut compiled = Vec::new();
    let (mut mine, mut overrides) = (Vec::new(), Vec::new());
    for s in all {
        let org = s.org.as_ref().and_then(|slug| orgs.iter().find(|o| &o.slug == slug));
        if s.org.is_some() && org.is_none() {
            continue;
        }
        if !caller.allowed(Action::ReadSchedule, Some(Object::Schedule(org.map(|o| o.as_ref())))) {
            continue;
        }
        let Ok(schedule) = Schedule::compile(&s.spec) else { continue };
        let shifts = schedule.shifts(now, now + AHEAD).unwrap_or_default();
        let current = shifts.iter().find(|sh| sh.start <= now && now < sh.end);
        schedules.push(ScheduleLine {
            name: s.name.clone(),
            covers: org.map_or_else(|| "every org without its own".to_string(), |o| o.name.clone()),
            now: current.map_or_else(|| "nobody".to_string(), |sh| name(&sh.user)),
            until: current.map(|sh| text::instant(sh.end, &tz)).unwrap_or_default(),
        });
        for sh in shifts.iter().filter(|sh| sh.user == caller.user().id.as_str()) {
            mine.push(ShiftLine {
                schedule: s.name.clone(),
                from: text::instant(sh.start.max(now), &tz),
                to: text::instant(sh.end, &tz),
            });
        }
        for o in s.spec.overrides.iter().filter(|o| o.to > now && o.from < now + AHEAD) {
            overrides.push(OverrideLine {
                schedule: s.name.clone(),
                who: name(&o.user),
                from: text::instant(o.from, &tz),
                to: text::instant(o.to, &tz),
            });
        }
        compiled.push((s.org.clone(), s.name.clone(), current.map(|sh| name(&sh.user))));
    }
    let orgs = orgs
        .iter()
        .filter(|o| caller.allowed(Action::ReadOrg, Some(Object::Org(o.as_ref()))))
        .map(|o| {
            // The org's own schedule first, else the platform-wide ones (as routing does).
            let own = compiled.iter().find(|(org, _, _)| org.as_ref() == Some(&o.slug));
            let covering = own.or_else(|| compiled.iter().find(|(org, _, _)| org.is_none()));
            OrgLine {
                name: o.name.clone(),
                tier: o.tier.to_string(),
                tam: o.tam.as_ref().map(|t| name(t.as_str())).unwrap_or_else(|| "none".into()),
                named: o.named_engineers.iter().map(|e| name(e.as_str())).collect::<Vec<_>>().join(", "),
                on_call: covering.map_or_else(
                    || "no schedule covers it".to_string(),
                    |(_, schedule, who)| format!("{} ({schedule})", who.clone().unwrap_or_else(|| "nobody".into())),
                ),
            }
        })
        .collect();
    render(&OnCallPage { nav: Nav::of(&session), schedules, orgs, mine, overrides })
}

/// One page I received.
pub struct PageLine {
    key: String,
    href: String,
    subject: String,
    severity: String,
    method: String,
    status: String,
    at: String,
    acknowledged: String,
    may_ack: bool,
}

#[derive(Template)]
#[template(path = "console_pages.html")]
struct PagesPage {
    nav: Nav,
    pages: Vec<PageLine>,
}

/// The pages I received (newest first), each with its ticket and, while nobody has, the
/// acknowledgement to give.
pub async fn pages(State(state): State<AppState>, Signed(session): Signed) -> PageResult {
    let caller = &session.caller;
    caller.may_list(Action::OpenConsole)?;
    let tz = text::zone(caller.user().time_zone.as_deref());
    let orgs = state.ports.accounts.orgs().await?;
    let received = crate::reads::received(&state, caller).await?;
    let named: Vec<&str> =
        received.iter().filter_map(|(_, t)| t.state.acknowledged.as_ref()).map(|(_, by)| by.as_str()).collect();
    let names = names(&state, named).await?;
    let mut pages = Vec::new();
    for (d, t) in received {
        let Some(org) = orgs.iter().find(|o| o.slug == t.org) else { continue };
        let object =
            Some(Object::Ticket(stringer_core::access::OrgRef { slug: org.slug.as_str(), deployment: org.deployment }));
        let s = &t.state;
        let acknowledged = s
            .acknowledged
            .as_ref()
            .map(|(when, by)| {
                format!("by {} {}", names.get(by).cloned().unwrap_or_else(|| by.clone()), text::instant(*when, &tz))
            })
            .unwrap_or_default();
        pages.push(PageLine {
            key: t.key().to_string(),
            href: format!("/console/tickets/{}", t.key()),
            subject: t.subject.clone(),
            severity: s.severity.to_string(),
            method: format!("{:?}", d.kind).to_lowercase(),
            status: d.status.clone(),
            at: at(d.sent_at.unwrap_or(d.created_at), &tz),
            may_ack: s.acknowledged.is_none()
                && s.status != Status::Resolved
                && caller.allowed(Action::Acknowledge, object),
            acknowledged,
        });
    }
    render(&PagesPage { nav: Nav::of(&session), pages })
}
