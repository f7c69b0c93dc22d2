//! Schema migrations, embedded per backend and applied in order, each in its own
//! transaction, recorded in `schema_migrations`. On PostgreSQL an advisory lock makes
//! concurrent starts of several instances safe.

use crate::{Backend, backend_err};
use sqlx::{AnyPool, Executor, Row};
use stringer_app::StoreError;

/// (version, SQLite text, PostgreSQL text)
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql"), include_str!("../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../migrations/sqlite/0002_delivery.sql"),
        include_str!("../migrations/postgres/0002_delivery.sql"),
    ),
    (
        3,
        include_str!("../migrations/sqlite/0003_schedules.sql"),
        include_str!("../migrations/postgres/0003_schedules.sql"),
    ),
    (
        4,
        include_str!("../migrations/sqlite/0004_settings.sql"),
        include_str!("../migrations/postgres/0004_settings.sql"),
    ),
    (
        5,
        include_str!("../migrations/sqlite/0005_timer_claims.sql"),
        include_str!("../migrations/postgres/0005_timer_claims.sql"),
    ),
    (
        6,
        include_str!("../migrations/sqlite/0006_channel_deliveries.sql"),
        include_str!("../migrations/postgres/0006_channel_deliveries.sql"),
    ),
    (
        7,
        include_str!("../migrations/sqlite/0007_rate_limits.sql"),
        include_str!("../migrations/postgres/0007_rate_limits.sql"),
    ),
    (
        8,
        include_str!("../migrations/sqlite/0008_delivery_receipts.sql"),
        include_str!("../migrations/postgres/0008_delivery_receipts.sql"),
    ),
    (
        9,
        include_str!("../migrations/sqlite/0009_open_tickets_index.sql"),
        include_str!("../migrations/postgres/0009_open_tickets_index.sql"),
    ),
    (10, include_str!("../migrations/sqlite/0010_access.sql"), include_str!("../migrations/postgres/0010_access.sql")),
    (
        11,
        include_str!("../migrations/sqlite/0011_settle_jobs.sql"),
        include_str!("../migrations/postgres/0011_settle_jobs.sql"),
    ),
    (12, include_str!("../migrations/sqlite/0012_web.sql"), include_str!("../migrations/postgres/0012_web.sql")),
    (13, include_str!("../migrations/sqlite/0013_mail.sql"), include_str!("../migrations/postgres/0013_mail.sql")),
    (14, include_str!("../migrations/sqlite/0014_alerts.sql"), include_str!("../migrations/postgres/0014_alerts.sql")),
    (15, include_str!("../migrations/sqlite/0015_chat.sql"), include_str!("../migrations/postgres/0015_chat.sql")),
    (16, include_str!("../migrations/sqlite/0016_phone.sql"), include_str!("../migrations/postgres/0016_phone.sql")),
    (17, include_str!("../migrations/sqlite/0017_status.sql"), include_str!("../migrations/postgres/0017_status.sql")),
    (
        18,
        include_str!("../migrations/sqlite/0018_reports.sql"),
        include_str!("../migrations/postgres/0018_reports.sql"),
    ),
    (
        19,
        include_str!("../migrations/sqlite/0019_reviews.sql"),
        include_str!("../migrations/postgres/0019_reviews.sql"),
    ),
    (
        20,
        include_str!("../migrations/sqlite/0020_delivery_urgency.sql"),
        include_str!("../migrations/postgres/0020_delivery_urgency.sql"),
    ),
    (
        21,
        include_str!("../migrations/sqlite/0021_mail_auth.sql"),
        include_str!("../migrations/postgres/0021_mail_auth.sql"),
    ),
    (
        22,
        include_str!("../migrations/sqlite/0022_identity.sql"),
        include_str!("../migrations/postgres/0022_identity.sql"),
    ),
    (
        23,
        include_str!("../migrations/sqlite/0023_kickoffs.sql"),
        include_str!("../migrations/postgres/0023_kickoffs.sql"),
    ),
    (
        25,
        include_str!("../migrations/sqlite/0025_action_item_owners.sql"),
        include_str!("../migrations/postgres/0025_action_item_owners.sql"),
    ),
    (
        27,
        include_str!("../migrations/sqlite/0027_inquiry_letters.sql"),
        include_str!("../migrations/postgres/0027_inquiry_letters.sql"),
    ),
    (
        28,
        include_str!("../migrations/sqlite/0028_outbox_owed.sql"),
        include_str!("../migrations/postgres/0028_outbox_owed.sql"),
    ),
    (
        30,
        include_str!("../migrations/sqlite/0030_keyed_writes.sql"),
        include_str!("../migrations/postgres/0030_keyed_writes.sql"),
    ),
    (
        31,
        include_str!("../migrations/sqlite/0031_status_alert_grants.sql"),
        include_str!("../migrations/postgres/0031_status_alert_grants.sql"),
    ),
    (
        32,
        include_str!("../migrations/sqlite/0032_keyed_writes_all.sql"),
        include_str!("../migrations/postgres/0032_keyed_writes_all.sql"),
    ),
    (
        33,
        include_str!("../migrations/sqlite/0033_account_mail.sql"),
        include_str!("../migrations/postgres/0033_account_mail.sql"),
    ),
    (
        34,
        include_str!("../migrations/sqlite/0034_inbox_order.sql"),
        include_str!("../migrations/postgres/0034_inbox_order.sql"),
    ),
    (
        36,
        include_str!("../migrations/sqlite/0036_inbox_applied.sql"),
        include_str!("../migrations/postgres/0036_inbox_applied.sql"),
    ),
    (
        37,
        include_str!("../migrations/sqlite/0037_channel_words.sql"),
        include_str!("../migrations/postgres/0037_channel_words.sql"),
    ),
    (
        38,
        include_str!("../migrations/sqlite/0038_thread_posts.sql"),
        include_str!("../migrations/postgres/0038_thread_posts.sql"),
    ),
    (
        39,
        include_str!("../migrations/sqlite/0039_history.sql"),
        include_str!("../migrations/postgres/0039_history.sql"),
    ),
    (
        40,
        include_str!("../migrations/sqlite/0040_roster_history.sql"),
        include_str!("../migrations/postgres/0040_roster_history.sql"),
    ),
    (41, include_str!("../migrations/sqlite/0041_ledger.sql"), include_str!("../migrations/postgres/0041_ledger.sql")),
    (
        42,
        include_str!("../migrations/sqlite/0042_ledger_heads.sql"),
        include_str!("../migrations/postgres/0042_ledger_heads.sql"),
    ),
    (
        43,
        include_str!("../migrations/sqlite/0043_ledger_sources.sql"),
        include_str!("../migrations/postgres/0043_ledger_sources.sql"),
    ),
    (
        44,
        include_str!("../migrations/sqlite/0044_ledger_audit.sql"),
        include_str!("../migrations/postgres/0044_ledger_audit.sql"),
    ),
    (
        45,
        include_str!("../migrations/sqlite/0045_ledger_nodes_in_leaves.sql"),
        include_str!("../migrations/postgres/0045_ledger_nodes_in_leaves.sql"),
    ),
    (
        46,
        include_str!("../migrations/sqlite/0046_tickets_opened.sql"),
        include_str!("../migrations/postgres/0046_tickets_opened.sql"),
    ),
    (
        47,
        include_str!("../migrations/sqlite/0047_ticket_tiers.sql"),
        include_str!("../migrations/postgres/0047_ticket_tiers.sql"),
    ),
    (
        48,
        include_str!("../migrations/sqlite/0048_tickets_opened_covering.sql"),
        include_str!("../migrations/postgres/0048_tickets_opened_covering.sql"),
    ),
];

/// An arbitrary constant naming Stringer's migration lock.
const LOCK_KEY: i64 = 0x5354_5249_4E47;

pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await.map_err(backend_err)?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)").bind(LOCK_KEY).execute(&mut *conn).await.map_err(backend_err)?;
    }
    let result = apply(&mut conn, backend).await;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)").bind(LOCK_KEY).execute(&mut *conn).await.map_err(backend_err)?;
    }
    result
}

async fn apply(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<(), StoreError> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await
    .map_err(backend_err)?;
    // Every migration not yet applied runs, in order: a number that landed after a higher one
    // (two branches) is applied too, not skipped for being below the highest.
    let applied: std::collections::HashSet<i64> = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(backend_err)?
        .iter()
        .map(|row| row.try_get::<i64, _>("version"))
        .collect::<Result<_, _>>()
        .map_err(backend_err)?;
    for (version, sqlite, postgres) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        let text = match backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        };
        // SQLite rebuilds a table to change a constraint; its foreign keys must be off for
        // that (a no-op inside a transaction), and are checked before the migration commits.
        if backend == Backend::Sqlite {
            conn.execute("PRAGMA foreign_keys = OFF").await.map_err(backend_err)?;
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(backend_err)?;
        tx.execute(*text).await.map_err(backend_err)?;
        if backend == Backend::Sqlite {
            let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *tx).await.map_err(backend_err)?;
            if !broken.is_empty() {
                return Err(StoreError::Backend(format!(
                    "migration {version} would leave {} rows referring to nothing",
                    broken.len()
                )));
            }
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(jiff::Timestamp::now().as_second())
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)?;
        if backend == Backend::Sqlite {
            conn.execute("PRAGMA foreign_keys = ON").await.map_err(backend_err)?;
        }
    }
    Ok(())
}
