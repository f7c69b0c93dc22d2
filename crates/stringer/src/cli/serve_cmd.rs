//! `stringer serve`: the HTTP API with live SLA clocks and the timer loop.

use super::ContractSource;
use crate::wiring;
use anyhow::{Context, Result};
use clap::Args;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use stringer_app::alerts::AlertDesk;
use stringer_app::chat::ChatDesk;
use stringer_app::history::{ContractHistory, ContractRecord};
use stringer_app::links::AckLinks;
use stringer_app::mail::ReplySigner;
use stringer_app::mail::intake::MailDesk;
use stringer_app::mail::letters::Correspondence;
use stringer_app::phone::{PIN_KEY_SETTING, PhoneDesk};
use stringer_app::ports::Safeguards;
use stringer_app::{Clock, Desk};
use stringer_core::ids::OrgSlug;
use stringer_core::mail::MailAddresses;
use stringer_engine::{Engine, SystemClock};
use stringer_integrations::sms_voice::inbound::VoiceLine;
use stringer_integrations::{Integrations, mail, slack, sms_voice, webhook};
use stringer_store::SqlStore;
use stringer_web::bootstrap::{DEMO_SIGN_INS, Issued, first_admin, seed_demo};
use stringer_web::{AppState, Settings, SlackApp};
use tokio::sync::watch;

/// Where the data lives; shared by `serve` and `admin`.
#[derive(Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// Database URL: `postgres://user@host/db` (several instances may share it) or
    /// `sqlite://FILE`. Default: the embedded SQLite file `stringer.db` in --data-dir.
    #[arg(long, env = "STRINGER_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// Directory of the embedded SQLite database (created if missing). Default: the working directory.
    #[arg(long, env = "STRINGER_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub source: ContractSource,
}

impl DatabaseArgs {
    /// Opens the store named by flags, environment or config file, applying migrations.
    pub async fn open(&self, config: &crate::config::ConfigFile) -> Result<SqlStore> {
        if let Some(url) = self.database.clone().or_else(|| config.database.clone()) {
            return SqlStore::connect(&url).await.with_context(|| "cannot open the database");
        }
        let dir = self.data_dir.clone().or_else(|| config.data_dir.clone()).unwrap_or_else(|| PathBuf::from("."));
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create data directory {}", dir.display()))?;
        let file = dir.join("stringer.db");
        SqlStore::open_sqlite(&file).await.with_context(|| format!("cannot open {}", file.display()))
    }

    /// Opens the store and the application's ports over it, with the contract in force, as
    /// `serve` would (for the commands that read a server's database: `packet`, `review`).
    pub async fn ports(&self) -> Result<(SqlStore, stringer_web::Ports, crate::config::ConfigFile)> {
        let config = self.source.config()?;
        let contract = std::sync::Arc::new(crate::config::load_contract(self.source.contract.as_deref(), &config)?);
        let store = self.open(&config).await?;
        let desk = std::sync::Arc::new(stringer_app::Desk::new(contract, store.clone(), stringer_engine::SystemClock));
        let ports = crate::wiring::ports(&store, desk);
        Ok((store, ports, config))
    }
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]; port 0 picks a free port (the address is printed).
    #[arg(long, env = "STRINGER_LISTEN", value_name = "ADDR")]
    listen: Option<String>,
    /// Seed a demo desk (orgs, staff, customers, tickets) and print how to use it.
    #[arg(long)]
    demo: bool,
    /// The address people reach this server at, for links in notifications
    /// [default: http://<listen address>].
    #[arg(long, env = "STRINGER_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// The Slack app's bot token (enables Slack direct-message pages).
    #[arg(long, env = "STRINGER_SLACK_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    slack_token: Option<String>,
    /// The Slack app's signing secret (verifies button presses at /slack/interactions).
    #[arg(long, env = "STRINGER_SLACK_SIGNING_SECRET", value_name = "SECRET", hide_env_values = true)]
    slack_signing_secret: Option<String>,
    /// Base URL of the Slack Web API.
    #[arg(long, env = "STRINGER_SLACK_API_URL", value_name = "URL", default_value = "https://slack.com/api")]
    slack_api_url: String,
    /// SMTP relay for mail pages: smtp://host:port, smtp://host:587?tls=required (STARTTLS),
    /// smtps://host:465; user:password@ for authentication.
    #[arg(long, env = "STRINGER_SMTP_URL", value_name = "URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// Sender address of mail pages.
    #[arg(long, env = "STRINGER_MAIL_FROM", value_name = "ADDRESS", default_value = "Stringer <stringer@localhost>")]
    mail_from: String,
    /// Base URL of the Twilio-compatible SMS/voice API.
    #[arg(long, env = "STRINGER_SMS_API_URL", value_name = "URL", default_value = "https://api.twilio.com")]
    sms_api_url: String,
    /// SMS/voice account SID (enables SMS and voice pages, with --sms-token and --sms-from).
    #[arg(long, env = "STRINGER_SMS_ACCOUNT", value_name = "SID")]
    sms_account: Option<String>,
    /// SMS/voice auth token.
    #[arg(long, env = "STRINGER_SMS_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    sms_token: Option<String>,
    /// The number SMS and calls come from (E.164).
    #[arg(long, env = "STRINGER_SMS_FROM", value_name = "NUMBER")]
    sms_from: Option<String>,
    /// How long the P1 phone line rings each person before the next (seconds). The line
    /// answers at <public URL>/twilio/voice once --sms-account and --sms-token are set.
    #[arg(long, env = "STRINGER_PHONE_RING_SECONDS", value_name = "SECONDS", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(5..=120))]
    phone_ring_seconds: u32,
    /// Allow webhooks to loopback and private addresses (on-premises receivers, tests).
    #[arg(long, env = "STRINGER_ALLOW_PRIVATE_WEBHOOKS")]
    allow_private_webhooks: bool,
    /// A reverse proxy (address or CIDR block) trusted to name its client in
    /// X-Forwarded-For, for per-client sign-in limits; repeat or separate with commas.
    #[arg(long, env = "STRINGER_TRUSTED_PROXY", value_name = "CIDR", value_delimiter = ',')]
    trusted_proxy: Vec<stringer_web::client::Cidr>,
    /// Seconds an Idempotency-Key stays "in progress" (its request may still be running)
    /// before a retry with it runs afresh: how long a request killed mid-way holds its key.
    #[arg(long, env = "STRINGER_IDEMPOTENCY_LEASE", value_name = "SECONDS",
        default_value_t = stringer_web::IDEMPOTENCY_LEASE_SECONDS,
        value_parser = clap::value_parser!(i64).range(1..=3600))]
    idempotency_lease: i64,
    /// Serve Prometheus metrics at /metrics on this separate address (off by default: the
    /// metrics count every tenant's tickets, so keep the address private).
    #[arg(long, env = "STRINGER_METRICS_LISTEN", value_name = "ADDR")]
    metrics_listen: Option<String>,
    /// Listen for mail over SMTP here (e.g. 0.0.0.0:25; off by default; `--demo` listens on
    /// 127.0.0.1:2525). Mail is accepted only for the --mail-domain domains.
    #[arg(long, env = "STRINGER_SMTP_LISTEN", value_name = "ADDR")]
    smtp_listen: Option<String>,
    /// The support domain(s) mail is accepted for and replies go to (`support+acme@DOMAIN`);
    /// repeat or separate with commas. Customer letters are sent only when one is set.
    #[arg(long, env = "STRINGER_MAIL_DOMAINS", value_name = "DOMAIN", value_delimiter = ',')]
    mail_domain: Vec<String>,
    /// The local part of the security mailbox: every mail to it opens a security incident.
    #[arg(long, env = "STRINGER_MAIL_SECURITY", value_name = "NAME", default_value = "security")]
    mail_security: String,
    /// The local parts that take general inquiries; repeat or separate with commas.
    #[arg(long, env = "STRINGER_MAIL_INQUIRIES", value_name = "NAME", value_delimiter = ',', default_values_t = ["sales".to_string(), "contact".to_string()])]
    mail_inquiries: Vec<String>,
    /// The DNS server (ADDR:PORT) that mail authentication (SPF, DKIM, DMARC, ARC) asks;
    /// the system's resolver when not set.
    #[arg(long, env = "STRINGER_MAIL_DNS", value_name = "ADDR:PORT")]
    mail_dns: Option<std::net::SocketAddr>,
    /// The authserv-id of a receiving mail server whose `Authentication-Results` header the
    /// mailgate and HTTP mail doors believe (it must remove such headers that arrive from
    /// outside); repeat or separate with commas. Without one, mail handed in there is
    /// unproven and held.
    #[arg(long, env = "STRINGER_MAIL_TRUSTED_RELAYS", value_name = "AUTHSERV_ID", value_delimiter = ',')]
    mail_trusted_relay: Vec<String>,
    /// A forwarder (mailing list, mail gateway) whose ARC seals we believe: mail it forwards
    /// counts as proven when its chain passes and says DMARC passed where it was first
    /// received; repeat or separate with commas.
    #[arg(long, env = "STRINGER_MAIL_ARC_SEALERS", value_name = "DOMAIN", value_delimiter = ',')]
    mail_arc_sealer: Vec<String>,
    /// Take mail from the loopback address as sent by its From address, unchecked — so the
    /// demo works with swaks. On under --demo; never turn it on for a server that takes
    /// mail from the Internet through a local relay.
    #[arg(long, env = "STRINGER_MAIL_TRUST_LOOPBACK")]
    mail_trust_loopback: bool,
    /// PEM certificate chain for STARTTLS on the SMTP listener (with --smtp-tls-key).
    #[arg(long, env = "STRINGER_SMTP_TLS_CERT", value_name = "FILE")]
    smtp_tls_cert: Option<PathBuf>,
    /// PEM private key for STARTTLS.
    #[arg(long, env = "STRINGER_SMTP_TLS_KEY", value_name = "FILE")]
    smtp_tls_key: Option<PathBuf>,
    /// The largest message the SMTP listener takes, in bytes (at most 25 MiB).
    #[arg(long, env = "STRINGER_SMTP_MAX_BYTES", value_name = "BYTES", default_value_t = stringer_app::mail::MAX_MESSAGE_BYTES as u64,
        value_parser = clap::value_parser!(u64).range(1024..=stringer_app::mail::MAX_MESSAGE_BYTES as u64))]
    smtp_max_bytes: u64,
    /// SMTP sessions one client address (an IPv6 client: its /64) may hold open at once;
    /// more are answered 421 and closed.
    #[arg(long, env = "STRINGER_SMTP_SESSIONS_PER_CLIENT", value_name = "N", default_value_t = 20,
        value_parser = clap::value_parser!(u32).range(1..=512))]
    smtp_sessions_per_client: u32,
    /// Messages one SMTP client address may start a minute (bursts of a minute's worth);
    /// past it, MAIL FROM is answered 451 (try again later).
    #[arg(long, env = "STRINGER_SMTP_MESSAGES_PER_MINUTE", value_name = "N", default_value_t = 120,
        value_parser = clap::value_parser!(u32).range(1..=100_000))]
    smtp_messages_per_minute: u32,
    /// Seconds an SMTP session may last before its first MAIL FROM (then it is closed with 421).
    #[arg(long, env = "STRINGER_SMTP_IDLE_BEFORE_MAIL", value_name = "SECONDS", default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=300))]
    smtp_idle_before_mail: u64,
    /// Events each integration key may send per minute (monitoring alerts through the
    /// Events API v2 and Alertmanager doors; bursts of ten seconds' worth); past it, 429.
    #[arg(long, env = "STRINGER_ALERT_EVENTS_PER_MINUTE", value_name = "N", default_value_t = 6000,
        value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    alert_events_per_minute: u32,
    /// Seconds between timer sweeps (breaches, escalation steps, report deadlines).
    #[arg(long, env = "STRINGER_TICK_SECONDS", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=60))]
    tick_seconds: u64,
    /// Seconds a background cycle (the sweep, the dispatcher, an intake, …) may go without
    /// progress beyond two of its own periods before /readyz answers unready naming it.
    #[arg(long, env = "STRINGER_STALL_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    stall_seconds: u64,
    /// The ledger's Ed25519 signing key file, created with mode 0600 if missing; never in the
    /// database [default: the config file's ledger_key, else ledger.key in --data-dir].
    #[arg(long, env = "STRINGER_LEDGER_KEY", value_name = "FILE")]
    ledger_key: Option<PathBuf>,
    #[command(flatten)]
    db: DatabaseArgs,
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    crate::logging();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(serve(args))
}

fn print_issued(title: &str, users: &[Issued]) {
    if users.is_empty() {
        return;
    }
    println!("{title}");
    for u in users {
        let org = u.org.as_ref().map(|o| format!(" of {o}")).unwrap_or_default();
        let password = u.password.as_ref().map(|p| format!("  password {p}")).unwrap_or_default();
        println!("  {:<28} {:<18}{org}\n      token {}{password}", u.email, u.role, u.token);
    }
}

/// The outside systems the flags configure; mail names `mail_domain` in its Message-IDs.
fn integrations(args: &ServeArgs, instance: &str, mail_domain: Option<&str>) -> Result<Integrations> {
    Ok(Integrations {
        webhooks: webhook::Webhooks::new(args.allow_private_webhooks, Arc::new(SystemClock)),
        slack: args.slack_token.as_deref().map(|t| slack::Slack::new(&args.slack_api_url, t)),
        mail: args
            .smtp_url
            .as_deref()
            .map(|url| mail::Mail::new(url, &args.mail_from, instance, mail_domain))
            .transpose()
            .map_err(anyhow::Error::msg)?,
        phone: match (&args.sms_account, &args.sms_token, &args.sms_from) {
            (Some(account), Some(token), Some(from)) => {
                Some(sms_voice::Phone::new(&args.sms_api_url, account, token, from))
            }
            (None, None, None) => None,
            _ => anyhow::bail!("SMS and voice need all of --sms-account, --sms-token and --sms-from"),
        },
    })
}

async fn bind(addr: &str, what: &str) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}{what}"))
}

async fn serve(args: ServeArgs) -> Result<ExitCode> {
    let config = args.db.source.config()?;
    let contract = Arc::new(crate::config::load_contract(args.db.source.contract.as_deref(), &config)?);
    // A write made by a keyed request records the key's outcome with it.
    let store = args.db.open(&config).await?.keyed_by(stringer_web::current_key);
    // Rows written before the ledger are appended, in row order, before anything new is.
    let appended = store.ledger_backfill().await?;
    if appended > 0 {
        tracing::info!(rows = appended, "appended the timeline rows written before the ledger");
    }
    let misfits = super::contract_cmd::misfits(&contract, &store).await?;
    if !misfits.is_empty() {
        anyhow::bail!(
            "the contract does not cover the data in the database, so the server does not start (restore the \
             names in the contract, or move the orgs and tickets to names it has):\n{}",
            super::contract_cmd::list(&misfits)
        );
    }
    // The ledger's key: refused unless it is the log's (the first start records it).
    let key_file = crate::ledger_key::path(args.ledger_key.as_deref(), args.db.data_dir.as_deref(), &config);
    let ledger_key = crate::ledger_key::load_or_create(&key_file)?;
    let notary = stringer_app::ledger::Notary::open(Arc::new(store.clone()), ledger_key, Arc::new(SystemClock))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let notary = Arc::new(notary);
    // What a what-if replay takes as the contract these tickets ran under.
    let record = ContractRecord::of(&contract, SystemClock.now().as_second(), env!("CARGO_PKG_VERSION"));
    store.record_contract(&record).await.context("cannot record the contract in force")?;
    let instance = store.setting_or_init("mail_instance", &stringer_web::auth::new_secret()[..16]).await?;
    let outside = integrations(&args, &instance, mail_domains(&args, &config).first().map(String::as_str))?;
    let metrics = stringer_engine::metrics::install().map_err(anyhow::Error::msg)?;
    // A change made by a keyed request records the key's outcome with it.
    let desk = Desk::new(contract, store.clone(), SystemClock).keyed_by(stringer_web::current_key);
    // Customers are told of their tickets by mail only where the server has a mail domain.
    let desk = Arc::new(if mail_domains(&args, &config).is_empty() { desk } else { desk.informing() });
    let mut state = AppState::new(wiring::ports(&store, desk.clone()));
    let mail_setup = mail_setup(&args, &config, &state, &instance).await?;
    let first_run = first_admin(&state, FIRST_ADMIN).await?;
    if let Some(admin) = &first_run {
        print_issued("First run: created the first admin. This token is shown once:", std::slice::from_ref(admin));
    }
    if args.demo {
        let users = seed_demo(&state).await?;
        if users.is_empty() {
            println!("The demo desk is already seeded (orgs acme, bolt, fedco); its sign-ins are below.");
        } else {
            print_issued("Demo desk seeded (orgs acme, bolt, fedco). Tokens are shown once:", &users);
        }
    }
    let listen = args.listen.clone().or(config.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = bind(&listen, "").await?;
    let addr = listener.local_addr()?;
    let metrics_listener = match &args.metrics_listen {
        Some(at) => {
            let listener = bind(at, " for metrics").await?;
            println!("metrics on http://{}/metrics", listener.local_addr()?);
            Some(listener)
        }
        None => None,
    };
    println!("listening on http://{addr}");
    if args.demo {
        println!();
        println!("Open http://{addr}/ in a browser and sign in as:");
        for (who, email, password) in DEMO_SIGN_INS {
            println!("  {who:<9} {email:<24} password {password}");
        }
        println!();
        println!("try: curl -s -H \"Authorization: Bearer <token>\" http://{addr}/api/v1/tickets");
    }
    println!("API description: http://{addr}/api/v1/openapi.json");
    let smtp = match &mail_setup.listen {
        Some(at) => {
            let listener = bind(at, " for SMTP").await?;
            println!("SMTP on {} for {}", listener.local_addr()?, mail_setup.addresses.domains.join(", "));
            Some(listener)
        }
        None => None,
    };
    if args.demo && smtp.is_some() {
        println!("Mail a ticket in (see the README: swaks or Python's smtplib) to:");
        for org in state.ports.accounts.orgs().await? {
            if let Some(address) = mail_setup.addresses.org_address(&OrgSlug::from(org.email_tag.as_str())) {
                println!("  {:<6} {address}", org.slug);
            }
        }
    }

    let key = state.ports.safeguards.setting_or_init("link_signing_key", &stringer_web::auth::new_secret()).await?;
    let public = args.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let links = AckLinks::new(&key, &public);
    state.links = Some(links.clone());
    state.public_url = public.clone();
    state.mail_addresses = (!mail_setup.addresses.domains.is_empty()).then(|| mail_setup.addresses.clone());
    state.phone_line = outside.phone.as_ref().and(args.sms_from.clone());
    if first_run.is_some() {
        let link = state.accounts().first_admin_link(FIRST_ADMIN).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("Sign in to the pages as {FIRST_ADMIN}: set a password first (once, within 7 days):\n      {link}");
    }
    state.texts = outside.phone.clone().map(|p| Arc::new(p) as Arc<dyn stringer_app::accounts::Texts>);
    state.address_checks = Arc::new(stringer_integrations::address_checks::OutsideChecks {
        allow_private: args.allow_private_webhooks,
        slack: outside.slack.clone(),
    });
    // The shared channels as a way in need the bot token to read channels and members.
    let chat = outside.slack.clone().map(|slack| {
        Arc::new(ChatDesk {
            ports: state.ports.for_chat(),
            tickets: state.tickets(),
            directory: Arc::new(slack),
            public_url: public.clone(),
        })
    });
    if let (Some(account), Some(token), Some(phone)) = (&args.sms_account, &args.sms_token, &outside.phone) {
        let pin_key =
            state.ports.safeguards.setting_or_init(PIN_KEY_SETTING, &stringer_web::auth::new_secret()).await?;
        let mail =
            mail_setup.addresses.domains.first().map(|d| format!(", or write to support@{d}")).unwrap_or_default();
        let help = format!("For anything else, open a ticket in the support portal at {public}{mail}.");
        let desk = PhoneDesk {
            ports: state.ports.for_phone(),
            tickets: state.tickets(),
            pin_key,
            ring_seconds: args.phone_ring_seconds,
            help,
            recordings: Arc::new(phone.clone()),
        };
        state.phone = Some(VoiceLine {
            account: account.clone(),
            auth_token: token.clone(),
            public_url: public.clone(),
            desk: Arc::new(desk),
        });
    }
    state.slack = SlackApp {
        inbound: args
            .slack_signing_secret
            .clone()
            .map(|secret| wiring::slack_inbound(&state.ports, state.tickets(), secret, chat.clone())),
        chat: chat.clone(),
    };
    state.settings = Settings {
        trusted_proxies: args.trusted_proxy.clone(),
        allow_private_webhooks: args.allow_private_webhooks,
        idempotency_lease: args.idempotency_lease,
        alert_events_per_minute: args.alert_events_per_minute,
        secure_cookies: public.starts_with("https://"),
        mail_configured: outside.mail.is_some(),
        ..Settings::default()
    };
    let engine_config = stringer_engine::Config {
        tick: Duration::from_secs(args.tick_seconds),
        stall_grace: Duration::from_secs(args.stall_seconds),
        org_channels: outside.slack.is_some(),
        idempotency_expiry_seconds: stringer_web::IDEMPOTENCY_EXPIRY_SECONDS,
        correspondence: (!mail_setup.addresses.domains.is_empty()).then(|| Correspondence {
            addresses: mail_setup.addresses.clone(),
            signer: mail_setup.desk.signer.clone(),
        }),
    };
    if let Some(listener) = smtp {
        let smtp = Arc::new(mail::listener::Listener {
            addresses: mail_setup.addresses.clone(),
            hostname: mail_setup.addresses.domains.first().cloned().unwrap_or_else(|| "localhost".into()),
            max_bytes: args.smtp_max_bytes as usize,
            tls: mail_setup.tls.clone(),
            mailroom: state.ports.mailroom.clone(),
            clock: Arc::new(SystemClock),
            limits: mail::client_limits::SmtpLimits {
                sessions_per_client: args.smtp_sessions_per_client as usize,
                messages_per_minute: args.smtp_messages_per_minute,
                idle_before_mail: Duration::from_secs(args.smtp_idle_before_mail),
            },
        });
        tokio::spawn(smtp.serve(listener));
    }
    let alerts = Arc::new(AlertDesk { ports: state.ports.for_alerts() });
    let token_key = state
        .ports
        .safeguards
        .setting_or_init(stringer_app::status::subscribers::TOKEN_KEY_SETTING, &stringer_web::auth::new_secret())
        .await?;
    let status = stringer_app::status::subscribers::Notifier {
        desk: stringer_app::status::StatusDesk { pages: state.ports.status.clone() },
        sender: Arc::new(outside.clone()),
        public_url: public.clone(),
        token_key,
    };
    let reports = stringer_app::postmortem::herald::Herald {
        desk: stringer_app::postmortem::ReportDesk { ports: state.ports.for_reports() },
        sender: Arc::new(outside.clone()),
        public_url: public.clone(),
    };
    let letters = stringer_app::letters::Postman {
        ports: state.ports.for_postman(),
        sender: Arc::new(outside.clone()),
        reachable: stringer_web::packet::reachable(&state),
    };
    let account_mail = stringer_app::accounts::mailing::Courier {
        letters: Arc::new(store.clone()),
        book: Arc::new(stringer_app::accounts::mailing::StoredLinks {
            accounts: state.ports.accounts.clone(),
            safeguards: state.ports.safeguards.clone(),
        }),
        sender: Arc::new(outside.clone()),
        public_url: public.clone(),
    };
    let stringer_store::Bells { outbox, mail, signals, chat: chat_bell } = store.bells();
    let bells = stringer_engine::Bells { outbox, mail, signals, chat: chat_bell };
    state.notary = Some(notary.clone());
    let intakes = stringer_engine::Intakes {
        mail: mail_setup.desk,
        alerts,
        chat,
        status,
        reports,
        letters,
        account_mail,
        notary,
        bells,
    };
    let engine = Engine::new(desk, store.clone(), outside, links, engine_config, intakes).start();
    state.liveness = Some(Arc::new(engine.supervisor()));

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut stop: watch::Receiver<bool>| async move {
        let _ = stop.wait_for(|stop| *stop).await;
    };
    let metrics_server = metrics_listener.map(|listener| {
        let app = stringer_web::metrics_router(metrics);
        tokio::spawn(axum::serve(listener, app).with_graceful_shutdown(stopped(stop_rx.clone())).into_future())
    });
    let app = stringer_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(stopped(stop_rx));
    let signals = tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = stop_tx.send(true);
    });
    server.await.context("server failed")?;
    signals.abort();
    engine.stop().await;
    if let Some(metrics) = metrics_server {
        let _ = metrics.await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The first admin's address, made on the first run.
const FIRST_ADMIN: &str = "admin@stringer.example";

/// The support domains: the flags', else the config file's, else the demo's.
fn mail_domains(args: &ServeArgs, config: &crate::config::ConfigFile) -> Vec<String> {
    let given = if args.mail_domain.is_empty() {
        config.mail_domains.clone().unwrap_or_default()
    } else {
        args.mail_domain.clone()
    };
    let mut domains: Vec<String> =
        given.iter().map(|d| d.trim().to_ascii_lowercase()).filter(|d| !d.is_empty()).collect();
    if args.demo && domains.is_empty() {
        domains.push("support.stringer.example".into());
    }
    domains
}

/// The mail channel as the flags set it up.
struct MailSetup {
    addresses: MailAddresses,
    listen: Option<String>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    desk: Arc<MailDesk>,
}

async fn mail_setup(
    args: &ServeArgs,
    config: &crate::config::ConfigFile,
    state: &AppState,
    instance: &str,
) -> Result<MailSetup> {
    let domains = mail_domains(args, config);
    let listen = args
        .smtp_listen
        .clone()
        .or_else(|| config.smtp_listen.clone())
        .or_else(|| args.demo.then(|| "127.0.0.1:2525".to_string()));
    if listen.is_some() && domains.is_empty() {
        anyhow::bail!("--smtp-listen needs --mail-domain: the listener takes mail only for the support domains");
    }
    for d in &domains {
        if !d.contains('.') || d.contains(['@', ' ', '/']) {
            anyhow::bail!("--mail-domain {d:?}: a domain name such as support.vendor.example");
        }
    }
    let tls = match (&args.smtp_tls_cert, &args.smtp_tls_key) {
        (Some(cert), Some(key)) => {
            let cert = std::fs::read(cert).with_context(|| format!("cannot read {}", cert.display()))?;
            let key = std::fs::read(key).with_context(|| format!("cannot read {}", key.display()))?;
            Some(mail::listener::tls_acceptor(&cert, &key).map_err(anyhow::Error::msg)?)
        }
        (None, None) => None,
        _ => anyhow::bail!("STARTTLS needs both --smtp-tls-cert and --smtp-tls-key"),
    };
    let addresses = MailAddresses {
        domains,
        support: "support".into(),
        security: args.mail_security.to_ascii_lowercase(),
        inquiries: args.mail_inquiries.iter().map(|i| i.to_ascii_lowercase()).collect(),
    };
    let key = state.ports.safeguards.setting_or_init("reply_signing_key", &stringer_web::auth::new_secret()).await?;
    let trust_loopback = args.mail_trust_loopback || args.demo;
    if trust_loopback && !addresses.domains.is_empty() {
        tracing::warn!("mail from the loopback address is taken as sent by its From address, unchecked (demo or test)");
    }
    let checker = mail::auth::Authenticator::new(mail::auth::AuthSetup {
        dns: args.mail_dns,
        hostname: addresses.domains.first().cloned().unwrap_or_else(|| "localhost".into()),
        relays: args.mail_trusted_relay.iter().map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect(),
        trust_loopback,
    })
    .map_err(anyhow::Error::msg)?;
    let desk = Arc::new(MailDesk {
        ports: state.ports.for_mail(),
        reader: Arc::new(mail::read::MimeReader::new(instance)),
        addresses: addresses.clone(),
        signer: ReplySigner::new(&key),
        checker: Arc::new(checker),
        arc_sealers: args.mail_arc_sealer.iter().map(|s| s.trim().to_ascii_lowercase()).collect(),
        tickets: state.tickets(),
    });
    Ok(MailSetup { addresses, listen, tls, desk })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
