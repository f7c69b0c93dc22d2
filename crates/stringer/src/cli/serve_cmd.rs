//! `stringer serve`: the HTTP API with live SLA clocks and the timer loop.

use super::ContractSource;
use anyhow::{Context, Result};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use stringer_store::SqlStore;
use stringer_web::AppState;
use stringer_web::bootstrap::{Issued, first_admin, seed_demo};
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
    /// Seconds between timer sweeps (breaches, escalation steps, report deadlines).
    #[arg(long, env = "STRINGER_TICK_SECONDS", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=60))]
    tick_seconds: u64,
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

async fn serve(args: ServeArgs) -> Result<ExitCode> {
    let config = args.db.source.config()?;
    let contract = Arc::new(crate::config::load_contract(args.db.source.contract.as_deref(), &config)?);
    let sender = stringer_notify::Channels {
        webhooks: stringer_notify::Webhooks::new(args.allow_private_webhooks),
        slack: args.slack_token.as_deref().map(|t| stringer_notify::slack::Slack::new(&args.slack_api_url, t)),
        mail: args
            .smtp_url
            .as_deref()
            .map(|url| stringer_notify::mail::Mail::new(url, &args.mail_from))
            .transpose()
            .map_err(anyhow::Error::msg)?,
        phone: match (&args.sms_account, &args.sms_token, &args.sms_from) {
            (Some(account), Some(token), Some(from)) => {
                Some(stringer_notify::phone::Phone::new(&args.sms_api_url, account, token, from))
            }
            (None, None, None) => None,
            _ => anyhow::bail!("SMS and voice need all of --sms-account, --sms-token and --sms-from"),
        },
    };
    let store = args.db.open(&config).await?;
    let mut state = AppState::new(store.clone(), contract);
    state.metrics = Some(stringer_web::metrics::install().map_err(anyhow::Error::msg)?);
    if let Some(admin) = first_admin(&state, "admin@stringer.example").await? {
        print_issued("First run: created the first admin. This token is shown once:", &[admin]);
    }
    if args.demo {
        let users = seed_demo(&state).await?;
        print_issued("Demo desk seeded (orgs acme, bolt, fedco). Tokens are shown once:", &users);
    }
    let listen = args.listen.or(config.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener =
        tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let metrics_listener = match &args.metrics_listen {
        Some(metrics) => {
            let listener = tokio::net::TcpListener::bind(metrics)
                .await
                .with_context(|| format!("cannot listen on {metrics} for metrics"))?;
            println!("metrics on http://{}/metrics", listener.local_addr()?);
            Some(listener)
        }
        None => None,
    };
    println!("listening on http://{addr}");
    if args.demo {
        println!("try: curl -s -H \"Authorization: Bearer <token>\" http://{addr}/api/v1/tickets");
    }
    println!("API description: http://{addr}/api/v1/openapi.json");

    let key = store.setting_or_init("link_signing_key", &stringer_web::auth::new_secret()).await?;
    let public = args.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    state.links = Some(stringer_web::links::AckLinks::new(&key, &public));
    state.slack_signing_secret = args.slack_signing_secret.clone();
    state.slack_client = sender.slack.clone();
    state.trusted_proxies = args.trusted_proxy.clone();
    state.allow_private_webhooks = args.allow_private_webhooks;
    state.idempotency_lease = args.idempotency_lease;
    let (stop_tx, stop_rx) = watch::channel(false);
    let metrics_server = match metrics_listener {
        Some(listener) => {
            let app = stringer_web::metrics_router(state.clone());
            let mut stop = stop_rx.clone();
            Some(tokio::spawn(async move {
                let shutdown = async move {
                    let _ = stop.wait_for(|stop| *stop).await;
                };
                axum::serve(listener, app).with_graceful_shutdown(shutdown).await
            }))
        }
        None => None,
    };
    let janitor = tokio::spawn(run_janitor(store.clone(), stop_rx.clone()));
    let ticker = tokio::spawn(run_timers(state.clone(), Duration::from_secs(args.tick_seconds), stop_rx.clone()));
    let links = state.links.clone().expect("set above");
    let deliverer = tokio::spawn(run_deliveries(store.clone(), sender, links, stop_rx.clone()));
    let app = stringer_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let mut shutdown = stop_rx;
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    });
    let signals = tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = stop_tx.send(true);
    });
    server.await.context("server failed")?;
    signals.abort();
    let _ = ticker.await;
    let _ = deliverer.await;
    let _ = janitor.await;
    if let Some(metrics) = metrics_server {
        let _ = metrics.await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Runs due timers until told to stop: a sweep runs batches until none is due (each batch's
/// lag is recorded as soon as it is committed), then sleeps until the next timer falls due,
/// but never longer than `every`, so timers written by other instances (or by requests on
/// this one) are seen within `every`. Each batch commits per ticket, so a stop between
/// batches leaves nothing half-done, and the next start catches up.
async fn run_timers(state: AppState, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        let mut pause = every;
        let swept = loop {
            match state.desk.run_due_batch().await {
                Ok(fired) if fired.is_empty() => break true,
                Ok(fired) => stringer_web::metrics::record_sweep(&fired, jiff::Timestamp::now()),
                Err(e) => {
                    tracing::warn!(error = %e, "timer sweep failed; retrying");
                    break false;
                }
            }
            if *stop.borrow() {
                return;
            }
        };
        if swept && let Ok(Some(next)) = state.desk.next_timer_at().await {
            let until = next.duration_since(jiff::Timestamp::now()).as_secs_f64().max(0.0);
            pause = pause.min(Duration::from_secs_f64(until));
        }
        tokio::select! {
            _ = tokio::time::sleep(pause.max(Duration::from_millis(20))) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Outbox notices turned into deliveries per round.
const DISPATCH_BATCH: i64 = 200;
/// Deliveries claimed per round: one, so each claim's lease covers a single send.
const DELIVERY_BATCH: i64 = 1;

/// Turns outbox notices into deliveries and sends the due ones, every 200 ms (at once after
/// a full round) until told to stop. Claims are leased, so a crash mid-send leaves the delivery to be retried (with the
/// same idempotency key) once the lease ends.
async fn run_deliveries(
    store: SqlStore,
    sender: stringer_notify::Channels,
    links: stringer_web::links::AckLinks,
    mut stop: watch::Receiver<bool>,
) {
    use stringer_app::delivery::{deliver, dispatch};
    loop {
        let now = jiff::Timestamp::now();
        let dispatched_full = match dispatch(&store, &links, sender.slack.is_some(), now, DISPATCH_BATCH).await {
            Ok(n) => n as i64 == DISPATCH_BATCH,
            Err(e) => {
                tracing::warn!(error = %e, "dispatching notices failed; retrying");
                false
            }
        };
        let full = match deliver(&store, &sender, now, DELIVERY_BATCH).await {
            Ok(outcomes) => {
                stringer_web::metrics::record_deliveries(&outcomes);
                outcomes.len() as i64 == DELIVERY_BATCH
            }
            Err(e) => {
                tracing::warn!(error = %e, "delivering failed; retrying");
                false
            }
        };
        // A full round means more may be waiting: go again at once.
        let pause = if full || dispatched_full { Duration::ZERO } else { Duration::from_millis(200) };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return,
        }
    }
}

/// How often expired idempotency keys are purged.
const JANITOR_PERIOD: Duration = Duration::from_secs(600);

/// Purges idempotency keys past their expiry, every ten minutes, so the table does not grow
/// without bound.
async fn run_janitor(store: SqlStore, mut stop: watch::Receiver<bool>) {
    loop {
        let before = jiff::Timestamp::now().as_second() - stringer_web::IDEMPOTENCY_EXPIRY_SECONDS;
        match store.purge_idempotency_keys(before).await {
            Ok(n) if n > 0 => tracing::info!(purged = n, "expired idempotency keys purged"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging idempotency keys failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(JANITOR_PERIOD) => {}
            _ = stop.changed() => return,
        }
    }
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
