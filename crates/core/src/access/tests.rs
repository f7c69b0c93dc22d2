//! The policy as a permissions matrix: who (role, org, clearance) × credential scopes ×
//! action × object (own org, another org, a federal org, missing) → decision. Each row reads
//! like the sentence of the policy it checks.

use super::*;
use Action::*;

const ACME: OrgRef<'static> = OrgRef { slug: "acme", deployment: Deployment::Dedicated };
const BOLT: OrgRef<'static> = OrgRef { slug: "bolt", deployment: Deployment::Shared };
const FEDCO: OrgRef<'static> = OrgRef { slug: "fedco", deployment: Deployment::Federal };

/// Who asks. Staff: engineer (uncleared), pat (cleared platform engineer), lena (uncleared
/// support lead), root (cleared admin), ada (uncleared admin). Customers: alice (org admin of
/// acme), bob (member of bolt).
fn who(name: &str, scopes: &str) -> Actor<'static> {
    let (user, role, org, cleared) = match name {
        "engineer" => ("u-eng", UserRole::Engineer, None, false),
        "pat" => ("u-pat", UserRole::PlatformEngineer, None, true),
        "lena" => ("u-lena", UserRole::SupportLead, None, false),
        "vera" => ("u-vera", UserRole::VpEngineering, None, false),
        "root" => ("u-root", UserRole::Admin, None, true),
        "ada" => ("u-ada", UserRole::Admin, None, false),
        "alice" => ("u-alice", UserRole::OrgAdmin, Some("acme"), false),
        "bob" => ("u-bob", UserRole::Member, Some("bolt"), false),
        other => panic!("no actor {other}"),
    };
    let scopes = match scopes {
        "rwa" => Scopes::ALL,
        "rw" => Scopes::of(&[Scope::Read, Scope::Write]),
        "r" => Scopes::of(&[Scope::Read]),
        "w" => Scopes::of(&[Scope::Write]),
        "a" => Scopes::of(&[Scope::Admin]),
        other => panic!("no scope set {other}"),
    };
    Actor { user, role, org, federal_cleared: cleared, scopes }
}

const A: Decision = Decision::Allow;
const N: Decision = Decision::NotFound;
const F: Decision = Decision::Forbidden("");

fn same_kind(a: Decision, b: Decision) -> bool {
    matches!((a, b), (Allow, Allow) | (NotFound, NotFound) | (Forbidden(_), Forbidden(_)))
}

fn report(org: OrgRef<'static>, published: bool) -> Option<Object<'static>> {
    Some(Object::Report { org, published })
}

fn user(id: &'static str, role: UserRole, org: Option<OrgRef<'static>>, cleared: bool) -> UserRef<'static> {
    UserRef { id, role, org, federal_cleared: cleared }
}

#[test]
fn tickets() {
    let t = |org| Some(Object::Ticket(org));
    #[rustfmt::skip]
    let rows: &[(&str, &str, Action, Option<Object>, Decision)] = &[
        // A customer reads and works their own org's tickets, and nobody else's.
        ("alice", "rw",  ReadTicket,      t(ACME),  A),
        ("alice", "rw",  ReadTicket,      t(BOLT),  N),
        ("alice", "rw",  ReadTicket,      t(FEDCO), N),
        ("alice", "rw",  ReadTicket,      None,     N),
        ("alice", "rw",  CommentPublic,   t(ACME),  A),
        ("alice", "rw",  RaiseSeverity,   t(ACME),  A),
        ("alice", "rw",  Resolve,         t(ACME),  A),
        ("alice", "rw",  Reopen,          t(ACME),  A),
        ("alice", "rw",  PageOnCall,      t(ACME),  A),
        ("alice", "rw",  PageOnCall,      t(BOLT),  N),
        // ... but the vendor's side of the work is staff's, whatever the ticket.
        ("alice", "rw",  CommentInternal, t(ACME),  F),
        ("alice", "rw",  Acknowledge,     t(ACME),  F),
        ("alice", "rw",  LowerSeverity,   t(ACME),  F),
        ("alice", "rw",  WaitOnCustomer,  t(ACME),  F),
        ("alice", "rw",  ReadInternal,    t(ACME),  F),
        ("alice", "rw",  Acknowledge,     t(BOLT),  F),
        ("alice", "rw",  Acknowledge,     None,     F),
        // Scopes mean what they say: a read token reads, a write token writes.
        ("alice", "r",   CommentPublic,   t(ACME),  F),
        ("alice", "w",   ReadTicket,      t(ACME),  F),
        ("bob",   "r",   Resolve,         t(ACME),  F),
        ("bob",   "r",   Resolve,         None,     F),
        // Staff see every org but federal ones, which need clearance.
        ("engineer", "rw", ReadTicket,    t(ACME),  A),
        ("engineer", "rw", ReadTicket,    t(BOLT),  A),
        ("engineer", "rw", ReadTicket,    t(FEDCO), N),
        ("engineer", "rw", Acknowledge,   t(FEDCO), N),
        ("engineer", "rw", Resolve,       t(FEDCO), N),
        ("engineer", "rw", ReadInternal,  t(ACME),  A),
        ("engineer", "rw", CommentInternal, t(BOLT), A),
        ("engineer", "rw", LowerSeverity, t(ACME),  A),
        ("engineer", "rw", WaitOnCustomer, t(ACME), A),
        ("engineer", "r",  Acknowledge,   t(ACME),  F),
        ("pat",      "rw", Acknowledge,   t(FEDCO), A),
        ("pat",      "rw", ReadDeliveries, t(FEDCO), A),
        ("ada",      "rwa", ReadTicket,   t(FEDCO), N),
        ("root",     "rwa", ReadTicket,   t(FEDCO), A),
        // Paging: only staff who may see the org are paged for its tickets.
        ("engineer", "r",  ReceivePage,   t(BOLT),  A),
        ("engineer", "r",  ReceivePage,   t(FEDCO), N),
        ("lena",     "r",  ReceivePage,   t(FEDCO), N),
        ("pat",      "r",  ReceivePage,   t(FEDCO), A),
        ("alice",    "rw", ReceivePage,   t(ACME),  F),
        // Opening a ticket: in an org one sees.
        ("bob",      "rw", OpenTicket,    Some(Object::Org(BOLT)),  A),
        ("bob",      "rw", OpenTicket,    Some(Object::Org(ACME)),  N),
        ("engineer", "rw", OpenTicket,    Some(Object::Org(FEDCO)), N),
        ("pat",      "rw", OpenTicket,    Some(Object::Org(FEDCO)), A),
        // Assignment and the incident bridge are the vendor's work, on tickets one sees.
        ("engineer", "rw", Assign,        t(ACME),  A),
        ("engineer", "rw", Assign,        t(FEDCO), N),
        ("engineer", "r",  Assign,        t(ACME),  F),
        ("pat",      "rw", RecordBridge,  t(FEDCO), A),
        ("alice",    "rw", Assign,        t(ACME),  F),
        ("alice",    "rw", RecordBridge,  t(ACME),  F),
        // The console and the inquiries queue are for staff.
        ("ada",      "r",  RunWhatIf,     Some(Object::Staff), A),
        ("lena",     "r",  RunWhatIf,     Some(Object::Staff), A),
        ("lena",     "w",  RunWhatIf,     Some(Object::Staff), F),
        ("engineer", "rw", RunWhatIf,     Some(Object::Staff), F),
        ("pat",      "rw", RunWhatIf,     Some(Object::Staff), F),
        ("vera",     "rw", RunWhatIf,     Some(Object::Staff), F),
        ("alice",    "rw", RunWhatIf,     Some(Object::Staff), F),
        ("bob",      "rw", RunWhatIf,     Some(Object::Staff), F),
        // The ledger's audit (its finding, the admin pages' banner) is for admins.
        ("ada",      "r",  AuditLedger,   Some(Object::Ledger), A),
        ("ada",      "w",  AuditLedger,   Some(Object::Ledger), F),
        ("lena",     "rw", AuditLedger,   Some(Object::Ledger), F),
        ("engineer", "rw", AuditLedger,   Some(Object::Ledger), F),
        ("alice",    "rw", AuditLedger,   Some(Object::Ledger), F),
        ("engineer", "r",  OpenConsole,   Some(Object::Staff), A),
        ("alice",    "rw", OpenConsole,   Some(Object::Staff), F),
        ("lena",     "rw", HandleInquiries, Some(Object::Staff), A),
        ("lena",     "r",  ReadInquiries,   Some(Object::Staff), A),
        ("lena",     "w",  ReadInquiries,   Some(Object::Staff), F),
        ("bob",      "r",  ReadInquiries,   Some(Object::Staff), F),
        ("lena",     "r",  ReadMail,        Some(Object::Staff), A),
        ("lena",     "w",  ReadMail,        Some(Object::Staff), F),
        ("bob",      "rw", ReadMail,        Some(Object::Staff), F),
        ("lena",     "rw", TriageMail,      Some(Object::Staff), A),
        ("lena",     "r",  TriageMail,      Some(Object::Staff), F),
        ("bob",      "rw", TriageMail,      Some(Object::Staff), F),
        ("root",     "w",  DeliverMail,     Some(Object::Staff), A),
        ("root",     "r",  DeliverMail,     Some(Object::Staff), F),
        ("lena",     "rw", DeliverMail,     Some(Object::Staff), F),
        ("bob",      "rw", DeliverMail,     Some(Object::Staff), F),
        // Integration keys are an admin's, for the orgs the admin sees.
        ("root",     "rwa", ManageIntegrations, Some(Object::Org(FEDCO)), A),
        ("ada",      "rwa", ManageIntegrations, Some(Object::Org(ACME)),  A),
        ("ada",      "rwa", ManageIntegrations, Some(Object::Org(FEDCO)), N),
        ("ada",      "rw",  ManageIntegrations, Some(Object::Org(ACME)),  F),
        ("lena",     "rwa", ManageIntegrations, Some(Object::Org(ACME)),  F),
        ("alice",    "rwa", ManageIntegrations, Some(Object::Org(ACME)),  F),
        ("lena",     "r",  HandleInquiries, Some(Object::Staff), F),
        ("bob",      "rw", HandleInquiries, Some(Object::Staff), F),
    ];
    check(rows);
}

#[test]
fn caller_ids_are_set_by_their_owner_or_an_admin() {
    let alice = user("u-alice", UserRole::OrgAdmin, Some(ACME), false);
    let carol = user("u-carol", UserRole::Member, Some(ACME), false);
    let eve = user("u-eve", UserRole::Engineer, None, false);
    let fiona = user("u-fiona", UserRole::Member, Some(FEDCO), false);
    let rows = vec![
        ("alice", "rw", SetCallerId, Some(Object::User(alice)), A),
        ("alice", "r", SetCallerId, Some(Object::User(alice)), F),
        ("alice", "rw", SetCallerId, Some(Object::User(carol)), A),
        ("alice", "rw", SetCallerId, Some(Object::User(eve)), N),
        ("root", "rw", SetCallerId, Some(Object::User(carol)), A),
        ("engineer", "rw", SetCallerId, Some(Object::User(carol)), F),
        ("engineer", "rw", SetCallerId, Some(Object::User(eve)), F),
        ("bob", "rw", SetCallerId, Some(Object::User(carol)), N),
        // In force at once only by a staff admin's hand; everyone else confirms by SMS.
        ("root", "rw", SetCallerIdUnconfirmed, Some(Object::User(carol)), A),
        ("root", "rw", SetCallerIdUnconfirmed, Some(Object::User(eve)), A),
        ("root", "r", SetCallerIdUnconfirmed, Some(Object::User(carol)), F),
        ("root", "rw", SetCallerIdUnconfirmed, Some(Object::User(fiona)), A),
        ("ada", "rw", SetCallerIdUnconfirmed, Some(Object::User(fiona)), N),
        ("alice", "rw", SetCallerIdUnconfirmed, Some(Object::User(alice)), F),
        ("alice", "rw", SetCallerIdUnconfirmed, Some(Object::User(carol)), F),
        ("engineer", "rw", SetCallerIdUnconfirmed, Some(Object::User(eve)), F),
        ("bob", "rw", SetCallerIdUnconfirmed, Some(Object::User(carol)), F),
    ];
    check(&rows);
}

#[test]
fn orgs_users_and_clearance() {
    let org = |o| Some(Object::Org(o));
    let staff_user = |cleared| Some(Object::User(user("u-x", UserRole::Engineer, None, cleared)));
    let customer = |o| Some(Object::User(user("u-c", UserRole::Member, Some(o), false)));
    let create = |role, cleared| CreateUser { role, cleared };
    #[rustfmt::skip]
    let rows: &[(&str, &str, Action, Option<Object>, Decision)] = &[
        // Orgs: everyone reads the orgs they see; only admins with the admin scope manage them.
        ("bob",   "r",   ReadOrg,   org(BOLT),  A),
        ("bob",   "r",   ReadOrg,   org(ACME),  N),
        ("root",  "rwa", CreateOrg, org(BOLT),  A),
        ("root",  "rw",  CreateOrg, org(BOLT),  F),
        ("lena",  "rw",  CreateOrg, org(BOLT),  F),
        ("alice", "rwa", CreateOrg, org(BOLT),  F),
        ("ada",   "rwa", CreateOrg, org(FEDCO), F),
        ("root",  "rwa", CreateOrg, org(FEDCO), A),
        ("root",  "rwa", UpdateOrg, org(FEDCO), A),
        ("ada",   "rwa", UpdateOrg, org(FEDCO), N),
        ("ada",   "rwa", UpdateOrg, None,       N),
        // Creating staff, granting roles and clearance: an admin with the admin scope; clearance
        // only from a cleared admin.
        ("root",  "rwa", create(UserRole::Admin, true),  Some(Object::Staff), A),
        ("root",  "rw",  create(UserRole::Admin, true),  Some(Object::Staff), F),
        ("ada",   "rwa", create(UserRole::Engineer, false), Some(Object::Staff), A),
        ("ada",   "rwa", create(UserRole::Engineer, true),  Some(Object::Staff), F),
        ("lena",  "rw",  create(UserRole::Engineer, false), Some(Object::Staff), F),
        ("alice", "rwa", create(UserRole::Engineer, false), Some(Object::Staff), F),
        // Customers: an org admin for their own org; an admin for orgs they see.
        ("alice", "rwa", create(UserRole::Member, false),   org(ACME),  A),
        ("alice", "rwa", create(UserRole::OrgAdmin, false), org(ACME),  A),
        ("alice", "rwa", create(UserRole::Member, false),   org(BOLT),  N),
        ("alice", "rw",  create(UserRole::Member, false),   org(ACME),  F),
        ("alice", "rwa", create(UserRole::Member, true),    org(ACME),  F),
        ("bob",   "rw",  create(UserRole::Member, false),   org(BOLT),  F),
        ("ada",   "rwa", create(UserRole::Member, false),   org(FEDCO), N),
        ("root",  "rwa", create(UserRole::Member, false),   org(FEDCO), A),
        // Reading users: staff see staff; customers see their org's users only.
        ("bob",      "r", ReadUser, staff_user(false), N),
        ("bob",      "r", ReadUser, customer(BOLT),    A),
        ("bob",      "r", ReadUser, customer(ACME),    N),
        ("engineer", "r", ReadUser, staff_user(true),  A),
        ("engineer", "r", ReadUser, customer(FEDCO),   N),
        // Changing users.
        ("root",  "rwa", UpdateUser { role: Some(UserRole::Tam), cleared: None }, staff_user(false), A),
        ("root",  "rwa", UpdateUser { role: None, cleared: Some(true) },          staff_user(false), A),
        ("ada",   "rwa", UpdateUser { role: None, cleared: Some(true) },          staff_user(false), F),
        ("ada",   "rwa", UpdateUser { role: None, cleared: Some(false) },         staff_user(true),  A),
        ("alice", "rwa", UpdateUser { role: Some(UserRole::Admin), cleared: None }, customer(ACME), F),
        ("alice", "rwa", UpdateUser { role: Some(UserRole::OrgAdmin), cleared: None }, customer(ACME), A),
        ("alice", "rwa", UpdateUser { role: Some(UserRole::OrgAdmin), cleared: None }, staff_user(false), N),
        ("root",  "rwa", UpdateUser { role: Some(UserRole::Engineer), cleared: None },
            Some(Object::User(user("u-root", UserRole::Admin, None, true))), F),
        // Who may serve a federal org: cleared staff only.
        ("lena",  "r",   ServeOrg, org(FEDCO), N),
        ("pat",   "r",   ServeOrg, org(FEDCO), A),
        ("lena",  "r",   ServeOrg, org(BOLT),  A),
        ("bob",   "r",   ServeOrg, org(BOLT),  F),
    ];
    check(rows);
}

#[test]
fn tokens_schedules_and_contact_methods() {
    let token = |owner, scopes: &str| Some(Object::Token { owner, scopes: who("root", scopes).scopes });
    let me = |id| Some(Object::Account(id));
    let sched = |org| Some(Object::Schedule(org));
    let staff = |id| Some(Object::User(user(id, UserRole::Engineer, None, false)));
    #[rustfmt::skip]
    let rows: &[(&str, &str, Action, Option<Object>, Decision)] = &[
        // Tokens: one's own; reading needs read; revoking needs write and at least the
        // revoked token's scopes; a new token has a subset of the caller's scopes.
        ("bob",  "r",   ReadAccount, me("u-bob"), A),
        ("bob",  "w",   ReadAccount, me("u-bob"), F),
        ("bob",  "w",   UpdateOwnSettings, me("u-bob"), A),
        ("bob",  "r",   UpdateOwnSettings, me("u-bob"), F),
        ("bob",  "w",   UpdateOwnSettings, me("u-alice"), N),
        ("bob",  "rw",  CreateToken(who("bob", "r").scopes),   me("u-bob"), A),
        ("bob",  "rw",  CreateToken(who("bob", "rwa").scopes), me("u-bob"), F),
        ("bob",  "r",   CreateToken(who("bob", "r").scopes),   me("u-bob"), F),
        ("root", "r",   RevokeToken, token("u-root", "a"),  F),
        ("root", "w",   RevokeToken, token("u-root", "a"),  F),
        ("root", "rw",  RevokeToken, token("u-root", "r"),  A),
        ("root", "rwa", RevokeToken, token("u-root", "rwa"), A),
        ("root", "rwa", RevokeToken, token("u-bob", "r"),   N),
        // Schedules: staff read those of orgs they see; admins and support leads manage them.
        ("engineer", "r",  ReadSchedule,   sched(None),        A),
        ("engineer", "r",  ReadSchedule,   sched(Some(FEDCO)), N),
        ("bob",      "r",  ReadSchedule,   sched(Some(BOLT)),  N),
        ("engineer", "rw", ManageSchedule, sched(None),        F),
        ("lena",     "rw", ManageSchedule, sched(Some(ACME)),  A),
        ("lena",     "rw", ManageSchedule, sched(Some(FEDCO)), N),
        ("lena",     "r",  ManageSchedule, sched(Some(ACME)),  F),
        // Contact methods: one's own, or anyone's for an admin; only staff have them.
        ("engineer", "rw", ManageContactMethods, staff("u-eng"),   A),
        ("engineer", "rw", ManageContactMethods, staff("u-other"), N),
        ("root",     "rw", ManageContactMethods, staff("u-other"), A),
        ("root",     "rw", ManageContactMethods,
            Some(Object::User(user("u-c", UserRole::Member, Some(BOLT), false))), N),
        ("engineer", "rw", LinkChatMemberUnverified,  staff("u-eng"),   F),
        ("root",     "rw", LinkChatMemberUnverified,  staff("u-eng"),   A),
    ];
    check(rows);
}

#[test]
fn status_pages() {
    let page = |org| Some(Object::StatusPage(org));
    #[rustfmt::skip]
    let rows: &[(&str, &str, Action, Option<Object>, Decision)] = &[
        // A tenant's page is seen by its own people and by staff who see the org; a federal
        // tenant's only by staff cleared for federal; to everyone else it does not exist.
        ("alice",    "r",  ViewStatusPage, page(Some(ACME)),  A),
        ("bob",      "r",  ViewStatusPage, page(Some(ACME)),  N),
        ("engineer", "r",  ViewStatusPage, page(Some(ACME)),  A),
        ("engineer", "r",  ViewStatusPage, page(Some(FEDCO)), N),
        ("pat",      "r",  ViewStatusPage, page(Some(FEDCO)), A),
        ("alice",    "r",  ViewStatusPage, page(None),        A),
        // Staff run pages (of orgs they see); customers never do.
        ("engineer", "rw", ManageStatus,   page(None),        A),
        ("engineer", "r",  ManageStatus,   page(None),        F),
        ("engineer", "rw", ManageStatus,   page(Some(FEDCO)), N),
        ("pat",      "rw", ManageStatus,   page(Some(FEDCO)), A),
        ("alice",    "rwa", ManageStatus,  page(Some(ACME)),  F),
        // Binding a host name or granting keys: admins only, on pages they see, with admin.
        ("ada",      "rwa", ConfigureStatusPage, page(None),        A),
        ("ada",      "rwa", ConfigureStatusPage, page(Some(ACME)),  A),
        ("ada",      "rwa", ConfigureStatusPage, page(Some(FEDCO)), N),
        ("root",     "rwa", ConfigureStatusPage, page(Some(FEDCO)), A),
        ("ada",      "rw",  ConfigureStatusPage, page(None),        F),
        ("engineer", "rwa", ConfigureStatusPage, page(None),        F),
        ("lena",     "rwa", ConfigureStatusPage, page(None),        F),
        ("alice",    "rwa", ConfigureStatusPage, page(Some(ACME)),  F),
        // Subscribers are people's addresses: staff who see the page, with read.
        ("engineer", "r",  ReadSubscribers, page(None),        A),
        ("engineer", "w",  ReadSubscribers, page(None),        F),
        ("engineer", "r",  ReadSubscribers, page(Some(FEDCO)), N),
        ("alice",    "r",  ReadSubscribers, page(Some(ACME)),  F),
        // Post-incident reports: staff read and write them at every stage (federal ones only
        // when cleared); the org's people read them once published, and before that they do
        // not exist; support leads and the VP review.
        ("engineer", "r",  ReadReport,     report(ACME, false),  A),
        ("engineer", "r",  ReadReport,     report(FEDCO, true),  N),
        ("pat",      "r",  ReadReport,     report(FEDCO, false), A),
        ("alice",    "r",  ReadReport,     report(ACME, false),  N),
        ("alice",    "r",  ReadReport,     report(ACME, true),   A),
        ("alice",    "w",  ReadReport,     report(ACME, true),   F),
        ("bob",      "r",  ReadReport,     report(ACME, true),   N),
        ("engineer", "rw", WriteReport,    report(ACME, false),  A),
        ("engineer", "r",  WriteReport,    report(ACME, false),  F),
        ("engineer", "rw", WriteReport,    report(FEDCO, false), N),
        ("alice",    "rwa", WriteReport,   report(ACME, true),   F),
        ("lena",     "rw", ReviewReport,   report(ACME, false),  A),
        ("lena",     "rw", ReviewReport,   report(FEDCO, false), N),
        ("vera",     "rw", ReviewReport,   report(ACME, false),  A),
        ("vera",     "r",  ReviewReport,   report(ACME, false),  F),
        ("engineer", "rw", ReviewReport,   report(ACME, false),  F),
        ("root",     "rwa", ReviewReport,  report(ACME, false),  F),
        ("alice",    "rwa", ReviewReport,  report(ACME, false),  F),
        // The quarterly review: staff who see the org, and the org's own admins.
        ("engineer", "r",  ReadReview,     Some(Object::Org(ACME)),  A),
        ("engineer", "r",  ReadReview,     Some(Object::Org(FEDCO)), N),
        ("pat",      "r",  ReadReview,     Some(Object::Org(FEDCO)), A),
        ("alice",    "r",  ReadReview,     Some(Object::Org(ACME)),  A),
        ("alice",    "r",  ReadReview,     Some(Object::Org(BOLT)),  N),
        ("alice",    "w",  ReadReview,     Some(Object::Org(ACME)),  F),
        ("bob",      "r",  ReadReview,     Some(Object::Org(BOLT)),  F),
        // Its recommendations: written by the TAM (or a lead, the VP, an admin) who sees the org.
        ("lena",     "rw", WriteReview,    Some(Object::Org(ACME)),  A),
        ("lena",     "r",  WriteReview,    Some(Object::Org(ACME)),  F),
        ("lena",     "rw", WriteReview,    Some(Object::Org(FEDCO)), N),
        ("root",     "rw", WriteReview,    Some(Object::Org(FEDCO)), A),
        ("engineer", "rw", WriteReview,    Some(Object::Org(ACME)),  F),
        ("alice",    "rwa", WriteReview,   Some(Object::Org(ACME)),  F),
    ];
    check(rows);
    // Anonymous visitors see the public page only; a tenant page is hidden from outsiders,
    // even from its own people whose credential cannot read.
    assert_eq!(view_status_page(None, None), A);
    assert_eq!(view_status_page(None, Some(ACME)), N);
    assert_eq!(view_status_page(Some(&who("bob", "rw")), Some(ACME)), N);
    assert_eq!(view_status_page(Some(&who("alice", "w")), Some(ACME)), N);
    assert_eq!(view_status_page(Some(&who("alice", "r")), Some(ACME)), A);
    assert_eq!(view_status_page(Some(&who("lena", "r")), Some(FEDCO)), N);
    assert_eq!(view_status_page(Some(&who("root", "r")), Some(FEDCO)), A);
    // A monitor sets a tenant page's components with its own org's keys; the vendor's page
    // and other orgs' pages only with a key granted there.
    assert!(alert_sets_status(Some("acme"), "acme", false));
    assert!(!alert_sets_status(Some("acme"), "bolt", false));
    assert!(!alert_sets_status(None, "acme", false));
    assert!(alert_sets_status(None, "acme", true));
}

fn check(rows: &[(&str, &str, Action, Option<Object<'_>>, Decision)]) {
    for (i, (name, scopes, action, object, expected)) in rows.iter().enumerate() {
        let got = decide(&who(name, scopes), *action, *object);
        assert!(
            same_kind(got, *expected),
            "row {i}: {name} ({scopes}) {action:?} on {object:?}: expected {expected:?}, got {got:?}"
        );
    }
}

#[test]
fn the_ledger() {
    let t = |org| Some(Object::Ticket(org));
    let ledger = Some(Object::Ledger);
    #[rustfmt::skip]
    let rows: &[(&str, &str, Action, Option<Object>, Decision)] = &[
        // A ticket's proof is decided as reading it: one's own org's, and nobody else's.
        ("alice",    "r",   ProveTicket,    t(ACME),  A),
        ("alice",    "rw",  ProveTicket,    t(BOLT),  N),
        ("alice",    "rw",  ProveTicket,    t(FEDCO), N),
        ("alice",    "rw",  ProveTicket,    None,     N),
        ("bob",      "w",   ProveTicket,    t(BOLT),  F),
        ("engineer", "r",   ProveTicket,    t(BOLT),  A),
        ("engineer", "r",   ProveTicket,    t(FEDCO), N),
        ("pat",      "r",   ProveTicket,    t(FEDCO), A),
        ("ada",      "rwa", ProveTicket,    t(FEDCO), N),
        // Heads and consistency proofs name no org: every signed-in role reads them.
        ("alice",    "r",   ReadLedger,     ledger,   A),
        ("bob",      "r",   ReadLedger,     ledger,   A),
        ("engineer", "r",   ReadLedger,     ledger,   A),
        ("bob",      "w",   ReadLedger,     ledger,   F),
        ("bob",      "r",   ReadLedger,     t(BOLT),  F),
        // Signing a head on demand is for admins, with the admin scope.
        ("root",     "rwa", SignLedgerHead, ledger,   A),
        ("ada",      "a",   SignLedgerHead, ledger,   A),
        ("ada",      "rw",  SignLedgerHead, ledger,   F),
        ("lena",     "rw",  SignLedgerHead, ledger,   F),
        ("alice",    "rwa", SignLedgerHead, ledger,   F),
        ("engineer", "rw",  SignLedgerHead, ledger,   F),
    ];
    check(rows);
    // The published key and heads are for everyone, signed in or not.
    assert_eq!(view_ledger(None), Allow);
    assert_eq!(view_ledger(Some(&who("bob", "r"))), Allow);
}

/// Whatever the actor, action and credential, an object the actor may not see answers
/// exactly as a missing one: the policy cannot be used to learn what exists.
#[test]
fn an_unseen_object_answers_as_a_missing_one() {
    let actions = [
        ReadTicket,
        ReadInternal,
        CommentPublic,
        CommentInternal,
        Acknowledge,
        RaiseSeverity,
        LowerSeverity,
        WaitOnCustomer,
        Resolve,
        Reopen,
        PageOnCall,
        ReadDeliveries,
        ReadOrg,
        UpdateOrg,
        ReadUser,
        UpdateUser { role: None, cleared: Some(false) },
        ReadSchedule,
        ManageSchedule,
        ReceivePage,
        ServeOrg,
        OpenTicket,
        ViewStatusPage,
        ManageStatus,
        ReadSubscribers,
        ReadReport,
        WriteReport,
        ReviewReport,
        ReadReview,
        WriteReview,
        ProveTicket,
    ];
    for name in ["engineer", "pat", "lena", "root", "ada", "alice", "bob"] {
        for scopes in ["rwa", "rw", "r", "w", "a"] {
            let actor = who(name, scopes);
            for org in [ACME, BOLT, FEDCO] {
                if actor.sees(org) {
                    continue;
                }
                let objects = [
                    Object::Ticket(org),
                    Object::Org(org),
                    Object::Schedule(Some(org)),
                    Object::StatusPage(Some(org)),
                    Object::Report { org, published: true },
                    Object::Report { org, published: false },
                    Object::User(user("u-c", UserRole::Member, Some(org), false)),
                ];
                for action in actions {
                    for object in objects {
                        let unseen = decide(&actor, action, Some(object));
                        let missing = decide(&actor, action, None);
                        let leaks =
                            !matches!(unseen, Forbidden("this action does not apply to that")) && unseen != missing;
                        assert!(!leaks, "{name} ({scopes}) {action:?} on {object:?}: {unseen:?} vs {missing:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn customers_see_what_happened_not_who_or_how() {
    assert_eq!(customer_view("ticket.replied", false), EntryView::Hidden, "internal notes");
    assert_eq!(customer_view("ticket.replied", true), EntryView::Redacted { actor: true });
    assert_eq!(customer_view("page", false), EntryView::Redacted { actor: false });
    assert_eq!(customer_view("ticket.acknowledged", false), EntryView::Redacted { actor: false });
    assert_eq!(customer_view("queue.notified", false), EntryView::Hidden);
    for internal in ["report.due", "report.overdue", "bridge.overdue"] {
        assert_eq!(customer_view(internal, false), EntryView::Hidden, "{internal}: staff's obligation");
    }
    assert_eq!(customer_view("report.published", false), EntryView::Redacted { actor: false });
    assert_eq!(customer_view("ticket.opened", false), EntryView::Redacted { actor: true });
}

#[test]
fn scopes_parse_and_cover() {
    let rw = Scopes::parse(&["read", "write"]).unwrap();
    assert!(rw.covers(Scopes::parse(&["read"]).unwrap()));
    assert!(!rw.covers(Scopes::ALL));
    assert_eq!(Scopes::parse(&["read", "root"]), None);
    assert_eq!(Scopes::ALL.names(), ["read", "write", "admin"]);
    assert_eq!(Scopes::for_role(UserRole::OrgAdmin), Scopes::ALL);
    assert_eq!(Scopes::for_role(UserRole::Engineer), rw);
}
