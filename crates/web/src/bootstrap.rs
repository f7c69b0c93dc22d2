//! First run and demo data: the first admin with a one-time token, and a realistic demo desk.

use crate::AppState;
use crate::auth::{new_secret, token_hash};
use stringer_app::accounts::password;
use stringer_app::delivery::MethodKind;
use stringer_app::paging::CONSOLE_ADDRESS;
use stringer_app::records::{ContactMethodRecord, OrgRecord, ScheduleRecord, TokenRecord, UserRecord};
use stringer_app::{Extras, StoreError, TicketDetails};
use stringer_core::access::Scopes;
use stringer_core::event::Event;
use stringer_core::event::EventKind;
use stringer_core::ids::{Deployment, Intake, OrgSlug, Severity, TicketId, Tier, UserId, UserRole};

/// A user created here, with a fresh token (shown once).
#[derive(Debug, Clone)]
pub struct Issued {
    /// Email.
    pub email: String,
    /// Role.
    pub role: String,
    /// Org, for customers.
    pub org: Option<String>,
    /// The token secret.
    pub token: String,
    /// The password, for demo users.
    pub password: Option<String>,
}

async fn add_user(
    state: &AppState,
    email: &str,
    name: &str,
    role: UserRole,
    org: Option<&str>,
    cleared: bool,
    password: Option<&str>,
) -> Result<(UserRecord, Issued), StoreError> {
    let user = UserRecord {
        id: UserId(state.new_id("usr")),
        email: email.into(),
        name: name.into(),
        role,
        org: org.map(OrgSlug::from),
        federal_cleared: cleared,
        password_hash: password.map(password::hash),
        created_at: state.now().as_second(),
        time_zone: None,
        deactivated_at: None,
    };
    state.ports.accounts.insert_user(&user, None).await?;
    let secret = new_secret();
    let token = TokenRecord {
        id: state.new_id("tok"),
        user_id: user.id.clone(),
        name: "bootstrap".into(),
        secret_hash: token_hash(&secret),
        scopes: Scopes::for_role(role),
        created_at: state.now().as_second(),
        expires_at: Some(state.now().as_second() + 90 * 86_400),
        revoked_at: None,
    };
    state.ports.accounts.insert_token(&token, None).await?;
    let issued = Issued {
        email: email.into(),
        role: role.to_string(),
        org: org.map(String::from),
        token: secret,
        password: password.map(String::from),
    };
    Ok((user, issued))
}

/// Creates the first admin when there are no users yet; `None` when users exist.
pub async fn first_admin(state: &AppState, email: &str) -> Result<Option<Issued>, StoreError> {
    if !state.ports.accounts.users(None).await?.is_empty() {
        return Ok(None);
    }
    Ok(Some(add_user(state, email, "Administrator", UserRole::Admin, None, true, None).await?.1))
}

/// One sign-in per kind of person in the demo desk: (who, email, password).
pub const DEMO_SIGN_INS: [(&str, &str, &str); 3] = [
    ("customer", "alice@acme.example", "demo-alice-password"),
    ("engineer", "nico@stringer.example", "demo-nico-password"),
    ("admin", "ada@stringer.example", "demo-ada-password"),
];

/// Seeds the demo desk unless it is already there: an Enterprise dedicated org with a TAM
/// and named engineers, a Pro shared org, an Enterprise federal org, staff of each role (each
/// paged into their "My pages" through a console contact method), a platform-wide schedule
/// with Nico on call this week, customers, open tickets at several severities — so the P1's
/// pages arrive where a newcomer sees them — and two quarters of worked tickets and the
/// status page's 90 days (see [`crate::demo_history`]). Returns the users created.
pub async fn seed_demo(state: &AppState) -> Result<Vec<Issued>, StoreError> {
    if state.ports.accounts.org(&OrgSlug::from("acme")).await?.is_some() {
        return Ok(Vec::new());
    }
    let mut issued = Vec::new();
    let mut staff = std::collections::HashMap::new();
    for (key, name, role, cleared) in [
        ("tina", "Tina TAM", UserRole::Tam, false),
        ("sam", "Sam TAM", UserRole::Tam, true),
        ("nico", "Nico Engineer", UserRole::Engineer, false),
        ("eve", "Eve Engineer", UserRole::Engineer, false),
        ("pat", "Pat Platform", UserRole::PlatformEngineer, true),
        ("vera", "Vera VP", UserRole::VpEngineering, true),
        ("lena", "Lena Lead", UserRole::SupportLead, false),
        ("ada", "Ada Admin", UserRole::Admin, true),
    ] {
        let email = format!("{key}@stringer.example");
        let (user, i) =
            add_user(state, &email, name, role, None, cleared, Some(&format!("demo-{key}-password"))).await?;
        staff.insert(key, user.id);
        issued.push(i);
    }
    seed_paging(state, &staff).await?;
    let orgs = [
        ("acme", "Acme Corp", "enterprise", Deployment::Dedicated, Some("tina"), vec!["nico", "eve"]),
        ("bolt", "Bolt Labs", "pro", Deployment::Shared, None, vec![]),
        ("fedco", "Federal Co", "enterprise", Deployment::Federal, Some("sam"), vec!["pat"]),
    ];
    for (slug, name, tier, deployment, tam, engineers) in orgs {
        let enterprise = tier == "enterprise";
        state
            .ports
            .accounts
            .insert_org(
                &OrgRecord {
                    slug: slug.into(),
                    name: name.into(),
                    tier: Tier::from(tier),
                    deployment,
                    tam: tam.map(|t| staff[t].clone()),
                    named_engineers: engineers.iter().map(|e| staff[e].clone()).collect(),
                    channel: enterprise.then(|| format!("#stringer-{slug}")),
                    email_tag: slug.into(),
                    created_at: state.now().as_second(),
                },
                None,
            )
            .await?;
    }
    let mut customers = std::collections::HashMap::new();
    for (key, org, role) in
        [("alice", "acme", UserRole::OrgAdmin), ("bob", "bolt", UserRole::Member), ("fiona", "fedco", UserRole::Member)]
    {
        let email = format!("{key}@{org}.example");
        let (user, i) = add_user(
            state,
            &email,
            &format!("{key} of {org}"),
            role,
            Some(org),
            false,
            Some(&format!("demo-{key}-password")),
        )
        .await?;
        customers.insert(key, user.id);
        issued.push(i);
    }
    let tickets = [
        ("acme", "alice", "P1", false, Intake::Slack, "Checkout API returns 502 for all EU customers"),
        ("acme", "alice", "P3", false, Intake::Portal, "Dashboard export drops the last row"),
        ("bolt", "bob", "P2", false, Intake::Email, "Webhooks delayed by ~20 minutes"),
        ("bolt", "bob", "P4", false, Intake::Portal, "How do I rotate API keys?"),
        ("fedco", "fiona", "P2", true, Intake::Phone, "Suspicious admin logins from unknown IPs"),
    ];
    for (org, who, severity, security, channel, subject) in tickets {
        let now = state.now();
        let kind = EventKind::Opened {
            org: OrgSlug::from(org),
            severity: Severity::from(severity),
            intake: Some(channel),
            security,
        };
        let event = Event::new(now, TicketId(state.new_id("tkt")), kind);
        let extras = Extras {
            actor: Some(customers[who].clone()),
            details: Some(TicketDetails {
                subject: subject.into(),
                description: format!("{subject}. (demo ticket)"),
                requester: Some(customers[who].clone()),
            }),
            comment: None,
            applies: None,
        };
        state.record(vec![event], extras).await.map_err(|e| StoreError::Backend(e.to_string()))?;
    }
    let orgs = [("acme", customers["alice"].clone()), ("bolt", customers["bob"].clone())];
    crate::demo_history::seed(state, &orgs, &[staff["nico"].clone(), staff["eve"].clone()]).await?;
    crate::demo_history::seed_status(state).await?;
    let acme = ("acme", customers["alice"].clone());
    let (nico, tina, lena) = (staff["nico"].clone(), staff["tina"].clone(), staff["lena"].clone());
    crate::demo_history::seed_report(state, acme, nico, tina, lena).await?;
    Ok(issued)
}

/// Every demo staff member's "console" contact method (pages land in their "My pages"), and
/// the platform-wide schedule: Nico and Eve taking weekly turns, Nico's from today.
async fn seed_paging(state: &AppState, staff: &std::collections::HashMap<&str, UserId>) -> Result<(), StoreError> {
    let now = state.now();
    for user in staff.values() {
        let method = ContactMethodRecord {
            id: state.new_id("cm"),
            user_id: user.clone(),
            kind: MethodKind::Console,
            address: CONSOLE_ADDRESS.into(),
            secret: new_secret(),
            created_at: now.as_second(),
        };
        state.ports.oncall.insert_contact_method(&method).await?;
    }
    let rotation = stringer_core::oncall::RotationSpec {
        name: "Engineers".into(),
        time_zone: "UTC".into(),
        members: vec![staff["nico"].to_string(), staff["eve"].to_string()],
        shift_days: 7,
        handoff: "00:00".into(),
        start: now.to_zoned(jiff::tz::TimeZone::UTC).date().to_string(),
    };
    let spec = stringer_core::oncall::ScheduleSpec {
        name: "Platform on call".into(),
        layers: vec![stringer_core::oncall::LayerSpec { rotation, restriction: None }],
        overrides: vec![],
    };
    let schedule = ScheduleRecord {
        id: state.new_id("sch"),
        name: spec.name.clone(),
        org: None,
        spec,
        ics_secret_hash: token_hash(&new_secret()),
        version: 1,
        created_at: now.as_second(),
    };
    state.ports.oncall.insert_schedule(&schedule, &staff["ada"]).await
}
