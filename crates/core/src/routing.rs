//! Routing: who a page (or an overdue-report alert) reaches. Pure — the roster and the
//! instant are parameters — so the server and `stringer simulate` name the same people.
//!
//! A role resolves to people, each of whom the access policy must let be paged for the org
//! (a federal org's pages reach cleared staff only):
//! - **on-call**: whoever the first schedule that covers the instant puts on call (the org's
//!   own schedules come before platform-wide ones), if they may be paged; else the org's
//!   named engineers; else every platform engineer. A page never goes nowhere while someone
//!   may take it.
//! - **TAM**: the org's TAM.
//! - **VP of Engineering**, **support lead**: every staff member with that role.

use crate::access::{self, Action, Actor, Object, OrgRef, Scopes};
use crate::event::Notice;
use crate::ids::{Deployment, OrgSlug, Role, UserRole};
use crate::oncall::Schedule;
use jiff::Timestamp;

/// A staff member as routing needs to know them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StaffMember {
    /// The user's id.
    pub id: String,
    /// Their role.
    pub role: UserRole,
    /// Cleared for federal orgs.
    pub federal_cleared: bool,
}

impl StaffMember {
    /// Whether the access policy lets this person be paged for a ticket of `org`.
    pub fn may_be_paged_for(&self, org: OrgRef<'_>) -> bool {
        let actor = Actor {
            user: &self.id,
            role: self.role,
            org: None,
            federal_cleared: self.federal_cleared,
            scopes: Scopes::ALL,
        };
        access::decide(&actor, Action::ReceivePage, Some(Object::Ticket(org))).allowed()
    }
}

/// Everything routing needs to know about one org's people. It serializes with its schedules
/// in their written form, as the roster history keeps it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Roster {
    /// The org.
    pub org: OrgSlug,
    /// How it is deployed.
    pub deployment: Deployment,
    /// Its TAM's user id.
    pub tam: Option<String>,
    /// Its named on-call engineers' user ids.
    pub named_engineers: Vec<String>,
    /// The schedules that may cover it: its own first, then platform-wide ones.
    pub schedules: Vec<Schedule>,
    /// The vendor's staff.
    pub staff: Vec<StaffMember>,
}

impl Roster {
    fn eligible(&self, id: &str) -> bool {
        let org = OrgRef { slug: self.org.as_str(), deployment: self.deployment };
        self.staff.iter().any(|m| m.id == id && m.may_be_paged_for(org))
    }

    fn with_role(&self, role: UserRole) -> Vec<String> {
        self.staff.iter().filter(|m| m.role == role && self.eligible(&m.id)).map(|m| m.id.clone()).collect()
    }

    /// The people `role` reaches for this org at `at`, in a stable order.
    pub fn route(&self, role: Role, at: Timestamp) -> Vec<String> {
        match role {
            Role::Tam => self.tam.iter().filter(|t| self.eligible(t)).cloned().collect(),
            Role::VpEngineering => self.with_role(UserRole::VpEngineering),
            Role::SupportLead => self.with_role(UserRole::SupportLead),
            Role::Oncall => {
                let scheduled = self.schedules.iter().filter_map(|s| s.on_call_at(at)).find(|user| self.eligible(user));
                if let Some(user) = scheduled {
                    return vec![user.to_string()];
                }
                let named: Vec<String> = self.named_engineers.iter().filter(|e| self.eligible(e)).cloned().collect();
                if named.is_empty() { self.with_role(UserRole::PlatformEngineer) } else { named }
            }
        }
    }
}

/// Names the people each notice that asks for people reaches (a page's role, the roles an
/// overdue alert notifies), each person once per notice, in the order their roles name them.
/// Notices that ask for nobody are left as they are. Routing is decided once, before the
/// notices are committed; the server's desk and the replay both route through this.
pub fn route_notices(roster: &Roster, notices: &mut [Notice]) {
    for notice in notices.iter_mut() {
        let roles = notice.body.roles();
        if roles.is_empty() {
            continue;
        }
        let mut people: Vec<String> = Vec::new();
        for role in roles {
            for person in roster.route(role, notice.at) {
                if !people.contains(&person) {
                    people.push(person);
                }
            }
        }
        notice.body.route_to(people);
    }
}

/// The roster an org had at an instant: what the replay routes a change's notices with. A
/// single [`Roster`] is one that never changed.
pub trait Rosters {
    /// The roster in force at `at`.
    fn at(&self, at: Timestamp) -> &Roster;
}

impl Rosters for Roster {
    fn at(&self, _: Timestamp) -> &Roster {
        self
    }
}

/// An org's rosters as recorded over time: each with the instant of the first change that
/// routed notices with it, oldest first, and the roster as it is now.
#[derive(Clone, Debug)]
pub struct RosterHistory {
    /// The recorded rosters, each with the instant it was first used, in order.
    pub recorded: Vec<(Timestamp, Roster)>,
    /// The roster now: what a history without any record routes with.
    pub current: Roster,
}

impl Rosters for RosterHistory {
    /// The last roster recorded at or before `at`; before the first record, the first (the
    /// oldest known); with no record at all, the current one.
    fn at(&self, at: Timestamp) -> &Roster {
        let after = self.recorded.partition_point(|(from, _)| *from <= at);
        match after.checked_sub(1).or((!self.recorded.is_empty()).then_some(0)) {
            Some(i) => &self.recorded[i].1,
            None => &self.current,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oncall::ScheduleSpec;

    fn member(id: &str, role: UserRole, cleared: bool) -> StaffMember {
        StaffMember { id: id.into(), role, federal_cleared: cleared }
    }

    fn schedule(members: &[&str]) -> Schedule {
        let spec: ScheduleSpec = serde_json::from_value(serde_json::json!({
            "name": "s",
            "layers": [{"rotation": {"name": "r", "time_zone": "UTC", "members": members, "shift_days": 7, "handoff": "00:00", "start": "2026-01-05"}}]
        }))
        .unwrap();
        Schedule::compile(&spec).unwrap()
    }

    fn roster(deployment: Deployment, schedules: Vec<Schedule>, named: &[&str]) -> Roster {
        Roster {
            org: "acme".into(),
            deployment,
            tam: Some("tina".into()),
            named_engineers: named.iter().map(|s| s.to_string()).collect(),
            schedules,
            staff: vec![
                member("tina", UserRole::Tam, false),
                member("nico", UserRole::Engineer, false),
                member("lena", UserRole::SupportLead, false),
                member("pat", UserRole::PlatformEngineer, true),
                member("paul", UserRole::PlatformEngineer, false),
                member("vera", UserRole::VpEngineering, true),
            ],
        }
    }

    #[test]
    fn roles_reach_people_in_the_documented_order() {
        let at: Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        #[rustfmt::skip]
        let cases: Vec<(&str, Roster, Role, Vec<&str>)> = vec![
            ("the schedule's on-call first", roster(Deployment::Dedicated, vec![schedule(&["lena"])], &["nico"]), Role::Oncall, vec!["lena"]),
            ("then named engineers", roster(Deployment::Dedicated, vec![], &["nico"]), Role::Oncall, vec!["nico"]),
            ("then every platform engineer", roster(Deployment::Shared, vec![], &[]), Role::Oncall, vec!["pat", "paul"]),
            ("the TAM", roster(Deployment::Dedicated, vec![], &[]), Role::Tam, vec!["tina"]),
            ("the VP", roster(Deployment::Dedicated, vec![], &[]), Role::VpEngineering, vec!["vera"]),
            ("the support lead", roster(Deployment::Shared, vec![], &[]), Role::SupportLead, vec!["lena"]),
            // A federal org's pages reach cleared staff only, skipping down the order.
            ("federal: an uncleared scheduled person is passed over", roster(Deployment::Federal, vec![schedule(&["lena"]), schedule(&["pat"])], &["nico"]), Role::Oncall, vec!["pat"]),
            ("federal: uncleared named engineers too", roster(Deployment::Federal, vec![], &["nico"]), Role::Oncall, vec!["pat"]),
            ("federal: an uncleared TAM is not paged", roster(Deployment::Federal, vec![], &[]), Role::Tam, vec![]),
            ("federal: a cleared VP is", roster(Deployment::Federal, vec![], &[]), Role::VpEngineering, vec!["vera"]),
            ("someone not on the staff list is nobody", roster(Deployment::Shared, vec![schedule(&["ghost"])], &["ghost"]), Role::Oncall, vec!["pat", "paul"]),
        ];
        for (what, roster, role, expected) in cases {
            assert_eq!(roster.route(role, at), expected, "{what}");
        }
    }

    #[test]
    fn a_roster_history_answers_the_roster_in_force() {
        let t = |s: &str| -> Timestamp { s.parse().unwrap() };
        let with_tam = |tam: &str| Roster { tam: Some(tam.into()), ..roster(Deployment::Shared, vec![], &[]) };
        let history = RosterHistory {
            recorded: vec![(t("2026-11-10T00:00:00Z"), with_tam("tina")), (t("2026-11-20T00:00:00Z"), with_tam("tom"))],
            current: with_tam("ursula"),
        };
        let tam = |at: &str| history.at(t(at)).tam.clone().unwrap();
        assert_eq!(tam("2026-11-01T00:00:00Z"), "tina", "before the first record: the oldest known");
        assert_eq!(tam("2026-11-10T00:00:00Z"), "tina", "from its first use");
        assert_eq!(tam("2026-11-19T23:59:59Z"), "tina");
        assert_eq!(tam("2026-11-20T00:00:00Z"), "tom");
        assert_eq!(tam("2026-12-31T00:00:00Z"), "tom", "after the last record: the last, not today's");
        let unrecorded = RosterHistory { recorded: vec![], current: with_tam("ursula") };
        assert_eq!(unrecorded.at(t("2026-11-01T00:00:00Z")).tam.as_deref(), Some("ursula"), "no record: today's");
    }

    #[test]
    fn a_roster_reads_back_as_it_was_written_and_routes_the_same() {
        let at: Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        let written = roster(Deployment::Federal, vec![schedule(&["lena", "pat"]), schedule(&["nico"])], &["nico"]);
        let text = serde_json::to_string(&written).unwrap();
        let read: Roster = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&read).unwrap(), text);
        for role in [Role::Oncall, Role::Tam, Role::VpEngineering, Role::SupportLead] {
            for days in [0, 7, 14] {
                let when = at + jiff::SignedDuration::from_hours(24 * days);
                assert_eq!(read.route(role, when), written.route(role, when), "{role:?} at {when}");
            }
        }
    }

    #[test]
    fn a_notice_reaches_each_person_of_its_roles_once() {
        use crate::event::NoticeBody;
        let at: Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        let mut roster = roster(Deployment::Shared, vec![], &["tina"]);
        roster.staff.push(member("vic", UserRole::VpEngineering, false));
        let notice = |body: NoticeBody| Notice { at, ticket: "T".into(), body };
        let mut notices = vec![
            notice(NoticeBody::ReportOverdue {
                due: at,
                notify: vec![Role::Oncall, Role::Tam, Role::VpEngineering],
                to: vec![],
            }),
            notice(NoticeBody::SlaMet { target: "response".into(), due: at }),
        ];
        route_notices(&roster, &mut notices);
        assert_eq!(notices[0].body.recipients(), ["tina", "vera", "vic"], "the TAM once, though named twice");
        assert_eq!(notices[1].body, NoticeBody::SlaMet { target: "response".into(), due: at }, "asks for nobody");
    }
}
